"""Sentences a privacy officer can paste into a reply to the person (rule 8)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date
from functools import cache

from server.domain.enums import DisclosureGround, LegalBasis, ProcessingRole
from server.domain.taxonomy import TAXONOMY_DIR, Term

LEGAL_BASIS_PHRASES = {
    LegalBasis.CONSENT: "your consent",
    LegalBasis.CONTRACT: "the performance of a contract",
    LegalBasis.LEGAL_OBLIGATION: "a legal obligation",
    LegalBasis.VITAL_INTERESTS: "the protection of vital interests",
    LegalBasis.PUBLIC_TASK: "a task in the public interest",
    LegalBasis.LEGITIMATE_INTERESTS: "legitimate interests",
}

GROUND_PHRASES = {
    DisclosureGround.SERVICE_PROVISION: "as a provider of services to us",
    DisclosureGround.USER_PERMISSION: "with your permission",
    DisclosureGround.CORPORATE_TRANSACTION: "for a possible sale or merger of our business",
    DisclosureGround.GROUP_SHARING: "as a company in our group",
    DisclosureGround.LEGAL_DUTY: "because the law requires us to share it",
    DisclosureGround.PROTECTION_OF_RIGHTS: "where needed to protect rights, property or safety",
}
# Country names that read with an article: "the United States", "the Netherlands".
NAMES_WITH_ARTICLE = ("United ", "Netherlands", "Czech", "Philippines", "Bahamas", "Gambia")


@cache
def _plain_language() -> dict[str, dict[str, str]]:
    loaded: dict[str, dict[str, str]] = json.loads(
        (TAXONOMY_DIR / "plain-language.json").read_text(encoding="utf-8")
    )
    return loaded


@cache
def category_phrase(term: Term) -> str:
    """A data category as a person says it after "your"."""
    known = _plain_language()["data_categories"].get(term.key)
    if known:
        return known
    name = term.name.removeprefix("User ").strip()
    return lower_first(name)


@cache
def purpose_phrase(term: Term) -> str:
    """A purpose as a phrase that follows the data: "to ..." or "for ..."."""
    known = _plain_language()["data_uses"].get(term.key)
    return known or f"for {lower_first(term.name)}"


@cache
def country_phrase(name: str) -> str:
    return f"the {name}" if name.startswith(NAMES_WITH_ARTICLE) else name


def join_words(items: Sequence[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    items = list(items)
    if not items:
        return ""
    if len(items) == 1:
        return items[0]
    return ", ".join(items[:-1]) + " and " + items[-1]


def lower_first(text: str) -> str:
    """'Marketing Email' -> 'marketing email'; acronyms such as 'IP address' stay."""
    words = text.split(" ")
    return " ".join(w if w[1:2].isupper() else w.lower() for w in words)


def disclosure_sentence(
    *,
    recipient: str,
    categories: Sequence[str],
    purposes: Sequence[str],
    legal_basis: LegalBasis,
    ground: DisclosureGround,
    destinations: Sequence[tuple[str, str | None]],
    via: Sequence[str] = (),
    note: str | None = None,
) -> str:
    """One sentence: who receives what, why, on which basis and ground, and where it goes.
    Categories, purposes and countries come already phrased (category_phrase, ...).
    `destinations`: the recipient's own country first, then the other countries the data is
    transferred to, each with the basis of the transfer there ("under standard contractual
    clauses", `transfer_basis`) or None where there is nothing to say. `note` follows as a
    sentence of its own (why no transfer was assessed)."""
    through = f" through {join_words(via)}" if via else ""
    places = [
        f"{country_phrase(name)} ({basis})" if basis else country_phrase(name)
        for name, basis in destinations
    ]
    where = f"the data goes to {places[0]}, where the recipient is based" if places else ""
    if len(places) > 1:
        where += f", and is transferred to {join_words(places[1:])}"
    text = (
        f"{recipient} receives your {join_words(categories)}{through} {join_words(purposes)}, "
        f"{GROUND_PHRASES[ground]}, on the legal basis of {LEGAL_BASIS_PHRASES[legal_basis]}"
        f"{'; ' + where if where else ''}."
    )
    return f"{text} {note}" if note else text


def transfer_basis(per_regime: Sequence[tuple[str, str | None]]) -> str | None:
    """The words for one destination from each regime's phrase (regime named as its law):
    one phrase when the regimes agree, else each regime's ("GDPR: under ...; UK GDPR: ...")."""
    phrases = {phrase for _, phrase in per_regime}
    if len(phrases) <= 1:
        return next(iter(phrases), None)
    return "; ".join(
        f"{law}: {phrase or 'not a restricted transfer'}" for law, phrase in per_regime
    )


def special_category_gap_sentence(
    *,
    recipient: str,
    categories: Sequence[str],
    legal_basis: LegalBasis,
    art_9: bool,
    art_10: bool,
) -> str:
    """A compliance gap for a dashboard: special-category or criminal-offence data disclosed
    with no Art. 9(2) or Art. 10 condition recorded. Categories come already phrased."""
    if art_9 and art_10:
        kind = "special-category and criminal-offence data (GDPR Art. 9 and Art. 10)"
        missing = "Art. 9(2) condition or Art. 10 authorisation"
    elif art_10:
        kind = "criminal-offence data (GDPR Art. 10)"
        missing = "Art. 10 authorisation by law"
    else:
        kind = "special-category data (GDPR Art. 9)"
        missing = "Art. 9(2) condition"
    return (
        f"{recipient} receives {join_words(categories)}, {kind}, on the legal basis of "
        f"{LEGAL_BASIS_PHRASES[legal_basis]} with no {missing} recorded for the disclosure."
    )


def processor_without_dpa_sentence(
    *, recipient: str, role: ProcessingRole, signed_on: date | None
) -> str:
    """A compliance gap: an ACTIVE processor or subprocessor without a signed DPA on the day
    judged (none on record, or one signed only later)."""
    what = "subprocessor" if role is ProcessingRole.SUBPROCESSOR else "processor"
    article = "Art. 28(4)" if role is ProcessingRole.SUBPROCESSOR else "Art. 28(3)"
    missing = (
        "no signed data processing agreement on record"
        if signed_on is None
        else f"no data processing agreement signed yet (it was signed on {signed_on.isoformat()})"
    )
    return (
        f"{recipient} is an ACTIVE {what} with {missing}: {article} GDPR requires its "
        "processing to be governed by a contract with the controller's terms."
    )


def withheld_sentence(
    *, recipient: str, categories: Sequence[str], purposes: Sequence[str], reason: str
) -> str:
    """Why a disclosure does not reach the person, for the purposes withheld (rule 5); `reason`
    is a WithheldReason's value."""
    what = join_words(categories)
    why = join_words(purposes)
    if reason == "CONSENT_WITHDRAWN":
        return (
            f"{recipient} would receive your {what} {why}, but you withdrew your consent, "
            "so it does not."
        )
    if reason == "EXPLICIT_CONSENT_MISSING":
        return (
            f"{recipient} would receive your {what} {why} only with your explicit consent, "
            "as the law requires for this kind of data, and we have no record of it, so it "
            "does not."
        )
    return (
        f"{recipient} would receive your {what} {why} only with your consent, "
        "and we have no record of it, so it does not."
    )


def day_phrase(day: date) -> str:
    """'3 March 2024'."""
    return f"{day.day} {day:%B %Y}"


# Why a receipt ended, after "it stopped when" (keys: ReceiptEnd values).
ENDING_PHRASES = {
    "RECIPIENT_NO_LONGER_ACTIVE": "we stopped using {recipient}",
    "DISCLOSURE_ENDED": "we stopped sharing this data with {recipient}",
    "CONSENT_WITHDRAWN": "you withdrew your consent",
    "SUBJECT_DATA_CHANGED": "the data we hold about you changed",
    "ENGAGING_PROCESSOR_STOPPED": "{engager}, through which it received the data, stopped "
    "receiving it",
}


def past_sentence(
    *,
    recipient: str,
    categories: Sequence[str],
    purposes: Sequence[str],
    legal_basis: LegalBasis,
    spans: Sequence[tuple[date, date | None]],
    ended_because: str,
    via: Sequence[str] = (),
) -> str:
    """A recipient that received the data and no longer does (Art. 15(1)(c): "have been
    disclosed"): when, why, and why it stopped. `ended_because` is a ReceiptEnd's value; a
    ONE_OFF receipt lists the days of each disclosure."""
    what = join_words(categories)
    basis = LEGAL_BASIS_PHRASES[legal_basis]
    if ended_because == "ONE_OFF":
        days = join_words(list(dict.fromkeys(day_phrase(start) for start, _ in spans)))
        return (
            f"{recipient} received your {what} on {days} {join_words(purposes)}, when it "
            f"lawfully asked for it, on the legal basis of {basis}."
        )
    when = join_words(
        [
            f"from {day_phrase(start)} to {day_phrase(end)}"
            if end is not None
            else f"from {day_phrase(start)}"
            for start, end in spans
        ]
    )
    through = f" through {join_words(via)}" if via else ""
    ending = ENDING_PHRASES[ended_because].format(
        recipient=recipient, engager=via[0] if via else "the processor"
    )
    return (
        f"{recipient} received your {what}{through} {when} {join_words(purposes)}, on the basis "
        f"of {basis}; it stopped when {ending}."
    )


def upcoming_sentence(
    *,
    recipient: str,
    categories: Sequence[str],
    purposes: Sequence[str],
    legal_basis: LegalBasis,
    ground: DisclosureGround,
    starts: date,
) -> str:
    """A disclosure that will reach the person (Art. 15(1)(c): "will be disclosed")."""
    return (
        f"{recipient} will receive your {join_words(categories)} from {day_phrase(starts)} "
        f"{join_words(purposes)}, {GROUND_PHRASES[ground]}, on the legal basis of "
        f"{LEGAL_BASIS_PHRASES[legal_basis]}."
    )


def possible_sentence(
    *,
    recipient: str,
    categories: Sequence[str],
    purposes: Sequence[str],
    legal_basis: LegalBasis,
    ground: DisclosureGround,
) -> str:
    """An ON_REQUEST disclosure: the recipient gets the data only if it lawfully asks."""
    return (
        f"{recipient} may receive your {join_words(categories)} {join_words(purposes)} only if "
        f"it makes a lawful request for it, {GROUND_PHRASES[ground]}, on the legal basis of "
        f"{LEGAL_BASIS_PHRASES[legal_basis]}."
    )
