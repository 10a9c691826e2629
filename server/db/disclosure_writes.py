"""Writing a disclosure: its row, the read model of its parts on that row, and the tables that
link it to the taxonomy. A disclosure's parts never change once written, so they are written
here, once, together; the caller holds the transaction and has checked the terms. One at a time
(insert_disclosure), or an import's thousands in one statement per table (insert_disclosures),
the same rows either way."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import orjson
from tortoise.backends.base.client import BaseDBAsyncClient

from server.db.bulk_inserts import Insert, execute, rows_insert
from server.db.models import (
    Disclosure,
    DisclosureAudience,
    DisclosureCategory,
    DisclosurePurpose,
    DisclosureSubjectType,
    Transfer,
)
from server.domain.disclosure_terms import DisclosureSpec
from server.domain.validation import distinct


@dataclass(frozen=True)
class Parts:
    """A disclosure's taxonomy keys as written: each list without repeats, in the order given."""

    categories: list[str]
    subject_types: list[str]
    purposes: list[str]

    @classmethod
    def of(cls, spec: DisclosureSpec) -> Parts:
        return cls(
            distinct(spec.data_categories), distinct(spec.subject_types), distinct(spec.purposes)
        )


def disclosure_row(
    recipient_id: int, spec: DisclosureSpec, parts: Parts, at: datetime, exporter_id: int | None
) -> dict[str, Any]:
    """The disclosure's row, by field: its terms and the read model of its parts."""
    return {
        "recipient_id": recipient_id,
        "categories_text": ",".join(sorted(parts.categories)),
        "subject_types_text": ",".join(sorted(parts.subject_types)),
        "purposes_text": ",".join(parts.purposes),
        # server/db/disclosures.py:transfer_row reads each element back.
        "transfers_json": orjson.dumps(
            [
                [
                    t.country,
                    t.mechanism.value,
                    t.reference,
                    t.signed_on.isoformat() if t.signed_on else None,
                    t.within_adequacy_scope,
                ]
                for t in spec.transfers
            ]
        ).decode(),
        "legal_basis": spec.legal_basis,
        "ground": spec.ground,
        "retention": spec.retention.strip() if spec.retention else None,
        "effective_from": spec.effective_from or at.date(),
        "effective_to": None,
        "frequency": spec.frequency,
        "special_category_condition": spec.special_category_condition,
        "exporter_id": exporter_id,
        "created_at": at,
    }


async def insert_disclosure(
    conn: BaseDBAsyncClient,
    recipient_id: int,
    spec: DisclosureSpec,
    at: datetime,
    exporter_id: int | None = None,
) -> Disclosure:
    """Write a disclosure of these (checked) terms: its row with the read model of its parts,
    its link tables, one disclosure_audience row per subject type and category, and its
    transfers. `at` is when it is recorded, and the day it takes effect unless the terms say;
    `exporter_id` the establishment it is disclosed from (the caller resolved the terms')."""
    parts = Parts.of(spec)
    disclosure = await Disclosure.create(
        **disclosure_row(recipient_id, spec, parts, at, exporter_id), using_db=conn
    )
    await DisclosureCategory.bulk_create(
        [DisclosureCategory(disclosure_id=disclosure.id, category_id=k) for k in parts.categories],
        using_db=conn,
    )
    await DisclosureSubjectType.bulk_create(
        [
            DisclosureSubjectType(disclosure_id=disclosure.id, subject_type_id=k)
            for k in parts.subject_types
        ],
        using_db=conn,
    )
    await DisclosureAudience.bulk_create(
        [
            DisclosureAudience(disclosure_id=disclosure.id, subject_type_id=t, category_id=k)
            for t in parts.subject_types
            for k in parts.categories
        ],
        using_db=conn,
    )
    await DisclosurePurpose.bulk_create(
        [
            DisclosurePurpose(disclosure_id=disclosure.id, purpose_id=k, position=i)
            for i, k in enumerate(parts.purposes)
        ],
        using_db=conn,
    )
    if spec.transfers:
        await Transfer.bulk_create(
            [
                Transfer(
                    disclosure_id=disclosure.id,
                    country=t.country,
                    mechanism=t.mechanism,
                    reference=t.reference,
                    signed_on=t.signed_on,
                    within_adequacy_scope=t.within_adequacy_scope,
                )
                for t in spec.transfers
            ],
            using_db=conn,
        )
    return disclosure


@dataclass(frozen=True)
class NewDisclosure:
    """A disclosure of a bulk write: its reserved id (bulk_inserts.reserve_ids), its checked
    terms, and `effective_to` when the same write ends it (its end recorded then too)."""

    id: int
    recipient_id: int
    spec: DisclosureSpec
    exporter_id: int | None
    effective_to: date | None = None


TRANSFER_FIELDS = (
    "disclosure_id",
    "country",
    "mechanism",
    "reference",
    "signed_on",
    "within_adequacy_scope",
)


def disclosures_inserts(
    conn: BaseDBAsyncClient, disclosures: Sequence[NewDisclosure], at: datetime
) -> list[Insert]:
    """Many disclosures recorded at `at`, each as insert_disclosure writes one (and, where the
    write ends it, as endDisclosure leaves it): one insert per table."""
    field_names: tuple[str, ...] = ()
    rows: list[list[Any]] = []
    categories: list[tuple[int, str]] = []
    subject_types: list[tuple[int, str]] = []
    audience: list[tuple[int, str, str]] = []
    purposes: list[tuple[int, str, int]] = []
    transfers: list[tuple[Any, ...]] = []
    for new in disclosures:
        parts = Parts.of(new.spec)
        row = disclosure_row(new.recipient_id, new.spec, parts, at, new.exporter_id)
        if new.effective_to is not None:
            row["effective_to"] = new.effective_to
        # The fields of disclosure_row, whatever they are, as insert_disclosure writes them.
        field_names = ("id", *row, "ended_recorded_at")
        rows.append([new.id, *row.values(), at if new.effective_to is not None else None])
        categories.extend((new.id, k) for k in parts.categories)
        subject_types.extend((new.id, k) for k in parts.subject_types)
        audience.extend((new.id, t, k) for t in parts.subject_types for k in parts.categories)
        purposes.extend((new.id, k, i) for i, k in enumerate(parts.purposes))
        transfers.extend(
            (new.id, t.country, t.mechanism, t.reference, t.signed_on, t.within_adequacy_scope)
            for t in new.spec.transfers
        )
    if not rows:
        return []
    return [
        rows_insert(conn, Disclosure, field_names, rows),
        rows_insert(conn, DisclosureCategory, ("disclosure_id", "category_id"), categories),
        rows_insert(
            conn, DisclosureSubjectType, ("disclosure_id", "subject_type_id"), subject_types
        ),
        rows_insert(
            conn, DisclosureAudience, ("disclosure_id", "subject_type_id", "category_id"), audience
        ),
        rows_insert(conn, DisclosurePurpose, ("disclosure_id", "purpose_id", "position"), purposes),
        rows_insert(conn, Transfer, TRANSFER_FIELDS, transfers),
    ]


async def insert_disclosures(
    conn: BaseDBAsyncClient, disclosures: Sequence[NewDisclosure], at: datetime
) -> None:
    """Write many disclosures (disclosures_inserts), one statement per table."""
    await execute(conn, disclosures_inserts(conn, disclosures, at))
