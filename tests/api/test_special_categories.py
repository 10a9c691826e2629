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


# -- complianceGaps --------------------------------------------------------------------------

GAPS = """
query Gaps($kinds: [ComplianceGapKind!], $asOf: DateTime) {
  complianceGaps(kinds: $kinds, asOf: $asOf) {
    kind recipient { slug } disclosure { id specialCategoryCondition } explanation
  }
}
"""


async def recorded_without_condition(
    client: httpx.AsyncClient, name: str, keys: list[str], status: str = "ACTIVE", **extra: Any
) -> dict[str, Any]:
    """A recipient whose disclosure of `keys` was recorded before the rule: with the condition
    cleared in the database, as a row from before the rule would be."""
    condition = "CRIMINAL_DATA_AUTHORISED_BY_LAW" if keys == CRIMINAL else "EXPLICIT_CONSENT"
    recipient = await register(
        client,
        name=name,
        status=status,
        disclosures=[
            disclosure_input(dataCategories=keys, specialCategoryCondition=condition, **extra)
        ],
    )
    await Disclosure.filter(recipient__slug=recipient["slug"]).update(
        special_category_condition=None
    )
    return recipient


async def gaps(client: httpx.AsyncClient, **variables: Any) -> list[dict[str, Any]]:
    """The special-category gaps (the recipients here are registered straight into ACTIVE, so
    they are unreviewed imports too: tests/api/test_change_requests.py)."""
    variables.setdefault("kinds", ["SPECIAL_CATEGORY_WITHOUT_CONDITION"])
    body = await gql(client, GAPS, variables)
    assert "errors" not in body, body
    found: list[dict[str, Any]] = body["data"]["complianceGaps"]
    return found


async def test_compliance_gaps_list_special_disclosures_without_condition(
    client: httpx.AsyncClient, client_for: Any, sql_counter: Any
) -> None:
    await recorded_without_condition(client, "Zeta Clinic", HEALTH)
    await recorded_without_condition(client, "alpha Checks", CRIMINAL)
    await recorded_without_condition(client, "Proposed Clinic", HEALTH, status="PROPOSED")
    await recorded_without_condition(client, "Future Clinic", HEALTH, effectiveFrom="2199-01-01")
    await register(
        client,
        name="Covered Clinic",
        status="ACTIVE",
        disclosures=[
            disclosure_input(dataCategories=HEALTH, specialCategoryCondition="PUBLIC_HEALTH"),
            disclosure_input(),
        ],
    )
    viewer = await client_for("viewer", "dashboard")
    sql_counter.statements.clear()
    found = await gaps(viewer)
    assert len([s for s in sql_counter.statements if "SELECT" in s]) <= 4
    assert [(g["kind"], g["recipient"]["slug"]) for g in found] == [
        ("SPECIAL_CATEGORY_WITHOUT_CONDITION", "alpha-checks"),
        ("SPECIAL_CATEGORY_WITHOUT_CONDITION", "zeta-clinic"),
    ]
    assert all(g["disclosure"]["specialCategoryCondition"] is None for g in found)
    assert found[0]["explanation"].startswith("alpha Checks receives ")
    assert "criminal-offence data (GDPR Art. 10)" in found[0]["explanation"]
    assert "special-category data (GDPR Art. 9)" in found[1]["explanation"]
    assert await gaps(viewer, kinds=["SPECIAL_CATEGORY_WITHOUT_CONDITION"]) == found
    assert await gaps(viewer, kinds=[]) == []
    later = await gaps(viewer, asOf="2199-06-01T00:00:00Z")
    assert [g["recipient"]["slug"] for g in later] == [
        "alpha-checks",
        "future-clinic",
        "zeta-clinic",
    ]
    assert await gaps(viewer, asOf="2001-01-01T00:00:00Z") == []


async def test_compliance_gaps_statements_do_not_grow_with_the_gaps(
    client: httpx.AsyncClient, sql_counter: Any
) -> None:
    await recorded_without_condition(client, "One Clinic", HEALTH)
    sql_counter.statements.clear()
    assert len(await gaps(client, asOf="2199-06-01T00:00:00Z")) == 1
    few = len(sql_counter.statements)
    for i in range(5):
        await recorded_without_condition(client, f"Clinic {i}", HEALTH)
    sql_counter.statements.clear()
    assert len(await gaps(client, asOf="2199-06-01T00:00:00Z")) == 6
    assert len(sql_counter.statements) == few


async def test_compliance_gaps_need_a_key(anonymous: httpx.AsyncClient) -> None:
    response = await anonymous.post("/graphql", json={"query": GAPS})
    assert response.status_code == 401
