"""The record of processing activities a controller keeps (GDPR and UK GDPR Art. 30(1)), derived
from the inventory at a moment: which rows, which columns, and how each cell is composed.

Rows. One per processing activity, a purpose (data use) key that an in-effect disclosure of an
ACTIVE recipient names (subprocessors and ON_REQUEST disclosures included: they are recipients
of that activity too), ordered by key. What a row says comes from those disclosures alone.

Columns. The 30 headings of the ICO's "Documentation template for controllers", in its order;
what the inventory cannot know is left empty rather than invented. Each filled one, with the
point of Art. 30(1) it answers:
- (a) the controller block above the table, and the joint controllers of the activity: its
  recipients whose role is JOINT_CONTROLLER;
- (b) the purpose, by name with its key;
- (c) the categories of individuals (subject types) and of personal data (a key covered by
  another one listed is left out; special-category and criminal-offence data are marked);
- (d) the categories of recipients: their kinds, each with the recipients' names in brackets;
  beside it, each processor's DPA signed by the day (Art. 28(3)) in "Link to contract with
  processor";
- (e) the third countries (the destinations outside the EEA and the UK) and international
  organisations, and for each destination the safeguards its disclosures record: a derogation
  of Art. 49(1) is flagged as one (the second subparagraph's transfers are the ones whose
  safeguards the record must document), a destination with none recorded says so. The record
  documents what is recorded; whether each transfer is lawful, under the law that governs it,
  is the transfer rules' judgement (`domain/transfers.py`), which the dashboard's transfer gaps
  and the privacy notice give;
- (f) the retention each disclosure records;
- the Art. 6 basis and the Art. 9(2) condition (or Art. 10 authorisation) of the disclosures, and
  for special-category data the Art. 6 basis again under the DPA 2018 heading (Schedule 1, Part
  4 asks how such processing satisfies Art. 6).
A cell naming several values gives each with the recipients it holds for, unless all agree.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Generic, NamedTuple, TypeVar

from server.domain import regimes, special_categories, transfers
from server.domain.adequacy import Coverage, reference
from server.domain.enums import (
    LegalBasis,
    ProcessingRole,
    RecipientKind,
    SpecialCategoryCondition,
    TransferMechanism,
)
from server.domain.regimes import Jurisdiction
from server.domain.taxonomy import Taxonomy, ancestors_of
from server.domain.transfers import Assessment, Basis, Flow
from server.domain.validation import country_name

M = TransferMechanism
T = TypeVar("T")


@dataclass(frozen=True)
class Column:
    heading: str
    # Characters wide in the spreadsheet: wide for what the inventory fills, narrow otherwise.
    width: int = 18


# The ICO's "Documentation template for controllers", sheet "Template", its 30 headings in
# order: taken from a transcription of the template, not checked against the ICO's own file.
COLUMNS: tuple[Column, ...] = (
    Column("Business function"),
    Column("Purpose of processing", 34),
    Column("Name and contact details of joint controller (if applicable)", 30),
    Column("Categories of individuals", 30),
    Column("Categories of personal data", 45),
    Column("Categories of recipients", 50),
    Column("Link to contract with processor", 40),
    Column(
        "Names of third countries or international organisations that personal data are "
        "transferred to (if applicable)",
        30,
    ),
    Column(
        "Safeguards for exceptional transfers of personal data to third countries or "
        "international organisations (if applicable)",
        60,
    ),
    Column("Retention schedule (if possible)", 40),
    Column("General description of technical and organisational security measures (if possible)"),
    Column("Article 6 lawful basis for processing personal data", 30),
    Column("Article 9 condition for processing special category data", 30),
    Column("Legitimate interests for the processing (if applicable)"),
    Column("Link to record of legitimate interests assessment (if applicable)"),
    Column("Rights available to individuals"),
    Column("Existence of automated decision-making, including profiling (if applicable)"),
    Column("The source of the personal data (if applicable)"),
    Column("Link to record of consent"),
    Column("Location of personal data"),
    Column("Data Protection Impact Assessment required?"),
    Column("Data Protection Impact Assessment progress"),
    Column("Link to Data Protection Impact Assessment"),
    Column("Has a personal data breach occurred?"),
    Column("Link to record of personal data breach"),
    Column("Data Protection Act 2018 Schedule 1 Condition for processing"),
    Column("GDPR Article 6 lawful basis for processing", 30),
    Column("Link to retention and erasure policy document"),
    Column("Is personal data retained and erased in accordance with the policy document?"),
    Column("Reasons for not adhering to policy document (if applicable)"),
)
HEADINGS = tuple(c.heading for c in COLUMNS)
_AT = {heading: i for i, heading in enumerate(HEADINGS)}
PURPOSE = _AT["Purpose of processing"]
JOINT_CONTROLLERS = _AT["Name and contact details of joint controller (if applicable)"]
INDIVIDUALS = _AT["Categories of individuals"]
PERSONAL_DATA = _AT["Categories of personal data"]
RECIPIENTS = _AT["Categories of recipients"]
PROCESSOR_CONTRACTS = _AT["Link to contract with processor"]
THIRD_COUNTRIES = next(i for i, h in enumerate(HEADINGS) if h.startswith("Names of third"))
SAFEGUARDS = next(i for i, h in enumerate(HEADINGS) if h.startswith("Safeguards for"))
RETENTION = _AT["Retention schedule (if possible)"]
ART_6 = _AT["Article 6 lawful basis for processing personal data"]
ART_9 = _AT["Article 9 condition for processing special category data"]
SCHEDULE_1_ART_6 = _AT["GDPR Article 6 lawful basis for processing"]

# The most characters a spreadsheet cell holds (Excel's limit); a longer cell is cut, with a
# note saying how much was left out (the CSV export carries it whole).
SPREADSHEET_CELL_MAX = 32_767

KIND_PLURALS = {
    RecipientKind.SERVICE_PROVIDER: "Service providers",
    RecipientKind.AI_PROVIDER: "AI providers",
    RecipientKind.ANALYTICS_PROVIDER: "Analytics providers",
    RecipientKind.BUSINESS_PARTNER: "Business partners",
    RecipientKind.GROUP_AFFILIATE: "Group companies",
    RecipientKind.ACQUIRER: "Prospective acquirers",
    RecipientKind.PUBLIC_AUTHORITY: "Public authorities",
}
ART_6_POINTS = {
    LegalBasis.CONSENT: "Art. 6(1)(a) consent",
    LegalBasis.CONTRACT: "Art. 6(1)(b) contract",
    LegalBasis.LEGAL_OBLIGATION: "Art. 6(1)(c) legal obligation",
    LegalBasis.VITAL_INTERESTS: "Art. 6(1)(d) vital interests",
    LegalBasis.PUBLIC_TASK: "Art. 6(1)(e) public task",
    LegalBasis.LEGITIMATE_INTERESTS: "Art. 6(1)(f) legitimate interests",
}
C = SpecialCategoryCondition
ART_9_POINTS = {
    C.EXPLICIT_CONSENT: "Art. 9(2)(a) explicit consent",
    C.EMPLOYMENT_SOCIAL_SECURITY: "Art. 9(2)(b) employment and social security law",
    C.VITAL_INTERESTS: "Art. 9(2)(c) vital interests",
    C.NOT_FOR_PROFIT_BODY: "Art. 9(2)(d) not-for-profit body",
    C.MADE_PUBLIC_BY_SUBJECT: "Art. 9(2)(e) made public by the data subject",
    C.LEGAL_CLAIMS: "Art. 9(2)(f) legal claims",
    C.SUBSTANTIAL_PUBLIC_INTEREST: "Art. 9(2)(g) substantial public interest",
    C.HEALTH_OR_SOCIAL_CARE: "Art. 9(2)(h) health or social care",
    C.PUBLIC_HEALTH: "Art. 9(2)(i) public health",
    C.ARCHIVING_RESEARCH_STATISTICS: "Art. 9(2)(j) archiving, research or statistics",
    C.CRIMINAL_DATA_AUTHORISED_BY_LAW: "Art. 10 authorised by law",
}
NO_CONDITION = "none recorded"
NO_RETENTION = "not recorded"
NO_DPA = "no DPA on record"
PROCESSOR_ROLES = frozenset({ProcessingRole.PROCESSOR, ProcessingRole.SUBPROCESSOR})


# ---------------------------------------------------------------------------------------------
# What the record reads.


@dataclass(frozen=True)
class Recipient:
    id: int
    name: str
    kind: RecipientKind
    role: ProcessingRole
    country: str
    legal_name: str | None = None
    dpa_signed_on: date | None = None
    international_organisation: bool = False


class Disclosure(NamedTuple):
    """A disclosure in effect at the moment, to a recipient ACTIVE then. `transfers`: each
    country its transfers record with the mechanism recorded, in order. `flow`: its data
    leaving its exporter, as the transfer rules read it, for a reader that judges its
    transfers (the notice) where there is something to judge (a destination outside the EEA
    and the UK, or an international organisation; `needs_flow`); None otherwise, or when no
    establishment is on record to export it."""

    recipient: Recipient
    purposes: tuple[str, ...]
    data_categories: tuple[str, ...]
    subject_types: tuple[str, ...]
    legal_basis: LegalBasis
    retention: str | None = None
    condition: SpecialCategoryCondition | None = None
    transfers: tuple[tuple[str, TransferMechanism], ...] = ()
    flow: Flow | None = None

    @property
    def countries(self) -> tuple[str, ...]:
        """Where its data goes: the recipient's own country first, then each its transfers
        record."""
        return (self.recipient.country, *(country for country, _ in self.transfers))


@dataclass(frozen=True)
class Establishment:
    name: str
    country: str
    legal_name: str | None = None
    main: bool = False


@dataclass(frozen=True)
class ControllerContact:
    """What the organisation says of itself that the inventory does not hold (settings): its
    name when no establishment is on record, how to contact it, its DPO and its representative
    (Art. 27), each as one line of text."""

    name: str | None = None
    contact: str | None = None
    data_protection_officer: str | None = None
    representative: str | None = None


@dataclass(frozen=True)
class ControllerBlock:
    """Art. 30(1)(a), as the template's block above the table."""

    organisation: str
    data_protection_officer: str
    representative: str

    def lines(self) -> list[tuple[str, str]]:
        return [
            ("Name and contact details of your organisation", self.organisation),
            (
                "Name and contact details of your data protection officer (if applicable)",
                self.data_protection_officer,
            ),
            (
                "Name and contact details of your representative (if applicable)",
                self.representative,
            ),
        ]


