"""A person's explicit consent to one transfer (GDPR Art. 49(1)(a)): to one recipient, in one
country, after being told its risks. Consent to a purpose is not consent to a transfer, so these
are kept apart from the purpose consent log; append-only, with two clocks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tortoise.transactions import in_transaction

from server.db.models import DataSubject, Recipient, TransferConsent
from server.domain import history, validation
from server.domain.enums import UserErrorCode
from server.domain.errors import ErrorCollector, UserErrors
from server.services import audit, clock
from server.services.subjects import SubjectRef, find_subject

PATH = ["input"]


@dataclass
class RecordTransferConsent:
    subject: SubjectRef
    recipient_id: int | None
    country: str
    granted: bool
    decided_at: datetime | None = None
    # A global ID that names no recipient: reported with the other errors, not alone.
    recipient_id_error: str | None = None


async def record_transfer_consent(command: RecordTransferConsent, *, actor: str) -> DataSubject:
    """Every error at once (subject, recipient, country, moment), and nothing written on any."""
    errors = ErrorCollector()
    now = clock.now()
    if problem := validation.country_error(command.country):
        errors.add([*PATH, "country"], problem)
    decided_at = history.world_time(errors, [*PATH, "decidedAt"], command.decided_at, now)
    subject = None
    try:
        subject = await find_subject(command.subject, [*PATH, "subject"])
    except UserErrors as exc:
        errors.errors.extend(exc.errors)
    recipient = (
        await Recipient.get_or_none(id=command.recipient_id)
        if command.recipient_id is not None
        else None
    )
    if recipient is None:
        errors.add(
            [*PATH, "recipient"],
            command.recipient_id_error or "No such recipient.",
            UserErrorCode.NOT_FOUND,
        )
    errors.raise_if_any()
    assert subject is not None and recipient is not None
    async with in_transaction() as conn:
        record = await TransferConsent.create(
            subject_id=subject.id,
            recipient_id=recipient.id,
            country=command.country,
            granted=command.granted,
            decided_at=decided_at,
            recorded_at=now,
            actor=actor,
            using_db=conn,
        )
        # About one person: not in the recipient's history, which every role may read.
        await audit.record(
            connection=conn,
            at=now,
            actor=actor,
            action="recordTransferConsent",
            entity_type="TransferConsent",
            entity_id=record.id,
            recipient_id=None,
            changes={
                "subject": [None, subject.external_ref],
                "recipient": [None, recipient.slug],
                "country": [None, command.country],
                "granted": [None, command.granted],
                "decidedAt": [None, decided_at.isoformat()],
            },
        )
    return subject
