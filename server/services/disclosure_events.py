"""Recording one actual disclosure of one person's data under an ON_REQUEST disclosure:
append-only, checked against the inventory's facts at the moment it happened."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tortoise.transactions import in_transaction

from server.db import disclosure_events as event_rows
from server.db import disclosures as disclosure_rows
from server.db import recipients as recipient_rows
from server.db import subjects as subject_rows
from server.db.disclosure_events import EventRow
from server.db.models import DisclosureEvent
from server.domain import disclosure_events
from server.domain.enums import UserErrorCode
from server.domain.errors import ErrorCollector, UserErrors
from server.domain.periods import SubjectVersion
from server.services import audit, clock
from server.services.reports import disclosure_facts
from server.services.subjects import SubjectRef, find_subject

PATH = ["input"]


@dataclass
class RecordDisclosureEvent:
    subject: SubjectRef
    disclosure_id: int | None
    occurred_at: datetime
    reference: str
    note: str | None = None
    # A global ID that names no disclosure: reported with the other errors, not alone.
    disclosure_id_error: str | None = None


async def record_disclosure_event(command: RecordDisclosureEvent, *, actor: str) -> EventRow:
    """Every error at once where the facts allow (the facts are judged only when the subject,
    the disclosure and the moment are known), and nothing written on any."""
    errors = ErrorCollector()
    now = clock.now()
    disclosure_events.check_text(errors, PATH, command.reference, command.note)
    occurred_at = disclosure_events.checked_moment(errors, PATH, command.occurred_at, now)
    subject = None
    try:
        subject = await find_subject(command.subject, [*PATH, "subject"])
    except UserErrors as exc:
        errors.errors.extend(exc.errors)
    disclosure = None
    if command.disclosure_id is not None:
        disclosure = (await disclosure_rows.disclosures_by_id([command.disclosure_id])).get(
            command.disclosure_id
        )
    if disclosure is None:
        errors.add(
            [*PATH, "disclosure"],
            command.disclosure_id_error or "No such disclosure.",
            UserErrorCode.NOT_FOUND,
        )
    if subject is not None and disclosure is not None and occurred_at is not None:
        found = await recipient_rows.recipients_with_status_at(
            [disclosure.recipient_id], occurred_at
        )
        recipient, status = found[disclosure.recipient_id]
        versions = await subject_rows.subject_versions(subject.id)
        disclosure_events.check_event(
            errors,
            PATH,
            occurred_at=occurred_at,
            disclosure=disclosure_facts(disclosure),
            recipient_name=recipient["name"],
            recipient_status=status,
            versions=[
                SubjectVersion(
                    v.valid_from,
                    v.subject_type,
                    v.country,
                    tuple(v.data_categories),
                    v.recorded_at,
                    v.id,
                )
                for v in versions
            ],
        )
    errors.raise_if_any()
    assert subject is not None and disclosure is not None and occurred_at is not None
    async with in_transaction() as conn:
        event = await DisclosureEvent.create(
            disclosure_id=disclosure.id,
            subject_id=subject.id,
            occurred_at=occurred_at,
            reference=command.reference.strip(),
            note=command.note,
            recorded_at=now,
            actor=actor,
            using_db=conn,
        )
        # Not in the recipient's history (recipient_id None): that is readable to every role,
        # and an event is about one person.
        await audit.record(
            connection=conn,
            at=now,
            actor=actor,
            action="recordDisclosureEvent",
            entity_type="DisclosureEvent",
            entity_id=event.id,
            recipient_id=None,
            changes={
                "subject": [None, subject.external_ref],
                "disclosure": [None, disclosure.id],
                "occurredAt": [None, occurred_at.isoformat()],
                "reference": [None, command.reference.strip()],
            },
        )
    return (await event_rows.events_by_id([event.id]))[event.id]
