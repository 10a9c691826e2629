"""Register recipients, change them, move them through review, and record their disclosures."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, cast

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from server.db.disclosure_writes import insert_disclosure
from server.db.models import Disclosure, Recipient, StatusChange
from server.domain import access, lifecycle, recipient_details, subprocessors, validation
from server.domain.access import Role
from server.domain.disclosure_terms import DisclosureSpec, check_disclosure
from server.domain.enums import ProcessingRole, UserErrorCode
from server.domain.errors import ErrorCollector, UserError, UserErrors
from server.domain.taxonomy import Taxonomy, default_taxonomy
from server.services import audit, clock
from server.services.commands import (
    UNSET,
    AddDisclosure,
    ChangeStatus,
    EndDisclosure,
    RegisterRecipient,
    UpdateRecipient,
)


@dataclass
class RecipientResult:
    recipient: Recipient | None


@dataclass
class DisclosureResult:
    disclosure: Disclosure | None


def disclosure_snapshot(spec: DisclosureSpec, effective_from: date) -> dict[str, Any]:
    return {
        "dataCategories": validation.distinct(spec.data_categories),
        "subjectTypes": validation.distinct(spec.subject_types),
        "purposes": validation.distinct(spec.purposes),
        "legalBasis": spec.legal_basis,
        "ground": spec.ground,
        "retention": spec.retention,
        "transfers": [
            {"country": t.country, "mechanism": t.mechanism.value, "reference": t.reference}
            for t in spec.transfers
        ],
        "effectiveFrom": effective_from,
    }


def _recipient_fields(r: Recipient) -> dict[str, Any]:
    return {
        "slug": r.slug,
        "name": r.name,
        "legalName": r.legal_name,
        "description": r.description,
        "kind": r.kind,
        "role": r.role,
        "status": r.status,
        "country": r.country,
        "services": list(r.services),
        "website": r.website,
        "privacyPolicyUrl": r.privacy_policy_url,
        "dpaSignedOn": r.dpa_signed_on,
        "engagedBy": r.engaged_by_id,
        "dataPrivacyFrameworkCertified": r.dpf_certified,
    }


def _given(value: Any) -> Any:
    """None for a field the command leaves as it is (UNSET): the checks skip both."""
    return None if value is UNSET else value


async def _check_engaged_by(
    conn: BaseDBAsyncClient,
    errors: ErrorCollector,
    engaged_by_slug: str,
    *,
    role: ProcessingRole,
    recipient_id: int | None,
) -> int | None:
    """The engaging processor's id, or None after recording why it cannot engage this one."""
    path = ["input", "engagedBy"]
    engager = (
        await Recipient.get_or_none(slug=engaged_by_slug, using_db=conn)
        if validation.slug_error(engaged_by_slug) is None
        else None
    )
    if engager is None:
        errors.add(
            path, f'No recipient with slug "{engaged_by_slug[:100]}".', UserErrorCode.NOT_FOUND
        )
        return None
    if problem := subprocessors.engager_error(
        engager.name, engager.role, itself=recipient_id is not None and engager.id == recipient_id
    ):
        errors.add(path, problem)
        return None
    if problem := subprocessors.engaged_role_error(role):
        errors.add(["input", "role"], problem)
    if recipient_id is not None:
        # Walk up from the engager: meeting this recipient means the change closes a cycle.
        seen: set[int] = set()
        current: int | None = engager.id
        while current is not None and current not in seen:
            if current == recipient_id:
                errors.add(path, subprocessors.cycle_error(engager.name))
                return None
            seen.add(current)
            # Tortoise types values_list rows as tuples even with flat=True, which gives values.
            row = cast(
                "list[int | None]",
                await Recipient.filter(id=current)
                .using_db(conn)
                .values_list("engaged_by_id", flat=True),
            )
            current = row[0] if row else None
    return engager.id


