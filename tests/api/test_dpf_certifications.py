"""A recipient's dated DPF certifications, corporate group and international-organisation mark
through HTTP (issue 13, contract part 5), and the deprecated dataPrivacyFrameworkCertified flag
read and written over the certifications (server/domain/dpf.py), on every test database."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from server.db.models import Recipient as RecipientModel
from tests.conftest import gql
from tests.helpers import recipient_input

FIELDS = """
  id slug version dataPrivacyFrameworkCertified corporateGroup internationalOrganisation
  dpfCertifications { framework certifiedOn lapsedOn }
"""
PAYLOAD = f"{{ recipient {{ {FIELDS} }} userErrors {{ field message code }} }}"
REGISTER = f"""
mutation($input: RegisterRecipientInput!) {{ registerRecipient(input: $input) {PAYLOAD} }}
"""
UPDATE = f"""
mutation($input: UpdateRecipientInput!) {{ updateRecipient(input: $input) {PAYLOAD} }}
"""
READ = f"""
query($slug: String!) {{
  recipient(slug: $slug) {{ {FIELDS} history {{ action changes }} }}
}}
"""


def today() -> str:
    return datetime.now(UTC).date().isoformat()


def eu(on: str, lapsed: str | None = None) -> dict[str, Any]:
    return {"framework": "EU_US", "certifiedOn": on, "lapsedOn": lapsed}


def uk(on: str, lapsed: str | None = None) -> dict[str, Any]:
    return {"framework": "UK_EXTENSION", "certifiedOn": on, "lapsedOn": lapsed}


def swiss(on: str, lapsed: str | None = None) -> dict[str, Any]:
    return {"framework": "SWISS_US", "certifiedOn": on, "lapsedOn": lapsed}


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


async def update(client: httpx.AsyncClient, recipient: dict[str, Any], **given: Any) -> Any:
    body = await gql(
        client,
        UPDATE,
        {"input": {"id": recipient["id"], "expectedVersion": recipient["version"], **given}},
    )
    assert "errors" not in body, body
    return body["data"]["updateRecipient"]


async def read(client: httpx.AsyncClient, slug: str = "acme-mail") -> dict[str, Any]:
    body = await gql(client, READ, {"slug": slug})
    assert "errors" not in body, body
    found: dict[str, Any] = body["data"]["recipient"]
    return found


def fields(payload: dict[str, Any]) -> list[list[str]]:
    return [e["field"] for e in payload["userErrors"]]


# -- the fields round-trip ---------------------------------------------------------------------


async def test_the_new_fields_round_trip(client: httpx.AsyncClient) -> None:
    given = [
        uk("2023-10-12"),
        eu("2023-08-01", "2025-01-01"),
        eu("2025-01-01"),
        swiss("2024-10-01"),
    ]
    recipient = await register(
        client,
        dpfCertifications=given,
        corporateGroup="  Acme Holdings plc  ",
        internationalOrganisation=True,
    )
    for seen in (recipient, await read(client)):
        # Oldest first, as stored on every database.
        assert seen["dpfCertifications"] == [
            eu("2023-08-01", "2025-01-01"),
            uk("2023-10-12"),
            swiss("2024-10-01"),
            eu("2025-01-01"),
        ]
        assert seen["corporateGroup"] == "Acme Holdings plc"
        assert seen["internationalOrganisation"] is True
        assert seen["dataPrivacyFrameworkCertified"] is True


async def test_the_defaults(client: httpx.AsyncClient) -> None:
    recipient = await register(client)
    assert recipient["dpfCertifications"] == []
    assert recipient["corporateGroup"] is None
    assert recipient["internationalOrganisation"] is False
    assert recipient["dataPrivacyFrameworkCertified"] is False


async def test_an_update_replaces_the_list_and_is_audited(client: httpx.AsyncClient) -> None:
    recipient = await register(client, dpfCertifications=[eu("2024-01-01"), uk("2024-01-01")])
    payload = await update(
        client, recipient, dpfCertifications=[eu("2024-01-01", "2026-01-01")], corporateGroup="G"
    )
    assert payload["userErrors"] == []
    assert payload["recipient"]["dpfCertifications"] == [eu("2024-01-01", "2026-01-01")]
    assert payload["recipient"]["version"] == 2
    changed = json.loads((await read(client))["history"][0]["changes"])
    assert changed == {
        "dpfCertifications": [
            [eu("2024-01-01"), uk("2024-01-01")],
            [eu("2024-01-01", "2026-01-01")],
        ],
        "corporateGroup": [None, "G"],
    }
    # The same list again changes nothing: no new version, no event.
    again = await update(
        client, payload["recipient"], dpfCertifications=[eu("2024-01-01", "2026-01-01")]
    )
    assert again["userErrors"] == [] and again["recipient"]["version"] == 2
    # An empty list removes them all.
    emptied = await update(client, payload["recipient"], dpfCertifications=[])
    assert emptied["recipient"]["dpfCertifications"] == []


async def test_corporate_group_is_trimmed_and_empty_is_none(client: httpx.AsyncClient) -> None:
    recipient = await register(client, corporateGroup="   ")
    assert recipient["corporateGroup"] is None
    payload = await update(client, recipient, corporateGroup=" Acme Group ")
    assert payload["recipient"]["corporateGroup"] == "Acme Group"
    cleared = await update(client, payload["recipient"], corporateGroup="")
    assert cleared["recipient"]["corporateGroup"] is None
    again = await update(client, cleared["recipient"], corporateGroup="X")
    nulled = await update(client, again["recipient"], corporateGroup=None)
    assert nulled["recipient"]["corporateGroup"] is None


async def test_international_organisation_is_set_and_unset(client: httpx.AsyncClient) -> None:
    recipient = await register(client)
    marked = await update(client, recipient, internationalOrganisation=True)
    assert marked["recipient"]["internationalOrganisation"] is True
    unmarked = await update(client, marked["recipient"], internationalOrganisation=False)
    assert unmarked["recipient"]["internationalOrganisation"] is False
    assert json.loads((await read(client))["history"][0]["changes"]) == {
        "internationalOrganisation": [True, False]
    }


# -- bad input: every error at once, nothing written ------------------------------------------

BAD = [
    ("a lapse before the certification", {"dpfCertifications": [eu("2024-01-01", "2023-01-01")]},
     [["input", "dpfCertifications", "0", "lapsedOn"]]),
    ("a lapse on the day certified", {"dpfCertifications": [swiss("2024-10-01", "2024-10-01")]},
     [["input", "dpfCertifications", "0", "lapsedOn"]]),
    ("the UK Extension without EU-US", {"dpfCertifications": [uk("2024-01-01")]},
     [["input", "dpfCertifications", "0", "framework"]]),
    ("the UK Extension outliving EU-US",
     {"dpfCertifications": [eu("2024-01-01", "2025-01-01"), uk("2024-01-01")]},
     [["input", "dpfCertifications", "1", "framework"]]),
    ("a day out of range", {"dpfCertifications": [eu("2400-01-01")]},
     [["input", "dpfCertifications", "0", "certifiedOn"]]),
    ("a corporate group too long", {"corporateGroup": "G" * 201}, [["input", "corporateGroup"]]),
    ("a corporate group with control characters", {"corporateGroup": "A\x07B"},
     [["input", "corporateGroup"]]),
    ("every error at once",
     {"dpfCertifications": [uk("2024-01-01"), eu("2024-01-01", "2023-01-01")],
      "corporateGroup": "G" * 201},
     [["input", "corporateGroup"], ["input", "dpfCertifications", "0", "framework"],
      ["input", "dpfCertifications", "1", "lapsedOn"]]),
]  # fmt: skip


@pytest.mark.parametrize(("case", "given", "errors"), BAD, ids=[b[0] for b in BAD])
async def test_bad_registration(
    client: httpx.AsyncClient, case: str, given: dict[str, Any], errors: list[list[str]]
) -> None:
    payload = await registered(client, **given)
    assert payload["recipient"] is None
    assert sorted(fields(payload)) == sorted(errors), (case, payload)
    assert await RecipientModel.all().count() == 0


@pytest.mark.parametrize(("case", "given", "errors"), BAD, ids=[b[0] for b in BAD])
async def test_bad_update(
    client: httpx.AsyncClient, case: str, given: dict[str, Any], errors: list[list[str]]
) -> None:
    recipient = await register(client, dpfCertifications=[eu("2024-01-01")], corporateGroup="G")
    payload = await update(client, recipient, **given)
    assert payload["recipient"] is None
    assert sorted(fields(payload)) == sorted(errors), (case, payload)
    state = await read(client)
    assert (state["version"], state["dpfCertifications"], state["corporateGroup"]) == (
        1,
        [eu("2024-01-01")],
        "G",
    )


async def test_giving_the_flag_and_the_list_is_an_error(client: httpx.AsyncClient) -> None:
    payload = await registered(
        client, dataPrivacyFrameworkCertified=True, dpfCertifications=[eu("2024-01-01")]
    )
    assert fields(payload) == [["input", "dataPrivacyFrameworkCertified"]]
    assert (
        "Give dpfCertifications or dataPrivacyFrameworkCertified"
        in (payload["userErrors"][0]["message"])
    )
    assert await RecipientModel.all().count() == 0
    recipient = await register(client)
    for flag in (True, False):
        payload = await update(
            client, recipient, dataPrivacyFrameworkCertified=flag, dpfCertifications=[]
        )
        assert fields(payload) == [["input", "dataPrivacyFrameworkCertified"]], flag
    assert (await read(client))["version"] == 1


async def test_neither_may_be_cleared(client: httpx.AsyncClient) -> None:
    recipient = await register(client, dpfCertifications=[eu("2024-01-01")])
    payload = await update(
        client,
        recipient,
        dpfCertifications=None,
        dataPrivacyFrameworkCertified=None,
        internationalOrganisation=None,
    )
    assert sorted(fields(payload)) == [
        ["input", "dataPrivacyFrameworkCertified"],
        ["input", "dpfCertifications"],
        ["input", "internationalOrganisation"],
    ]
    assert (await read(client))["dpfCertifications"] == [eu("2024-01-01")]


# -- the deprecated flag ------------------------------------------------------------------------

# (case, certifications, the flag as read today)
READS = [
    ("none", [], False),
    ("EU-US in force", [eu("2024-01-01")], True),
    ("EU-US lapsed", [eu("2024-01-01", "2025-01-01")], False),
    ("EU-US lapsing later", [eu("2024-01-01", "2199-01-01")], True),
    ("EU-US certified for later", [eu("2199-01-01")], False),
    ("Swiss-US only", [swiss("2024-10-01")], False),
    ("EU-US and the UK Extension", [eu("2024-01-01"), uk("2024-01-01")], True),
]  # fmt: skip


@pytest.mark.parametrize(("case", "certifications", "flag"), READS, ids=[r[0] for r in READS])
async def test_the_flag_reads_an_eu_us_certification_in_force_today(
    client: httpx.AsyncClient, case: str, certifications: list[dict[str, Any]], flag: bool
) -> None:
    await register(client, dpfCertifications=certifications)
    assert (await read(client))["dataPrivacyFrameworkCertified"] is flag, case


async def test_registering_with_the_flag(client: httpx.AsyncClient) -> None:
    """true records an EU-US certification from today (never a UK Extension); the default,
    false, records none."""
    certified = await register(client, name="Certified Co", dataPrivacyFrameworkCertified=True)
    assert certified["dpfCertifications"] == [eu(today())]
    assert certified["dataPrivacyFrameworkCertified"] is True
    plain = await register(client, name="Plain Co", dataPrivacyFrameworkCertified=False)
    assert plain["dpfCertifications"] == []
    history = (await read(client, "certified-co"))["history"]
    changes = json.loads(history[-1]["changes"])
    assert changes["dpfCertifications"] == [None, [eu(today())]]
    assert "dataPrivacyFrameworkCertified" not in changes  # a summary, not audited


# (case, certifications before, the flag written or None to leave it out, after, new version)
WRITES = [
    ("true with none records EU-US from today", [], True, [eu("@today")], True),
    ("true with EU-US in force changes nothing", [eu("2024-01-01")], True, [eu("2024-01-01")],
     False),
    ("true beside a lapsed one adds one", [eu("2024-01-01", "2025-01-01")], True,
     [eu("2024-01-01", "2025-01-01"), eu("@today")], True),
    ("true beside Swiss-US adds EU-US only", [swiss("2024-10-01")], True,
     [swiss("2024-10-01"), eu("@today")], True),
    ("false ends EU-US in force today", [eu("2024-01-01")], False,
     [eu("2024-01-01", "@today")], True),
    ("false ends the UK Extension with it", [eu("2024-01-01"), uk("2024-01-01")], False,
     [eu("2024-01-01", "@today"), uk("2024-01-01", "@today")], True),
    ("false ends a lapse still to come today", [eu("2024-01-01", "2199-01-01")], False,
     [eu("2024-01-01", "@today")], True),
    ("false with none changes nothing", [], False, [], False),
    ("false keeps a lapsed one and Swiss-US", [eu("2024-01-01", "2025-01-01"), swiss("2024-10-01")],
     False, [eu("2024-01-01", "2025-01-01"), swiss("2024-10-01")], False),
    ("left out changes nothing", [eu("2024-01-01")], None, [eu("2024-01-01")], False),
]  # fmt: skip


def dated(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: today() if v == "@today" else v for k, v in item.items()} for item in items]


@pytest.mark.parametrize(
    ("case", "before", "flag", "after", "new_version"), WRITES, ids=[w[0] for w in WRITES]
)
async def test_updating_with_the_flag(
    client: httpx.AsyncClient,
    case: str,
    before: list[dict[str, Any]],
    flag: bool | None,
    after: list[dict[str, Any]],
    new_version: bool,
) -> None:
    recipient = await register(client, dpfCertifications=before)
    given = {} if flag is None else {"dataPrivacyFrameworkCertified": flag}
    payload = await update(client, recipient, **given)
    assert payload["userErrors"] == [], (case, payload)
    updated = payload["recipient"]
    assert updated["dpfCertifications"] == dated(after), case
    assert updated["version"] == (2 if new_version else 1), case
    if flag is not None:
        assert updated["dataPrivacyFrameworkCertified"] is flag, case
    if new_version:
        changes = json.loads((await read(client))["history"][0]["changes"])
        assert changes == {"dpfCertifications": [before, dated(after)]}, case


async def test_false_drops_a_certification_made_today(client: httpx.AsyncClient) -> None:
    """lapsedOn must come after certifiedOn: one certified today is removed instead."""
    recipient = await register(client, dataPrivacyFrameworkCertified=True)
    payload = await update(client, recipient, dataPrivacyFrameworkCertified=False)
    assert payload["userErrors"] == []
    assert payload["recipient"]["dpfCertifications"] == []
    assert payload["recipient"]["dataPrivacyFrameworkCertified"] is False


async def test_false_refuses_to_leave_a_later_uk_extension_alone(
    client: httpx.AsyncClient,
) -> None:
    recipient = await register(
        client, dpfCertifications=[eu("2024-01-01"), uk("2199-01-01", "2199-06-01")]
    )
    payload = await update(client, recipient, dataPrivacyFrameworkCertified=False)
    assert fields(payload) == [["input", "dataPrivacyFrameworkCertified"]]
    assert (await read(client))["version"] == 1
