"""Recording a disclosure of a recipient, correcting one, and ending one. Each is a change of
the recipient, so each moves the recipient's version on when it applies. To a recipient a
reviewer has passed, each is material (domain/change_requests.py: an end only when it rewrites
days already past): it waits for a second key as a change request, which on approval runs the
same use case again as a trusted write (services/change_decisions.py), through the same checks."""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from server.db.disclosure_writes import correct_disclosure, insert_disclosure, terms_of
from server.db.models import Disclosure, Establishment, Recipient
from server.domain import access, validation
from server.domain import change_requests as change_rules
from server.domain import establishments as establishment_rules
from server.domain.access import Role
from server.domain.disclosure_terms import (
    CLEARABLE_TERMS,
    DISCLOSURES_PER_RECIPIENT_MAX,
    DisclosureSpec,
    check_disclosure,
    disclosure_count_error,
    terms_record,
)
from server.domain.enums import ChangeKind, RecipientStatus, UserErrorCode
from server.domain.errors import ErrorCollector, UserError, UserErrors
from server.domain.taxonomy import Taxonomy, default_taxonomy
from server.services import audit, clock, review
from server.services.audit_snapshots import camel_case, disclosure_changes, disclosure_snapshot
from server.services.change_requests import open_change
from server.services.commands import UNSET, AddDisclosure, EndDisclosure, UpdateDisclosure
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
    await audit.record_event(
        conn,
        added_event(
            spec,
            disclosure_id=disclosure.id,
            recipient_id=recipient_id,
            effective_from=disclosure.effective_from,
            exporter=exporter,
            at=at,
            actor=actor,
        ),
    )
    return disclosure


def added_event(
    spec: DisclosureSpec,
    *,
    disclosure_id: int,
    recipient_id: int,
    effective_from: date,
    exporter: Exporter | None,
    at: datetime,
    actor: str,
) -> audit.Event:
    """The audit event of a disclosure recorded (record_disclosure's; an import's bulk write
    records the same): its terms as given, the day it took effect and its exporter."""
    return audit.Event(
        at,
        actor,
        "addDisclosure",
        "Disclosure",
        disclosure_id,
        recipient_id,
        disclosure_changes(spec, effective_from, exporter.slug if exporter else None),
    )


def ended_event(
    *, disclosure_id: int, recipient_id: int, effective_to: date, at: datetime, actor: str
) -> audit.Event:
    """The audit event of a disclosure ended (endDisclosure's; an import's bulk write records
    the same)."""
    return audit.Event(
        at,
        actor,
        "endDisclosure",
        "Disclosure",
        disclosure_id,
        recipient_id,
        {"effectiveTo": [None, effective_to.isoformat()]},
    )


async def add_disclosure(
    command: AddDisclosure, *, actor: str, role: Role | None, taxonomy: Taxonomy | None = None
) -> DisclosureResult:
    """`role` is the calling key's (None only for a trusted import): whether the disclosure may
    start before its recipient was registered, and whether it waits for review."""
    taxonomy = taxonomy or default_taxonomy()
    errors = ErrorCollector()
    check_disclosure(errors, ["input", "disclosure"], command.disclosure, taxonomy)
    async with in_transaction() as conn:
        recipient = await locked_recipient(conn, command.recipient_id)
        if recipient is None:
            errors.add(["input", "recipientId"], "No such recipient.", UserErrorCode.NOT_FOUND)
            errors.raise_if_any()
        assert recipient is not None
        return await _add(
            conn, errors, recipient, command.disclosure, actor=actor, role=role, taxonomy=taxonomy
        )


async def _add(
    conn: BaseDBAsyncClient,
    errors: ErrorCollector,
    recipient: Recipient,
    spec: DisclosureSpec,
    *,
    actor: str,
    role: Role | None,
    taxonomy: Taxonomy,
) -> DisclosureResult:
    """The rest of add_disclosure, once its terms are checked (problems in `errors`) and its
    recipient locked."""
    path = ["input", "disclosure"]
    [exporter] = await exporters_for(
        conn, errors, [path], [spec], subprocessor=recipient.engaged_by_id is not None
    )
    if role is not None and role is not Role.ADMIN:
        registered = await first_move_at(conn, recipient.id)
        registered_on = (registered or recipient.created_at).astimezone(UTC).date()
        if problem := access.before_registration_error(role, spec.effective_from, registered_on):
            errors.add([*path, "effectiveFrom"], problem, UserErrorCode.FORBIDDEN)
    errors.raise_if_any()
    held = (
        await Disclosure.filter(
            recipient_id=recipient.id, effective_to=None, corrected_into_id=None
        )
        .using_db(conn)
        .count()
    )
    if problem := disclosure_count_error(
        held + 1, DISCLOSURES_PER_RECIPIENT_MAX, "open at one recipient"
    ):
        raise UserErrors([UserError(["input", "recipientId"], problem)])
    at = clock.now()
    if change_rules.needs_review(RecipientStatus(recipient.status), role):
        exporter_id = exporter.id if exporter else None
        change = await open_change(
            conn,
            recipient,
            ChangeKind.ADD_DISCLOSURE,
            actor=actor,
            at=at,
            summary=await review.disclosure_change_summary(
                recipient.id,
                spec,
                taxonomy,
                verb="adds a disclosure",
                exporter_id=exporter_id,
            ),
            changes=disclosure_changes(
                spec, spec.effective_from or at.date(), exporter.slug if exporter else None
            ),
            proposal=terms_record(spec),
        )
        return DisclosureResult(None, change)
    await bump_version(conn, recipient, at)
    disclosure = await record_disclosure(
        conn, recipient.id, spec, at=at, actor=actor, exporter=exporter
    )
    return DisclosureResult(disclosure)


