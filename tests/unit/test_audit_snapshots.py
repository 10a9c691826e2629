"""Audit snapshots follow declarations: a column added to a model, or a term added to a
disclosure's terms, is audited without another edit."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from tortoise import fields
from tortoise.models import Model

from server.domain.disclosure_terms import DisclosureSpec, TransferSpec
from server.domain.enums import (
    DisclosureFrequency,
    DisclosureGround,
    LegalBasis,
    SpecialCategoryCondition,
    TransferMechanism,
)
from server.services import audit
from server.services.audit_snapshots import (
    audited_columns,
    camel_case,
    disclosure_changes,
    disclosure_snapshot,
)


class Probe(Model):
    """Never a table: a model to derive a snapshot from."""

    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=100)
    privacy_policy_url = fields.CharField(max_length=100, null=True)
    dpf_certified = fields.BooleanField(default=False)
    version = fields.IntField(default=1)

    class Meta:
        table = "probe"


def test_camel_case() -> None:
    assert camel_case("name") == "name"
    assert camel_case("privacy_policy_url") == "privacyPolicyUrl"


def test_every_column_but_the_unaudited_in_declaration_order() -> None:
    assert audited_columns(Probe, frozenset({"id", "version"}), {}) == [
        ("name", "name"),
        ("privacy_policy_url", "privacyPolicyUrl"),
        ("dpf_certified", "dpfCertified"),
    ]


def test_api_names_override_camel_case() -> None:
    names = {"dpf_certified": "dataPrivacyFrameworkCertified"}
    assert ("dpf_certified", "dataPrivacyFrameworkCertified") in audited_columns(
        Probe, frozenset(), names
    )


def terms(**changes: object) -> DisclosureSpec:
    spec = DisclosureSpec(
        data_categories=["user.name", "user.contact.email", "user.name"],
        subject_types=["customer", "customer"],
        purposes=["b", "a", "b"],
        legal_basis=LegalBasis.CONTRACT,
        ground=DisclosureGround.SERVICE_PROVISION,
        retention=" P30D ",
        transfers=[
            TransferSpec("US", TransferMechanism.STANDARD_CONTRACTUAL_CLAUSES, "DPA"),
            TransferSpec("US", TransferMechanism.STANDARD_CONTRACTUAL_CLAUSES, "DPA"),
        ],
    )
    for name, value in changes.items():
        setattr(spec, name, value)
    return spec


def test_a_disclosure_snapshot_is_its_terms_as_given() -> None:
    """Key lists lose their repeats (as written), the rest is as given: the retention as typed,
    repeated transfers, and the day the disclosure took effect."""
    assert disclosure_snapshot(terms(), date(2025, 3, 1)) == {
        "dataCategories": ["user.name", "user.contact.email"],
        "subjectTypes": ["customer"],
        "purposes": ["b", "a"],
        "legalBasis": LegalBasis.CONTRACT,
        "ground": DisclosureGround.SERVICE_PROVISION,
        "retention": " P30D ",
        "transfers": [
            {
                "country": "US",
                "mechanism": TransferMechanism.STANDARD_CONTRACTUAL_CLAUSES,
                "reference": "DPA",
            }
        ]
        * 2,
        "effectiveFrom": date(2025, 3, 1),
        "frequency": DisclosureFrequency.CONTINUOUS,
        "specialCategoryCondition": None,
        "exporter": None,
    }


def test_a_transfer_records_its_signing_day_and_scope_only_when_given() -> None:
    """Events written before part 5 hold a transfer's country, mechanism and reference; one
    that gives no signing day or scope reads the same, one that does records them."""
    spec = terms(
        transfers=[
            TransferSpec(
                "US",
                TransferMechanism.STANDARD_CONTRACTUAL_CLAUSES,
                None,
                signed_on=date(2024, 5, 2),
                within_adequacy_scope=False,
            ),
            TransferSpec("JP", TransferMechanism.ADEQUACY_DECISION, within_adequacy_scope=True),
        ]
    )
    assert disclosure_snapshot(spec, date(2025, 3, 1))["transfers"] == [
        {
            "country": "US",
            "mechanism": TransferMechanism.STANDARD_CONTRACTUAL_CLAUSES,
            "reference": None,
            "signedOn": date(2024, 5, 2),
            "withinAdequacyScope": False,
        },
        {
            "country": "JP",
            "mechanism": TransferMechanism.ADEQUACY_DECISION,
            "reference": None,
            "withinAdequacyScope": True,
        },
    ]


def test_the_exporter_recorded_is_the_establishment_resolved() -> None:
    """The terms name a slug or none; the snapshot records the establishment the disclosure was
    recorded as coming from (the main one when none was named)."""
    assert disclosure_snapshot(terms(), date(2025, 3, 1), "mpnt-us")["exporter"] == "mpnt-us"
    named = terms(exporter="mpnt-uk")
    assert disclosure_snapshot(named, date(2025, 3, 1), "mpnt-uk")["exporter"] == "mpnt-uk"


def test_effective_from_is_the_day_recorded() -> None:
    snapshot = disclosure_snapshot(terms(effective_from=date(2020, 1, 1)), date(2025, 3, 1))
    assert snapshot["effectiveFrom"] == date(2025, 3, 1)


def test_a_new_term_is_audited() -> None:
    @dataclass
    class MoreTerms(DisclosureSpec):
        safeguard_note: str | None = None

    spec = MoreTerms(**vars(terms()), safeguard_note="encrypted at rest")
    assert disclosure_snapshot(spec, date(2025, 3, 1))["safeguardNote"] == "encrypted at rest"


@dataclass
class NotedTransfer(TransferSpec):
    notes: list[str] = field(default_factory=list)


def test_disclosure_changes_are_the_diff_of_the_snapshot() -> None:
    """disclosure_changes builds in one pass what audit.diff({}, disclosure_snapshot(...))
    gives, key for key and in the same order (an opened change stores it as it comes)."""

    @dataclass
    class MoreTerms(DisclosureSpec):
        safeguard_note: str | None = None

    cases = [
        terms(),
        terms(
            transfers=[
                TransferSpec(
                    "US",
                    TransferMechanism.STANDARD_CONTRACTUAL_CLAUSES,
                    None,
                    signed_on=date(2024, 5, 2),
                    within_adequacy_scope=False,
                ),
                TransferSpec("JP", TransferMechanism.ADEQUACY_DECISION, within_adequacy_scope=True),
            ],
            effective_from=date(2020, 1, 1),
            special_category_condition=SpecialCategoryCondition.EXPLICIT_CONSENT,
        ),
        terms(retention=None, transfers=[], purposes=[]),
        # Keys given as enum members are recorded by value, as the snapshot's diff has them.
        terms(data_categories=[LegalBasis.CONSENT, "user.name", LegalBasis.CONSENT]),
        terms(transfers=[NotedTransfer("US", TransferMechanism.ADEQUACY_DECISION, notes=["x"])]),
        MoreTerms(**vars(terms()), safeguard_note="encrypted at rest"),
    ]
    for spec in cases:
        for exporter in (None, "mpnt-uk"):
            expected = audit.diff({}, disclosure_snapshot(spec, date(2025, 3, 1), exporter))
            found = disclosure_changes(spec, date(2025, 3, 1), exporter)
            assert found == expected
            assert list(found) == list(expected)
