"""Recording a disclosure of a recipient, and ending one. Either is a change of the recipient,
so each moves the recipient's version on."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from server.db.disclosure_writes import insert_disclosure
from server.db.models import Disclosure, Establishment
from server.domain import access, validation
from server.domain import establishments as establishment_rules
from server.domain.access import Role
from server.domain.disclosure_terms import (
    DISCLOSURES_PER_RECIPIENT_MAX,
    DisclosureSpec,
    check_disclosure,
    disclosure_count_error,
)
from server.domain.enums import UserErrorCode
from server.domain.errors import ErrorCollector, UserError, UserErrors
from server.domain.taxonomy import Taxonomy, default_taxonomy
from server.services import audit, clock
from server.services.audit_snapshots import disclosure_snapshot
from server.services.commands import AddDisclosure, EndDisclosure
from server.services.recipient_versions import bump_version, first_move_at, locked_recipient
from server.services.results import DisclosureResult


@dataclass(frozen=True)
class Exporter:
    """The establishment a disclosure is recorded as coming from."""

    id: int
    slug: str


async def exporters_for(
    conn: BaseDBAsyncClient,
    errors: ErrorCollector,
    paths: Sequence[list[str]],
    specs: Sequence[DisclosureSpec],
    *,
    subprocessor: bool,
) -> list[Exporter | None]:
    """Each disclosure's exporter (server/domain/establishments.py: exporter_of), after recording
    at its `exporter` field what is wrong with the one it names: an unknown slug, or any for a
    subprocessor. One statement for every disclosure of a request, none when none needs one."""
    named = sorted(
        {
            s.exporter
            for s in specs
            if s.exporter is not None and not validation.slug_error(s.exporter)
        }
    )
    wanted = [Q(slug__in=named)] if named and not subprocessor else []
    if not subprocessor and any(s.exporter is None for s in specs):
        wanted.append(Q(main=True))
    by_slug: dict[str, Exporter] = {}
    main: int | None = None
    if wanted:
        for eid, slug, is_main in (
            await Establishment.filter(Q(*wanted, join_type=Q.OR))
            .using_db(conn)
            .values_list("id", "slug", "main")
        ):
            by_slug[slug] = Exporter(eid, slug)
            main = eid if is_main else main
    by_id = {e.id: e for e in by_slug.values()}
    out: list[Exporter | None] = []
    for path, spec in zip(paths, specs, strict=True):
        given = None
        if problem := establishment_rules.exporter_error(
            named=spec.exporter is not None, subprocessor=subprocessor
        ):
            errors.add([*path, "exporter"], problem)
        elif spec.exporter is not None:
            given = by_slug.get(spec.exporter)
            if given is None:
                errors.add(
                    [*path, "exporter"],
                    f'No establishment with slug "{spec.exporter[:100]}".',
                    UserErrorCode.NOT_FOUND,
                )
        chosen = establishment_rules.exporter_of(
            given.id if given else None, main, subprocessor=subprocessor
        )
        out.append(by_id.get(chosen) if chosen is not None else None)
    return out


async def record_disclosure(
    conn: BaseDBAsyncClient,
    recipient_id: int,
    spec: DisclosureSpec,
    *,
    at: datetime,
    actor: str,
    exporter: Exporter | None = None,
) -> Disclosure:
    """Write a checked disclosure with its read model, and its audit event, in `conn`'s
    transaction: registration and addDisclosure record a disclosure the same way. `exporter`
    comes from `exporters_for`."""
    disclosure = await insert_disclosure(
        conn, recipient_id, spec, at, exporter.id if exporter else None
    )
    await audit.record(
        connection=conn,
        at=at,
        actor=actor,
        action="addDisclosure",
        entity_type="Disclosure",
        entity_id=disclosure.id,
        recipient_id=recipient_id,
        changes=audit.diff(
            {},
            disclosure_snapshot(
                spec, disclosure.effective_from, exporter.slug if exporter else None
            ),
        ),
    )
    return disclosure


async def add_disclosure(
    command: AddDisclosure, *, actor: str, role: Role | None, taxonomy: Taxonomy | None = None
) -> DisclosureResult:
    """`role` is the calling key's (None only for a trusted import): whether the disclosure may
    start before its recipient was registered."""
    taxonomy = taxonomy or default_taxonomy()
    errors = ErrorCollector()
    path = ["input", "disclosure"]
    check_disclosure(errors, path, command.disclosure, taxonomy)
    async with in_transaction() as conn:
        recipient = await locked_recipient(conn, command.recipient_id)
        if recipient is None:
            errors.add(["input", "recipientId"], "No such recipient.", UserErrorCode.NOT_FOUND)
            errors.raise_if_any()
        assert recipient is not None
        [exporter] = await exporters_for(
            conn,
            errors,
            [path],
            [command.disclosure],
            subprocessor=recipient.engaged_by_id is not None,
        )
        if role is not None and role is not Role.ADMIN:
            registered = await first_move_at(conn, recipient.id)
            registered_on = (registered or recipient.created_at).astimezone(UTC).date()
            if problem := access.before_registration_error(
                role, command.disclosure.effective_from, registered_on
            ):
                errors.add([*path, "effectiveFrom"], problem, UserErrorCode.FORBIDDEN)
        errors.raise_if_any()
        held = (
            await Disclosure.filter(recipient_id=recipient.id, effective_to=None)
            .using_db(conn)
            .count()
        )
        if problem := disclosure_count_error(
            held + 1, DISCLOSURES_PER_RECIPIENT_MAX, "open at one recipient"
        ):
            raise UserErrors([UserError(["input", "recipientId"], problem)])
        at = clock.now()
        await bump_version(conn, recipient, at)
        disclosure = await record_disclosure(
            conn, recipient.id, command.disclosure, at=at, actor=actor, exporter=exporter
        )
    return DisclosureResult(disclosure)


async def end_disclosure(
    command: EndDisclosure, *, actor: str, role: Role | None
) -> DisclosureResult:
    """`role` is the calling key's (None only for a trusted import such as the fixture loader):
    ending a disclosure on a day already past needs the right to date facts in the past."""
    if problem := validation.moment_error(command.effective_to):
        raise UserErrors([UserError(["input", "effectiveTo"], problem)])
    if (
        role is not None
        and command.effective_to < clock.today()
        and (problem := access.past_dating_error(role, "a disclosure's end"))
    ):
        raise UserErrors([UserError(["input", "effectiveTo"], problem, UserErrorCode.FORBIDDEN)])
    async with in_transaction() as conn:
        disclosure = await Disclosure.get_or_none(id=command.disclosure_id, using_db=conn)
        if disclosure is None:
            raise UserErrors(
                [UserError(["input", "id"], "No such disclosure.", UserErrorCode.NOT_FOUND)]
            )
        if disclosure.effective_to is not None:
            raise UserErrors(
                [
                    UserError(
                        ["input", "id"],
                        f"This disclosure already ended on {disclosure.effective_to.isoformat()}.",
                    )
                ]
            )
        if problem := validation.period_error(disclosure.effective_from, command.effective_to):
            raise UserErrors([UserError(["input", "effectiveTo"], problem)])
        recipient = await locked_recipient(conn, disclosure.recipient_id)
        assert recipient is not None  # a disclosure's recipient is never deleted
        at = clock.now()
        await bump_version(conn, recipient, at)
        updated = (
            await Disclosure.filter(id=disclosure.id, effective_to=None)
            .using_db(conn)
            .update(effective_to=command.effective_to, ended_recorded_at=at)
        )
        if updated != 1:
            raise UserErrors([UserError(["input", "id"], "This disclosure was ended meanwhile.")])
        await audit.record(
            connection=conn,
            at=at,
            actor=actor,
            action="endDisclosure",
            entity_type="Disclosure",
            entity_id=disclosure.id,
            recipient_id=recipient.id,
            changes={"effectiveTo": [None, command.effective_to.isoformat()]},
        )
        disclosure.effective_to = command.effective_to
        disclosure.ended_recorded_at = at
    return DisclosureResult(disclosure)