async def update_disclosure(
    command: UpdateDisclosure, *, actor: str, role: Role | None, taxonomy: Taxonomy | None = None
) -> DisclosureResult:
    """Correct a disclosure's terms against the version the caller read: from today, the terms
    before kept for reports at past moments (db/disclosure_writes.py:correct_disclosure)."""
    taxonomy = taxonomy or default_taxonomy()
    async with in_transaction() as conn:
        disclosure, recipient = await _correctable(conn, command.disclosure_id)
        if disclosure.version != command.expected_version:
            raise _stale(disclosure)
        exporter = await _exporter_slug(conn, disclosure)
        before = terms_of(disclosure, exporter)
        errors = ErrorCollector()
        given = {name: value for name, value in command.terms().items() if value is not UNSET}
        for name, value in list(given.items()):
            if value is None and name in CLEARABLE_TERMS:
                given[name] = copy.copy(CLEARABLE_TERMS[name])
            elif value is None:
                errors.add(
                    ["input", camel_case(name)],
                    f"{camel_case(name)} cannot be cleared: leave it out to keep it.",
                )
                del given[name]
        after = dataclasses.replace(before, **given)
        check_disclosure(errors, ["input"], after, taxonomy)
        errors.raise_if_any()
        delta = audit.diff(
            disclosure_snapshot(before, disclosure.effective_from, exporter),
            disclosure_snapshot(after, disclosure.effective_from, exporter),
        )
        if not delta:
            # Nothing changes: no new version, no audit event.
            return DisclosureResult(disclosure)
        if change_rules.needs_review(RecipientStatus(recipient.status), role):
            change = await open_change(
                conn,
                recipient,
                ChangeKind.UPDATE_DISCLOSURE,
                actor=actor,
                at=clock.now(),
                summary=await review.disclosure_change_summary(
                    recipient.id,
                    after,
                    taxonomy,
                    verb="corrects a disclosure",
                    exporter_id=disclosure.exporter_id,
                ),
                changes=delta,
                proposal={"expectedVersion": disclosure.version, "terms": terms_record(after)},
                disclosure_id=disclosure.id,
            )
            return DisclosureResult(disclosure, change)
        await _correct(conn, recipient, disclosure, after, delta, actor=actor)
    return DisclosureResult(disclosure)


async def _correctable(conn: BaseDBAsyncClient, disclosure_id: int) -> tuple[Disclosure, Recipient]:
    """The disclosure and its locked recipient, or the user error why it cannot be corrected."""
    disclosure = await _found(conn, disclosure_id)
    if disclosure.corrected_into_id is not None:
        raise UserErrors(
            [
                UserError(
                    ["input", "id"],
                    "These are a disclosure's terms before a correction, kept as its history: "
                    "correct the disclosure itself.",
                )
            ]
        )
    if disclosure.effective_to is not None:
        raise UserErrors(
            [
                UserError(
                    ["input", "id"],
                    f"This disclosure ended on {disclosure.effective_to.isoformat()}: its terms "
                    "stay as they were. Record a new disclosure instead.",
                )
            ]
        )
    recipient = await locked_recipient(conn, disclosure.recipient_id)
    assert recipient is not None  # a disclosure's recipient is never deleted
    return disclosure, recipient


async def _found(conn: BaseDBAsyncClient, disclosure_id: int) -> Disclosure:
    disclosure = await Disclosure.get_or_none(id=disclosure_id, using_db=conn)
    if disclosure is None:
        raise UserErrors(
            [UserError(["input", "id"], "No such disclosure.", UserErrorCode.NOT_FOUND)]
        )
    return disclosure


def _stale(disclosure: Disclosure) -> UserErrors:
    return UserErrors(
        [
            UserError(
                ["input", "expectedVersion"],
                f"The disclosure has changed since the version you read; its current version is "
                f"{disclosure.version}. Reload it and apply your correction again.",
                UserErrorCode.STALE_VERSION,
            )
        ]
    )


