"""The recipients sections of a privacy notice, "Disclosure of your information" and
"International transfers", derived from the inventory at a moment (GDPR and UK GDPR
Art. 13(1)(e)-(f) and 14(1)(e)-(f): the recipients or categories of recipients, and the transfers
to third countries with the safeguards they rest on).

Classes. Each disclosure in effect to an ACTIVE recipient falls in one class of the seed notice
(`CLASSES`, in the notice's order), by what the recipient is and why it receives the data:
1. a group company, a prospective acquirer or a public authority by its kind (an authority
   that receives to protect rights, property or safety in that class, any other in the one of
   legal duties);
2. otherwise by the ground of the disclosure: the person's permission, a corporate transaction,
   sharing within the group, a legal duty, or protecting rights, property or safety;
3. a disclosure to provide a service by the recipient's kind: analytics providers; service and
   AI providers acting as processors or subprocessors; business partners and any other provider.
A class is listed only when some disclosure falls in it, with the purposes and Art. 6 bases of
its disclosures in words a person reads, and, where the organisation names its recipients
rather than their categories, the recipients by name.

Transfers. Every destination (each recipient's country and each country its data is transferred
to) by name; then each one outside the EEA and the UK with what protects the data there, as the
transfer rules judge it (`ropa.judged_destinations`): only what makes a transfer lawful is named
as a safeguard; a destination with none says so, for the person drafting the notice to see.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from server.domain import ropa
from server.domain.enums import DisclosureGround, ProcessingRole, RecipientKind
from server.domain.explain import LEGAL_BASIS_PHRASES, country_phrase, purpose_phrase
from server.domain.taxonomy import Taxonomy
from server.domain.validation import country_name

K = RecipientKind
G = DisclosureGround


class NoticeClass(StrEnum):
    """The seed notice's classes of recipients, in its order: three it shares data with, then
    five circumstances in which it discloses it."""

    PARTNERS = "PARTNERS"
    PROCESSORS = "PROCESSORS"
    ANALYTICS = "ANALYTICS"
    PERMISSION = "PERMISSION"
    ACQUIRERS = "ACQUIRERS"
    GROUP = "GROUP"
    LEGAL_DUTY = "LEGAL_DUTY"
    PROTECTION = "PROTECTION"


# The seed notice's own words for each class (../shared/seed/privacy-policy.txt).
CLASSES: dict[NoticeClass, str] = {
    NoticeClass.PARTNERS: (
        "Business partners, service providers and sub-contractors for the performance of any "
        "contract we enter into with them or you"
    ),
    NoticeClass.PROCESSORS: (
        "Service providers acting as processors who provide IT and system administration "
        "services, including companies that assist us with our technology offerings, such as "
        "hosting, generative AI providers, security or anti-fraud providers"
    ),
    NoticeClass.ANALYTICS: (
        "Analytics and search engine providers that assist us in the improvement and "
        "optimisation of our products and services"
    ),
    NoticeClass.PERMISSION: "If we have your permission to do so",
    NoticeClass.ACQUIRERS: (
        "To third parties to whom we may choose to sell, transfer or merge parts of our "
        "business or our assets"
    ),
    NoticeClass.GROUP: "To other companies in our group of companies",
    NoticeClass.LEGAL_DUTY: (
        "If we are under a duty to disclose or share your personal information in order to "
        "comply with any legal obligation, or in order to enforce or apply our terms"
    ),
    NoticeClass.PROTECTION: (
        "To protect the rights, property, or safety of us, our users, or others"
    ),
}
SHARED_WITH = (NoticeClass.PARTNERS, NoticeClass.PROCESSORS, NoticeClass.ANALYTICS)
_BY_GROUND = {
    G.USER_PERMISSION: NoticeClass.PERMISSION,
    G.CORPORATE_TRANSACTION: NoticeClass.ACQUIRERS,
    G.GROUP_SHARING: NoticeClass.GROUP,
    G.LEGAL_DUTY: NoticeClass.LEGAL_DUTY,
    G.PROTECTION_OF_RIGHTS: NoticeClass.PROTECTION,
}
PROCESSOR_KINDS = frozenset({K.SERVICE_PROVIDER, K.AI_PROVIDER})
NO_SAFEGUARD = "no transfer safeguard is on record"


def class_of(kind: RecipientKind, role: ProcessingRole, ground: DisclosureGround) -> NoticeClass:
    """The class a disclosure falls in (see the module's docstring)."""
    if kind is K.GROUP_AFFILIATE:
        return NoticeClass.GROUP
    if kind is K.ACQUIRER:
        return NoticeClass.ACQUIRERS
    if kind is K.PUBLIC_AUTHORITY:
        return (
            NoticeClass.PROTECTION if ground is G.PROTECTION_OF_RIGHTS else NoticeClass.LEGAL_DUTY
        )
    if ground in _BY_GROUND:
        return _BY_GROUND[ground]
    if kind is K.ANALYTICS_PROVIDER:
        return NoticeClass.ANALYTICS
    if kind in PROCESSOR_KINDS and role in ropa.PROCESSOR_ROLES:
        return NoticeClass.PROCESSORS
    return NoticeClass.PARTNERS


@dataclass(frozen=True)
class NoticeDisclosure:
    """A disclosure as the notice reads it: the record's facts with its ground."""

    disclosure: ropa.Disclosure
    ground: DisclosureGround


@dataclass(frozen=True)
class ClassEntry:
    notice_class: NoticeClass
    wording: str
    purposes: tuple[str, ...]
    bases: tuple[str, ...]
    # By name, only where the organisation names its recipients.
    recipients: tuple[str, ...] = ()

    @property
    def shared_with(self) -> bool:
        return self.notice_class in SHARED_WITH


@dataclass(frozen=True)
class Destination:
    """A destination outside the EEA and the UK, by name, with the safeguards relied on."""

    name: str
    safeguards: tuple[str, ...]


@dataclass(frozen=True)
class NoticeSection:
    at: datetime
    generated: datetime
    named: bool
    shared: tuple[ClassEntry, ...]
    circumstances: tuple[ClassEntry, ...]
    countries: tuple[str, ...]
    transfers: tuple[Destination, ...]
    safeguards: tuple[str, ...]


def place_name(country: str) -> str:
    """A country as a sentence names it: "the United States", "India"."""
    return country_phrase(country_name(country))


def notice_section(
    disclosures: Sequence[NoticeDisclosure],
    day: date,
    taxonomy: Taxonomy,
    *,
    at: datetime,
    generated: datetime,
    named: bool,
) -> NoticeSection:
    """The sections for the given disclosures (in effect on `day`, to recipients ACTIVE then)."""
    purposes: dict[NoticeClass, dict[str, str]] = {}
    bases: dict[NoticeClass, dict[str, None]] = {}
    names: dict[NoticeClass, set[str]] = {}
    countries: set[str] = set()
    protected: dict[str, dict[str, None]] = {}
    for item in disclosures:
        disclosure = item.disclosure
        recipient = disclosure.recipient
        found = class_of(recipient.kind, recipient.role, item.ground)
        for key in disclosure.purposes:
            term = taxonomy.purposes.get(key)
            purposes.setdefault(found, {})[key] = purpose_phrase(term) if term else f"for {key}"
        bases.setdefault(found, {})[LEGAL_BASIS_PHRASES[disclosure.legal_basis]] = None
        names.setdefault(found, set()).add(recipient.name)
        countries.update(disclosure.countries)
        for place, safeguards in ropa.judged_destinations(disclosure, day):
            relied = protected.setdefault(place, {})
            for safeguard in safeguards:
                if safeguard.lawful:
                    relied[safeguard.phrase] = None
    entries = [
        ClassEntry(
            notice_class,
            CLASSES[notice_class],
            tuple(dict.fromkeys(purposes[notice_class][k] for k in sorted(purposes[notice_class]))),
            tuple(sorted(bases[notice_class])),
            tuple(ropa.by_name(names[notice_class])) if named else (),
        )
        for notice_class in NoticeClass
        if notice_class in purposes
    ]
    destinations = tuple(
        Destination(place, tuple(sorted(protected[place], key=_sort_name)) or (NO_SAFEGUARD,))
        for place in sorted(protected, key=_sort_name)
    )
    in_use = sorted(
        {s for d in destinations for s in d.safeguards if s != NO_SAFEGUARD}, key=_sort_name
    )
    return NoticeSection(
        at=at,
        generated=generated,
        named=named,
        shared=tuple(e for e in entries if e.shared_with),
        circumstances=tuple(e for e in entries if not e.shared_with),
        countries=tuple(sorted((place_name(c) for c in countries), key=_sort_name)),
        transfers=destinations,
        safeguards=tuple(in_use),
    )


def _sort_name(name: str) -> str:
    """Names in a list by themselves, not their article: India before the United Kingdom."""
    return name.removeprefix("the ").removeprefix("an ").casefold()


# Characters that would start Markdown formatting inside a line of text.
_MARKDOWN_SPECIAL = str.maketrans({c: "\\" + c for c in "\\`*_[]<>|~"})


def markdown_text(value: str) -> str:
    """A value as Markdown text that reads as itself: its formatting characters escaped, and
    on one line (a recipient's name must not end a list item or open a heading)."""
    return " ".join(value.split()).translate(_MARKDOWN_SPECIAL)


def moment_words(at: datetime) -> str:
    """A moment as the notice dates itself: 3 December 2026, 14:05 UTC."""
    return f"{at.day} {at:%B} {at.year}, {at:%H:%M} UTC"
