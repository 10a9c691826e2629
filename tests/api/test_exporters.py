"""A disclosure's exporting establishment and a transfer's signing day and adequacy scope
through HTTP (issue 13 §1 and §3, contract part 5), on every test database: what is stored, what
is read, and every kind of bad input with nothing written."""

from __future__ import annotations

import json
from typing import Any

import httpx

from server.db.models import Disclosure as DisclosureModel
from server.db.models import Transfer as TransferModel
from tests.conftest import gql
from tests.helpers import disclosure_input, recipient_input

EXPORTER = "exporter { slug name country targets main }"
REGISTER = f"""
mutation($input: RegisterRecipientInput!) {{
  registerRecipient(input: $input) {{
    recipient {{ id slug version disclosures {{ id {EXPORTER} }} }}
    userErrors {{ field message code }}
  }}
}}
"""
ADD = f"""
mutation($input: AddDisclosureInput!) {{
  addDisclosure(input: $input) {{
    disclosure {{
      id {EXPORTER}
      transfers {{ country mechanism reference signedOn withinAdequacyScope }}
    }}
    userErrors {{ field message code }}
  }}
}}
"""
READ = f"""
query($slug: String!) {{
  recipient(slug: $slug) {{
    version
    disclosures {{
      id {EXPORTER} transfers {{ country mechanism signedOn withinAdequacyScope }}
    }}
    history {{ action changes }}
  }}
}}
"""
ESTABLISH = """
mutation($input: EstablishmentInput!) {
  registerEstablishment(input: $input) { establishment { id } userErrors { field message } }
}
"""
MAKE_MAIN = """
mutation($input: UpdateEstablishmentInput!) {
  updateEstablishment(input: $input) { establishment { main } userErrors { field message } }
}
"""
US = {"slug": "mpnt-us", "name": "MPN Technologies LLC", "country": "US", "targets": ["EEA", "UK"]}
UK = {"slug": "mpnt-uk", "name": "MPN Technologies Limited", "country": "GB", "targets": ["EEA"]}


async def establish(client: httpx.AsyncClient, **given: Any) -> str:
    body = await gql(client, ESTABLISH, {"input": given})
    payload = body["data"]["registerEstablishment"]
    assert payload["userErrors"] == [], payload
    establishment_id: str = payload["establishment"]["id"]
    return establishment_id


async def establishments(client: httpx.AsyncClient) -> dict[str, str]:
    """The seed notice's two companies, the US one main: slug -> global id."""
    return {"mpnt-us": await establish(client, **US), "mpnt-uk": await establish(client, **UK)}


async def registered(client: httpx.AsyncClient, **given: Any) -> dict[str, Any]:
    body = await gql(client, REGISTER, {"input": recipient_input(**given)})
    assert "errors" not in body, body
    payload: dict[str, Any] = body["data"]["registerRecipient"]
    return payload


async def register(client: httpx.AsyncClient, **given: Any) -> dict[str, Any]:
    payload = await registered(client, **given)
    assert payload["userErrors"] == [], payload
    recipient: dict[str, Any] = payload["recipient"]
    return recipient


async def add(client: httpx.AsyncClient, recipient: dict[str, Any], **terms: Any) -> dict[str, Any]:
    body = await gql(
        client,
        ADD,
        {"input": {"recipientId": recipient["id"], "disclosure": disclosure_input(**terms)}},
    )
    assert "errors" not in body, body
    payload: dict[str, Any] = body["data"]["addDisclosure"]
    return payload


async def read(client: httpx.AsyncClient, slug: str) -> dict[str, Any]:
    body = await gql(client, READ, {"slug": slug})
    assert "errors" not in body, body
    found: dict[str, Any] = body["data"]["recipient"]
    return found


def exporters(recipient: dict[str, Any]) -> list[str | None]:
    return [d["exporter"] and d["exporter"]["slug"] for d in recipient["disclosures"]]


def fields(payload: dict[str, Any]) -> list[tuple[list[str], str]]:
    return [(e["field"], e["code"]) for e in payload["userErrors"]]


# -- exporters --------------------------------------------------------------------------------