async def register_recipient(
    command: RegisterRecipient, *, actor: str, role: Role | None, taxonomy: Taxonomy | None = None
) -> RecipientResult:
    """`role` is the calling key's (None only for a trusted import such as the fixture loader):
    which initial statuses it may register with."""
    if role is not None and (problem := access.registration_error(role, command.status)):
        raise UserErrors([UserError(["input", "status"], problem, UserErrorCode.FORBIDDEN)])
    taxonomy = taxonomy or default_taxonomy()
    errors = ErrorCollector()
    recipient_details.check_new_details(
        errors,
        ["input"],
        name=command.name,
        legal_name=command.legal_name,
        description=command.description,
        country=command.country,
        services=command.services,
        website=command.website,
        privacy_policy_url=command.privacy_policy_url,
    )
    slug = recipient_details.registration_slug(command.name, command.slug)
    if problem := recipient_details.registration_slug_error(command.slug, slug):
        errors.add(["input", "slug"], problem)
    if problem := subprocessors.missing_engager_error(
        command.role, engaged=command.engaged_by is not None
    ):
        errors.add(["input", "engagedBy"], problem)
    for i, spec in enumerate(command.disclosures):
        check_disclosure(errors, ["input", "disclosures", str(i)], spec, taxonomy)
    at = clock.now()
    if problem := recipient_details.status_since_error(command.status_since, at):
        errors.add(["input", "statusSince"], problem)

    # The checks that need the database run even when the input has other errors, so that
    # the caller hears about everything at once.
    async with in_transaction() as conn:
        engaged_by_id = None
        if command.engaged_by is not None:
            engaged_by_id = await _check_engaged_by(
                conn, errors, command.engaged_by, role=command.role, recipient_id=None
            )
        if (
            slug
            and validation.slug_error(slug) is None
            and await Recipient.filter(slug=slug).using_db(conn).exists()
        ):
            errors.add(["input", "slug"], f'Slug "{slug}" is taken.', UserErrorCode.DUPLICATE)
        errors.raise_if_any()
        try:
            recipient = await Recipient.create(
                slug=slug,
                name=command.name.strip(),
                sort_name=command.name.strip().casefold(),
                search_text=validation.search_text(command.name.strip(), command.legal_name, slug),
                legal_name=command.legal_name.strip() if command.legal_name else None,
                description=command.description.strip() if command.description else None,
                kind=command.kind,
                role=command.role,
                status=command.status,
                country=command.country,
                services=validation.distinct(command.services),
                website=command.website,
                privacy_policy_url=command.privacy_policy_url,
                dpa_signed_on=command.dpa_signed_on,
                engaged_by_id=engaged_by_id,
                dpf_certified=command.dpf_certified,
                registered_by=actor,
                version=1,
                created_at=at,
                updated_at=at,
                using_db=conn,
            )
        except IntegrityError as exc:
            raise UserErrors(
                [UserError(["input", "slug"], f'Slug "{slug}" is taken.', UserErrorCode.DUPLICATE)]
            ) from exc
        await StatusChange.create(
            recipient_id=recipient.id,
            from_status=None,
            to_status=command.status,
            at=command.status_since or at,
            note="registered",
            actor=actor,
            using_db=conn,
        )
        await audit.record(
            connection=conn,
            at=at,
            actor=actor,
            action="registerRecipient",
            entity_type="Recipient",
            entity_id=recipient.id,
            recipient_id=recipient.id,
            changes=audit.diff({}, _recipient_fields(recipient)),
        )
        for spec in command.disclosures:
            disclosure = await insert_disclosure(conn, recipient.id, spec, at)
            await audit.record(
                connection=conn,
                at=at,
                actor=actor,
                action="addDisclosure",
                entity_type="Disclosure",
                entity_id=disclosure.id,
                recipient_id=recipient.id,
                changes=audit.diff({}, disclosure_snapshot(spec, disclosure.effective_from)),
            )
    return RecipientResult(recipient)


