"""Changing a registered recipient: its details (against the version the caller read), and its
status through the lifecycle of review (with the role rules and separation of duties)."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from server.db.models import AuditEvent, Recipient, StatusChange
from server.db.recipients import parse_certifications, stored_certifications
from server.domain import (
    access,
    dpf,
    lifecycle,
    processor_contracts,
    recipient_details,
    subprocessors,
    validation,
)
from server.domain import change_requests as change_rules
from server.domain.access import Role
from server.domain.enums import ChangeKind, ProcessingRole, RecipientStatus, UserErrorCode
from server.domain.errors import ErrorCollector, UserError, UserErrors
from server.services import audit, clock, review
from server.services.audit_snapshots import (
    recipient_snapshot,
)
from server.services.change_requests import open_change
from server.services.commands import UNSET, ChangeStatus, UpdateRecipient
from server.services.engagement import check_engaged_by
from server.services.recipient_versions import last_move_at, locked_recipient, stale_version
from server.services.results import RecipientResult


def _given(value: Any) -> Any:
    """None for a field the command leaves as it is (UNSET): the checks skip both."""
    return None if value is UNSET else value


# The recipient's columns whose change is material (domain/change_requests.py), by API name.
MATERIAL_COLUMNS = {
    "kind": "kind",
    "role": "role",
    "country": "country",
    "engaged_by_id": "engagedBy",
}


async def update_recipient(
    command: UpdateRecipient, *, actor: str, role: Role | None
) -> RecipientResult:
    """`role` is the calling key's (None only for a trusted write: the fixture loader, or an
    approved change applied): for a recipient a reviewer has passed, a key's change of a
    material field waits for a second key, while the rest applies at once."""
    errors = ErrorCollector()
    recipient_details.check_details(
        errors,
        ["input"],
        today=clock.today(),
        name=_given(command.name),
        legal_name=_given(command.legal_name),
        description=_given(command.description),
        country=_given(command.country),
        services=_given(command.services),
        website=_given(command.website),
        privacy_policy_url=_given(command.privacy_policy_url),
        dpa_signed_on=_given(command.dpa_signed_on),
        corporate_group=_given(command.corporate_group),
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
            "dpfCertifications": command.dpf_certifications,
            "internationalOrganisation": command.international_organisation,
        },
    )
    if command.dpf_certifications not in (UNSET, None):
        dpf.check_given(errors, ["input", "dpfCertifications"], command.dpf_certifications)
    if problem := dpf.flag_conflict_error(
        command.dpf_certified not in (UNSET, None), command.dpf_certifications is not UNSET
    ):
        errors.add(["input", "dataPrivacyFrameworkCertified"], problem)

    async with in_transaction() as conn:
        recipient = await Recipient.get_or_none(id=command.recipient_id, using_db=conn)
        if recipient is None:
            raise UserErrors(
                [UserError(["input", "id"], "No such recipient.", UserErrorCode.NOT_FOUND)]
            )
        if recipient.version != command.expected_version:
            raise stale_version(recipient)
        before = recipient_snapshot(recipient)
        processing_role = command.role if command.role not in (UNSET, None) else recipient.role
        engaged_by_id: int | None = recipient.engaged_by_id
        if command.engaged_by is not UNSET:
            if command.engaged_by is None:
                engaged_by_id = None
            else:
                engaged_by_id = await check_engaged_by(
                    conn,
                    errors,
                    command.engaged_by,
                    role=processing_role,
                    recipient_id=recipient.id,
                )
        elif (
            command.role is not UNSET
            and engaged_by_id is not None
            and (problem := subprocessors.kept_engagement_error(processing_role))
        ):
            errors.add(["input", "role"], problem)
        if not errors and (
            problem := subprocessors.missing_engager_error(
                processing_role, engaged=engaged_by_id is not None
            )
        ):
            errors.add(["input", "engagedBy"], problem)
        # Asks the database only when the role could not engage anyone.
        has_subprocessors = (
            not subprocessors.may_engage(processing_role)
            and await Recipient.filter(engaged_by_id=recipient.id).using_db(conn).exists()
        )
        if problem := subprocessors.engaging_role_error(
            processing_role, has_subprocessors=has_subprocessors
        ):
            errors.add(["input", "role"], problem)
        today = clock.today()
        certifications = None
        if command.dpf_certifications not in (UNSET, None):
            certifications = list(command.dpf_certifications)
        elif command.dpf_certified not in (UNSET, None) and not errors:
            certifications = dpf.with_flag(
                parse_certifications(recipient.dpf_certifications), command.dpf_certified, today
            )
            if problem := dpf.flag_result_error(certifications):
                errors.add(["input", "dataPrivacyFrameworkCertified"], problem)
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
        if command.corporate_group is not UNSET:
            changes["corporate_group"] = recipient_details.corporate_group(command.corporate_group)
        if command.international_organisation is not UNSET:
            changes["international_organisation"] = command.international_organisation
        if certifications is not None:
            changes["dpf_certifications"] = stored_certifications(certifications)
            changes["dpf_certified"] = dpf.eu_us_in_force(certifications, today)
        changes["engaged_by_id"] = engaged_by_id
        if "name" in changes:
            changes["sort_name"] = changes["name"].casefold()
        # A material change waits for a second key: held out of what applies now.
        held: dict[str, Any] = {}
        if change_rules.needs_review(RecipientStatus(recipient.status), role):
            held = {
                column: changes.pop(column)
                for column in MATERIAL_COLUMNS
                if column in changes and changes[column] != getattr(recipient, column)
            }
        held_delta = audit.diff(
            {MATERIAL_COLUMNS[c]: getattr(recipient, c) for c in held},
            {MATERIAL_COLUMNS[c]: v for c, v in held.items()},
        )
        for attr, value in changes.items():
            setattr(recipient, attr, value)
        changes["search_text"] = validation.search_text(
            recipient.name, recipient.legal_name, recipient.slug
        )
        after = recipient_snapshot(recipient)
        delta = audit.diff(before, after)
        if not delta and not held:
            # Nothing changes: no new version, no audit event.
            return RecipientResult(recipient)
        at = clock.now()
        if delta:
            updated = (
                await Recipient.filter(id=recipient.id, version=command.expected_version)
                .using_db(conn)
                .update(**changes, version=command.expected_version + 1, updated_at=at)
            )
            if updated != 1:
                current = await Recipient.get(id=recipient.id, using_db=conn)
                raise stale_version(current)
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
        change = None
        if held:
            change = await open_change(
                conn,
                recipient,
                ChangeKind.UPDATE_RECIPIENT,
                actor=actor,
                at=at,
                summary=await review.recipient_change_summary(
                    recipient.id,
                    {name: (str(b), str(a)) for name, (b, a) in held_delta.items()},
                    {c: v.value if isinstance(v, Enum) else v for c, v in held.items()},
                ),
                changes=held_delta,
                proposal={
                    # engagedBy as the caller named it: its slug.
                    MATERIAL_COLUMNS[c]: command.engaged_by
                    if c == "engaged_by_id"
                    else (v.value if isinstance(v, Enum) else v)
                    for c, v in held.items()
                },
            )
        fresh = await Recipient.get(id=recipient.id, using_db=conn)
    return RecipientResult(fresh, change)


async def change_status(command: ChangeStatus, *, actor: str, role: Role | None) -> RecipientResult:
    """`role` is the calling key's (None only for a trusted import such as the fixture loader,
    which replays a recorded history): which moves it may make, separation of duties, and
    whether it may date the move (`command.at`) other than now. The move's recorded time is
    always the server's clock."""
    errors = ErrorCollector()
    if command.note is not None and (problem := validation.note_error(command.note)):
        errors.add(["input", "note"], problem)
    now = clock.now()
    given: datetime | None = None
    if command.at is not None:
        if role is not None and (problem := access.past_dating_error(role, "a status move")):
            errors.add(["input", "effectiveAt"], problem, UserErrorCode.FORBIDDEN)
        elif problem := validation.moment_error(command.at):
            errors.add(["input", "effectiveAt"], problem)
        else:
            given = clock.as_utc(command.at)
            if problem := lifecycle.dated_ahead_error(given, now):
                errors.add(["input", "effectiveAt"], problem)
    async with in_transaction() as conn:
        recipient = await locked_recipient(conn, command.recipient_id)
        # Read once the recipient is locked: a move that waited for the lock comes after the
        # one that held it, in effective time as in the order recorded.
        now = clock.now()
        at = given or now
        if recipient is None:
            errors.add(["input", "id"], "No such recipient.", UserErrorCode.NOT_FOUND)
            errors.raise_if_any()
        assert recipient is not None
        current = recipient.status
        if problem := lifecycle.transition_error(current, command.status):
            errors.add(["input", "status"], problem, UserErrorCode.INVALID_TRANSITION)
        elif role is not None and (
            problem := access.transition_error(
                role,
                actor,
                recipient.registered_by,
                current,
                command.status,
                edited_by=await editors(conn, recipient.id)
                if command.status is RecipientStatus.APPROVED
                else (),
            )
        ):
            errors.add(["input", "status"], problem, UserErrorCode.FORBIDDEN)
        elif role is not None and (
            problem := processor_contracts.activation_error(
                name=recipient.name,
                role=ProcessingRole(recipient.role),
                target=command.status,
                dpa_signed_on=recipient.dpa_signed_on,
            )
        ):
            # A key's move; a recorded history replayed (role None) is not refused, and the
            # processor it leaves ACTIVE without a DPA is a compliance gap instead.
            errors.add(["input", "status"], problem)
        if command.at is not None and not errors:
            previous = await last_move_at(conn, recipient.id)
            if problem := lifecycle.before_previous_move_error(at, previous):
                errors.add(["input", "effectiveAt"], problem)
        errors.raise_if_any()
        # Guarded by the status read: a concurrent move makes this update match nothing.
        updated = (
            await Recipient.filter(id=recipient.id, status=current, version=recipient.version)
            .using_db(conn)
            .update(status=command.status, version=recipient.version + 1, updated_at=now)
        )
        if updated != 1:
            fresh = await Recipient.get(id=recipient.id, using_db=conn)
            raise stale_version(fresh)
        await StatusChange.create(
            recipient_id=recipient.id,
            from_status=current,
            to_status=command.status,
            at=at,
            recorded_at=now,
            note=command.note,
            actor=actor,
            using_db=conn,
        )
        await audit.record(
            connection=conn,
            at=now,
            actor=actor,
            action="changeRecipientStatus",
            entity_type="Recipient",
            entity_id=recipient.id,
            recipient_id=recipient.id,
            changes={"status": [current.value, command.status.value]}
            | ({"note": [None, command.note]} if command.note else {})
            | ({"effectiveAt": [None, at.isoformat()]} if command.at is not None else {}),
        )
        fresh = await Recipient.get(id=recipient.id, using_db=conn)
    return RecipientResult(fresh)


# Audit actions that are not edits of a recipient: moving it through its lifecycle.
NOT_EDITS = ("changeRecipientStatus",)


async def editors(conn: BaseDBAsyncClient, recipient_id: int) -> set[str]:
    """The keys that changed the recipient or its disclosures (registration included), from the
    audit log: none of them may approve it (separation of duties)."""
    actors = (
        await AuditEvent.filter(recipient_id=recipient_id)
        .exclude(action__in=NOT_EDITS)
        .using_db(conn)
        .distinct()
        .values_list("actor", flat=True)
    )
    return {str(actor) for actor in actors}
