"""Data subjects and their append-only consent log."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from server.db.models import ConsentRecord, DataSubject, SubjectCategory, SubjectVersion
from server.domain import history, validation
from server.domain.enums import UserErrorCode
from server.domain.errors import ErrorCollector, UserError, UserErrors
from server.domain.taxonomy import Taxonomy, default_taxonomy
from server.services import audit, clock

EXTERNAL_REF_MAX = 200


@dataclass
class UpsertDataSubject:
    external_ref: str
    subject_type: str
    country: str
    data_categories: list[str] = field(default_factory=list)
    # From when this version of the facts holds (default: now; never in the future).
    valid_from: datetime | None = None


@dataclass
class SubjectRef:
    """Exactly one of the two identifies a subject."""

    id: int | None = None
    external_ref: str | None = None


@dataclass
class RecordConsent:
    subject: SubjectRef
    purpose: str
    granted: bool
    decided_at: datetime | None = None
    explicit: bool = False
    # Part 2's name for decided_at, still read when sent alone (domain/history.py).
    recorded_at: datetime | None = None


# Kept here too: the reports read it from this module.
as_utc = clock.as_utc


def _external_ref_error(ref: str) -> str | None:
    if not ref.strip():
        return "externalRef must not be empty."
    if len(ref) > EXTERNAL_REF_MAX:
        return f"externalRef is at most {EXTERNAL_REF_MAX} characters."
    if validation.has_control_characters(ref):
        return "externalRef must not contain control characters."
    return None


async def find_subject(ref: SubjectRef, path: list[str]) -> DataSubject:
    if (ref.id is None) == (ref.external_ref is None):
        raise UserErrors([UserError(path, "Give exactly one of `id` and `externalRef`.")])
    if ref.external_ref is not None and len(ref.external_ref) > EXTERNAL_REF_MAX:
        # No subject has one (upserts refuse them), and the ORM would raise on the look-up.
        raise UserErrors(
            [
                UserError(
                    [*path, "externalRef"],
                    f"No such data subject: an externalRef is at most {EXTERNAL_REF_MAX} "
                    "characters.",
                    UserErrorCode.NOT_FOUND,
                )
            ]
        )
    subject = await (
        DataSubject.get_or_none(id=ref.id)
        if ref.id is not None
        else DataSubject.get_or_none(external_ref=ref.external_ref)
    )
    if subject is None:
        raise UserErrors([UserError(path, "No such data subject.", UserErrorCode.NOT_FOUND)])
    return subject


async def upsert_data_subject(
    command: UpsertDataSubject, *, actor: str, taxonomy: Taxonomy | None = None
) -> DataSubject:
    taxonomy = taxonomy or default_taxonomy()
    errors = ErrorCollector()
    if problem := _external_ref_error(command.external_ref):
        errors.add(["input", "externalRef"], problem)
    if command.subject_type not in taxonomy.subject_types:
        errors.add(
            ["input", "subjectType"], f'Unknown subject type "{command.subject_type[:100]}".'
        )
    if problem := validation.country_error(command.country):
        errors.add(["input", "country"], problem)
    for i, key in enumerate(command.data_categories):
        if key not in taxonomy.categories:
            errors.add(["input", "dataCategories", str(i)], f'Unknown data category "{key[:100]}".')
    at = clock.now()
    valid_from = history.world_time(errors, ["input", "validFrom"], command.valid_from, at)
    errors.raise_if_any()
    categories = list(dict.fromkeys(command.data_categories))
    async with in_transaction() as conn:
        subject = await DataSubject.get_or_none(external_ref=command.external_ref, using_db=conn)
        # Read after the subject: an upsert that waited for another states the facts after it
        # (with no validFrom given, its version is the latest), and one that read a row
        # replaced meanwhile fails on the version below.
        at = clock.now()
        if command.valid_from is None:
            valid_from = at
        after: dict[str, Any] = {
            "subjectType": command.subject_type,
            "country": command.country,
            "dataCategories": sorted(categories),
            "validFrom": valid_from.isoformat(),
        }
        before: dict[str, Any] = {}
        current = True
        if subject is None:
            try:
                subject = await DataSubject.create(
                    external_ref=command.external_ref,
                    subject_type_id=command.subject_type,
                    country=command.country,
                    version=1,
                    created_at=at,
                    updated_at=at,
                    using_db=conn,
                )
            except IntegrityError as exc:
                raise UserErrors(
                    [
                        UserError(
                            ["input", "externalRef"],
                            "Another request created this subject at the same time; try again.",
                            UserErrorCode.STALE_VERSION,
                        )
                    ]
                ) from exc
            action = "createDataSubject"
        else:
            versions = SubjectVersion.filter(subject_id=subject.id).using_db(conn)
            latest = await versions.order_by("-valid_from", "-recorded_at", "-id").first()
            current = history.becomes_current(valid_from, latest.valid_from if latest else None)
            if current:
                links = SubjectCategory.filter(subject_id=subject.id).using_db(conn)
                before = {
                    "subjectType": subject.subject_type_id,
                    "country": subject.country,
                    "dataCategories": sorted(await links.values_list("category_id", flat=True)),
                    "validFrom": latest.valid_from.isoformat() if latest else None,
                }
                action = "replaceDataSubject"
            else:
                # A correction of the past: what held at validFrom until now, as recorded.
                held = (
                    await versions.filter(valid_from__lte=valid_from)
                    .order_by("-valid_from", "-recorded_at", "-id")
                    .first()
                )
                before = _version_facts(held) if held else {}
                action = "correctDataSubject"
            # Every upsert moves the version on (a correction too), so that concurrent ones on a
            # subject apply one at a time or fail as STALE_VERSION.
            fields: dict[str, Any] = {"version": subject.version + 1, "updated_at": at}
            if current:
                fields |= {"subject_type_id": command.subject_type, "country": command.country}
            updated = (
                await DataSubject.filter(id=subject.id, version=subject.version)
                .using_db(conn)
                .update(**fields)
            )
            if updated != 1:
                raise UserErrors(
                    [
                        UserError(
                            ["input", "externalRef"],
                            "This subject changed while being replaced; try again.",
                            UserErrorCode.STALE_VERSION,
                        )
                    ]
                )
            if current:
                await SubjectCategory.filter(subject_id=subject.id).using_db(conn).delete()
        if current:
            # The read model holds the current facts: the version with the latest validFrom.
            await SubjectCategory.bulk_create(
                [SubjectCategory(subject_id=subject.id, category_id=k) for k in categories],
                using_db=conn,
            )
        await SubjectVersion.create(
            subject_id=subject.id,
            subject_type_id=command.subject_type,
            country=command.country,
            categories_text=",".join(sorted(categories)),
            valid_from=valid_from,
            recorded_at=at,
            actor=actor,
            using_db=conn,
        )
        changes = audit.diff(before, after)
        if changes:
            await audit.record(
                connection=conn,
                at=at,
                actor=actor,
                action=action,
                entity_type="DataSubject",
                entity_id=subject.id,
                recipient_id=None,
                changes=changes,
            )
        fresh = await DataSubject.get(id=subject.id, using_db=conn)
    return fresh


def _version_facts(version: SubjectVersion) -> dict[str, Any]:
    """A stored version as the audit log shows a subject's facts."""
    return {
        "subjectType": version.subject_type_id,
        "country": version.country,
        "dataCategories": sorted(k for k in version.categories_text.split(",") if k),
        "validFrom": version.valid_from.isoformat(),
    }


