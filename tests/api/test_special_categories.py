"""Special-category and criminal-offence data through HTTP (GDPR Art. 9 and 10): a disclosure of
it gives a condition that fits, and the dashboard lists the recorded ones that do not."""

from __future__ import annotations

from typing import Any

import httpx

from server.db.models import Disclosure, Recipient
from tests.conftest import gql
from tests.helpers import ADD_DISCLOSURE, REGISTER, disclosure_input, recipient_input, register

DISCLOSURE_FIELDS = """
mutation Register($input: RegisterRecipientInput!) {
  registerRecipient(input: $input) {
    recipient { slug disclosures { id frequency specialCategoryCondition } }
    userErrors { field message code }
  }
}
"""

HEALTH = ["user.health_and_medical"]
CRIMINAL = ["user.criminal_history"]


async def register_errors(client: httpx.AsyncClient, *disclosures: dict[str, Any]) -> list[Any]:
    body = await gql(client, REGISTER, {"input": recipient_input(disclosures=list(disclosures))})
    assert "errors" not in body, body
    payload = body["data"]["registerRecipient"]
    assert (payload["recipient"] is None) == bool(payload["userErrors"])
    errors: list[Any] = payload["userErrors"]
    return errors


async def test_frequency_and_condition_are_recorded_and_served(client: httpx.AsyncClient) -> None:
    body = await gql(
        client,
        DISCLOSURE_FIELDS,
        {
            "input": recipient_input(
                disclosures=[
                    disclosure_input(),
                    disclosure_input(
                        dataCategories=HEALTH,
                        specialCategoryCondition="HEALTH_OR_SOCIAL_CARE",
                        frequency="ON_REQUEST",
                    ),
                    disclosure_input(
                        dataCategories=CRIMINAL,
                        specialCategoryCondition="CRIMINAL_DATA_AUTHORISED_BY_LAW",
                        frequency="CONTINUOUS",
                    ),
                ]
            )
        },
    )
    payload = body["data"]["registerRecipient"]
    assert payload["userErrors"] == []
    assert [
        (d["frequency"], d["specialCategoryCondition"]) for d in payload["recipient"]["disclosures"]
    ] == [
        ("CONTINUOUS", None),
        ("ON_REQUEST", "HEALTH_OR_SOCIAL_CARE"),
        ("CONTINUOUS", "CRIMINAL_DATA_AUTHORISED_BY_LAW"),
    ]


async def test_register_refuses_every_bad_condition_at_once(client: httpx.AsyncClient) -> None:
    errors = await register_errors(
        client,
        disclosure_input(dataCategories=["user.contact.email", *HEALTH]),
        disclosure_input(dataCategories=CRIMINAL, specialCategoryCondition="EXPLICIT_CONSENT"),
        disclosure_input(
            dataCategories=HEALTH, specialCategoryCondition="CRIMINAL_DATA_AUTHORISED_BY_LAW"
        ),
        disclosure_input(
            dataCategories=[*HEALTH, *CRIMINAL], specialCategoryCondition="LEGAL_CLAIMS"
        ),
        disclosure_input(specialCategoryCondition="EXPLICIT_CONSENT"),
        disclosure_input(dataCategories=["user"]),
    )
    assert [(e["field"], e["code"]) for e in errors] == [
        (["input", "disclosures", "0", "specialCategoryCondition"], "INVALID"),
        (["input", "disclosures", "1", "specialCategoryCondition"], "INVALID"),
        (["input", "disclosures", "2", "specialCategoryCondition"], "INVALID"),
        (["input", "disclosures", "3", "dataCategories"], "INVALID"),
        (["input", "disclosures", "4", "specialCategoryCondition"], "INVALID"),
        (["input", "disclosures", "5", "dataCategories"], "INVALID"),
    ]
    assert "user.health_and_medical" in errors[0]["message"]
    assert "data concerning health" in errors[0]["message"]
    assert "split it in two" in errors[3]["message"]
    assert await Recipient.all().count() == 0
    assert await Disclosure.all().count() == 0


async def test_add_disclosure_needs_a_condition_too(client: httpx.AsyncClient) -> None:
    recipient = await register(client)

    async def add(**overrides: Any) -> dict[str, Any]:
        variables = {
            "input": {"recipientId": recipient["id"], "disclosure": disclosure_input(**overrides)}
        }
        body = await gql(client, ADD_DISCLOSURE, variables)
        payload: dict[str, Any] = body["data"]["addDisclosure"]
        return payload

    missing = await add(dataCategories=["user.demographic"])
    assert [e["field"] for e in missing["userErrors"]] == [
        ["input", "disclosure", "specialCategoryCondition"]
    ]
    assert missing["disclosure"] is None
    assert await Disclosure.all().count() == 0
    given = await add(
        dataCategories=["user.demographic"], specialCategoryCondition="EXPLICIT_CONSENT"
    )
    assert given["userErrors"] == []
    assert await Disclosure.all().count() == 1
