"""What the exports should say of the shipped fixtures at a moment, read straight from
fixtures/inventory.yaml with yaml and pycountry (not through the service), so that a test holds
each export to the inventory it was made from."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pycountry
import yaml

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
EEA = {
    "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE", "IT",
    "LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE", "IS", "LI", "NO",
}  # fmt: skip
ART_6 = {
    "CONSENT": "Art. 6(1)(a)",
    "CONTRACT": "Art. 6(1)(b)",
    "LEGAL_OBLIGATION": "Art. 6(1)(c)",
    "VITAL_INTERESTS": "Art. 6(1)(d)",
    "PUBLIC_TASK": "Art. 6(1)(e)",
    "LEGITIMATE_INTERESTS": "Art. 6(1)(f)",
}


def _moment(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime(value.year, value.month, value.day, tzinfo=UTC)


def country_name(code: str) -> str:
    found = pycountry.countries.get(alpha_2=code)
    return getattr(found, "common_name", None) or found.name


@dataclass
class Expected:
    """One purpose's row: the recipients named, the third countries, the Art. 6 points."""

    recipients: set[str] = field(default_factory=set)
    third_countries: set[str] = field(default_factory=set)
    art_6: set[str] = field(default_factory=set)


@dataclass
class InUse:
    """Each in-effect disclosure of a recipient ACTIVE at the moment: (recipient, disclosure)."""

    at: datetime
    disclosures: list[tuple[dict[str, Any], dict[str, Any]]]
    others: list[dict[str, Any]]  # every recipient with nothing in use at the moment


def in_use(at: datetime) -> InUse:
    recipients = yaml.safe_load((FIXTURES / "inventory.yaml").read_text())["recipients"]
    day = at.date()
    found = []
    used = set()
    for recipient in recipients:
        moves = [m for m in recipient["status_history"] if _moment(m["at"]) <= at]
        if not moves or moves[-1]["status"] != "ACTIVE":
            continue
        for disclosure in recipient.get("disclosures", []):
            start: date = disclosure["effective_from"]
            end: date | None = disclosure.get("effective_to")
            if start <= day and (end is None or day < end):
                found.append((recipient, disclosure))
                used.add(recipient["slug"])
    return InUse(at, found, [r for r in recipients if r["slug"] not in used])


def destinations(recipient: dict[str, Any], disclosure: dict[str, Any]) -> set[str]:
    return {recipient["country"]} | {t["country"] for t in disclosure.get("transfers", [])}


def expected_rows(at: datetime) -> dict[str, Expected]:
    rows: dict[str, Expected] = {}
    for recipient, disclosure in in_use(at).disclosures:
        for purpose in disclosure["purposes"]:
            row = rows.setdefault(purpose, Expected())
            row.recipients.add(recipient["name"])
            row.third_countries |= {
                country_name(c)
                for c in destinations(recipient, disclosure)
                if c not in EEA and c != "GB"
            }
            row.art_6.add(ART_6[disclosure["legal_basis"]])
    return rows


def names_in(cell: str, name: str) -> bool:
    """Whether a list cell ("Kind (a, b); Kind (c)") names the recipient."""
    return re.search(rf"[(,] ?{re.escape(name)}[,)]", cell) is not None


def every_name() -> set[str]:
    recipients = yaml.safe_load((FIXTURES / "inventory.yaml").read_text())["recipients"]
    return {r["name"] for r in recipients}