async def _exporter_slug(conn: BaseDBAsyncClient, disclosure: Disclosure) -> str | None:
    if disclosure.exporter_id is None:
        return None
    found = await Establishment.get_or_none(id=disclosure.exporter_id, using_db=conn)
    return found.slug if found else None


async def _correct(
    conn: BaseDBAsyncClient,
    recipient: Recipient,
    disclosure: Disclosure,
    spec: DisclosureSpec,
    delta: dict[str, Any],
    *,
    actor: str,
) -> None:
    at = clock.now()
    await bump_version(conn, recipient, at)
    await correct_disclosure(conn, disclosure, spec, clock.today(), at)
    await audit.record(
        connection=conn,
        at=at,
        actor=actor,
        action="updateDisclosure",
        entity_type="Disclosure",
        entity_id=disclosure.id,
        recipient_id=recipient.id,
        changes=delta | {"version": [disclosure.version - 1, disclosure.version]},
    )


async def end_disclosure(
    command: EndDisclosure, *, actor: str, role: Role | None
) -> DisclosureResult:
    """`role` is the calling key's (None only for a trusted import such as the fixture loader):
    ending a disclosure on a day already past needs the right to date facts in the past, and
    for a recipient a reviewer has passed, a second key."""
    today = clock.today()
    if error := end_day_error(command.effective_to, role=role, today=today):
        raise UserErrors([error])
    async with in_transaction() as conn:
        disclosure, recipient = await _endable(conn, command)
        if change_rules.needs_review(
            RecipientStatus(recipient.status), role
        ) and change_rules.end_is_material(command.effective_to, today):
            exporter = await _exporter_slug(conn, disclosure)
            terms = terms_of(disclosure, exporter)
            change = await open_change(
                conn,
                recipient,
                ChangeKind.END_DISCLOSURE,
                actor=actor,
                at=clock.now(),
                summary=change_rules.end_summary(
                    name=recipient.name,
                    terms=", ".join(terms.data_categories) + " for " + ", ".join(terms.purposes),
                    effective_to=command.effective_to,
                    today=today,
                ),
                changes={"effectiveTo": [None, command.effective_to.isoformat()]},
                proposal={"effectiveTo": command.effective_to.isoformat()},
                disclosure_id=disclosure.id,
            )
            return DisclosureResult(disclosure, change)
        await _end(conn, recipient, disclosure, command.effective_to, actor=actor)
    return DisclosureResult(disclosure)


def end_day_error(effective_to: date, *, role: Role | None, today: date) -> UserError | None:
    """endDisclosure's checks of the day a disclosure ends, before the disclosure is read (an
    import's bulk path runs them too): a day a moment can be, and one already past only for
    a key that may date facts in the past."""
    if problem := validation.moment_error(effective_to):
        return UserError(["input", "effectiveTo"], problem)
    if (
        role is not None
        and effective_to < today
        and (problem := access.past_dating_error(role, "a disclosure's end"))
    ):
        return UserError(["input", "effectiveTo"], problem, UserErrorCode.FORBIDDEN)
    return None


async def _endable(conn: BaseDBAsyncClient, command: EndDisclosure) -> tuple[Disclosure, Recipient]:
    disclosure = await _found(conn, command.disclosure_id)
    if disclosure.effective_to is not None:
        raise UserErrors(
            [
                UserError(
                    ["input", "id"],
                    f"This disclosure already ended on {disclosure.effective_to.isoformat()}.",
                )
            ]
        )
    if disclosure.started_on is not None and command.effective_to < disclosure.effective_from:
        raise UserErrors(
            [
                UserError(
                    ["input", "effectiveTo"],
                    f"This disclosure was corrected to its current terms from "
                    f"{disclosure.effective_from.isoformat()}, and the terms before are history: "
                    "it can end on that day or later.",
                )
            ]
        )
    if problem := validation.period_error(disclosure.effective_from, command.effective_to):
        raise UserErrors([UserError(["input", "effectiveTo"], problem)])
    recipient = await locked_recipient(conn, disclosure.recipient_id)
    assert recipient is not None  # a disclosure's recipient is never deleted
    return disclosure, recipient


async def _end(
    conn: BaseDBAsyncClient,
    recipient: Recipient,
    disclosure: Disclosure,
    effective_to: date,
    *,
    actor: str,
) -> None:
    at = clock.now()
    await bump_version(conn, recipient, at)
    updated = (
        await Disclosure.filter(id=disclosure.id, effective_to=None)
        .using_db(conn)
        .update(effective_to=effective_to, ended_recorded_at=at)
    )
    if updated != 1:
        raise UserErrors([UserError(["input", "id"], "This disclosure was ended meanwhile.")])
    await audit.record_event(
        conn,
        ended_event(
            disclosure_id=disclosure.id,
            recipient_id=recipient.id,
            effective_to=effective_to,
            at=at,
            actor=actor,
        ),
    )
    disclosure.effective_to = effective_to
    disclosure.ended_recorded_at = at