async def record_consent(
    command: RecordConsent, *, actor: str, taxonomy: Taxonomy | None = None
) -> DataSubject:
    taxonomy = taxonomy or default_taxonomy()
    errors = ErrorCollector()
    if command.purpose not in taxonomy.purposes:
        errors.add(["input", "purpose"], f'Unknown purpose "{command.purpose[:100]}".')
    now = clock.now()
    decided_at = history.consent_decided_at(
        errors,
        ["input"],
        decided_at=command.decided_at,
        recorded_at=command.recorded_at,
        now=now,
    )
    errors.raise_if_any()
    subject = await find_subject(command.subject, ["input", "subject"])
    async with in_transaction() as conn:
        record = await ConsentRecord.create(
            subject_id=subject.id,
            purpose_id=command.purpose,
            granted=command.granted,
            decided_at=decided_at,
            recorded_at=now,
            explicit=command.explicit,
            created_at=now,
            actor=actor,
            using_db=conn,
        )
        await audit.record(
            connection=conn,
            at=now,
            actor=actor,
            action="recordConsent",
            entity_type="ConsentRecord",
            entity_id=record.id,
            recipient_id=None,
            changes={
                "subject": [None, subject.external_ref],
                "purpose": [None, command.purpose],
                "granted": [None, command.granted],
                "decidedAt": [None, decided_at.isoformat()],
                "explicit": [None, command.explicit],
            },
        )
    return subject
