"""Sentences a privacy officer can paste into a reply to the person (rule 8)."""

from __future__ import annotations

from collections.abc import Sequence

from server.domain.enums import DisclosureGround, LegalBasis

LEGAL_BASIS_PHRASES = {
    LegalBasis.CONSENT: "your consent",
    LegalBasis.CONTRACT: "the performance of a contract",
    LegalBasis.LEGAL_OBLIGATION: "a legal obligation",
    LegalBasis.VITAL_INTERESTS: "the protection of vital interests",
    LegalBasis.PUBLIC_TASK: "a task in the public interest",
    LegalBasis.LEGITIMATE_INTERESTS: "legitimate interests",
}

GROUND_PHRASES = {
    DisclosureGround.SERVICE_PROVISION: "to provide a service to us",
    DisclosureGround.USER_PERMISSION: "because you gave us permission",
    DisclosureGround.CORPORATE_TRANSACTION: "as part of a sale, transfer or merger of our business",
    DisclosureGround.GROUP_SHARING: "as a company in our group",
    DisclosureGround.LEGAL_DUTY: "because the law requires us to",
    DisclosureGround.PROTECTION_OF_RIGHTS: "to protect the rights, property or safety of people",
}


def join_words(items: Sequence[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    items = list(items)
    if not items:
        return ""
    if len(items) == 1:
        return items[0]
    return ", ".join(items[:-1]) + " and " + items[-1]


def lower_first(text: str) -> str:
    return text[:1].lower() + text[1:] if text[:1].isupper() and not text[1:2].isupper() else text


def disclosure_sentence(
    *,
    recipient: str,
    categories: Sequence[str],
    purposes: Sequence[str],
    legal_basis: LegalBasis,
    ground: DisclosureGround,
    destinations: Sequence[str],
    established_in: str,
    via: Sequence[str] = (),
    transfer_bases: Sequence[str] = (),
) -> str:
    """One sentence: who receives what, why, on which basis and ground, and where it goes."""
    through = f" through {join_words(via)}" if via else ""
    what = join_words([lower_first(c) for c in categories])
    why = join_words([lower_first(p) for p in purposes])
    where = (
        f"it is transferred to {join_words(destinations)}"
        if destinations
        else f"it is processed in {established_in}, where the recipient is established"
    )
    if transfer_bases:
        where += f" ({'; '.join(transfer_bases)})"
    return (
        f"{recipient} receives your {what}{through} for {why}, "
        f"on the legal basis of {LEGAL_BASIS_PHRASES[legal_basis]}, "
        f"{GROUND_PHRASES[ground]}; {where}."
    )


def withheld_sentence(
    *, recipient: str, categories: Sequence[str], purposes: Sequence[str], withdrawn: bool
) -> str:
    what = join_words([lower_first(c) for c in categories])
    why = join_words([lower_first(p) for p in purposes])
    if withdrawn:
        return (
            f"{recipient} would receive your {what} for {why}, but you withdrew your consent, "
            "so it does not."
        )
    return (
        f"{recipient} would receive your {what} for {why} only with your consent, "
        "which we have no record of, so it does not."
    )