async def update_recipient(command: UpdateRecipient, *, actor: str) -> RecipientResult:
    errors = ErrorCollector()
    recipient_details.check_details(
        errors,
        ["input"],
        name=_given(command.name),
        legal_name=_given(command.legal_name),
        description=_given(command.description),
        country=_given(command.country),
        services=_given(command.services),
        website=_given(command.website),
        privacy_policy_url=_given(command.privacy_policy_url),
    )
    recipient_details.check_not_cleared(
        errors,
        ["input"],
        {
            "name": command.name,
            "kind": command.kind,
            "role": command.role,
            "country": command.country,
            "services": command.services,
            "dataPrivacyFrameworkCertified": command.dpf_certified,
        },
    )

    async with in_transaction() as conn:
        recipient = await Recipient.get_or_none(id=command.recipient_id, using_db=conn)
        if recipient is None:
            raise UserErrors(
                [UserError(["input", "id"], "No such recipient.", UserErrorCode.NOT_FOUND)]
            )
        if recipient.version != command.expected_version:
            raise _stale(recipient)
        before = _recipient_fields(recipient)
        role = command.role if command.role not in (UNSET, None) else recipient.role
        engaged_by_id: int | None = recipient.engaged_by_id
        if command.engaged_by is not UNSET:
            if command.engaged_by is None:
                engaged_by_id = None
            else:
                engaged_by_id = await _check_engaged_by(
                    conn, errors, command.engaged_by, role=role, recipient_id=recipient.id
                )
        elif (
            command.role is not UNSET
            and engaged_by_id is not None
            and (problem := subprocessors.kept_engagement_error(role))
        ):
            errors.add(["input", "role"], problem)
        if not errors and (
            problem := subprocessors.missing_engager_error(role, engaged=engaged_by_id is not None)
        ):
            errors.add(["input", "engagedBy"], problem)
        # Asks the database only when the role could not engage anyone.
        has_subprocessors = (
            not subprocessors.may_engage(role)
            and await Recipient.filter(engaged_by_id=recipient.id).using_db(conn).exists()
        )
        if problem := subprocessors.engaging_role_error(role, has_subprocessors=has_subprocessors):
            errors.add(["input", "role"], problem)
        errors.raise_if_any()

        changes: dict[str, Any] = {}
        for attr in (
            "name",
            "legal_name",
            "description",
            "kind",
            "role",
            "country",
            "services",
            "website",
            "privacy_policy_url",
            "dpa_signed_on",
        ):
            value = getattr(command, attr)
            if value is not UNSET:
                if isinstance(value, str) and attr in ("name", "legal_name"):
                    value = value.strip()
                if attr == "services":
                    value = validation.distinct(value)
                changes[attr] = value
        if command.dpf_certified is not UNSET:
            changes["dpf_certified"] = command.dpf_certified
        changes["engaged_by_id"] = engaged_by_id
        if "name" in changes:
            changes["sort_name"] = changes["name"].casefold()
        for attr, value in changes.items():
            setattr(recipient, attr, value)
        changes["search_text"] = validation.search_text(
            recipient.name, recipient.legal_name, recipient.slug
        )
        after = _recipient_fields(recipient)
        delta = audit.diff(before, after)
        if not delta:
            # Nothing changes: no new version, no audit event.
            return RecipientResult(recipient)
        at = clock.now()
        updated = (
            await Recipient.filter(id=recipient.id, version=command.expected_version)
            .using_db(conn)
            .update(**changes, version=command.expected_version + 1, updated_at=at)
        )
        if updated != 1:
            current = await Recipient.get(id=recipient.id, using_db=conn)
            raise _stale(current)
        await audit.record(
            connection=conn,
            at=at,
            actor=actor,
            action="updateRecipient",
            entity_type="Recipient",
            entity_id=recipient.id,
            recipient_id=recipient.id,
            changes=delta,
        )
        fresh = await Recipient.get(id=recipient.id, using_db=conn)
    return RecipientResult(fresh)


def _stale(current: Recipient) -> UserErrors:
    return UserErrors(
        [
            UserError(
                ["input", "expectedVersion"],
                f"The recipient has changed since version you read; its current version is "
                f"{current.version}. Reload it and apply your change again.",
                UserErrorCode.STALE_VERSION,
            )
        ]
    )


