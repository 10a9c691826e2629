"""importInventory and POST /imports through real HTTP (issue 15 §1): all or nothing, every
problem at once, re-imports that change nothing, who may import which status."""

from __future__ import annotations

import base64
import csv
import dataclasses
import io
from typing import Any

import httpx
import pytest
from openpyxl import Workbook

from server.app import create_app
from server.db.models import AuditEvent, Disclosure, Recipient
from server.domain.access import Role
from server.services import keys
from server.settings import Settings
from tests.conftest import MakeClient, gql, http_client

IMPORT = """
mutation Import($input: ImportInput!) {
  importInventory(input: $input) {
    report {
      dryRun applied created updated unchanged
      problems { sheet row column value code message }
      notes { sheet row column message }
    }
    userErrors { field message code }
  }
}
"""
HEADER = [
    "Slug", "Name", "Legal name", "Kind", "Role", "Country", "Status", "Services",
    "Data categories", "Subject types", "Purposes", "Legal basis", "Ground", "Retention",
    "Transfers", "Ends on",
]  # fmt: skip
ACME = ["acme-mail", "Acme Mail", "Acme Mail Inc.", "Service provider", "Processor", "US", ""]
ACME_EMAIL = ["email-delivery", "user.contact.email; user.name", "customer",
              "essential.service.notifications.email", "Contract", "Service provision", "P30D",
              "US=SCC", ""]  # fmt: skip
ACME_SUPPORT = ["email-delivery", "user.name", "customer", "essential.service",
                "contract", "SERVICE_PROVISION", "", "", ""]  # fmt: skip
BERLIN = ["berlin-analytics", "Berlin Analytics", "", "analytics provider", "controller",
          "Germany", "", "", "user.device.cookie_id", "customer", "analytics",
          "Consent", "User permission", "P13M", "", ""]  # fmt: skip


def to_csv(rows: list[list[str]], header: list[str] = HEADER) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


GOOD = [[*ACME, *ACME_EMAIL], [*ACME, *ACME_SUPPORT], BERLIN]


async def run_import(
    client: httpx.AsyncClient, content: str, *, format: str = "CSV", dry_run: bool = False
) -> dict[str, Any]:
    body = await gql(
        client, IMPORT, {"input": {"format": format, "content": content, "dryRun": dry_run}}
    )
    assert "errors" not in body, body
    payload: dict[str, Any] = body["data"]["importInventory"]
    return payload


async def test_a_csv_import_creates_then_changes_nothing_then_updates(
    client: httpx.AsyncClient,
) -> None:
    first = (await run_import(client, to_csv(GOOD)))["report"]
    assert first["problems"] == []
    assert (first["applied"], first["created"], first["updated"], first["unchanged"]) == (
        True,
        2,
        0,
        0,
    )
    assert {"row": 4, "column": "Country", "sheet": None} | {
        "message": '"Germany" read as DE (Germany).'
    } in first["notes"]
    acme = await Recipient.get(slug="acme-mail")
    assert (acme.status.value, acme.country, acme.legal_name) == (
        "PROPOSED",
        "US",
        "Acme Mail Inc.",
    )
    assert await Disclosure.filter(recipient_id=acme.id).count() == 2
    assert (await Recipient.get(slug="berlin-analytics")).country == "DE"

    again = (await run_import(client, to_csv(GOOD)))["report"]
    assert (again["applied"], again["created"], again["updated"], again["unchanged"]) == (
        True,
        0,
        0,
        2,
    )
    assert (await Recipient.get(slug="acme-mail")).version == acme.version
    assert await Disclosure.all().count() == 3

    edited = [
        [*ACME[:2], "Acme Mail Ltd", *ACME[3:], *ACME_EMAIL],
        [*ACME[:2], "Acme Mail Ltd", *ACME[3:], *ACME_SUPPORT[:-1], "2099-01-01"],
        [*BERLIN[:13], "P6M", *BERLIN[14:]],
    ]
    third = (await run_import(client, to_csv(edited)))["report"]
    assert third["problems"] == []
    assert (third["created"], third["updated"], third["unchanged"]) == (0, 2, 0)
    acme = await Recipient.get(slug="acme-mail")
    assert acme.legal_name == "Acme Mail Ltd"
    ended = await Disclosure.filter(recipient_id=acme.id, effective_to__not_isnull=True)
    assert [d.effective_to.isoformat() for d in ended if d.effective_to] == ["2099-01-01"]
    berlin = await Recipient.get(slug="berlin-analytics")
    retentions = sorted(d.retention or "" for d in await Disclosure.filter(recipient_id=berlin.id))
    assert retentions == ["P13M", "P6M"]  # a changed row is a new disclosure; the old one stays

    fourth = (await run_import(client, to_csv(edited)))["report"]
    assert (fourth["created"], fourth["updated"], fourth["unchanged"]) == (0, 0, 2)


