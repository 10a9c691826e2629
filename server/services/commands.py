"""What callers ask the inventory to do, as plain data: the GraphQL layer and the fixture loader
both build these, so both go through the same validation. The terms of a disclosure
(DisclosureSpec, TransferSpec) are in server/domain/disclosure_terms.py, with their checks."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import date, datetime
from typing import Any

from server.domain.disclosure_terms import DisclosureSpec
from server.domain.enums import ProcessingRole, RecipientKind, RecipientStatus
from server.domain.regimes import DpfCertification

UNSET: Any = object()


@dataclass
class RegisterRecipient:
    name: str
    kind: RecipientKind
    role: ProcessingRole
    country: str
    slug: str | None = None
    legal_name: str | None = None
    description: str | None = None
    services: list[str] = field(default_factory=list)
    website: str | None = None
    privacy_policy_url: str | None = None
    dpa_signed_on: date | None = None
    engaged_by: str | None = None
    status: RecipientStatus = RecipientStatus.PROPOSED
    disclosures: list[DisclosureSpec] = field(default_factory=list)
    # The deprecated flag (server/domain/dpf.py): true records an EU-US certification from today.
    dpf_certified: bool = False
    # None: not given (no certification, unless the flag records one).
    dpf_certifications: list[DpfCertification] | None = None
    corporate_group: str | None = None
    international_organisation: bool = False
    # Imports only: when the recipient took its status (defaults to now).
    status_since: datetime | None = None


@dataclass
class UpdateRecipient:
    """Fields left UNSET are not changed; None clears an optional field."""

    recipient_id: int
    expected_version: int
    name: Any = UNSET
    legal_name: Any = UNSET
    description: Any = UNSET
    kind: Any = UNSET
    role: Any = UNSET
    country: Any = UNSET
    services: Any = UNSET
    website: Any = UNSET
    privacy_policy_url: Any = UNSET
    dpa_signed_on: Any = UNSET
    engaged_by: Any = UNSET
    # The deprecated flag (server/domain/dpf.py), or the whole list of certifications.
    dpf_certified: Any = UNSET
    dpf_certifications: Any = UNSET
    corporate_group: Any = UNSET
    international_organisation: Any = UNSET


@dataclass
class ChangeStatus:
    recipient_id: int
    status: RecipientStatus
    note: str | None = None
    at: datetime | None = None


@dataclass
class AddDisclosure:
    recipient_id: int
    disclosure: DisclosureSpec


@dataclass
class EndDisclosure:
    disclosure_id: int
    effective_to: date


@dataclass
class UpdateDisclosure:
    """A correction of a disclosure's terms; fields left UNSET (or None) keep theirs."""

    disclosure_id: int
    expected_version: int
    data_categories: Any = UNSET
    subject_types: Any = UNSET
    purposes: Any = UNSET
    legal_basis: Any = UNSET
    ground: Any = UNSET
    retention: Any = UNSET
    transfers: Any = UNSET
    frequency: Any = UNSET
    special_category_condition: Any = UNSET

    def terms(self) -> dict[str, Any]:
        """The terms it names, by DisclosureSpec's field names."""
        return {
            f.name: getattr(self, f.name)
            for f in fields(self)
            if f.name not in ("disclosure_id", "expected_version")
        }


@dataclass
class DecideChange:
    change_id: int
    approve: bool
    note: str | None = None