async def test_named_or_the_main_establishment(client: httpx.AsyncClient) -> None:
    await establishments(client)
    recipient = await register(
        client,
        disclosures=[
            disclosure_input(exporter="mpnt-uk"),
            disclosure_input(purposes=["essential.service.security"]),
        ],
    )
    assert exporters(recipient) == ["mpnt-uk", "mpnt-us"]
    assert recipient["disclosures"][1]["exporter"] == {
        "slug": "mpnt-us",
        "name": "MPN Technologies LLC",
        "country": "US",
        "targets": ["EEA", "UK"],
        "main": True,
    }
    added = await add(client, recipient, exporter="mpnt-uk")
    assert added["userErrors"] == [] and added["disclosure"]["exporter"]["slug"] == "mpnt-uk"
    stored = await DisclosureModel.all().order_by("id").values_list("exporter__slug", flat=True)
    assert stored == ["mpnt-uk", "mpnt-us", "mpnt-uk"]
    # The audit records the establishment each disclosure was recorded as coming from.
    events = (await read(client, recipient["slug"]))["history"]
    recorded = [
        json.loads(e["changes"]).get("exporter") for e in events if e["action"] == "addDisclosure"
    ]
    assert recorded == [[None, "mpnt-uk"], [None, "mpnt-us"], [None, "mpnt-uk"]]


async def test_the_main_one_when_recorded_stays(client: httpx.AsyncClient) -> None:
    """A disclosure naming none stores the main establishment of the day: making another main
    later does not move it."""
    ids = await establishments(client)
    recipient = await register(client, disclosures=[disclosure_input()])
    body = await gql(client, MAKE_MAIN, {"input": {"id": ids["mpnt-uk"], "expectedVersion": 1,
                                                   "main": True}})  # fmt: skip
    assert body["data"]["updateEstablishment"]["userErrors"] == [], body
    assert exporters(await read(client, recipient["slug"])) == ["mpnt-us"]


async def test_none_before_any_establishment_then_the_current_main(
    client: httpx.AsyncClient,
) -> None:
    """Recorded while there was no establishment, a disclosure stores none and reads none; once
    there is one, it reads as coming from the current main establishment."""
    recipient = await register(client, disclosures=[disclosure_input()])
    assert exporters(recipient) == [None]
    ids = await establishments(client)
    assert exporters(await read(client, recipient["slug"])) == ["mpnt-us"]
    await gql(client, MAKE_MAIN, {"input": {"id": ids["mpnt-uk"], "expectedVersion": 1,
                                            "main": True}})  # fmt: skip
    assert exporters(await read(client, recipient["slug"])) == ["mpnt-uk"]
    assert await DisclosureModel.filter(exporter_id__isnull=False).count() == 0


async def test_a_subprocessors_disclosure_has_none(client: httpx.AsyncClient) -> None:
    await establishments(client)
    processor = await register(client, name="Host Co", disclosures=[disclosure_input()])
    sub = await register(
        client,
        name="Backup Co",
        role="SUBPROCESSOR",
        engagedBy=processor["slug"],
        disclosures=[disclosure_input()],
    )
    assert exporters(processor) == ["mpnt-us"]
    assert exporters(sub) == [None]
    added = await add(client, sub)
    assert added["userErrors"] == [] and added["disclosure"]["exporter"] is None
    assert await DisclosureModel.filter(exporter_id__isnull=True).count() == 2


async def test_naming_one_for_a_subprocessor_is_an_error(client: httpx.AsyncClient) -> None:
    await establishments(client)
    processor = await register(client, name="Host Co")
    payload = await registered(
        client,
        name="Backup Co",
        role="SUBPROCESSOR",
        engagedBy=processor["slug"],
        disclosures=[disclosure_input(), disclosure_input(exporter="mpnt-us")],
    )
    assert payload["recipient"] is None
    assert fields(payload) == [(["input", "disclosures", "1", "exporter"], "INVALID")]
    assert "processor that engaged it" in payload["userErrors"][0]["message"]
    sub = await register(client, name="Backup Co", role="SUBPROCESSOR", engagedBy="host-co")
    added = await add(client, sub, exporter="mpnt-uk")
    assert added["disclosure"] is None
    assert fields(added) == [(["input", "disclosure", "exporter"], "INVALID")]
    assert await DisclosureModel.all().count() == 0
    assert (await read(client, "backup-co"))["version"] == 1


async def test_an_unknown_exporter_is_an_error(client: httpx.AsyncClient) -> None:
    await establishments(client)
    payload = await registered(
        client, disclosures=[disclosure_input(), disclosure_input(exporter="mpnt-fr")]
    )
    assert payload["recipient"] is None
    assert fields(payload) == [(["input", "disclosures", "1", "exporter"], "NOT_FOUND")]
    assert 'No establishment with slug "mpnt-fr"' in payload["userErrors"][0]["message"]
    recipient = await register(client)
    for slug in ("mpnt-fr", "Not A Slug", "x" * 500):
        added = await add(client, recipient, exporter=slug)
        assert added["disclosure"] is None
        assert fields(added) == [(["input", "disclosure", "exporter"], "NOT_FOUND")], slug
    assert await DisclosureModel.all().count() == 0
    assert (await read(client, recipient["slug"]))["version"] == 1


