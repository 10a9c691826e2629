"""importInventory from other tools' files (issue 15 §1): Fides system manifests, validated
by fideslang, and vendors of the IAB TCF GVL v3 in ../shared/data (not written here), their
purposes mapped through fideslang's published GVL mappings."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import yaml

from server.db.models import Disclosure, Recipient
from server.domain.taxonomy import default_taxonomy
from server.services.import_sources import without_special_categories
from tests.api.test_imports import IMPORT
from tests.conftest import MakeClient, gql

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"
GVL_FILE = SHARED / "iab-tcf-gvl" / "vendor-list-v3-024.json"
MAPPINGS = SHARED / "fideslang"

MANIFEST = {
    "system": [
        {
            "fides_key": "demo_marketing_system",
            "name": "Demo Marketing System",
            "legal_name": "Demo Marketing Ltd",
            "system_type": "Service",
            "responsibility": ["Processor"],
            "privacy_policy": "https://demo.example/privacy",
            "privacy_declarations": [
                {
                    "name": "Email marketing",
                    "data_categories": ["user.contact.email", "user.name"],
                    "data_use": "marketing.communications.email",
                    "data_subjects": ["customer"],
                    "legal_basis_for_processing": "Consent",
                    "retention_period": "P2Y",
                },
                {
                    "name": "Newsletters",
                    "data_categories": ["user.name", "user.contact.email"],
                    "data_use": "marketing.communications",
                    "data_subjects": ["customer"],
                    "legal_basis_for_processing": "Consent",
                },
                {
                    "name": "Analytics",
                    "data_categories": ["user.device.cookie_id"],
                    "data_use": "analytics.reporting",
                    "data_subjects": ["customer"],
                    "legal_basis_for_processing": "Legitimate interests",
                    "retention_period": "P13M",
                },
            ],
        }
    ],
    "dataset": [],
}


async def run_import(client: httpx.AsyncClient, **given: Any) -> dict[str, Any]:
    body = await gql(client, IMPORT, {"input": given})
    assert "errors" not in body, body
    payload: dict[str, Any] = body["data"]["importInventory"]
    assert payload["userErrors"] == [], payload
    report: dict[str, Any] = payload["report"]
    return report


async def test_a_fides_manifest_becomes_recipients_with_regrouped_disclosures(
    client: httpx.AsyncClient,
) -> None:
    content = yaml.safe_dump(MANIFEST)
    report = await run_import(client, format="FIDES_YAML", content=content, defaultCountry="US")
    assert report["problems"] == [] and report["created"] == 1
    assert any("demo-marketing-system" in n["message"] for n in report["notes"])
    system = await Recipient.get(slug="demo-marketing-system")
    assert (system.name, system.legal_name, system.country, system.role.value) == (
        "Demo Marketing System",
        "Demo Marketing Ltd",
        "US",
        "PROCESSOR",
    )
    assert system.privacy_policy_url == "https://demo.example/privacy"
    rows = await Disclosure.filter(recipient_id=system.id).order_by("id")
    assert [(d.legal_basis.value, d.purposes_text, d.retention) for d in rows] == [
        ("CONSENT", "marketing.communications.email,marketing.communications", "P2Y"),
        ("LEGITIMATE_INTERESTS", "analytics.reporting", "P13M"),
    ]
    again = await run_import(client, format="FIDES_YAML", content=content, defaultCountry="GB")
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 1)
    assert (await Recipient.get(slug="demo-marketing-system")).country == "US"


async def test_a_fides_manifest_needs_a_country_and_valid_systems(
    client: httpx.AsyncClient,
) -> None:
    report = await run_import(client, format="FIDES_YAML", content=yaml.safe_dump(MANIFEST))
    assert [p["column"] for p in report["problems"]] == ["defaultCountry"]
    broken = {
        "system": [
            {"fides_key": "no type", "privacy_declarations": []},
            {
                "fides_key": "bad_terms",
                "system_type": "Service",
                "privacy_declarations": [
                    {"data_categories": ["user.nonsense"], "data_use": "bogus",
                     "data_subjects": ["customer"]}
                ],
            },
        ]
    }  # fmt: skip
    report = await run_import(
        client, format="FIDES_YAML", content=yaml.safe_dump(broken), defaultCountry="US"
    )
    found = {(p["sheet"], p["column"]) for p in report["problems"]}
    assert ("system no type", "system_type") in found
    assert ("system no type", "fides_key") in found
    assert ("system bad_terms", "privacy_declarations.0.legal_basis_for_processing") in found
    assert ("system bad_terms (privacy_declarations.0)", "Data categories") in found
    assert ("system bad_terms (privacy_declarations.0)", "Purposes") in found
    assert await Recipient.all().count() == 0
    for content in ("system: [", "people: []", "\xff"):
        report = await run_import(client, format="FIDES_YAML", content=content, defaultCountry="US")
        assert report["problems"] and not report["applied"]


async def post_gvl(client: httpx.AsyncClient, query: str, content: bytes | None = None) -> Any:
    """The GVL (870 KB) is over the GraphQL body limit: POST /imports takes it."""
    body = GVL_FILE.read_bytes() if content is None else content
    response = await client.post(f"/imports?format=IAB_GVL&{query}", content=body)
    assert response.status_code == 200, response.text
    assert response.json()["userErrors"] == []
    return response.json()["report"]


def gvl_uses(purposes: list[int], special: bool = False) -> set[str]:
    mapping = json.loads((MAPPINGS / "gvl_data_use_mapping.json").read_text())
    table = mapping["specialPurposes" if special else "purposes"]
    return {use for p in purposes for use in table[str(p)]["data_uses"]}


async def test_gvl_vendors_become_proposed_analytics_controllers(client_for: MakeClient) -> None:
    procurement = await client_for("procurement", "buyer")
    vendors = json.loads(GVL_FILE.read_text())["vendors"]
    report = await post_gvl(procurement, "vendorIds=2,4&defaultCountry=FR")
    assert report["problems"] == [] and report["created"] == 2, report
    for vendor_id in (2, 4):
        vendor = vendors[str(vendor_id)]
        recipient = await Recipient.get(slug=f"gvl-{vendor_id}")
        assert (recipient.name, recipient.status.value, recipient.kind.value) == (
            vendor["name"],
            "PROPOSED",
            "ANALYTICS_PROVIDER",
        )
        assert (recipient.role.value, recipient.country) == ("CONTROLLER", "FR")
        by_basis = {
            d.legal_basis.value: d for d in await Disclosure.filter(recipient_id=recipient.id)
        }
        expected = {}
        if vendor["purposes"]:
            expected["CONSENT"] = gvl_uses(vendor["purposes"])
        interests = gvl_uses(vendor["legIntPurposes"]) | gvl_uses(
            vendor["specialPurposes"], special=True
        )
        if interests:
            expected["LEGITIMATE_INTERESTS"] = interests
        assert set(by_basis) == set(expected)
        for basis, uses in expected.items():
            stored = set((by_basis[basis].purposes_text or "").split(","))
            # Each mapped use is recorded, or covered by a parent when more than 10 (the cap).
            assert all(any(u == s or u.startswith(s + ".") for s in stored) for u in uses)
            assert by_basis[basis].subject_types_text == "visitor"
    again = await post_gvl(procurement, "vendorIds=2,4&defaultCountry=DE")
    assert (again["created"], again["unchanged"]) == (0, 2)


async def test_gvl_problems(client: httpx.AsyncClient) -> None:
    content = GVL_FILE.read_text()
    deleted = next(
        int(k) for k, v in json.loads(content)["vendors"].items() if v.get("deletedDate")
    )
    report = await post_gvl(client, f"vendorIds=1,999999,{deleted}&defaultCountry=DE")
    found = {(p["sheet"], p["column"], p["code"]) for p in report["problems"]}
    assert found == {
        ("vendor 999999", "vendorIds", "NOT_FOUND"),
        (f"vendor {deleted}", "deletedDate", "INVALID"),
    }
    assert await Recipient.all().count() == 0
    report = await post_gvl(client, "defaultCountry=DE")
    assert [p["column"] for p in report["problems"]] == ["vendorIds"]
    report = await run_import(client, format="IAB_GVL", content="{}", vendorIds=[1])
    assert report["problems"][0]["column"] == "gvlSpecificationVersion"


def test_a_category_covering_special_ones_is_recorded_by_its_other_keys() -> None:
    keys, widened = without_special_categories(
        ["user.device", "user.demographic"], default_taxonomy()
    )
    assert widened == ["user.demographic"]
    assert "user.device" in keys and "user.demographic.age_range" in keys
    assert not any(default_taxonomy().categories[k].sensitive for k in keys)
