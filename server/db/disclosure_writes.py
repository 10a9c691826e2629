"""Writing a disclosure: its row, the read model of its parts on that row, and the tables that
link it to the taxonomy, always together; the caller holds the transaction and has checked the
terms. One at a time (insert_disclosure), or an import's thousands in one statement per table
(insert_disclosures), the same rows either way. A correction (updateDisclosure) keeps the terms
before on a row of their own, so that reports at past moments read them, and writes the new ones
on the disclosure's own row."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from itertools import count, product, repeat
from typing import Any

import orjson
from tortoise.backends.base.client import BaseDBAsyncClient

from server.db.bulk_inserts import Insert, execute, rows_insert
from server.db.disclosures import DisclosureRow, transfer_row
from server.db.models import (
    Disclosure,
    DisclosureAudience,
    DisclosureCategory,
    DisclosurePurpose,
    DisclosureSubjectType,
    Transfer,
)
from server.domain.disclosure_terms import DisclosureSpec, TransferSpec
from server.domain.enums import (
    DisclosureFrequency,
    DisclosureGround,
    LegalBasis,
    SpecialCategoryCondition,
    TransferMechanism,
)
from server.domain.validation import distinct

# The tables that hang off a disclosure, each by its disclosure_id.
PART_TABLES = (
    DisclosureCategory,
    DisclosureSubjectType,
    DisclosureAudience,
    DisclosurePurpose,
    Transfer,
)


Keys = tuple[list[str], list[str], list[str]]


def taxonomy_keys(spec: DisclosureSpec) -> Keys:
    """The terms' data categories, subject types and purposes, each without repeats (in the
    order given): what the disclosure's link tables hold."""
    return distinct(spec.data_categories), distinct(spec.subject_types), distinct(spec.purposes)


def read_model(spec: DisclosureSpec, keys: Keys | None = None) -> dict[str, Any]:
    """The columns of the disclosure row that hold its parts as text (see models.Disclosure):
    server/db/disclosures.py:DisclosureRow reads them back. `keys`: taxonomy_keys(spec), when
    the caller has them."""
    categories, subject_types, purposes = keys or taxonomy_keys(spec)
    return {
        "categories_text": ",".join(sorted(categories)),
        "subject_types_text": ",".join(sorted(subject_types)),
        "purposes_text": ",".join(purposes),
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
        ).decode()
        if spec.transfers
        else "[]",  # what orjson writes of none, without the call (an import writes thousands)
    }


def terms_columns(spec: DisclosureSpec, keys: Keys | None = None) -> dict[str, Any]:
    """Every column of the row that the terms decide, but its first day."""
    # Added to the read model's own dict, in this order: one dict a row, not three.
    columns = read_model(spec, keys)
    columns["legal_basis"] = spec.legal_basis
    columns["ground"] = spec.ground
    columns["retention"] = spec.retention.strip() if spec.retention else None
    columns["frequency"] = spec.frequency
    columns["special_category_condition"] = spec.special_category_condition
    return columns


def proposed_row(
    recipient_id: int, spec: DisclosureSpec, day: date, exporter_id: int | None
) -> DisclosureRow:
    """The row these terms would be, unwritten: what a reviewer's summary judges."""
    columns = terms_columns(spec)
    return DisclosureRow(
        0,
        recipient_id,
        spec.legal_basis.value,
        spec.ground.value,
        columns["retention"],
        spec.effective_from or day,
        None,
        columns["categories_text"],
        columns["subject_types_text"],
        columns["purposes_text"],
        columns["transfers_json"],
        spec.frequency.value,
        spec.special_category_condition.value if spec.special_category_condition else None,
        exporter_id=exporter_id,
    )


def terms_of(disclosure: Disclosure, exporter: str | None) -> DisclosureSpec:
    """A written disclosure's terms, as a caller would give them (`exporter`: its slug)."""

    def split(text: str | None) -> list[str]:
        return text.split(",") if text else []

    transfers = [transfer_row(item) for item in orjson.loads(disclosure.transfers_json or "[]")]
    return DisclosureSpec(
        data_categories=split(disclosure.categories_text),
        subject_types=split(disclosure.subject_types_text),
        purposes=split(disclosure.purposes_text),
        legal_basis=LegalBasis(disclosure.legal_basis),
        ground=DisclosureGround(disclosure.ground),
        retention=disclosure.retention,
        transfers=[
            TransferSpec(
                country=t.country,
                mechanism=TransferMechanism(t.mechanism),
                reference=t.reference,
                signed_on=t.signed_on,
                within_adequacy_scope=t.within_adequacy_scope,
            )
            for t in transfers
        ],
        effective_from=disclosure.effective_from,
        frequency=DisclosureFrequency(disclosure.frequency),
        special_category_condition=(
            SpecialCategoryCondition(disclosure.special_category_condition)
            if disclosure.special_category_condition
            else None
        ),
        exporter=exporter,
    )


