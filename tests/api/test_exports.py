"""GET /exports/ through real HTTP (issue 16 §1, §2 and the plumbing): the record of processing
read back with openpyxl and csv, and the notice's sections, each checked against
fixtures/inventory.yaml at now and at a past moment; the refusals, JSON like every other."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import yaml
from openpyxl import load_workbook

from server.domain import notice, ropa
from server.domain.enums import DisclosureGround, ProcessingRole, RecipientKind
from server.services import clock
from server.services.fixtures import load_fixtures
from server.settings import Settings
from tests.conftest import MakeClient
from tests.fixture_records import (
    EEA,
    FIXTURES,
    country_name,
    destinations,
    every_name,
    expected_rows,
    in_use,
    names_in,
)
from tests.helpers import disclosure_input, register

PAST = "2023-06-01T12:00:00Z"
PAST_AT = datetime(2023, 6, 1, 12, tzinfo=UTC)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
THIRD = ropa.HEADINGS[ropa.THIRD_COUNTRIES]


@pytest.fixture
async def viewer(db: str, client_for: MakeClient) -> httpx.AsyncClient:
    """The inventory read permission is all an export needs: a dashboard's viewer key."""
    loaded = await load_fixtures(FIXTURES)
    assert loaded.errors == [], loaded.summary()
    return await client_for("viewer", "exports-viewer")


def check_record(table: list[list[str]], at: datetime) -> None:
    """The record's table (header first) against the fixtures at `at`: one row per purpose of
    an in-effect disclosure of an ACTIVE recipient, each naming exactly its recipients, third
    countries and Art. 6 bases."""
    header, *rows = table
    assert header == list(ropa.HEADINGS)
    by_purpose: dict[str, dict[str, str]] = {}
    for row in rows:
        cells = dict(zip(header, row, strict=True))
        key = re.search(r"\(([^()]+)\)$", cells["Purpose of processing"])
        assert key is not None, cells["Purpose of processing"]
        by_purpose[key.group(1)] = cells
    expected = expected_rows(at)
    assert set(by_purpose) == set(expected)
    assert list(by_purpose) == sorted(by_purpose)
    names = every_name()
    for purpose, want in expected.items():
        cells = by_purpose[purpose]
        named = {n for n in names if names_in(cells["Categories of recipients"], n)}
        assert named == want.recipients, purpose
        assert {c for c in cells[THIRD].split("; ") if c} == want.third_countries, purpose
        basis = cells["Article 6 lawful basis for processing personal data"]
        assert set(re.findall(r"Art\. 6\(1\)\([a-f]\)", basis)) == want.art_6, purpose
        assert cells["Business function"] == "" and cells["Rights available to individuals"] == ""


def xlsx_table(content: bytes) -> list[list[str]]:
    book = load_workbook(io.BytesIO(content))
    sheet = book["Record of processing"]
    return [
        ["" if value is None else str(value) for value in row]
        for row in sheet.iter_rows(min_row=6, values_only=True)
    ]


def csv_table(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode("utf-8"), newline="")))


@pytest.mark.parametrize("as_of", [None, PAST])
async def test_the_record_as_xlsx_and_csv_matches_the_fixtures(
    viewer: httpx.AsyncClient, as_of: str | None
) -> None:
    params = {"asOf": as_of} if as_of else {}
    at = PAST_AT if as_of else clock.now()
    workbook = await viewer.get("/exports/ropa.xlsx", params=params)
    assert workbook.status_code == 200, workbook.text
    assert workbook.headers["content-type"] == XLSX
    assert workbook.headers["content-disposition"] == (
        f'attachment; filename="ropa-{at.date().isoformat()}.xlsx"'
    )
    table = xlsx_table(workbook.content)
    check_record(table, at)
    text = await viewer.get("/exports/ropa.csv", params=params)
    assert text.status_code == 200
    assert text.headers["content-type"] == "text/csv; charset=utf-8"
    assert text.headers["content-disposition"].endswith('.csv"')
    assert csv_table(text.content) == table


async def test_the_workbook_reads_as_it_opens(viewer: httpx.AsyncClient) -> None:
    """The ICO template's layout: the controller block on top, the header row frozen with the
    purpose column, the columns sized, the text wrapped."""
    content = (await viewer.get("/exports/ropa.xlsx", params={"asOf": PAST})).content
    sheet = load_workbook(io.BytesIO(content))["Record of processing"]
    assert sheet.freeze_panes == "C7"
    assert str(sheet["A1"].value).startswith("Record of processing activities")
    assert "2023-06-01 12:00 UTC" in str(sheet["A1"].value)
    assert sheet["A2"].value == "Name and contact details of your organisation"
    assert sheet["B2"].value == (
        "MPN Technologies LLC (United States); other establishments: MPN Technologies Limited "
        "(United Kingdom)"
    )
    assert sheet["A3"].value.startswith("Name and contact details of your data protection")
    assert [c.value for c in sheet[6]] == list(ropa.HEADINGS)
    assert sheet["A6"].font.b and sheet["F6"].alignment.wrap_text
    assert sheet["F7"].alignment.wrap_text and sheet["F7"].alignment.vertical == "top"
    assert sheet.column_dimensions["F"].width == ropa.COLUMNS[5].width > 18
    assert sheet.column_dimensions["A"].width == 18