async def change_status(command: ChangeStatus, *, actor: str, role: Role | None) -> RecipientResult:
    """`role` is the calling key's (None only for a trusted import such as the fixture loader,
    which replays a recorded history): which moves it may make, and separation of duties."""
    errors = ErrorCollector()
    if command.note is not None and (problem := validation.note_error(command.note)):
        errors.add(["input", "note"], problem)
    errors.raise_if_any()
    async with in_transaction() as conn:
        recipient = await Recipient.get_or_none(id=command.recipient_id, using_db=conn)
        if recipient is None:
            raise UserErrors(
                [UserError(["input", "id"], "No such recipient.", UserErrorCode.NOT_FOUND)]
            )
        current = recipient.status
        if problem := lifecycle.transition_error(current, command.status):
            raise UserErrors(
                [UserError(["input", "status"], problem, UserErrorCode.INVALID_TRANSITION)]
            )
        if role is not None and (
            problem := access.transition_error(
                role, actor, recipient.registered_by, current, command.status
            )
        ):
            raise UserErrors([UserError(["input", "status"], problem, UserErrorCode.FORBIDDEN)])
        at = command.at or clock.now()
        if problem := lifecycle.dated_ahead_error(at, clock.now()):
            raise UserErrors([UserError(["input", "at"], problem)])
        # Guarded by the status read: a concurrent move makes this update match nothing.
        updated = (
            await Recipient.filter(id=recipient.id, status=current, version=recipient.version)
            .using_db(conn)
            .update(status=command.status, version=recipient.version + 1, updated_at=at)
        )
        if updated != 1:
            fresh = await Recipient.get(id=recipient.id, using_db=conn)
            raise _stale(fresh)
        await StatusChange.create(
            recipient_id=recipient.id,
            from_status=current,
            to_status=command.status,
            at=at,
            note=command.note,
            actor=actor,
            using_db=conn,
        )
        await audit.record(
            connection=conn,
            at=at,
            actor=actor,
            action="changeRecipientStatus",
            entity_type="Recipient",
            entity_id=recipient.id,
            recipient_id=recipient.id,
            changes={"status": [current.value, command.status.value]}
            | ({"note": [None, command.note]} if command.note else {}),
        )
        fresh = await Recipient.get(id=recipient.id, using_db=conn)
    return RecipientResult(fresh)


async def _bump(conn: BaseDBAsyncClient, recipient: Recipient, at: datetime) -> None:
    """A disclosure change is a change of its recipient: move its version on."""
    updated = (
        await Recipient.filter(id=recipient.id, version=recipient.version)
        .using_db(conn)
        .update(version=recipient.version + 1, updated_at=at)
    )
    if updated != 1:
        raise _stale(await Recipient.get(id=recipient.id, using_db=conn))


async def add_disclosure(
    command: AddDisclosure, *, actor: str, taxonomy: Taxonomy | None = None
) -> DisclosureResult:
    taxonomy = taxonomy or default_taxonomy()
    errors = ErrorCollector()
    check_disclosure(errors, ["input", "disclosure"], command.disclosure, taxonomy)
    errors.raise_if_any()
    async with in_transaction() as conn:
        recipient = await Recipient.get_or_none(id=command.recipient_id, using_db=conn)
        if recipient is None:
            raise UserErrors(
                [UserError(["input", "recipientId"], "No such recipient.", UserErrorCode.NOT_FOUND)]
            )
        at = clock.now()
        await _bump(conn, recipient, at)
        disclosure = await insert_disclosure(conn, recipient.id, command.disclosure, at)
        await audit.record(
            connection=conn,
            at=at,
            actor=actor,
            action="addDisclosure",
            entity_type="Disclosure",
            entity_id=disclosure.id,
            recipient_id=recipient.id,
            changes=audit.diff(
                {}, disclosure_snapshot(command.disclosure, disclosure.effective_from)
            ),
        )
    return DisclosureResult(disclosure)


async def end_disclosure(command: EndDisclosure, *, actor: str) -> DisclosureResult:
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
        recipient = await Recipient.get(id=disclosure.recipient_id, using_db=conn)
        at = clock.now()
        await _bump(conn, recipient, at)
        updated = (
            await Disclosure.filter(id=disclosure.id, effective_to=None)
            .using_db(conn)
            .update(effective_to=command.effective_to)
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
    return DisclosureResult(disclosure)