@dataclass(frozen=True)
class Activity:
    purpose: str
    cells: tuple[str, ...]


@dataclass(frozen=True)
class Record:
    at: datetime
    controller: ControllerBlock
    activities: tuple[Activity, ...]


# ---------------------------------------------------------------------------------------------
# The controller block (Art. 30(1)(a)).


def _entity(name: str, legal_name: str | None, country: str) -> str:
    """An organisation by name, with its legal name where that differs, and its country."""
    if legal_name and legal_name != name:
        return f"{name} ({legal_name}, {country_name(country)})"
    return f"{name} ({country_name(country)})"


def controller_block(
    establishments: Sequence[Establishment], contact: ControllerContact
) -> ControllerBlock:
    """The organisation is its main establishment, with the others after it; with none on
    record, the name the settings give. Contact details, the DPO and the representative come
    from the settings alone: the inventory does not hold them."""
    main = next((e for e in establishments if e.main), None)
    parts = []
    if main is not None:
        parts.append(_entity(main.name, main.legal_name, main.country))
        others = [_entity(e.name, e.legal_name, e.country) for e in establishments if not e.main]
        if others:
            parts.append("other establishments: " + ", ".join(others))
    elif contact.name:
        parts.append(contact.name)
    if contact.contact:
        parts.append(contact.contact)
    return ControllerBlock(
        "; ".join(parts), contact.data_protection_officer or "", contact.representative or ""
    )