async def test_a_cell_a_person_typed_never_opens_as_a_formula(client: httpx.AsyncClient) -> None:
    """A recipient named like a formula, with a retention like one: the workbook holds both as
    text, unchanged; the CSV puts an apostrophe before each (OWASP's CSV injection advice)."""
    name = '=HYPERLINK("https://attacker.example","Open")'
    retention = '=HYPERLINK("https://attacker.example","until the account closes")'
    await register(
        client, name=name, status="ACTIVE", disclosures=[disclosure_input(retention=retention)]
    )
    contract = f"{name}: DPA signed 2024-01-15"
    content = (await client.get("/exports/ropa.xlsx")).content
    sheet = load_workbook(io.BytesIO(content))["Record of processing"]
    (row,) = sheet.iter_rows(min_row=7)
    assert (row[ropa.PROCESSOR_CONTRACTS].data_type, row[ropa.PROCESSOR_CONTRACTS].value) == (
        "s",
        contract,
    )
    assert (row[ropa.RETENTION].data_type, row[ropa.RETENTION].value) == ("s", retention)
    assert not [
        cell.coordinate for row in sheet.iter_rows() for cell in row if cell.data_type == "f"
    ]
    header, cells = csv_table((await client.get("/exports/ropa.csv")).content)
    assert header == list(ropa.HEADINGS)
    assert cells[ropa.PROCESSOR_CONTRACTS] == "'" + contract
    assert cells[ropa.RETENTION] == "'" + retention
    assert not [cell for cell in cells if cell.startswith(ropa.FORMULA_STARTS)]


class TestControllerSettings:
    """What the inventory does not hold of the controller comes from the settings."""

    @pytest.fixture
    def settings(self) -> Settings:
        return Settings(
            controller_contact="privacy@mpnt.example",
            dpo_contact="Data protection officer, dpo@mpnt.example",
        )

    async def test_the_controller_block(self, viewer: httpx.AsyncClient) -> None:
        content = (await viewer.get("/exports/ropa.xlsx")).content
        sheet = load_workbook(io.BytesIO(content))["Record of processing"]
        assert str(sheet["B2"].value).endswith("(United Kingdom); privacy@mpnt.example")
        assert sheet["B3"].value == "Data protection officer, dpo@mpnt.example"
        assert sheet["B4"].value is None


def expected_classes(at: datetime) -> set[notice.NoticeClass]:
    return {
        notice.class_of(
            RecipientKind(r["kind"]), ProcessingRole(r["role"]), DisclosureGround(d["ground"])
        )
        for r, d in in_use(at).disclosures
    }


def expected_countries(at: datetime) -> set[str]:
    return {country_name(c) for r, d in in_use(at).disclosures for c in destinations(r, d)}


def sentence(text: str, start: str) -> str:
    found = re.search(re.escape(start) + r"[^\n<]*", text)
    assert found is not None, start
    return found.group(0)


@pytest.mark.parametrize("as_of", [None, PAST])
@pytest.mark.parametrize("file", ["notice.md", "notice.html"])
async def test_each_class_and_country_appears_exactly_where_the_inventory_says(
    viewer: httpx.AsyncClient, as_of: str | None, file: str
) -> None:
    params = {"asOf": as_of} if as_of else {}
    at = PAST_AT if as_of else clock.now()
    response = await viewer.get(f"/exports/{file}", params=params)
    assert response.status_code == 200, response.text
    media = "text/markdown" if file.endswith(".md") else "text/html"
    assert response.headers["content-type"] == f"{media}; charset=utf-8"
    text = response.text.replace("&amp;", "&")
    classes = expected_classes(at)
    for notice_class, wording in notice.CLASSES.items():
        assert (wording in text) is (notice_class in classes), notice_class
    based_in = sentence(text, "Your personal information may be shared with recipients")
    wanted = expected_countries(at)
    # Every country a fixture recipient is in or transfers to, at some moment or never.
    every = {country_name(c) for c in ("US", "GB", "IE", "DE", "FR", "IN", "AU", "CA", "SG")}
    for name in every:
        assert (name in based_in) is (name in wanted), name
    third = {n for n in wanted if n not in {country_name(c) for c in EEA} | {"United Kingdom"}}
    for name in every - {"United Kingdom"} - {country_name(c) for c in EEA}:
        listed = re.search(rf"^(- |<li>){re.escape(name)}: ", text, re.MULTILINE) is not None
        assert listed is (name in third), name
    assert "Generated on " in text
    if as_of:
        assert "as it stood on 1 June 2023, 12:00 UTC" in text


async def test_by_default_the_notice_names_categories_not_recipients(
    viewer: httpx.AsyncClient,
) -> None:
    text = (await viewer.get("/exports/notice.md")).text
    assert "Stratus Harbor Cloud" not in text


