"""Registering a recipient for review, with its first disclosures: procurement's intake, or an
admin's import of an existing inventory (which may start at a later status)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from server.db.models import Recipient, StatusChange
from server.db.recipients import stored_certifications
from server.domain import access, dpf, recipient_details, subprocessors, validation
from server.domain import change_requests as change_rules
from server.domain.access import Role
from server.domain.disclosure_terms import (
    DISCLOSURES_PER_REQUEST_MAX,
    check_disclosure,
    disclosure_count_error,
)
from server.domain.enums import RecipientStatus, UserErrorCode
from server.domain.errors import ErrorCollector, UserError, UserErrors
from server.domain.regimes import DpfCertification
from server.domain.taxonomy import Taxonomy, default_taxonomy
from server.services import audit, change_requests, clock
from server.services.audit_snapshots import recipient_snapshot
from server.services.commands import RegisterRecipient
from server.services.disclosures import exporters_for, record_disclosure
from server.services.engagement import check_engaged_by
from server.services.results import RecipientResult


@dataclass
class Registration:
    """A registration judged on its input alone (no database): the errors found, and what its
    write needs. The import judges thousands this way before it writes any of them."""

    errors: ErrorCollector
    slug: str
    at: datetime
    # When the recipient took its initial status (an import's statusSince), None: `at`.
    status_since: datetime | None
    certifications: list[DpfCertification]
    # The key may not register with this status: that is all it hears (its FORBIDDEN error).
    refused: bool = False


def judge_registration(
    command: RegisterRecipient, *, role: Role | None, taxonomy: Taxonomy, at: datetime
) -> Registration:
    """Every check of a registration that needs no database, in the order they report."""
    errors = ErrorCollector()
    if role is not None and (problem := access.registration_error(role, command.status)):
        errors.add(["input", "status"], problem, UserErrorCode.FORBIDDEN)
        return Registration(errors, "", at, None, [], refused=True)
    recipient_details.check_new_details(
        errors,
        ["input"],
        today=at.date(),
        name=command.name,
        legal_name=command.legal_name,
        description=command.description,
        country=command.country,
        services=command.services,
        website=command.website,
        privacy_policy_url=command.privacy_policy_url,
        dpa_signed_on=command.dpa_signed_on,
        corporate_group=command.corporate_group,
    )
    if command.dpf_certifications is not None:
        dpf.check_given(errors, ["input", "dpfCertifications"], command.dpf_certifications)
    # The registration default (false) changes nothing: only true can conflict with the list.
    if problem := dpf.flag_conflict_error(
        command.dpf_certified, command.dpf_certifications is not None
    ):
        errors.add(["input", "dataPrivacyFrameworkCertified"], problem)
    slug = recipient_details.registration_slug(command.name, command.slug)
    if problem := recipient_details.registration_slug_error(command.slug, slug):
        errors.add(["input", "slug"], problem)
    if problem := subprocessors.missing_engager_error(
        command.role, engaged=command.engaged_by is not None
    ):
        errors.add(["input", "engagedBy"], problem)
    if problem := disclosure_count_error(
        len(command.disclosures), DISCLOSURES_PER_REQUEST_MAX, "in one request"
    ):
        errors.add(["input", "disclosures"], problem)
    else:
        for i, spec in enumerate(command.disclosures):
            check_disclosure(errors, ["input", "disclosures", str(i)], spec, taxonomy)
    certifications = list(command.dpf_certifications or [])
    if command.dpf_certified and command.dpf_certifications is None:
        certifications = dpf.certified(certifications, at.date())
    status_since = None
    if command.status_since is not None:
        if role is not None and (
            problem := access.past_dating_error(role, "a recipient's initial status")
        ):
            errors.add(["input", "statusSince"], problem, UserErrorCode.FORBIDDEN)
        elif problem := recipient_details.status_since_error(command.status_since, at):
            errors.add(["input", "statusSince"], problem)
        else:
            status_since = clock.as_utc(command.status_since)
    registered_on = (status_since or at).date()
    for i, spec in enumerate(command.disclosures[:DISCLOSURES_PER_REQUEST_MAX]):
        if problem := access.before_registration_error(role, spec.effective_from, registered_on):
            path = ["input", "disclosures", str(i), "effectiveFrom"]
            errors.add(path, problem, UserErrorCode.FORBIDDEN)
    return Registration(errors, slug, at, status_since, certifications)


def recipient_fields(
    command: RegisterRecipient,
    judged: Registration,
    *,
    actor: str,
    engaged_by_id: int | None,
    recipient_id: int | None = None,
) -> dict[str, Any]:
    """The recipient a registration writes, by field (`recipient_id`: an id reserved for a
    bulk write, which inserts these without making the model; None lets the database choose)."""
    name = command.name.strip()
    at = judged.at
    return {
        **({} if recipient_id is None else {"id": recipient_id}),
        "slug": judged.slug,
        "name": name,
        "sort_name": name.casefold(),
        "search_text": validation.search_text(name, command.legal_name, judged.slug),
        "legal_name": command.legal_name.strip() if command.legal_name else None,
        "description": command.description.strip() if command.description else None,
        "kind": command.kind,
        "role": command.role,
        "status": command.status,
        "country": command.country,
        "services": validation.distinct(command.services),
        "website": command.website,
        "privacy_policy_url": command.privacy_policy_url,
        "dpa_signed_on": command.dpa_signed_on,
        "engaged_by_id": engaged_by_id,
        "dpf_certified": dpf.eu_us_in_force(judged.certifications, at.date()),
        "dpf_certifications": stored_certifications(judged.certifications),
        "corporate_group": recipient_details.corporate_group(command.corporate_group),
        "international_organisation": command.international_organisation,
        "registered_by": actor,
        "version": 1,
        "created_at": at,
        "updated_at": at,
    }


def new_recipient(
    command: RegisterRecipient, judged: Registration, *, actor: str, engaged_by_id: int | None
) -> Recipient:
    """The recipient a registration writes (recipient_fields'), not yet saved."""
    return Recipient(**recipient_fields(command, judged, actor=actor, engaged_by_id=engaged_by_id))


def first_move(
    recipient_id: int, status: RecipientStatus, judged: Registration, *, actor: str
) -> dict[str, Any]:
    """The registration's status change, by field: from nothing to its initial status."""
    return {
        "recipient_id": recipient_id,
        "from_status": None,
        "to_status": status,
        "at": judged.status_since or judged.at,
        "recorded_at": judged.at,
        "note": "registered",
        "actor": actor,
    }


def registration_event(
    recipient: Recipient | Mapping[str, Any], judged: Registration, *, actor: str
) -> audit.Event:
    """Its audit event (the recipient saved, or a bulk write's recipient_fields)."""
    snapshot = recipient_snapshot(recipient)
    recipient_id = recipient["id"] if isinstance(recipient, Mapping) else recipient.id
    return audit.Event(
        at=judged.at,
        actor=actor,
        action="registerRecipient",
        entity_type="Recipient",
        entity_id=recipient_id,
        recipient_id=recipient_id,
        changes=audit.diff({}, snapshot),
    )


async def register_recipient(
    command: RegisterRecipient, *, actor: str, role: Role | None, taxonomy: Taxonomy | None = None
) -> RecipientResult:
    """`role` is the calling key's (None only for a trusted import such as the fixture loader):
    which initial statuses it may register with."""
    judged = judge_registration(
        command, role=role, taxonomy=taxonomy or default_taxonomy(), at=clock.now()
    )
    errors, slug = judged.errors, judged.slug
    if judged.refused:
        errors.raise_if_any()

    # The checks that need the database run even when the input has other errors, so that
    # the caller hears about everything at once.
    async with in_transaction() as conn:
        engaged_by_id = None
        if command.engaged_by is not None:
            engaged_by_id = await check_engaged_by(
                conn, errors, command.engaged_by, role=command.role, recipient_id=None
            )
        if (
            slug
            and validation.slug_error(slug) is None
            and await Recipient.filter(slug=slug).using_db(conn).exists()
        ):
            errors.add(["input", "slug"], f'Slug "{slug}" is taken.', UserErrorCode.DUPLICATE)
        exporters = await exporters_for(
            conn,
            errors,
            [["input", "disclosures", str(i)] for i in range(len(command.disclosures))],
            command.disclosures,
            subprocessor=command.engaged_by is not None,
        )
        errors.raise_if_any()
        recipient = new_recipient(command, judged, actor=actor, engaged_by_id=engaged_by_id)
        try:
            await recipient.save(using_db=conn, force_create=True)
        except IntegrityError as exc:
            raise UserErrors(
                [UserError(["input", "slug"], f'Slug "{slug}" is taken.', UserErrorCode.DUPLICATE)]
            ) from exc
        move = first_move(recipient.id, recipient.status, judged, actor=actor)
        await StatusChange(**move).save(using_db=conn, force_create=True)
        await audit.record_event(conn, registration_event(recipient, judged, actor=actor))
        at = judged.at
        for spec, exporter in zip(command.disclosures, exporters, strict=True):
            await record_disclosure(conn, recipient.id, spec, at=at, actor=actor, exporter=exporter)
        if role is not None and change_rules.skips_review(command.status):
            # A key's registration past PROPOSED skipped review: a second key confirms it. (A
            # trusted import, role None, replays a history that was reviewed where it came from.)
            await change_requests.open_import_review(conn, recipient, actor=actor, at=at)
    return RecipientResult(recipient)