# ---------------------------------------------------------------------------------------------
# Cells.


def by_name(names: Iterable[str]) -> list[str]:
    """Names once each, in the order a person looks them up: ignoring case."""
    # Sorted by name, then (stably) by its folded case: (casefold, name) order, without a
    # key function in Python (a record's cells sort tens of thousands of names).
    return sorted(sorted(set(names)), key=str.casefold)


def grouped(values: Mapping[str, Iterable[str]]) -> str:
    """One value alone when every recipient agrees; otherwise each value with the recipients
    it holds for, in brackets, values in order."""
    return _with_names({value: ", ".join(by_name(names)) for value, names in values.items()})


def _with_names(listed: Mapping[str, str]) -> str:
    """`grouped`, the names of each value's recipients listed already."""
    if len(listed) == 1:
        return next(iter(listed))
    return "; ".join(f"{value} ({listed[value]})" for value in sorted(listed))


def term_label(name: str | None, key: str) -> str:
    """A taxonomy term by name with its key, or its key alone when the taxonomy lacks it."""
    return f"{name} ({key})" if name else key


def covered_keys(keys: Iterable[str]) -> list[str]:
    """The keys without those another one listed covers (an ancestor names them already),
    in key order."""
    found = set(keys)
    return sorted(k for k in found if not any(a in found for a in ancestors_of(k)))