async def test_a_dry_run_reports_and_writes_nothing(client: httpx.AsyncClient) -> None:
    events = await AuditEvent.all().count()
    report = (await run_import(client, to_csv(GOOD), dry_run=True))["report"]
    assert (report["dryRun"], report["applied"], report["created"], report["problems"]) == (
        True,
        False,
        2,
        [],
    )
    assert await Recipient.all().count() == 0
    assert await Disclosure.all().count() == 0
    assert await AuditEvent.all().count() == events


async def test_every_problem_of_every_row_at_once_and_nothing_written(
    client: httpx.AsyncClient,
) -> None:
    rows = [
        [*ACME, *ACME_EMAIL],
        ["beta", "Beta", "", "Vendor", "Processor", "Atlantis", "", "", "user.contact.emale",
         "customer", "marketing", "Contract", "Service provision", "forever", "Congo=SCC", ""],
        ["gamma", "Gamma", "", "Acquirer", "Controller", "us", "", "Not A Tag", "user.name",
         "customer", "marketing", "Because", "Service provision", "P1000Y", "US", ""],
        ["", "", "", "Acquirer", "Controller", "DE", "", "", "", "", "", "", "", "", "", ""],
        ["delta", "Delta", "", "Acquirer", "Controller", "DE", "", "", "user.name", "customer",
         "marketing", "Contract", "Service provision", "", "", "31/12/2030"],
    ]  # fmt: skip
    report = (await run_import(client, to_csv(rows)))["report"]
    assert report["applied"] is False and report["created"] == 0
    found = {(p["row"], p["column"], p["value"]) for p in report["problems"]}
    assert {
        (3, "Kind", "Vendor"),
        (3, "Country", "Atlantis"),
        (3, "Data categories", "user.contact.emale"),
        (3, "Retention", "forever"),
        (3, "Transfers", "Congo"),
        (4, "Services", "Not A Tag"),
        (4, "Legal basis", "Because"),
        (4, "Retention", "P1000Y"),
        (4, "Transfers", "US"),
        (5, "Name", None),
        (6, "Ends on", "31/12/2030"),
    } <= found, report["problems"]
    assert all(p["sheet"] is None and p["code"] == "INVALID" for p in report["problems"])
    assert {
        "sheet": None,
        "row": 4,
        "column": "Country",
        "message": '"us" read as US (United States).',
    } in report["notes"]
    assert await Recipient.all().count() == 0
    assert await AuditEvent.filter(action="registerRecipient").count() == 0


async def test_a_database_rule_is_reported_too(client: httpx.AsyncClient) -> None:
    """A subprocessor naming an engager that exists nowhere: the use case's own check."""
    header = [*HEADER[:7], "Engaged by"]
    rows = [["sub", "Sub", "", "Service provider", "Subprocessor", "US", "", "nobody"]]
    report = (await run_import(client, to_csv(rows, header)))["report"]
    (problem,) = report["problems"]
    assert (problem["row"], problem["column"], problem["value"]) == (2, "Engaged by", "nobody")
    assert problem["code"] == "NOT_FOUND"


async def test_engagers_are_registered_before_their_subprocessors(
    client: httpx.AsyncClient,
) -> None:
    header = [*HEADER[:7], "Engaged by"]
    rows = [
        ["sub", "Sub", "", "Service provider", "Subprocessor", "US", "", "acme-mail"],
        [*ACME, ""],
    ]
    report = (await run_import(client, to_csv(rows, header)))["report"]
    assert report["problems"] == [] and report["created"] == 2
    sub = await Recipient.get(slug="sub")
    assert sub.engaged_by_id == (await Recipient.get(slug="acme-mail")).id


