"""What the recipient and disclosure use cases hand back: the row as it stands after the use case.
A use case that finds user errors raises UserErrors instead, and writes nothing."""

from __future__ import annotations

from dataclasses import dataclass

from server.db.models import Disclosure, Recipient


@dataclass
class RecipientResult:
    recipient: Recipient


@dataclass
class DisclosureResult:
    disclosure: Disclosure
