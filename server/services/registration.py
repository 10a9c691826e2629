"""Registering a recipient for review, with its first disclosures: procurement's intake, or an
admin's import of an existing inventory (which may start at a later status)."""

from __future__ import annotations

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from server.db.models import Recipient, StatusChange
from server.db.recipients import stored_certifications
from server.domain import access, dpf, recipient_details, subprocessors, validation
from server.domain.access import Role
from server.domain.disclosure_terms import (
    DISCLOSURES_PER_REQUEST_MAX,
    check_disclosure,
    disclosure_count_error,
)
from server.domain.enums import UserErrorCode
from server.domain.errors import ErrorCollector, UserError, UserErrors
from server.domain.taxonomy import Taxonomy, default_taxonomy
from server.services import audit, clock
from server.services.audit_snapshots import recipient_snapshot
from server.services.commands import RegisterRecipient
from server.services.disclosures import exporters_for, record_disclosure
from server.services.engagement import check_engaged_by
from server.services.results import RecipientResult


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
        today=clock.today(),
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
    at = clock.now()
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
                dpf_certified=dpf.eu_us_in_force(certifications, at.date()),
                dpf_certifications=stored_certifications(certifications),
                corporate_group=recipient_details.corporate_group(command.corporate_group),
                international_organisation=command.international_organisation,
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
            at=status_since or at,
            recorded_at=at,
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
            changes=audit.diff({}, recipient_snapshot(recipient)),
        )
        for spec, exporter in zip(command.disclosures, exporters, strict=True):
            await record_disclosure(conn, recipient.id, spec, at=at, actor=actor, exporter=exporter)
    return RecipientResult(recipient)
