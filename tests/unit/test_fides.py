"""server/domain/fides.py: each of our terms as fideslang names it, held to fideslang's own enums
(the installed package, which `fides push` validates with), and the rules the export and the
import share."""

from __future__ import annotations

import json
from datetime import date

import fideslang
import pytest
from fideslang.default_taxonomy import DEFAULT_TAXONOMY
from fideslang.models import (
    DataResponsibilityTitle,
    LegalBasisForProcessingEnum,
    LegalBasisForTransfersEnum,
    SpecialCategoryLegalBasisEnum,
)

from server.domain import fides
from server.domain.enums import (
    LegalBasis,
    ProcessingRole,
    SpecialCategoryCondition,
    TransferMechanism,
)
from server.domain.special_categories import ART_9_CONDITIONS
from server.domain.taxonomy import FIDES_FILE, default_taxonomy, extensions

TODAY = date(2026, 1, 15)


@pytest.mark.parametrize(
    ("ours", "theirs", "point"),
    [
        (LegalBasis.CONSENT, LegalBasisForProcessingEnum.CONSENT, "Art. 6(1)(a)"),
        (LegalBasis.CONTRACT, LegalBasisForProcessingEnum.CONTRACT, "Art. 6(1)(b)"),
        (
            LegalBasis.LEGAL_OBLIGATION,
            LegalBasisForProcessingEnum.LEGAL_OBLIGATION,
            "Art. 6(1)(c)",
        ),
        (LegalBasis.VITAL_INTERESTS, LegalBasisForProcessingEnum.VITAL_INTEREST, "Art. 6(1)(d)"),
        (LegalBasis.PUBLIC_TASK, LegalBasisForProcessingEnum.PUBLIC_INTEREST, "Art. 6(1)(e)"),
        (
            LegalBasis.LEGITIMATE_INTERESTS,
            LegalBasisForProcessingEnum.LEGITIMATE_INTEREST,
            "Art. 6(1)(f)",
        ),
    ],
)
def test_each_art_6_basis_is_fideslangs_name_for_the_same_point(
    ours: LegalBasis, theirs: LegalBasisForProcessingEnum, point: str
) -> None:
    assert fides.LEGAL_BASES[ours] == theirs.value, point
    assert fides.BASIS_OF[theirs.value] == ours, point


def test_the_bases_cover_both_vocabularies_one_to_one() -> None:
    assert set(fides.LEGAL_BASES) == set(LegalBasis)
    assert set(fides.LEGAL_BASES.values()) == {e.value for e in LegalBasisForProcessingEnum}


@pytest.mark.parametrize(
    ("ours", "theirs", "point"),
    [
        (
            SpecialCategoryCondition.EXPLICIT_CONSENT,
            SpecialCategoryLegalBasisEnum.CONSENT,
            "Art. 9(2)(a)",
        ),
        (
            SpecialCategoryCondition.EMPLOYMENT_SOCIAL_SECURITY,
            SpecialCategoryLegalBasisEnum.EMPLOYMENT,
            "Art. 9(2)(b)",
        ),
        (
            SpecialCategoryCondition.VITAL_INTERESTS,
            SpecialCategoryLegalBasisEnum.VITAL_INTEREST,
            "Art. 9(2)(c)",
        ),
        (
            SpecialCategoryCondition.NOT_FOR_PROFIT_BODY,
            SpecialCategoryLegalBasisEnum.NON_PROFIT_BODIES,
            "Art. 9(2)(d)",
        ),
        (
            SpecialCategoryCondition.MADE_PUBLIC_BY_SUBJECT,
            SpecialCategoryLegalBasisEnum.PUBLIC_BY_DATA_SUBJECT,
            "Art. 9(2)(e)",
        ),
        (
            SpecialCategoryCondition.LEGAL_CLAIMS,
            SpecialCategoryLegalBasisEnum.LEGAL_CLAIMS,
            "Art. 9(2)(f)",
        ),
        (
            SpecialCategoryCondition.SUBSTANTIAL_PUBLIC_INTEREST,
            SpecialCategoryLegalBasisEnum.PUBLIC_INTEREST,
            "Art. 9(2)(g)",
        ),
        (
            SpecialCategoryCondition.HEALTH_OR_SOCIAL_CARE,
            SpecialCategoryLegalBasisEnum.MEDICAL,
            "Art. 9(2)(h)",
        ),
        (
            SpecialCategoryCondition.PUBLIC_HEALTH,
            SpecialCategoryLegalBasisEnum.PUBLIC_HEALTH_INTEREST,
            "Art. 9(2)(i)",
        ),
        (
            SpecialCategoryCondition.ARCHIVING_RESEARCH_STATISTICS,
            SpecialCategoryLegalBasisEnum.RESEARCH,
            "Art. 9(2)(j)",
        ),
    ],
)
def test_each_art_9_condition_is_fideslangs_name_for_the_same_point(
    ours: SpecialCategoryCondition, theirs: SpecialCategoryLegalBasisEnum, point: str
) -> None:
    assert fides.SPECIAL_CONDITIONS[ours] == theirs.value, point
    assert fides.CONDITION_OF[theirs.value] == ours, point