async def test_procurement_imports_proposals_only(client_for: MakeClient) -> None:
    procurement = await client_for("procurement", "buyer")
    rows = [
        [*ACME[:6], "Active", *ACME_EMAIL],
        [*BERLIN[:6], "Approved", *BERLIN[7:]],
        ["plain", "Plain", "", "Acquirer", "Controller", "DE", "Proposed", "", "user.name",
         "customer", "marketing", "Contract", "Service provision", "", "", ""],
    ]  # fmt: skip
    report = (await run_import(procurement, to_csv(rows)))["report"]
    forbidden = [(p["row"], p["column"], p["value"], p["code"]) for p in report["problems"]]
    assert forbidden == [
        (2, "Status", "Active", "FORBIDDEN"),
        (3, "Status", "Approved", "FORBIDDEN"),
    ]
    assert report["applied"] is False
    assert await Recipient.all().count() == 0
    refusal = await AuditEvent.get(action="forbidden:importInventory")
    assert refusal.actor == "buyer" and "2 row(s)" in refusal.changes

    allowed = (await run_import(procurement, to_csv([rows[2]])))["report"]
    assert allowed["applied"] is True and allowed["created"] == 1


async def test_an_admin_imports_a_later_status_and_the_audit_says_so(
    client: httpx.AsyncClient,
) -> None:
    rows = [[*ACME[:6], "Active", *ACME_EMAIL]]
    report = (await run_import(client, to_csv(rows)))["report"]
    assert report["applied"] is True
    acme = await Recipient.get(slug="acme-mail")
    assert acme.status.value == "ACTIVE"
    event = await AuditEvent.get(action="importInventory", recipient_id=acme.id)
    assert event.actor == "test-admin" and '"ACTIVE"' in event.changes
    # A status in the file never moves an existing recipient: that is review's work.
    rows = [[*ACME[:6], "Proposed", *ACME_EMAIL]]
    again = (await run_import(client, to_csv(rows)))["report"]
    assert (again["unchanged"], again["problems"]) == (1, [])
    assert "stays so" in again["notes"][0]["message"]
    assert (await Recipient.get(slug="acme-mail")).status.value == "ACTIVE"


async def test_a_viewer_may_not_import(client_for: MakeClient) -> None:
    viewer = await client_for("viewer", "dashboard")
    payload = await run_import(viewer, to_csv(GOOD))
    assert payload["report"] is None
    assert payload["userErrors"][0]["code"] == "FORBIDDEN"
    assert await Recipient.all().count() == 0


def workbook(recipients: list[list[Any]], disclosures: list[list[Any]]) -> str:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Recipients"
    sheet.append(HEADER[:8])
    for row in recipients:
        sheet.append(row)
    other = book.create_sheet("Disclosures")
    other.append(["Slug", *HEADER[8:]])
    for row in disclosures:
        other.append(row)
    out = io.BytesIO()
    book.save(out)
    return base64.b64encode(out.getvalue()).decode()


async def test_an_xlsx_import_in_base64_names_sheets(client: httpx.AsyncClient) -> None:
    recipients = [
        [*ACME, "email-delivery"],
        ["bad", "Bad", None, "Acquirer", "Controller", "Narnia"],
    ]
    disclosures = [
        ["acme-mail", *ACME_EMAIL[1:]],
        ["acme-mail", "user.name", "customer", "marketing", "Contract", "Service provision",
         "P1000Y", None, None],
        ["ghost", "user.name", "customer", "marketing", "Contract", "Service provision"],
    ]  # fmt: skip
    report = (await run_import(client, workbook(recipients, disclosures), format="XLSX"))["report"]
    found = {(p["sheet"], p["row"], p["column"], p["code"]) for p in report["problems"]}
    assert found == {
        ("Recipients", 3, "Country", "INVALID"),
        ("Disclosures", 3, "Retention", "INVALID"),
        ("Disclosures", 4, "Slug", "NOT_FOUND"),
    }, report["problems"]
    assert await Recipient.all().count() == 0

    good = workbook([[*ACME, "email-delivery"]], disclosures[:1])
    report = (await run_import(client, good, format="XLSX"))["report"]
    assert (report["applied"], report["created"]) == (True, 1)
    # A Disclosures sheet alone adds to a recipient already in the inventory.
    more = workbook([], [["acme-mail", "user.name", "customer", "marketing", "Contract",
                          "Service provision", "P1Y"]])  # fmt: skip
    report = (await run_import(client, more, format="XLSX"))["report"]
    assert (report["applied"], report["updated"], report["problems"]) == (True, 1, [])


async def test_content_that_is_not_the_format(client: httpx.AsyncClient) -> None:
    payload = await run_import(client, "not base64!", format="XLSX")
    assert payload["userErrors"][0]["field"] == ["input", "content"]
    report = (await run_import(client, base64.b64encode(b"plain text").decode(), format="XLSX"))[
        "report"
    ]
    assert "not an XLSX workbook" in report["problems"][0]["message"]
    report = (await run_import(client, "Name,Colour\nA,red\n"))["report"]
    assert {p["message"][:15] for p in report["problems"]} >= {"Unknown column "}


