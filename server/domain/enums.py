"""The vocabulary of the contract, as plain enums shared by the database and the API."""

from __future__ import annotations

from enum import StrEnum


class RecipientKind(StrEnum):
    SERVICE_PROVIDER = "SERVICE_PROVIDER"
    AI_PROVIDER = "AI_PROVIDER"
    ANALYTICS_PROVIDER = "ANALYTICS_PROVIDER"
    BUSINESS_PARTNER = "BUSINESS_PARTNER"
    GROUP_AFFILIATE = "GROUP_AFFILIATE"
    ACQUIRER = "ACQUIRER"
    PUBLIC_AUTHORITY = "PUBLIC_AUTHORITY"


class ProcessingRole(StrEnum):
    PROCESSOR = "PROCESSOR"
    SUBPROCESSOR = "SUBPROCESSOR"
    CONTROLLER = "CONTROLLER"
    JOINT_CONTROLLER = "JOINT_CONTROLLER"


class RecipientStatus(StrEnum):
    PROPOSED = "PROPOSED"
    UNDER_REVIEW = "UNDER_REVIEW"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"
    ACTIVE = "ACTIVE"
    SUSPENDED = "SUSPENDED"
    OFFBOARDED = "OFFBOARDED"


class LegalBasis(StrEnum):
    CONSENT = "CONSENT"
    CONTRACT = "CONTRACT"
    LEGAL_OBLIGATION = "LEGAL_OBLIGATION"
    VITAL_INTERESTS = "VITAL_INTERESTS"
    PUBLIC_TASK = "PUBLIC_TASK"
    LEGITIMATE_INTERESTS = "LEGITIMATE_INTERESTS"


class DisclosureGround(StrEnum):
    SERVICE_PROVISION = "SERVICE_PROVISION"
    USER_PERMISSION = "USER_PERMISSION"
    CORPORATE_TRANSACTION = "CORPORATE_TRANSACTION"
    GROUP_SHARING = "GROUP_SHARING"
    LEGAL_DUTY = "LEGAL_DUTY"
    PROTECTION_OF_RIGHTS = "PROTECTION_OF_RIGHTS"


class TransferMechanism(StrEnum):
    NOT_RESTRICTED = "NOT_RESTRICTED"
    ADEQUACY_DECISION = "ADEQUACY_DECISION"
    STANDARD_CONTRACTUAL_CLAUSES = "STANDARD_CONTRACTUAL_CLAUSES"
    # The 2010 sets (Decisions 2001/497, 2004/915, 2010/87): dated, see regimes.py.
    STANDARD_CONTRACTUAL_CLAUSES_2010 = "STANDARD_CONTRACTUAL_CLAUSES_2010"
    UK_IDTA = "UK_IDTA"
    UK_ADDENDUM = "UK_ADDENDUM"
    BINDING_CORPORATE_RULES = "BINDING_CORPORATE_RULES"
    DEROGATION_EXPLICIT_CONSENT = "DEROGATION_EXPLICIT_CONSENT"
    DEROGATION_CONTRACT = "DEROGATION_CONTRACT"
    DEROGATION_LEGAL_CLAIMS = "DEROGATION_LEGAL_CLAIMS"
    DEROGATION_PUBLIC_INTEREST = "DEROGATION_PUBLIC_INTEREST"
    DEROGATION_VITAL_INTERESTS = "DEROGATION_VITAL_INTERESTS"
    NONE = "NONE"


class DisclosureFrequency(StrEnum):
    """CONTINUOUS: data flows as a matter of course. ON_REQUEST: only when the recipient makes a
    lawful request (a police force, a court), one recorded event at a time."""

    CONTINUOUS = "CONTINUOUS"
    ON_REQUEST = "ON_REQUEST"


class SpecialCategoryCondition(StrEnum):
    """GDPR Art. 9(2)(a)-(j) for special-category data; Art. 10 for criminal-offence data."""

    EXPLICIT_CONSENT = "EXPLICIT_CONSENT"
    EMPLOYMENT_SOCIAL_SECURITY = "EMPLOYMENT_SOCIAL_SECURITY"
    VITAL_INTERESTS = "VITAL_INTERESTS"
    NOT_FOR_PROFIT_BODY = "NOT_FOR_PROFIT_BODY"
    MADE_PUBLIC_BY_SUBJECT = "MADE_PUBLIC_BY_SUBJECT"
    LEGAL_CLAIMS = "LEGAL_CLAIMS"
    SUBSTANTIAL_PUBLIC_INTEREST = "SUBSTANTIAL_PUBLIC_INTEREST"
    HEALTH_OR_SOCIAL_CARE = "HEALTH_OR_SOCIAL_CARE"
    PUBLIC_HEALTH = "PUBLIC_HEALTH"
    ARCHIVING_RESEARCH_STATISTICS = "ARCHIVING_RESEARCH_STATISTICS"
    CRIMINAL_DATA_AUTHORISED_BY_LAW = "CRIMINAL_DATA_AUTHORISED_BY_LAW"


class ComplianceGapKind(StrEnum):
    """What a compliance gap is about. SPECIAL_CATEGORY_WITHOUT_CONDITION: a disclosure covers
    special-category or criminal-offence data without an Art. 9(2) or Art. 10 condition."""

    SPECIAL_CATEGORY_WITHOUT_CONDITION = "SPECIAL_CATEGORY_WITHOUT_CONDITION"
    # An ACTIVE processor or subprocessor without a signed DPA (Art. 28(3)).
    PROCESSOR_WITHOUT_DPA = "PROCESSOR_WITHOUT_DPA"
    # A recipient registered straight into a later status, not yet confirmed by a second key.
    UNREVIEWED_IMPORT = "UNREVIEWED_IMPORT"


class ChangeRequestStatus(StrEnum):
    """Where a change waiting for a second key stands (the contract's ChangeStatus)."""

    PENDING = "PENDING"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"


class ChangeKind(StrEnum):
    """What a change request is about. IMPORT: a recipient registered straight into a later
    status (an existing inventory brought in), which a second key confirms or rejects; the
    others: a material change to an APPROVED or ACTIVE recipient, applied on approval."""

    IMPORT = "IMPORT"
    # Material changes to a recipient a reviewer has passed (issue 15 §2).
    ADD_DISCLOSURE = "ADD_DISCLOSURE"
    UPDATE_DISCLOSURE = "UPDATE_DISCLOSURE"
    END_DISCLOSURE = "END_DISCLOSURE"
    UPDATE_RECIPIENT = "UPDATE_RECIPIENT"


class UserErrorCode(StrEnum):
    INVALID = "INVALID"
    NOT_FOUND = "NOT_FOUND"
    DUPLICATE = "DUPLICATE"
    INVALID_TRANSITION = "INVALID_TRANSITION"
    STALE_VERSION = "STALE_VERSION"
    FORBIDDEN = "FORBIDDEN"