def special_mark(key: str) -> str:
    """What marks a category as special-category (Art. 9) or criminal-offence (Art. 10) data."""
    found = special_categories.coverage([key])
    if found.art_10_keys and found.art_9_keys:
        return " [special category and criminal offence data]"
    if found.art_10_keys:
        return " [criminal offence data]"
    return " [special category data]" if found.art_9_keys else ""


_DURATION = re.compile(r"^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?$")
_UNITS = ("year", "month", "week", "day")


def retention_phrase(retention: str | None) -> str:
    """A recorded retention for a person: an ISO 8601 duration of whole years, months, weeks
    and days in words; any other rule as written."""
    if retention is None:
        return NO_RETENTION
    match = _DURATION.match(retention.strip().upper())
    if not match or not any(match.groups()):
        return retention
    parts = [
        f"{int(n)} {unit}{'' if int(n) == 1 else 's'}"
        for n, unit in zip(match.groups(), _UNITS, strict=True)
        if n is not None
    ]
    words = ", ".join(parts[:-1]) + " and " + parts[-1] if len(parts) > 1 else parts[0]
    return words


def is_third_country(country: str) -> bool:
    """Outside the EEA and the United Kingdom (the record names these destinations)."""
    return country not in regimes.EEA_TERRITORY and country != regimes.UK


# The derogations of Art. 49(1) as a record names them (transfers.DEROGATIONS has the point of
# the article, and the words for the person).
DEROGATION_NAMES = {
    M.DEROGATION_EXPLICIT_CONSENT: "explicit consent of each person, on record",
    M.DEROGATION_CONTRACT: "performance of a contract with the person",
    M.DEROGATION_PUBLIC_INTEREST: "important reasons of public interest",
    M.DEROGATION_LEGAL_CLAIMS: "legal claims",
    M.DEROGATION_VITAL_INTERESTS: "vital interests",
}


@dataclass(frozen=True)
class Safeguard:
    """What one regime's judgement of one destination rests on: the mechanism relied on (or,
    for a gap, the one recorded), `lawful` false for a gap; `framework` for an adequacy decision
    that covers only organisations certified under it (the United States')."""

    jurisdiction: Jurisdiction | None
    mechanism: TransferMechanism
    lawful: bool
    framework: regimes.DataPrivacyFramework | None = None

    @property
    def derogation(self) -> bool:
        return self.mechanism in transfers.DEROGATIONS

    @property
    def name(self) -> str:
        """As a record names it (`mechanism_name`)."""
        return mechanism_name(self.mechanism, self.framework)

    @property
    def phrase(self) -> str:
        """As a privacy notice names it to a person."""
        mechanism = self.mechanism
        if mechanism in transfers.DEROGATIONS:
            what, point = transfers.DEROGATIONS[mechanism]
            return f"the derogation for {what} (Art. 49(1)({point}))"
        if self.framework is not None:
            return transfers.FRAMEWORK_NAMES[self.framework]
        if mechanism is M.STANDARD_CONTRACTUAL_CLAUSES:
            return "standard contractual clauses"
        if mechanism in transfers.SAFEGUARD_NAMES:
            return transfers.SAFEGUARD_NAMES[mechanism]
        if mechanism is M.ADEQUACY_DECISION:
            return "an adequacy decision"
        return self.name


NO_MECHANISM = "no transfer mechanism recorded"


