"""The served schema honours the client contract, and schema.graphql is what the code serves."""

from __future__ import annotations

from pathlib import Path

from graphql import build_schema as build_sdl
from graphql import find_breaking_changes

from server.graphql.schema import build_schema, schema_sdl

ROOT = Path(__file__).resolve().parent.parent
CONTRACT = ROOT.parent / "shared" / "contract"
# The parts of the contract implemented so far, in the order they extend each other.
IMPLEMENTED = [
    "inventory.graphql",
    "subjects.graphql",
    "transfers.graphql",
    "history.graphql",
    "regimes.graphql",
    "procurement.graphql",
]


def test_served_schema_contains_the_contract() -> None:
    contract_sdl = "\n".join((CONTRACT / name).read_text() for name in IMPLEMENTED)
    contract = build_sdl(contract_sdl)
    served = build_schema()._schema
    changes = find_breaking_changes(contract, served)
    assert changes == [], "\n".join(c.description for c in changes)


def test_schema_file_is_the_exported_schema() -> None:
    committed = (ROOT / "schema.graphql").read_text()
    assert committed == schema_sdl(), (
        "schema.graphql is stale: run `python -m server export-schema > schema.graphql`"
    )


def test_who_receives_takes_as_known_at() -> None:
    """Part 4 adds an optional argument to part 2's Query.whoReceives, which SDL cannot express
    as an extension: whoReceives(subject: SubjectRef!, asOf: DateTime, asKnownAt: DateTime)."""
    field = build_schema()._schema.query_type.fields["whoReceives"]  # type: ignore[union-attr]
    assert {name: str(arg.type) for name, arg in field.args.items()} == {
        "subject": "SubjectRef!",
        "asOf": "DateTime",
        "asKnownAt": "DateTime",
    }
    assert str(field.type) == "SubjectReport"


def test_the_dpf_flag_is_deprecated_for_the_list() -> None:
    schema = build_schema()._schema
    recipient = schema.get_type("Recipient")
    reason = recipient.fields["dataPrivacyFrameworkCertified"].deprecation_reason  # type: ignore[union-attr]
    assert reason is not None and "dpfCertifications" in reason