def test_every_art_9_condition_has_a_name_and_art_10s_has_none() -> None:
    assert set(fides.SPECIAL_CONDITIONS) == set(ART_9_CONDITIONS)
    assert set(fides.SPECIAL_CONDITIONS.values()) == {
        e.value for e in SpecialCategoryLegalBasisEnum
    }
    # Art. 10: fideslang has no value for an authorisation by law.
    assert SpecialCategoryCondition.CRIMINAL_DATA_AUTHORISED_BY_LAW not in fides.SPECIAL_CONDITIONS


@pytest.mark.parametrize(
    ("responsibility", "joint", "role"),
    [
        (["Controller"], None, ProcessingRole.CONTROLLER),
        (["Controller"], "Acme Ltd", ProcessingRole.JOINT_CONTROLLER),  # Art. 26
        (["Controller"], "", ProcessingRole.CONTROLLER),
        (["Processor"], None, ProcessingRole.PROCESSOR),  # Art. 28(3)
        (["Processor"], "Acme Ltd", ProcessingRole.PROCESSOR),
        (["Sub-Processor"], None, ProcessingRole.SUBPROCESSOR),  # Art. 28(4)
        (["Sub-Processor", "Controller"], None, ProcessingRole.SUBPROCESSOR),
        ([], None, ProcessingRole.PROCESSOR),
    ],
)
def test_a_systems_responsibility_reads_as_our_role(
    responsibility: list[str], joint: str | None, role: ProcessingRole
) -> None:
    assert fides.role_of(responsibility, joint) == role


@pytest.mark.parametrize("role", list(ProcessingRole))
def test_every_role_is_written_so_that_it_reads_back(role: ProcessingRole) -> None:
    title = fides.RESPONSIBILITIES[role]
    assert title in {t.value for t in DataResponsibilityTitle}
    joint = "Acme Ltd" if role == ProcessingRole.JOINT_CONTROLLER else None
    assert fides.role_of([title], joint) == role
    assert set(fides.ROLE_OF) == {t.value for t in DataResponsibilityTitle}


def test_every_mechanism_has_a_transfer_basis_fideslang_lists() -> None:
    assert set(fides.TRANSFER_BASES) == set(TransferMechanism)
    listed = [e.value for e in LegalBasisForTransfersEnum]
    assert list(fides.TRANSFER_BASIS_ORDER) == listed
    assert {b for b in fides.TRANSFER_BASES.values() if b} <= set(listed)


S = TransferMechanism