def mechanism_name(
    mechanism: TransferMechanism, framework: regimes.DataPrivacyFramework | None = None
) -> str:
    """A transfer mechanism as a record names it: a derogation as Art. 49(1) with its point;
    an adequacy decision by its framework where it covers only organisations certified under
    one."""
    if mechanism in transfers.DEROGATIONS:
        point = transfers.DEROGATIONS[mechanism][1]
        return f"Art. 49(1)({point}) derogation: {DEROGATION_NAMES[mechanism]}"
    if framework is not None:
        return transfers.FRAMEWORK_NAMES[framework].removeprefix("the ")
    if mechanism in transfers.SAFEGUARD_NAMES:
        return transfers.SAFEGUARD_NAMES[mechanism].removeprefix("the ")
    if mechanism is M.ADEQUACY_DECISION:
        return "adequacy decision"
    if mechanism is M.NOT_RESTRICTED:
        return "recorded as not restricted"
    return NO_MECHANISM


def documented_safeguards(recorded: Iterable[TransferMechanism]) -> str:
    """One destination's recorded transfers as the record documents them: each mechanism once,
    in the order recorded, derogations flagged; none recorded (or only NONE) said so."""
    names = [mechanism_name(m) for m in dict.fromkeys(recorded) if m is not M.NONE]
    return " and ".join(names) if names else NO_MECHANISM


def documented_destinations(
    home: str, international_organisation: bool, recorded: Iterable[tuple[str, TransferMechanism]]
) -> list[tuple[str, str]]:
    """A disclosure's destinations the record names (outside the EEA and the UK, and an
    international organisation wherever it sits), the recipient's own country `home` first
    as the transfer rules order them (`transfers.destinations`), each with its documented
    safeguards."""
    places: dict[str, list[TransferMechanism]] = {home: []}
    for country, mechanism in recorded:
        places.setdefault(country, []).append(mechanism)
    return [
        (country, documented_safeguards(mechanisms))
        for country, mechanisms in places.items()
        if is_third_country(country) or (international_organisation and country == home)
    ]


_DPF_FOR = {
    Jurisdiction.EEA: regimes.DataPrivacyFramework.EU_US,
    Jurisdiction.UK: regimes.DataPrivacyFramework.UK_EXTENSION,
}


def safeguard_of(
    assessment: Assessment, recorded: Sequence[transfers.RecordedTransfer], day: date
) -> Safeguard | None:
    """What the assessment rests on (None: not a restricted transfer). A transfer on the
    person's explicit consent is judged per person, so here it is named, not judged."""
    jurisdiction = assessment.jurisdiction
    if not assessment.lawful and any(
        t.mechanism is M.DEROGATION_EXPLICIT_CONSENT for t in recorded
    ):
        return Safeguard(jurisdiction, M.DEROGATION_EXPLICIT_CONSENT, True)
    basis = assessment.basis
    if basis is Basis.NOT_RESTRICTED:
        return None
    if basis is Basis.ADEQUACY:
        decision = reference().decision(jurisdiction, assessment.country, day)
        dpf = decision is not None and decision.covers is Coverage.DPF_CERTIFIED
        return Safeguard(
            jurisdiction, M.ADEQUACY_DECISION, True, _DPF_FOR[jurisdiction] if dpf else None
        )
    return Safeguard(jurisdiction, assessment.mechanism, assessment.lawful)


def destination_label(recipient: Recipient, country: str) -> str:
    """A third country by name; the recipient itself where it is an international organisation
    (a transfer to one is to it, wherever its seat is)."""
    if recipient.international_organisation and country == recipient.country:
        return f"{recipient.legal_name or recipient.name} (international organisation)"
    return country_name(country)


def needs_flow(recipient: Recipient, countries: Iterable[str]) -> bool:
    """Whether a disclosure to these countries has a transfer for the record to judge."""
    return recipient.international_organisation or any(is_third_country(c) for c in countries)