class TestNamedLists:
    """NOTICE_RECIPIENTS=named: the organisation names its recipients (Art. 13(1)(e))."""

    @pytest.fixture
    def settings(self) -> Settings:
        return Settings(notice_names_recipients=True)

    async def test_each_class_names_its_recipients(self, viewer: httpx.AsyncClient) -> None:
        text = (await viewer.get("/exports/notice.html", params={"asOf": PAST})).text
        for recipient, _ in in_use(PAST_AT).disclosures:
            assert recipient["name"].replace("&", "&amp;") in text
        assert "Kestrel Post" not in text  # not ACTIVE until 2024


async def test_the_html_is_whole(viewer: httpx.AsyncClient) -> None:
    html = (await viewer.get("/exports/notice.html")).text
    assert html.startswith("<!DOCTYPE html>")
    assert "<h2>Disclosure of your information</h2>" in html
    assert "<h2>International transfers</h2>" in html
    assert "Ashgrove & Pell" not in html  # named lists are off


class TestNamesAreTextInEveryFormat:
    """A recipient's name is text a person typed: the HTML notice escapes it, the Markdown one
    escapes its formatting characters, so neither carries markup or a link."""

    NAME = '<img src=x onerror="alert(1)"> & [Pay here](https://attacker.example)'

    @pytest.fixture
    def settings(self) -> Settings:
        return Settings(notice_names_recipients=True)

    async def test_the_notice_escapes_a_name(self, client: httpx.AsyncClient) -> None:
        await register(client, name=self.NAME, status="ACTIVE", disclosures=[disclosure_input()])
        html = (await client.get("/exports/notice.html")).text
        assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt; &amp; [Pay here]" in html
        assert "<img" not in html
        markdown = (await client.get("/exports/notice.md")).text
        escaped = r'\<img src=x onerror="alert(1)"\> & \[Pay here\](https://attacker.example)'
        assert escaped in markdown


async def refused(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body: dict[str, Any] = response.json()
    assert body["errors"][0]["extensions"]["code"] == code
    return body


@pytest.mark.parametrize(
    ("path", "status", "code", "says"),
    [
        ("/exports/ropa.xlsx?asOf=yesterday", 400, "BAD_USER_INPUT", "ISO 8601"),
        ("/exports/ropa.csv?asOf=1800-01-01", 400, "BAD_USER_INPUT", "1900-2200"),
        ("/exports/ropa.csv?asOf=2025-01-01T12:00:00+01:00", 400, "BAD_USER_INPUT", "%2B"),
        ("/exports/notice.md?asof=2024-01-01", 400, "BAD_USER_INPUT", "asof"),
        ("/exports/ropa.pdf", 404, "NOT_FOUND", "ropa.xlsx, ropa.csv, notice.md, notice.html"),
        ("/exports/backup", 404, "NOT_FOUND", "No export"),
    ],
)
async def test_refusals_are_json(
    viewer: httpx.AsyncClient, path: str, status: int, code: str, says: str
) -> None:
    body = await refused(await viewer.get(path), status, code)
    assert says in body["errors"][0]["message"]


async def test_an_export_needs_a_key(anonymous: httpx.AsyncClient) -> None:
    response = await anonymous.get("/exports/ropa.csv")
    await refused(response, 401, "UNAUTHENTICATED")


async def test_only_get(viewer: httpx.AsyncClient) -> None:
    response = await viewer.post("/exports/ropa.csv", content=b"")
    body = await refused(response, 405, "METHOD_NOT_ALLOWED")
    assert response.headers["allow"] == "GET, HEAD"
    assert "GET" in body["errors"][0]["message"]


class TestRateLimit:
    @pytest.fixture
    def settings(self) -> Settings:
        return Settings(rate_limit=1.0, rate_limit_burst=1)

    async def test_exports_share_the_keys_rate_limit(self, viewer: httpx.AsyncClient) -> None:
        assert (await viewer.get("/exports/notice.md")).status_code == 200
        await refused(await viewer.get("/exports/notice.md"), 429, "RATE_LIMITED")


async def test_the_fides_manifest_over_http_is_the_export_and_fides_reads_it(
    viewer: httpx.AsyncClient,
) -> None:
    """Issue 16 §3 through the table of exports: GET /exports/fides.yaml?asOf= is the manifest
    of that moment, which PyYAML and fideslang's manifest loader read."""
    from server.services.fides_export import fides_manifest
    from tests.api.test_fides_export import fides_push_reads

    response = await viewer.get("/exports/fides.yaml", params={"asOf": PAST})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/yaml")
    assert 'filename="fides-2023-06-01.yaml"' in response.headers["content-disposition"]
    assert response.content == await fides_manifest(as_of=PAST_AT)
    taxonomy = fides_push_reads(response.content)
    systems = {system.fides_key for system in taxonomy.system or []}
    recipients = yaml.safe_load((FIXTURES / "inventory.yaml").read_text())["recipients"]
    assert systems and systems <= {r["slug"] for r in recipients}