async def test_post_imports_takes_a_file_over_the_graphql_body_limit(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    rows = [
        [f"vendor-{i}", f"Vendor {i}", f"Vendor {i} International Holdings Limited",
         "Service provider", "Processor", "US", "",
         "email-delivery", "user.contact.email", "customer", "essential.service", "Contract",
         "Service provision", "P30D", "US=SCC", ""]
        for i in range(1500)
    ]  # fmt: skip
    content = to_csv(rows)
    assert len(content.encode()) > settings.max_body_bytes
    too_big = await client.post("/graphql", json={"query": IMPORT, "variables": {"input": {
        "format": "CSV", "content": content}}})  # fmt: skip
    assert too_big.status_code == 413

    dry = await client.post("/imports?format=csv&dryRun=true", content=content.encode())
    assert dry.status_code == 200, dry.text
    assert dry.json()["report"]["created"] == 1500 and dry.json()["report"]["applied"] is False
    assert await Recipient.all().count() == 0

    done = await client.post("/imports?format=CSV", content=content.encode())
    assert done.json() == {
        "report": {"dryRun": False, "applied": True, "created": 1500, "updated": 0,
                   "unchanged": 0, "problems": [], "notes": []},
        "userErrors": [],
    }  # fmt: skip
    assert await Recipient.all().count() == 1500


@pytest.mark.parametrize(
    ("query", "status", "field"),
    [("format=PDF", 400, "format"), ("format=CSV&dryRun=maybe", 400, "dryRun"),
     ("format=CSV&colour=red", 400, "colour"), ("format=IAB_GVL&vendorIds=a", 400, "vendorIds")],
)  # fmt: skip
async def test_post_imports_bad_parameters(
    client: httpx.AsyncClient, query: str, status: int, field: str
) -> None:
    response = await client.post(f"/imports?{query}", content=b"Name\n")
    assert response.status_code == status
    assert response.json()["userErrors"][0]["field"] == ["query", field]


async def test_post_imports_needs_a_key_and_the_role(
    anonymous: httpx.AsyncClient, client_for: MakeClient
) -> None:
    assert (await anonymous.post("/imports?format=CSV", content=b"x")).status_code == 401
    viewer = await client_for("viewer", "dash")
    refused = await viewer.post("/imports?format=CSV", content=b"x")
    assert refused.status_code == 403
    assert refused.json()["userErrors"][0]["code"] == "FORBIDDEN"


async def test_post_imports_refuses_over_20_mb(client: httpx.AsyncClient) -> None:
    response = await client.post("/imports?format=CSV", content=b"x" * (20 * 1024 * 1024 + 1))
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"


async def test_the_arguments_are_checked(client: httpx.AsyncClient) -> None:
    body = await gql(
        client,
        IMPORT,
        {"input": {"format": "CSV", "content": to_csv(GOOD), "defaultCountry": "Deutschland"}},
    )
    payload = body["data"]["importInventory"]
    assert payload["report"] is None
    assert payload["userErrors"][0]["field"] == ["input", "defaultCountry"]
    body = await gql(
        client, IMPORT, {"input": {"format": "IAB_GVL", "content": "{}", "vendorIds": [0]}}
    )
    assert body["data"]["importInventory"]["userErrors"][0]["field"] == ["input", "vendorIds"]
    response = await client.post("/imports?format=CSV&defaultCountry=ZZ", content=b"Name\n")
    assert response.status_code == 400
    assert response.json()["userErrors"][0]["field"] == ["query", "defaultCountry"]
    assert await Recipient.all().count() == 0


async def test_an_import_past_the_time_budget_writes_nothing(db: str) -> None:
    """Committed only while the answer can still be given: no caller hears of a timeout after
    its file was written."""
    settings = dataclasses.replace(Settings(), max_execution_ms=1)
    token = await keys.create_key("slow-admin", Role.ADMIN, actor="tests")
    async with http_client(create_app(settings, manage_database=False), token) as slow:
        response = await slow.post(
            "/graphql",
            json={
                "query": IMPORT,
                "variables": {"input": {"format": "CSV", "content": to_csv(GOOD)}},
            },
        )
    body = response.json()
    payload = (body.get("data") or {}).get("importInventory")
    if payload is not None:
        assert payload["report"]["applied"] is False
        assert "POST /imports" in payload["report"]["problems"][-1]["message"]
    else:
        assert body["errors"][0]["extensions"]["code"] == "EXECUTION_TIMEOUT"
    assert await Recipient.all().count() == 0