def judged_destinations(
    disclosure: Disclosure, day: date
) -> list[tuple[str, tuple[Safeguard, ...]]]:
    """The disclosure's destinations outside the EEA and the UK (and an international
    organisation wherever it sits), each with what each applying regime finds it rests on;
    with no regime to apply on the day, the mechanisms recorded for it; with no exporter on
    record, nothing. The notice names what its transfers rest on this way."""
    recipient = disclosure.recipient
    flow = disclosure.flow
    if flow is None:
        return [
            (destination_label(recipient, country), ())
            for country in dict.fromkeys(disclosure.countries)
            if is_third_country(country)
            or (recipient.international_organisation and country == recipient.country)
        ]
    places = {
        country: recorded
        for country, recorded in transfers.destinations(flow)
        if is_third_country(country)
        or (recipient.international_organisation and country == recipient.country)
    }
    if not places:
        return []
    judged: dict[str, list[Safeguard]] = {country: [] for country in places}
    # The reference given: judged directly rather than through the transfer rules' memo, which
    # a record's thousands of distinct flows would only churn.
    for assessment in transfers.assess_flow(flow, day, None, ref=reference(), only=places):
        if assessment.country in judged:
            found = safeguard_of(assessment, places[assessment.country], day)
            if found is not None:
                judged[assessment.country].append(found)
    return [
        (
            destination_label(recipient, country),
            tuple(dict.fromkeys(judged[country]))
            or tuple(Safeguard(None, t.mechanism, True) for t in recorded),
        )
        for country, recorded in places.items()
    ]


# ---------------------------------------------------------------------------------------------
# Rows.
#
# A record reads every disclosure in effect (tens of thousands) and names each recipient in
# several cells of each activity, so the rows are gathered in two steps. Each disclosure is
# read once into its facts (`_Facts`): what it says in each cell, as integers. A value held
# for a recipient (an Art. 6 basis, a retention, a destination's safeguards) is one integer,
# the value's code * span + the rank of the recipient's name in `by_name` order, so that a
# cell's set of them dedupes, and sorts into the order the cell lists them, in C. Then each
# activity gathers the facts of its disclosures, and `_cells` turns them back into text.


class _Codes(Generic[T]):
    """Values numbered in the order first seen, and back."""

    def __init__(self) -> None:
        self.code: dict[T, int] = {}
        self.values: list[T] = []

    def of(self, value: T) -> int:
        found = self.code.get(value)
        if found is None:
            found = self.code[value] = len(self.values)
            self.values.append(value)
        return found


class _CellCodes:
    """The values the record's cells hold, numbered (each kind apart)."""

    def __init__(self) -> None:
        self.subject_types: _Codes[tuple[str, ...]] = _Codes()
        self.categories: _Codes[tuple[str, ...]] = _Codes()
        self.basis: _Codes[str] = _Codes()
        self.retention: _Codes[str] = _Codes()
        self.condition: _Codes[str] = _Codes()
        # (destination, its documented safeguards)
        self.safeguards: _Codes[tuple[str, str]] = _Codes()


def processor_contract(recipient: Recipient, day: date) -> str:
    """A processor's contract (Art. 28(3)) as the record on `day` names it: the DPA signed by
    then, or none on record. A DPA signed later did not bind the processor on the day, so a
    record at a past moment does not show it (as the dashboard's missing-DPA gap reads it)."""
    signed = recipient.dpa_signed_on
    if signed is not None and signed <= day:
        return f"{recipient.name}: DPA signed {signed.isoformat()}"
    return f"{recipient.name}: {NO_DPA}"


@dataclass(frozen=True)
class _Recipients:
    """The recipients the disclosures name: `listed` in the order a cell lists recipients (name
    ignoring case, then id), with each one's `place` in it by id, and what the cells say of
    each by place (a record names each of them in every activity they take part in); `names`,
    each distinct name once in `by_name` order, with each recipient's `rank` among them by
    id."""

    listed: list[Recipient]
    place: dict[int, int]
    names: list[str]
    rank: dict[int, int]
    # By place: the entry of a joint controller, the contract of a processor (else None).
    joint_controller: list[str | None]
    contract: list[str | None]

    @property
    def span(self) -> int:
        return len(self.names)

    @classmethod
    def of(cls, recipients: Iterable[Recipient], day: date) -> _Recipients:
        listed = sorted(recipients, key=lambda r: (r.name.casefold(), r.id))
        names = by_name(r.name for r in listed)
        rank = {name: i for i, name in enumerate(names)}
        return cls(
            listed,
            {r.id: i for i, r in enumerate(listed)},
            names,
            {r.id: rank[r.name] for r in listed},
            [
                _entity(r.name, r.legal_name, r.country)
                if r.role is ProcessingRole.JOINT_CONTROLLER
                else None
                for r in listed
            ],
            [processor_contract(r, day) if r.role in PROCESSOR_ROLES else None for r in listed],
        )


