"""The contract's enums, registered with strawberry from the domain's own.

strawberry.enum registers a class in place and returns that same class, but its stubs type the
result as a value, which mypy refuses as an annotation. So each name here is the domain class
itself (an alias mypy reads as a type) and its registration is a statement of its own.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TypeVar

import strawberry

from server.domain import enums, regimes

RecipientKind = enums.RecipientKind
strawberry.enum(
    RecipientKind,
    description="What a recipient is to the data subject (the classes named in a privacy notice).",
)
ProcessingRole = enums.ProcessingRole
strawberry.enum(ProcessingRole, description="The recipient's role under data protection law.")
RecipientStatus = enums.RecipientStatus
strawberry.enum(
    RecipientStatus,
    description=(
        "Lifecycle: PROPOSED -> UNDER_REVIEW -> APPROVED | REJECTED; APPROVED -> ACTIVE; "
        "ACTIVE <-> SUSPENDED; ACTIVE | SUSPENDED -> OFFBOARDED."
    ),
)
LegalBasis = enums.LegalBasis
strawberry.enum(LegalBasis, description="GDPR Art. 6(1) legal bases.")
DisclosureGround = enums.DisclosureGround
strawberry.enum(
    DisclosureGround,
    description="The circumstance under which data is disclosed to the recipient.",
)
TransferMechanism = enums.TransferMechanism
strawberry.enum(
    TransferMechanism,
    description=(
        "How a transfer of personal data to another country is made lawful "
        "(GDPR / UK GDPR Chapter V)."
    ),
)
DisclosureFrequency = enums.DisclosureFrequency
strawberry.enum(DisclosureFrequency, description="How often a disclosure happens.")
SpecialCategoryCondition = enums.SpecialCategoryCondition
strawberry.enum(
    SpecialCategoryCondition,
    description=(
        "GDPR Art. 9(2) conditions for special-category data, and Art. 10 for criminal-offence "
        "data."
    ),
)
ComplianceGapKind = enums.ComplianceGapKind
strawberry.enum(
    ComplianceGapKind,
    description="A finding a dashboard should show before a regulator does. Later parts add kinds.",
)
UserErrorCode = enums.UserErrorCode
strawberry.enum(UserErrorCode)
ChangeStatus = enums.ChangeRequestStatus
strawberry.enum(ChangeStatus, name="ChangeStatus")
DataPrivacyFramework = regimes.DataPrivacyFramework
strawberry.enum(DataPrivacyFramework)
Jurisdiction = regimes.Jurisdiction
strawberry.enum(
    Jurisdiction,
    description="A data-protection regime with transfer rules: GDPR (EEA) or UK GDPR (UK).",
)


E = TypeVar("E", bound=StrEnum)


def stored(enum: type[E], value: str) -> E:
    """An enum field's value as the database stores it: the enum's value. graphql-core's
    completion writes its name with one lookup (0.3 µs); handed a member, strawberry finds the
    name by scanning the enum's values (1.5 µs, for thousands of leaves in a report). A value
    the enum lacks is a GraphQL error at completion, never a wrong answer. (The value itself,
    typed as the enum for mypy: no `typing.cast`, a second call for each of them.)"""
    return value  # type: ignore[return-value]
