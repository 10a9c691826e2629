"""What the audit log records of a recipient and of a disclosure, field by field: the JSON of a
registration, an update and a new disclosure stays as it was when the snapshots were written by
hand, now that they follow the model and the terms."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import httpx

from server.db.models import Disclosure, Recipient
from server.domain.disclosure_terms import DisclosureSpec
from server.services.audit_snapshots import (
    RECIPIENT_API_NAMES,
    RECIPIENT_UNAUDITED,
    audited_columns,
)
from tests.conftest import gql
from tests.helpers import ADD_DISCLOSURE, UPDATE, disclosure_input, register

HISTORY = "query($slug: String!) { recipient(slug: $slug) { history { action changes } } }"


async def changes(client: httpx.AsyncClient, slug: str) -> list[tuple[str, dict[str, Any]]]:
    body = await gql(client, HISTORY, {"slug": slug})
    events = body["data"]["recipient"]["history"]
    return [(e["action"], json.loads(e["changes"])) for e in events]


async def test_registration_records_every_detail(client: httpx.AsyncClient) -> None:
    await register(client, name="Acme Cloud", slug="acme-cloud")
    await register(
        client,
        name="  Acme Mail  ",
        legalName="Acme Mail, Inc.",
        description="Sends our e-mail.",
        role="SUBPROCESSOR",
        engagedBy="acme-cloud",
        country="IE",
        services=["email-delivery", "hosting", "email-delivery"],
        website="https://acme-mail.example",
        privacyPolicyUrl="https://acme-mail.example/privacy",
        dpaSignedOn="2024-05-01",
        dpfCertifications=[
            {"framework": "UK_EXTENSION", "certifiedOn": "2024-02-01"},
            {"framework": "EU_US", "certifiedOn": "2024-01-15", "lapsedOn": "2026-01-15"},
            {"framework": "EU_US", "certifiedOn": "2026-01-15"},
        ],
        corporateGroup="  Acme Group  ",
        internationalOrganisation=False,
    )
    engager = await Recipient.get(slug="acme-cloud")
    assert await changes(client, "acme-mail") == [
        (
            "registerRecipient",
            {
                "slug": [None, "acme-mail"],
                "name": [None, "Acme Mail"],
                "legalName": [None, "Acme Mail, Inc."],
                "description": [None, "Sends our e-mail."],
                "kind": [None, "SERVICE_PROVIDER"],
                "role": [None, "SUBPROCESSOR"],
                "status": [None, "PROPOSED"],
                "country": [None, "IE"],
                "services": [None, ["email-delivery", "hosting"]],
                "website": [None, "https://acme-mail.example"],
                "privacyPolicyUrl": [None, "https://acme-mail.example/privacy"],
                "dpaSignedOn": [None, "2024-05-01"],
                "engagedBy": [None, engager.id],
                # Oldest first, whatever order they were given in.
                "dpfCertifications": [
                    None,
                    [
                        {
                            "framework": "EU_US",
                            "certifiedOn": "2024-01-15",
                            "lapsedOn": "2026-01-15",
                        },
                        {
                            "framework": "UK_EXTENSION",
                            "certifiedOn": "2024-02-01",
                            "lapsedOn": None,
                        },
                        {"framework": "EU_US", "certifiedOn": "2026-01-15", "lapsedOn": None},
                    ],
                ],
                "corporateGroup": [None, "Acme Group"],
                "internationalOrganisation": [None, False],
            },
        )
    ]


async def test_registration_leaves_out_what_was_not_given(client: httpx.AsyncClient) -> None:
    await register(client, name="Acme Mail", services=[], website=None, dpaSignedOn=None)
    assert await changes(client, "acme-mail") == [
        (
            "registerRecipient",
            {
                "slug": [None, "acme-mail"],
                "name": [None, "Acme Mail"],
                "kind": [None, "SERVICE_PROVIDER"],
                "role": [None, "PROCESSOR"],
                "status": [None, "PROPOSED"],
                "country": [None, "US"],
                "services": [None, []],
                "dpfCertifications": [None, []],
                "internationalOrganisation": [None, False],
            },
        )
    ]


async def test_an_update_records_what_changed(client: httpx.AsyncClient) -> None:
    recipient = await register(client, legalName="Acme Mail, Inc.", dpaSignedOn=None)
    body = await gql(
        client,
        UPDATE,
        {
            "input": {
                "id": recipient["id"],
                "expectedVersion": 1,
                "name": "Acme Post",
                "legalName": None,
                "services": ["hosting", "hosting"],
                "website": "https://acme-mail.example",
                "dpaSignedOn": "2024-06-01",
                "role": "CONTROLLER",
            }
        },
    )
    assert body["data"]["updateRecipient"]["userErrors"] == []
    [update, _] = await changes(client, recipient["slug"])
    assert update == (
        "updateRecipient",
        {
            "name": ["Acme Mail", "Acme Post"],
            "legalName": ["Acme Mail, Inc.", None],
            "role": ["PROCESSOR", "CONTROLLER"],
            "services": [["email-delivery"], ["hosting"]],
            "dpaSignedOn": [None, "2024-06-01"],
        },
    )


async def test_a_new_disclosure_records_its_terms(client: httpx.AsyncClient) -> None:
    recipient = await register(client)
    terms = disclosure_input(
        dataCategories=["user.name", "user.contact.email", "user.name"],
        subjectTypes=["platform_user"],
        purposes=["essential.service.notifications", "essential.service"],
        legalBasis="LEGITIMATE_INTERESTS",
        retention="until the account is closed",
        transfers=[
            {"country": "US", "mechanism": "STANDARD_CONTRACTUAL_CLAUSES", "reference": "DPA"},
            {"country": "GB", "mechanism": "ADEQUACY_DECISION"},
        ],
        effectiveFrom="2025-03-01",
    )
    body = await gql(
        client, ADD_DISCLOSURE, {"input": {"recipientId": recipient["id"], "disclosure": terms}}
    )
    assert body["data"]["addDisclosure"]["userErrors"] == []
    [added, _] = await changes(client, recipient["slug"])
    assert added == (
        "addDisclosure",
        {
            "dataCategories": [None, ["user.name", "user.contact.email"]],
            "subjectTypes": [None, ["platform_user"]],
            "purposes": [None, ["essential.service.notifications", "essential.service"]],
            "legalBasis": [None, "LEGITIMATE_INTERESTS"],
            "ground": [None, "SERVICE_PROVISION"],
            "retention": [None, "until the account is closed"],
            "transfers": [
                None,
                [
                    {
                        "country": "US",
                        "mechanism": "STANDARD_CONTRACTUAL_CLAUSES",
                        "reference": "DPA",
                    },
                    {"country": "GB", "mechanism": "ADEQUACY_DECISION", "reference": None},
                ],
            ],
            "effectiveFrom": [None, "2025-03-01"],
            "frequency": [None, "CONTINUOUS"],
        },
    )


async def test_a_disclosure_registered_with_its_recipient_takes_effect_today(
    client: httpx.AsyncClient,
) -> None:
    recipient = await register(client, disclosures=[disclosure_input(retention=None)])
    [(action, added), _] = await changes(client, recipient["slug"])
    assert action == "addDisclosure"
    assert added["effectiveFrom"][1] == recipient["disclosures"][0]["effectiveFrom"]
    assert "retention" not in added
    assert added["transfers"] == [
        None,
        [{"country": "US", "mechanism": "STANDARD_CONTRACTUAL_CLAUSES", "reference": None}],
    ]


async def test_the_recipient_snapshot_follows_the_model(db: str) -> None:
    """Every column of the Recipient model is audited unless it is bookkeeping, so a new column
    is audited without another edit; these are the fields the audit log has always recorded."""
    assert {
        column for column in Recipient._meta.db_fields if column not in RECIPIENT_UNAUDITED
    } == {column for column, _ in audited_columns(Recipient, RECIPIENT_UNAUDITED, {})}
    assert [
        key for _, key in audited_columns(Recipient, RECIPIENT_UNAUDITED, RECIPIENT_API_NAMES)
    ] == [
        "slug",
        "name",
        "legalName",
        "description",
        "kind",
        "role",
        "status",
        "country",
        "services",
        "website",
        "privacyPolicyUrl",
        "dpaSignedOn",
        "dpfCertifications",
        "corporateGroup",
        "internationalOrganisation",
        "engagedBy",
    ]


async def test_every_disclosure_column_is_a_term_or_accounted_for(db: str) -> None:
    """The disclosure snapshot follows DisclosureSpec, not the model: a column added to the
    Disclosure model that is not a term fails here until it is one, or is listed below."""
    not_terms = {
        "id",  # the event's entity_id
        "recipient_id",  # the event's recipient_id
        "created_at",  # the event's at
        "effective_to",  # written by endDisclosure, which audits it
        "ended_recorded_at",  # the endDisclosure event's at
        "exporter_id",  # the `exporter` term, as the establishment it resolved to
        # The read model of the link tables, written from the key lists and transfers.
        "categories_text",
        "subject_types_text",
        "purposes_text",
        "transfers_json",
        # A correction's bookkeeping: updateDisclosure audits the version it moves to; the
        # first day and the row the terms before moved to follow from its event's at.
        "version",
        "started_on",
        "corrected_into_id",
    }
    columns = set(Disclosure._meta.db_fields)
    assert not_terms <= columns
    assert columns - not_terms <= {term.name for term in dataclasses.fields(DisclosureSpec)}