# One disclosure's facts: (its recipient's place in `_Recipients.listed`, the code of its
# subject types, the code of its data categories, its Art. 6 basis for its recipient, its
# retention for its recipient, for special-category or criminal-offence data its (Art. 9
# condition, Art. 6 basis) for its recipient or else None, each destination with its
# safeguards for its recipient). "For its recipient": code * span + the recipient's name rank.
_Facts = tuple[int, int, int, int, int, tuple[int, int] | None, tuple[int, ...]]


def processing_activities(
    disclosures: Iterable[Disclosure], day: date, taxonomy: Taxonomy
) -> list[Activity]:
    """One row per purpose key of the given disclosures (in effect on `day`, to recipients
    ACTIVE then: the caller's read), by key."""
    listed = list(disclosures)
    people = _Recipients.of({d.recipient.id: d.recipient for d in listed}.values(), day)
    span, place, rank = people.span, people.place, people.rank
    codes = _CellCodes()
    basis_code = {basis: codes.basis.of(text) for basis, text in ART_6_POINTS.items()}
    condition_code: dict[SpecialCategoryCondition | None, int] = {
        condition: codes.condition.of(text) for condition, text in ART_9_POINTS.items()
    }
    condition_code[None] = codes.condition.of(NO_CONDITION)
    # What many disclosures share is worked out once (each memo lives for this call only).
    special: dict[tuple[str, ...], bool] = {}
    retention: dict[str | None, int] = {}
    Where = tuple[str, int | None, tuple[tuple[str, TransferMechanism], ...]]
    destinations: dict[Where, list[int]] = {}
    subject_codes, category_codes = codes.subject_types.code, codes.categories.code
    gathered: dict[str, list[_Facts]] = {}
    for disclosure in listed:
        recipient = disclosure.recipient
        rid = recipient.id
        name = rank[rid]
        categories = disclosure.data_categories
        is_special = special.get(categories)
        if is_special is None:
            is_special = special[categories] = special_categories.coverage(categories).special
        kept = retention.get(disclosure.retention)
        if kept is None:
            kept = retention[disclosure.retention] = codes.retention.of(
                retention_phrase(disclosure.retention)
            )
        # An international organisation is its own destination, by its own name.
        organisation = recipient.international_organisation
        where = (recipient.country, rid if organisation else None, disclosure.transfers)
        found = destinations.get(where)
        if found is None:
            found = destinations[where] = [
                codes.safeguards.of((destination_label(recipient, country), words))
                for country, words in documented_destinations(
                    recipient.country, organisation, disclosure.transfers
                )
            ]
        subject_types = subject_codes.get(disclosure.subject_types)
        if subject_types is None:
            subject_types = codes.subject_types.of(disclosure.subject_types)
        category_code = category_codes.get(categories)
        if category_code is None:
            category_code = codes.categories.of(categories)
        basis = basis_code[disclosure.legal_basis] * span + name
        facts: _Facts = (
            place[rid],
            subject_types,
            category_code,
            basis,
            kept * span + name,
            (condition_code[disclosure.condition] * span + name, basis) if is_special else None,
            tuple([code * span + name for code in found]) if found else (),
        )
        for purpose in disclosure.purposes:
            of_purpose = gathered.get(purpose)
            if of_purpose is None:
                gathered[purpose] = [facts]
            else:
                of_purpose.append(facts)
    return [
        Activity(purpose, _cells(purpose, gathered[purpose], people, codes, taxonomy))
        for purpose in sorted(gathered)
    ]


def _names_by_value(held: Iterable[int], values: Sequence[T], people: _Recipients) -> dict[T, str]:
    """Values held for recipients (code * span + name rank) as each value with the names of
    the recipients it holds for, in `by_name` order. A value alone comes with no names:
    `grouped` names none then."""
    span, names = people.span, people.names
    ordered = sorted(set(held))
    first = ordered[0] // span
    if ordered[-1] // span == first:
        return {values[first]: ""}
    out: dict[T, str] = {}
    start = 0
    while start < len(ordered):
        code = ordered[start] // span
        end = bisect_left(ordered, (code + 1) * span, start)
        base = code * span
        out[values[code]] = ", ".join([names[key - base] for key in ordered[start:end]])
        start = end
    return out