def disclosure_row(
    recipient_id: int,
    spec: DisclosureSpec,
    at: datetime,
    exporter_id: int | None,
    keys: Keys | None = None,
) -> dict[str, Any]:
    """A new disclosure's row, by field: its terms, the read model of its parts, its first day
    (`at`'s unless the terms say) and when it was recorded."""
    return {
        "recipient_id": recipient_id,
        **terms_columns(spec, keys),
        "effective_from": spec.effective_from or at.date(),
        "effective_to": None,
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
    and its parts. `at` is when it is recorded, and the day it takes effect unless the terms
    say; `exporter_id` the establishment it is disclosed from (the caller resolved the terms')."""
    disclosure = await Disclosure.create(
        **disclosure_row(recipient_id, spec, at, exporter_id), using_db=conn
    )
    await write_parts(conn, disclosure.id, spec)
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
    rows: list[tuple[Any, ...]] = []
    categories: list[tuple[int, str]] = []
    subject_types: list[tuple[int, str]] = []
    audience: list[tuple[int, str, str]] = []
    purposes: list[tuple[int, str, int]] = []
    transfers: list[tuple[Any, ...]] = []
    for new in disclosures:
        did = new.id
        keys = taxonomy_keys(new.spec)
        row = disclosure_row(new.recipient_id, new.spec, at, new.exporter_id, keys)
        if new.effective_to is not None:
            row["effective_to"] = new.effective_to
        if not field_names:
            # The fields of disclosure_row, whatever they are, as insert_disclosure writes them.
            field_names = ("id", *row, "ended_recorded_at")
        rows.append((did, *row.values(), at if new.effective_to is not None else None))
        kept_categories, kept_subject_types, kept_purposes = keys
        categories.extend(zip(repeat(did), kept_categories))
        subject_types.extend(zip(repeat(did), kept_subject_types))
        # Each subject type with each category, in that order (write_parts' rows).
        audience.extend(product((did,), kept_subject_types, kept_categories))
        purposes.extend(zip(repeat(did), kept_purposes, count()))
        transfers.extend(
            (did, t.country, t.mechanism, t.reference, t.signed_on, t.within_adequacy_scope)
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


async def correct_disclosure(
    conn: BaseDBAsyncClient, disclosure: Disclosure, spec: DisclosureSpec, day: date, at: datetime
) -> None:
    """Give `disclosure` the corrected terms `spec` from `day` (recorded `at`), its version moved
    on. When it took effect before `day`, its terms until then move, unchanged, to a new row
    ended on `day` whose corrected_into is this one (recorded when they were; its end `at`):
    so reports at past moments read the terms as they stood. Otherwise they never applied and
    are replaced. The caller has locked the recipient and checked the terms."""
    first_day = disclosure.started_on or disclosure.effective_from
    if day > disclosure.effective_from:
        kept = await Disclosure.create(
            recipient_id=disclosure.recipient_id,
            legal_basis=disclosure.legal_basis,
            ground=disclosure.ground,
            retention=disclosure.retention,
            frequency=disclosure.frequency,
            special_category_condition=disclosure.special_category_condition,
            categories_text=disclosure.categories_text,
            subject_types_text=disclosure.subject_types_text,
            purposes_text=disclosure.purposes_text,
            transfers_json=disclosure.transfers_json,
            effective_from=disclosure.effective_from,
            effective_to=day,
            started_on=disclosure.started_on,
            created_at=disclosure.created_at,
            ended_recorded_at=at,
            exporter_id=disclosure.exporter_id,
            version=disclosure.version,
            corrected_into_id=disclosure.id,
            using_db=conn,
        )
        for table in PART_TABLES:
            await (
                table.filter(disclosure_id=disclosure.id)
                .using_db(conn)
                .update(disclosure_id=kept.id)
            )
        starts = day
    else:
        for table in PART_TABLES:
            await table.filter(disclosure_id=disclosure.id).using_db(conn).delete()
        starts = spec.effective_from or disclosure.effective_from
        first_day = starts if disclosure.started_on is None else first_day
    columns = terms_columns(spec) | {
        "effective_from": starts,
        "started_on": first_day if first_day != starts else None,
        "created_at": at,
        "version": disclosure.version + 1,
    }
    await Disclosure.filter(id=disclosure.id).using_db(conn).update(**columns)
    await write_parts(conn, disclosure.id, spec)
    for name, value in columns.items():
        setattr(disclosure, name, value)


async def write_parts(conn: BaseDBAsyncClient, disclosure_id: int, spec: DisclosureSpec) -> None:
    """The link tables of a disclosure's terms: one disclosure_audience row per subject type
    and category (the report's index), and its transfers."""
    categories = distinct(spec.data_categories)
    subject_types = distinct(spec.subject_types)
    purposes = distinct(spec.purposes)
    await DisclosureCategory.bulk_create(
        [DisclosureCategory(disclosure_id=disclosure_id, category_id=k) for k in categories],
        using_db=conn,
    )
    await DisclosureSubjectType.bulk_create(
        [
            DisclosureSubjectType(disclosure_id=disclosure_id, subject_type_id=k)
            for k in subject_types
        ],
        using_db=conn,
    )
    await DisclosureAudience.bulk_create(
        [
            DisclosureAudience(disclosure_id=disclosure_id, subject_type_id=t, category_id=k)
            for t in subject_types
            for k in categories
        ],
        using_db=conn,
    )
    await DisclosurePurpose.bulk_create(
        [
            DisclosurePurpose(disclosure_id=disclosure_id, purpose_id=k, position=i)
            for i, k in enumerate(purposes)
        ],
        using_db=conn,
    )
    if spec.transfers:
        await Transfer.bulk_create(
            [
                Transfer(
                    disclosure_id=disclosure_id,
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
