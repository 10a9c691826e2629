"""load-fixtures reads the import's layout too (issue 15 §1): CSV and XLSX files beside the YAML
go through the import, all or nothing, and loading again changes nothing."""

from __future__ import annotations

from pathlib import Path

from server.db.models import Disclosure, Recipient
from server.services.fixtures import load_fixtures
from server.services.import_files import template_xlsx

YAML = """
recipients:
  - slug: kestrel-post
    name: Kestrel Post
    kind: SERVICE_PROVIDER
    role: PROCESSOR
    country: GB
    status: ACTIVE
    disclosures:
      - data_categories: [user.contact.email]
        subject_types: [customer]
        purposes: [marketing.communications.email]
        legal_basis: CONSENT
        ground: USER_PERMISSION
"""
CSV = (
    "Slug,Name,Kind,Role,Country,Status,Data categories,Subject types,Purposes,Legal basis,Ground\n"
    "kestrel-post,Kestrel Post,Service provider,Processor,GB,Active,user.name,customer,"
    "marketing.communications.email,Consent,User permission\n"
    "wren-print,Wren Print,Service provider,Processor,Germany,Approved,user.contact.address,"
    "customer,essential.service,Contract,Service provision\n"
)


async def test_spreadsheets_load_beside_the_yaml_and_again_change_nothing(
    db: str, tmp_path: Path
) -> None:
    (tmp_path / "inventory.yaml").write_text(YAML)
    (tmp_path / "more.csv").write_text(CSV)
    (tmp_path / "template.xlsx").write_bytes(template_xlsx())
    report = await load_fixtures(tmp_path)
    assert report.errors == [], report.summary()
    assert report.created == ["kestrel-post"]
    kestrel = await Recipient.get(slug="kestrel-post")
    assert await Disclosure.filter(recipient_id=kestrel.id).count() == 2
    wren = await Recipient.get(slug="wren-print")
    assert (wren.status.value, wren.country) == ("APPROVED", "DE")
    assert await Recipient.exists(slug="acme-mail")  # the template's example row
    assert [line.split(":")[0] for line in report.spreadsheets] == ["more.csv", "template.xlsx"]

    again = await load_fixtures(tmp_path)
    assert again.errors == [] and again.skipped == ["kestrel-post"]
    assert all("created: 0, updated: 0" in line for line in again.spreadsheets), again.spreadsheets
    assert await Disclosure.filter(recipient_id=kestrel.id).count() == 2


async def test_a_spreadsheet_with_problems_loads_nothing_and_says_where(
    db: str, tmp_path: Path
) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("Slug,Name,Kind,Role,Country\nx,X,Vendor,Processor,DE\n")
    report = await load_fixtures(path)
    assert report.errors == [
        "bad.csv: 2 Kind 'Vendor': \"Vendor\" is not one of: SERVICE_PROVIDER (Service "
        "provider), AI_PROVIDER (AI provider), ANALYTICS_PROVIDER (Analytics provider), "
        "BUSINESS_PARTNER (Business partner), GROUP_AFFILIATE (Group affiliate), ACQUIRER "
        "(Acquirer), PUBLIC_AUTHORITY (Public authority)."
    ]
    assert await Recipient.all().count() == 0


async def test_a_yaml_recipient_without_a_slug_is_reported_as_such(db: str, tmp_path: Path) -> None:
    path = tmp_path / "f.yaml"
    path.write_text("recipients:\n  - name: Nameless Ltd\n    kind: ACQUIRER\n")
    report = await load_fixtures(path)
    assert report.errors == [
        "a recipient without a slug (name 'Nameless Ltd'): give each recipient its slug"
    ]
