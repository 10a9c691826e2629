"""Writing a disclosure: its row, the read model of its parts on that row, and the tables that
link it to the taxonomy. A disclosure's parts never change once written, so they are written
here, once, together; the caller holds the transaction and has checked the terms."""

from __future__ import annotations

from datetime import datetime

import orjson
from tortoise.backends.base.client import BaseDBAsyncClient

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
    categories = distinct(spec.data_categories)
    subject_types = distinct(spec.subject_types)
    purposes = distinct(spec.purposes)
    disclosure = await Disclosure.create(
        recipient_id=recipient_id,
        categories_text=",".join(sorted(categories)),
        subject_types_text=",".join(sorted(subject_types)),
        purposes_text=",".join(purposes),
        # server/db/disclosures.py:transfer_row reads each element back.
        transfers_json=orjson.dumps(
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
        legal_basis=spec.legal_basis,
        ground=spec.ground,
        retention=spec.retention.strip() if spec.retention else None,
        effective_from=spec.effective_from or at.date(),
        effective_to=None,
        frequency=spec.frequency,
        special_category_condition=spec.special_category_condition,
        exporter_id=exporter_id,
        created_at=at,
        using_db=conn,
    )
    await DisclosureCategory.bulk_create(
        [DisclosureCategory(disclosure_id=disclosure.id, category_id=k) for k in categories],
        using_db=conn,
    )
    await DisclosureSubjectType.bulk_create(
        [
            DisclosureSubjectType(disclosure_id=disclosure.id, subject_type_id=k)
            for k in subject_types
        ],
        using_db=conn,
    )
    await DisclosureAudience.bulk_create(
        [
            DisclosureAudience(disclosure_id=disclosure.id, subject_type_id=t, category_id=k)
            for t in subject_types
            for k in categories
        ],
        using_db=conn,
    )
    await DisclosurePurpose.bulk_create(
        [
            DisclosurePurpose(disclosure_id=disclosure.id, purpose_id=k, position=i)
            for i, k in enumerate(purposes)
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