async def test_every_error_at_once(client: httpx.AsyncClient) -> None:
    await establishments(client)
    recipient = await register(client)
    added = await add(
        client,
        recipient,
        exporter="mpnt-fr",
        transfers=[{"country": "XX", "mechanism": "NONE", "signedOn": "2400-01-01"}],
    )
    assert sorted(fields(added)) == [
        (["input", "disclosure", "exporter"], "NOT_FOUND"),
        (["input", "disclosure", "transfers", "0", "country"], "INVALID"),
        (["input", "disclosure", "transfers", "0", "signedOn"], "INVALID"),
    ]
    assert await DisclosureModel.all().count() == 0


async def test_an_unknown_recipient_and_bad_terms_together(client: httpx.AsyncClient) -> None:
    body = await gql(
        client,
        ADD,
        {
            "input": {
                "recipientId": "UmVjaXBpZW50Ojk5OQ==",  # Recipient:999
                "disclosure": disclosure_input(dataCategories=["no.such.category"]),
            }
        },
    )
    payload = body["data"]["addDisclosure"]
    assert sorted(fields(payload)) == [
        (["input", "disclosure", "dataCategories", "0"], "INVALID"),
        (["input", "recipientId"], "NOT_FOUND"),
    ]


# -- a transfer's signing day and scope ---------------------------------------------------------


async def test_signing_day_and_scope_round_trip(client: httpx.AsyncClient) -> None:
    recipient = await register(client)
    transfers = [
        {"country": "US", "mechanism": "STANDARD_CONTRACTUAL_CLAUSES", "reference": "DPA",
         "signedOn": "2024-05-02"},
        {"country": "JP", "mechanism": "ADEQUACY_DECISION", "withinAdequacyScope": True},
        {"country": "CA", "mechanism": "ADEQUACY_DECISION", "withinAdequacyScope": False},
        # A safeguard signed for later: the answer is then as planned.
        {"country": "IN", "mechanism": "STANDARD_CONTRACTUAL_CLAUSES", "signedOn": "2031-01-01"},
        {"country": "GB", "mechanism": "ADEQUACY_DECISION"},
    ]  # fmt: skip
    added = await add(client, recipient, transfers=transfers)
    assert added["userErrors"] == [], added
    expected = [
        ("US", "2024-05-02", None),
        ("JP", None, True),
        ("CA", None, False),
        ("IN", "2031-01-01", None),
        ("GB", None, None),
    ]
    seen = (await read(client, recipient["slug"]))["disclosures"][0]["transfers"]
    for shown in (added["disclosure"]["transfers"], seen):
        assert [(t["country"], t["signedOn"], t["withinAdequacyScope"]) for t in shown] == expected
    rows = (
        await TransferModel.all()
        .order_by("id")
        .values_list("country", "signed_on", "within_adequacy_scope")
    )
    assert [(c, s and s.isoformat(), w) for c, s, w in rows] == expected
    events = (await read(client, recipient["slug"]))["history"]
    recorded = json.loads(events[0]["changes"])["transfers"][1]
    assert recorded[0] == {
        "country": "US",
        "mechanism": "STANDARD_CONTRACTUAL_CLAUSES",
        "reference": "DPA",
        "signedOn": "2024-05-02",
    }
    assert recorded[1] == {
        "country": "JP",
        "mechanism": "ADEQUACY_DECISION",
        "reference": None,
        "withinAdequacyScope": True,
    }


async def test_a_signing_day_out_of_range_is_an_error(client: httpx.AsyncClient) -> None:
    payload = await registered(
        client,
        disclosures=[
            disclosure_input(
                transfers=[
                    {"country": "US", "mechanism": "UK_IDTA", "signedOn": "1899-12-31"},
                    {"country": "US", "mechanism": "UK_IDTA", "signedOn": "2022-03-21"},
                ]
            )
        ],
    )
    assert fields(payload) == [
        (["input", "disclosures", "0", "transfers", "0", "signedOn"], "INVALID")
    ]
    assert await DisclosureModel.all().count() == 0