@pytest.mark.parametrize(
    ("destinations", "organisation", "on", "expected"),
    [
        # Within the EEA, or the UK: no third country (Art. 30(1)(e)'s sense in the record).
        ([("DE", None)], False, TODAY, (False, [])),
        ([("GB", None), ("IE", S.NOT_RESTRICTED)], False, TODAY, (False, [])),
        # Outside both: a transfer, with no basis recorded (Art. 44).
        ([("US", None)], False, TODAY, (True, [])),
        # The recorded mechanisms at third countries, in fideslang's order (Art. 45-49).
        (
            [("US", None), ("US", S.STANDARD_CONTRACTUAL_CLAUSES), ("US", S.ADEQUACY_DECISION)],
            False,
            TODAY,
            (True, ["Adequacy Decision", "SCCs"]),
        ),
        (
            [("DE", None), ("IN", S.BINDING_CORPORATE_RULES), ("BR", S.DEROGATION_CONTRACT)],
            False,
            TODAY,
            (True, ["BCRs", "Other"]),
        ),
        ([("US", S.UK_IDTA), ("US", S.UK_ADDENDUM)], False, TODAY, (True, ["SCCs"])),
        ([("US", S.NONE)], False, TODAY, (True, [])),
        # A mechanism recorded for a destination inside the EEA names no Chapter V basis.
        ([("DE", None), ("FR", S.STANDARD_CONTRACTUAL_CLAUSES)], False, TODAY, (False, [])),
        # An international organisation is always a transfer (Art. 44), wherever it sits.
        ([("CH", None), ("CH", S.DEROGATION_PUBLIC_INTEREST)], True, TODAY, (True, ["Other"])),
        ([("BE", None)], True, TODAY, (True, [])),
        # Before 1 January 2021 the UK was within the EEA regime; after it, its own.
        ([("GB", None)], False, date(2020, 6, 1), (False, [])),
        # Before GDPR applied: the EEA as it stood on 25 May 2018 (Directive 95/46's).
        ([("DE", None)], False, date(2018, 1, 1), (False, [])),
        ([("GB", None)], False, date(2018, 1, 1), (False, [])),
        ([("US", S.STANDARD_CONTRACTUAL_CLAUSES_2010)], False, date(2015, 1, 1), (True, ["SCCs"])),
    ],
)
def test_a_systems_international_transfers(
    destinations: list[tuple[str, TransferMechanism | None]],
    organisation: bool,
    on: date,
    expected: tuple[bool, list[str]],
) -> None:
    assert (
        fides.transfer_bases(destinations, international_organisation=organisation, on=on)
        == expected
    )


@pytest.mark.parametrize(
    ("categories", "special"),
    [
        (["user.contact.email"], False),
        (["user.health_and_medical.genetic"], True),  # Art. 9(1) genetic data
        (["user.demographic.sex_life"], True),  # ours: Art. 9(1) sex life
        (["user.demographic"], True),  # covers race and religion: special by rule 4
        (["user.demographic.age_range"], False),
        (["user.criminal_history"], False),  # Art. 10: not a special category
        (["user.contact", "user.biometric"], True),
    ],
)
def test_special_category_data_is_art_9s(categories: list[str], special: bool) -> None:
    assert fides.processes_special_category_data(categories) is special


def test_declaration_names_are_unique_within_a_system() -> None:
    names = fides.declaration_names(["Analytics", "Marketing", "Analytics", "Analytics"])
    assert names == ["Analytics", "Marketing", "Analytics (2)", "Analytics (3)"]


def test_our_fides_taxonomy_is_the_installed_fideslangs_default() -> None:
    assert fideslang.__version__.startswith(fides.FIDESLANG_VERSION)
    assert fides.FIDESLANG_VERSION in FIDES_FILE.name
    ours = json.loads(FIDES_FILE.read_text())
    for section, theirs in (
        ("data_categories", DEFAULT_TAXONOMY.data_category),
        ("data_uses", DEFAULT_TAXONOMY.data_use),
        ("data_subjects", DEFAULT_TAXONOMY.data_subject),
    ):
        assert {t["key"] for t in ours[section]} == {t.fides_key for t in theirs}, section


def test_the_extensions_are_exactly_what_fideslang_lacks() -> None:
    defaults = {
        t.fides_key
        for t in (
            *DEFAULT_TAXONOMY.data_category,
            *DEFAULT_TAXONOMY.data_use,
            *DEFAULT_TAXONOMY.data_subject,
        )
    }
    added = extensions()
    everything = default_taxonomy()
    for mine, whole in (
        (added.categories, everything.categories),
        (added.purposes, everything.purposes),
        (added.subject_types, everything.subject_types),
    ):
        assert mine and not set(mine) & defaults
        assert set(whole) - set(mine) <= defaults
        # Each extension hangs below a Fides default or another extension.
        assert all(t.parent is None or t.parent in whole for t in mine.values())
        assert all(whole[key] == term for key, term in mine.items())
