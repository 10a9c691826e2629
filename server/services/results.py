"""What the recipient and disclosure use cases hand back: the row as it stands after the use case,
and the change request when the change waits for review. A use case that finds user errors
raises UserErrors instead, and writes nothing."""

from __future__ import annotations

from dataclasses import dataclass

from server.db.models import ChangeRequest, Disclosure, Recipient


@dataclass
class RecipientResult:
    recipient: Recipient
    # Set when the change (or its material part) waits for a second key.
    change: ChangeRequest | None = None


@dataclass
class DisclosureResult:
    """`disclosure` as it stands: None for one whose addition waits for a second key."""

    disclosure: Disclosure | None
    change: ChangeRequest | None = None
