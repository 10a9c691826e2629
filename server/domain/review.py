"""What a reviewer must see before approving or activating a recipient (issue 15 §3): the
special-category and criminal-offence data it would receive (Art. 9, 10), the transfers it
would open that no safeguard covers (Chapter V), a processor's missing DPA (Art. 28(3)), and a
missing privacy policy (the notice names recipients, Art. 13(1)(e), and people look theirs
up). Warnings, not errors: each is a question for the reviewer, in the order they matter."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from server.domain import explain, processor_contracts
from server.domain.enums import ProcessingRole, RecipientStatus

# The statuses a reviewer moves a recipient into, and after which its warnings matter.
REVIEWED_STATUSES = frozenset({RecipientStatus.APPROVED, RecipientStatus.ACTIVE})


@dataclass(frozen=True)
class OpenTransfer:
    """A destination the recipient's disclosures would reach unlawfully under a regime."""

    jurisdiction: str  # "EEA", "UK"
    country: str  # its name, as a person reads it
    explanation: str


def review_warnings(
    *,
    name: str,
    role: ProcessingRole,
    dpa_signed_on: date | None,
    privacy_policy_url: str | None,
    art_9: Sequence[str],
    art_10: Sequence[str],
    transfers: Sequence[OpenTransfer],
) -> list[str]:
    """Sentences for the reviewer; `art_9` and `art_10` are the categories already phrased."""
    out: list[str] = []
    if art_9:
        out.append(
            f"{name} would receive special-category data (GDPR Art. 9): "
            f"{explain.join_words(list(art_9))}."
        )
    if art_10:
        out.append(
            f"{name} would receive criminal-offence data (GDPR Art. 10): "
            f"{explain.join_words(list(art_10))}."
        )
    for transfer in transfers:
        out.append(
            f"Transfer gap under the {transfer.jurisdiction} regime, to {transfer.country}: "
            f"{transfer.explanation}"
        )
    if processor_contracts.needs_dpa(role) and dpa_signed_on is None:
        article = "Art. 28(4)" if role is ProcessingRole.SUBPROCESSOR else "Art. 28(3)"
        out.append(
            f"{name} is a {role.value.lower()} with no signed data processing agreement on "
            f"record ({article} GDPR): it cannot become ACTIVE until dpaSignedOn is recorded."
        )
    if not privacy_policy_url:
        out.append(
            f"{name} has no privacy policy URL on record: a person asking who receives their "
            "data cannot look up how it treats it."
        )
    return out