def _cells(
    purpose: str, gathered: list[_Facts], people: _Recipients, codes: _CellCodes, taxonomy: Taxonomy
) -> tuple[str, ...]:
    cells = [""] * len(COLUMNS)
    term = taxonomy.purposes.get(purpose)
    cells[PURPOSE] = term_label(term.name if term else None, purpose)
    places = sorted({facts[0] for facts in gathered})
    joint_controllers, contracts = people.joint_controller, people.contract
    cells[JOINT_CONTROLLERS] = "; ".join(
        [entry for i in places if (entry := joint_controllers[i]) is not None]
    )
    subjects = taxonomy.subject_types
    subject_keys = set().union(*(codes.subject_types.values[c] for c in {f[1] for f in gathered}))
    cells[INDIVIDUALS] = "; ".join(
        term_label(subjects[k].name if k in subjects else None, k) for k in sorted(subject_keys)
    )
    categories = taxonomy.categories
    category_keys = set().union(*(codes.categories.values[c] for c in {f[2] for f in gathered}))
    cells[PERSONAL_DATA] = "; ".join(
        term_label(categories[k].name if k in categories else None, k) + special_mark(k)
        for k in covered_keys(category_keys)
    )
    by_kind: dict[RecipientKind, list[str]] = {}
    for i in places:
        recipient = people.listed[i]
        named = by_kind.get(recipient.kind)
        if named is None:
            by_kind[recipient.kind] = [recipient.name]
        else:
            named.append(recipient.name)
    cells[RECIPIENTS] = "; ".join(
        f"{KIND_PLURALS[kind]} ({', '.join(by_kind[kind])})"
        for kind in RecipientKind
        if kind in by_kind
    )
    cells[PROCESSOR_CONTRACTS] = "; ".join(
        [contract for i in places if (contract := contracts[i]) is not None]
    )
    held = [key for facts in gathered for key in facts[6]]
    if held:
        by_place: dict[str, dict[str, str]] = {}
        safeguards = _names_by_value(held, codes.safeguards.values, people)
        for (where, words), names in safeguards.items():
            by_place.setdefault(where, {})[words] = names
        cells[THIRD_COUNTRIES] = "; ".join(sorted(by_place))
        cells[SAFEGUARDS] = "\n".join(
            f"{where}: {_with_names(by_place[where])}" for where in sorted(by_place)
        )
    cells[RETENTION] = _with_names(
        _names_by_value({f[4] for f in gathered}, codes.retention.values, people)
    )
    cells[ART_6] = _with_names(
        _names_by_value({f[3] for f in gathered}, codes.basis.values, people)
    )
    special = [f[5] for f in gathered if f[5] is not None]
    if special:
        cells[ART_9] = _with_names(
            _names_by_value({c for c, _ in special}, codes.condition.values, people)
        )
        cells[SCHEDULE_1_ART_6] = _with_names(
            _names_by_value({b for _, b in special}, codes.basis.values, people)
        )
    return tuple(cells)


# What a spreadsheet program reads as the start of a formula when it opens a CSV file.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def for_csv(cell: str) -> str:
    """A cell as a CSV file can hold it safely: one that a spreadsheet program would read as a
    formula (it starts with = + - @, a tab or a carriage return) gets a leading apostrophe, so
    it opens as the text it is (OWASP's advice on CSV injection). Names, retentions and
    taxonomy terms are text a person typed, and the record is opened by others."""
    return f"'{cell}" if cell.startswith(FORMULA_STARTS) else cell


def for_spreadsheet(cell: str) -> str:
    """A cell as a spreadsheet can hold it: one over SPREADSHEET_CELL_MAX characters is cut at
    the last separator that fits, saying how much was left out."""
    if len(cell) <= SPREADSHEET_CELL_MAX:
        return cell
    note = " … (cut: {} more characters; the CSV export holds the whole list)"
    room = SPREADSHEET_CELL_MAX - len(note.format(len(cell)))
    cut = max(cell.rfind("; ", 0, room), cell.rfind(", ", 0, room), cell.rfind("\n", 0, room))
    kept = cell[: cut if cut > 0 else room]
    return kept + note.format(len(cell) - len(kept))
