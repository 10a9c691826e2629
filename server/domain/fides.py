"""The inventory in Fides' language (fideslang 3.1.4) and back: one table for each of our terms
that a Fides manifest has a field for, read by the export (services/fides_export.py) and the
import (services/import_sources.py) alike, so that what one writes the other reads.

Plain strings, not fideslang's enums: the domain knows no pydantic. tests/unit/test_fides.py
holds every string to the enum fideslang validates it against.

What has no Fides field (statuses, dates, countries, the transfers themselves, DPF
certifications, exporters, grounds, frequency, Art. 10's condition...) is not here: the export
leaves it out and docs/fides-export.md lists it."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date

from server.domain import special_categories
from server.domain.enums import (
    LegalBasis,
    ProcessingRole,
    SpecialCategoryCondition,
    TransferMechanism,
)
from server.domain.regimes import GDPR_APPLIES_FROM, jurisdiction_of

# The fideslang whose models the manifest follows and whose default taxonomy ours starts from
# (server/taxonomy/fideslang-3.1.4.json).
FIDESLANG_VERSION = "3.1.4"

# GDPR Art. 6(1)(a)-(f): fideslang's legal_basis_for_processing, point by point.
LEGAL_BASES: dict[LegalBasis, str] = {
    LegalBasis.CONSENT: "Consent",  # (a)
    LegalBasis.CONTRACT: "Contract",  # (b)
    LegalBasis.LEGAL_OBLIGATION: "Legal obligations",  # (c)
    LegalBasis.VITAL_INTERESTS: "Vital interests",  # (d)
    LegalBasis.PUBLIC_TASK: "Public interest",  # (e): a task in the public interest
    LegalBasis.LEGITIMATE_INTERESTS: "Legitimate interests",  # (f)
}
BASIS_OF = {fides: ours for ours, fides in LEGAL_BASES.items()}

# GDPR Art. 9(2)(a)-(j): fideslang's special_category_legal_basis, point by point. Art. 10's
# authorisation by law (CRIMINAL_DATA_AUTHORISED_BY_LAW) has no fideslang value.
SPECIAL_CONDITIONS: dict[SpecialCategoryCondition, str] = {
    SpecialCategoryCondition.EXPLICIT_CONSENT: "Explicit consent",  # (a)
    SpecialCategoryCondition.EMPLOYMENT_SOCIAL_SECURITY: (
        "Employment, social security and social protection"  # (b)
    ),
    SpecialCategoryCondition.VITAL_INTERESTS: "Vital interests",  # (c)
    SpecialCategoryCondition.NOT_FOR_PROFIT_BODY: "Not-for-profit bodies",  # (d)
    SpecialCategoryCondition.MADE_PUBLIC_BY_SUBJECT: "Made public by the data subject",  # (e)
    SpecialCategoryCondition.LEGAL_CLAIMS: "Legal claims or judicial acts",  # (f)
    SpecialCategoryCondition.SUBSTANTIAL_PUBLIC_INTEREST: (
        "Reasons of substantial public interest (with a basis in law)"  # (g)
    ),
    SpecialCategoryCondition.HEALTH_OR_SOCIAL_CARE: (
        "Health or social care (with a basis in law)"  # (h)
    ),
    SpecialCategoryCondition.PUBLIC_HEALTH: "Public health (with a basis in law)",  # (i)
    SpecialCategoryCondition.ARCHIVING_RESEARCH_STATISTICS: (
        "Archiving, research and statistics (with a basis in law)"  # (j)
    ),
}
CONDITION_OF = {fides: ours for ours, fides in SPECIAL_CONDITIONS.items()}

# A system's responsibility (fideslang's DataResponsibilityTitle). Fides has no joint
# controller (Art. 26): one is a Controller whose joint_controller_info names the party.
RESPONSIBILITIES: dict[ProcessingRole, str] = {
    ProcessingRole.CONTROLLER: "Controller",
    ProcessingRole.JOINT_CONTROLLER: "Controller",
    ProcessingRole.PROCESSOR: "Processor",  # Art. 28(3)
    ProcessingRole.SUBPROCESSOR: "Sub-Processor",  # Art. 28(2) and (4)
}
ROLE_OF = {
    "Controller": ProcessingRole.CONTROLLER,
    "Processor": ProcessingRole.PROCESSOR,
    "Sub-Processor": ProcessingRole.SUBPROCESSOR,
}
# A manifest that names no responsibility: as the import has always read it.
DEFAULT_ROLE = ProcessingRole.PROCESSOR

# Chapter V as fideslang's legal_basis_for_transfers names it (its LegalBasisForTransfersEnum,
# which it does not enforce). None: no Chapter V basis to name (not restricted, or none found).
TRANSFER_BASES: dict[TransferMechanism, str | None] = {
    TransferMechanism.NOT_RESTRICTED: None,
    TransferMechanism.ADEQUACY_DECISION: "Adequacy Decision",  # Art. 45
    TransferMechanism.STANDARD_CONTRACTUAL_CLAUSES: "SCCs",  # Art. 46(2)(c)
    TransferMechanism.STANDARD_CONTRACTUAL_CLAUSES_2010: "SCCs",  # Art. 46(5)
    TransferMechanism.UK_IDTA: "SCCs",  # UK GDPR Art. 46(2)(d), the ICO's clauses
    TransferMechanism.UK_ADDENDUM: "SCCs",  # UK GDPR Art. 46(2)(d), beside the EU SCCs
    TransferMechanism.BINDING_CORPORATE_RULES: "BCRs",  # Art. 47
    TransferMechanism.DEROGATION_EXPLICIT_CONSENT: "Other",  # Art. 49(1)(a)
    TransferMechanism.DEROGATION_CONTRACT: "Other",  # Art. 49(1)(b), (c)
    TransferMechanism.DEROGATION_PUBLIC_INTEREST: "Other",  # Art. 49(1)(d)
    TransferMechanism.DEROGATION_LEGAL_CLAIMS: "Other",  # Art. 49(1)(e)
    TransferMechanism.DEROGATION_VITAL_INTERESTS: "Other",  # Art. 49(1)(f)
    TransferMechanism.NONE: None,
}
# The order fideslang lists them in.
TRANSFER_BASIS_ORDER = ("Adequacy Decision", "SCCs", "BCRs", "Supplementary Measures", "Other")


def role_of(responsibility: Sequence[str], joint_controller_info: str | None) -> ProcessingRole:
    """Our role for a system's responsibility: its first title (DEFAULT_ROLE for none); a
    Controller with joint_controller_info is a JOINT_CONTROLLER (Art. 26)."""
    role = ROLE_OF[responsibility[0]] if responsibility else DEFAULT_ROLE
    if role == ProcessingRole.CONTROLLER and joint_controller_info:
        return ProcessingRole.JOINT_CONTROLLER
    return role


def processes_special_category_data(data_categories: Iterable[str]) -> bool:
    """fideslang's processes_special_category_data: the categories cover Art. 9(1) data, by the
    inventory's own rule (a broad key covers the special keys under it). Art. 10 data is
    criminal-offence data, not a special category."""
    return bool(special_categories.coverage(data_categories).art_9_keys)


def is_international(destination: str, on: date) -> bool:
    """A destination outside both the EEA and the UK on the day (the record of processing
    activities' third countries, Art. 30(1)(e)). Before GDPR applied, the EEA as it stood when
    it did (Directive 95/46's third countries were the same)."""
    return jurisdiction_of(destination, max(on, GDPR_APPLIES_FROM)) is None


def transfer_bases(
    destinations: Iterable[tuple[str, TransferMechanism | None]],
    *,
    international_organisation: bool,
    on: date,
) -> tuple[bool, list[str]]:
    """fideslang's does_international_transfers and legal_basis_for_transfers for a system, from
    each destination of its disclosures (the recipient's own country with mechanism None, and
    each recorded transfer): whether any lies outside the EEA and the UK, or the recipient is an
    international organisation (Art. 44), and the Chapter V bases recorded there."""
    international = international_organisation
    named: set[str] = set()
    for country, mechanism in destinations:
        if international_organisation or is_international(country, on):
            international = True
            basis = TRANSFER_BASES[mechanism] if mechanism is not None else None
            if basis is not None:
                named.add(basis)
    return international, [b for b in TRANSFER_BASIS_ORDER if b in named]


def declaration_names(purpose_names: Sequence[str]) -> list[str]:
    """A name for each privacy declaration of one system: its purpose's name, numbered from the
    second on where a purpose comes again (Fides tells a system's declarations apart by data use
    and name)."""
    seen: dict[str, int] = {}
    out = []
    for name in purpose_names:
        seen[name] = seen.get(name, 0) + 1
        out.append(name if seen[name] == 1 else f"{name} ({seen[name]})")
    return out
