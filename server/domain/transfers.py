"""International transfers (GDPR and UK GDPR Chapter V): which regimes bind a flow of a person's
data, and whether each finds it lawful, on what.

A flow is one disclosure's data leaving its exporter for a recipient. The exporter is one of the
organisation's establishments, or, for a subprocessor, the processor that engaged it.
1. Regimes (Art. 3 and 44). A regime applies to a flow on a day (GDPR from 25 May 2018, UK GDPR
   from 1 January 2021) when the exporter is established in its territory (EXPORTER_ESTABLISHED;
   Art. 3(1) binds processors too); when it applied to a flow that brought the data to the
   engaging processor (ONWARD_TRANSFER); or when the exporter is one of our establishments
   outside the territory that targets it, and the person lives there (SUBJECT_TARGETED). An
   assessment names the first of these that holds.
2. Destinations: the recipient's own country, then every other country its transfers record. A
   destination with no transfer recorded is judged with mechanism NONE.
3. Each applying regime judges each destination on its own, on the day:
   a. not restricted: inside the regime's territory as it stood, or across the TCA bridge (an
      international organisation is always restricted);
   b. adequate: a decision in force covers it (the United States only for a recipient holding
      that regime's DPF certification; Canada, Japan and Korea for the EEA only for a transfer
      recorded within the decision's scope, Canada and Japan never for a public authority; an
      international organisation only by a decision naming it);
   c. a safeguard the regime allows that day (`regimes.safeguard_obstacle`);
   d. a derogation that can hold for the flow (`regimes.derogation_obstacle`);
   e. otherwise unlawful: the explanation says what is missing and what would cure it.
   Several mechanisms recorded for one country are judged together: lawful when any makes it
   lawful, naming the one relied on; otherwise naming the first recorded.
A flow is lawful when every applying regime finds every destination lawful.
"""

from __future__ import annotations

import functools
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from server.domain import regimes
from server.domain.adequacy import AdequacyDecision, Coverage, TransferReference, reference
from server.domain.enums import DisclosureFrequency, RecipientKind, TransferMechanism
from server.domain.explain import country_phrase
from server.domain.regimes import LAW, DataPrivacyFramework, DpfCertification, Jurisdiction
from server.domain.validation import country_name

M = TransferMechanism


class RegimeTrigger(StrEnum):
    """Why a regime applies to a flow, in the order an assessment names them."""

    EXPORTER_ESTABLISHED = "EXPORTER_ESTABLISHED"
    ONWARD_TRANSFER = "ONWARD_TRANSFER"
    SUBJECT_TARGETED = "SUBJECT_TARGETED"


class Basis(StrEnum):
    """What an assessment rests on."""

    NOT_RESTRICTED = "NOT_RESTRICTED"
    ADEQUACY = "ADEQUACY"
    SAFEGUARD = "SAFEGUARD"
    DEROGATION = "DEROGATION"
    MISSING = "MISSING"


@dataclass(frozen=True)
class Exporter:
    """Where a flow leaves from: one of our establishments (with the regimes it targets under
    Art. 3(2)), or the processor that engaged a subprocessor (`establishment` false)."""

    name: str
    country: str
    targets: frozenset[Jurisdiction] = frozenset()
    establishment: bool = True


@dataclass(frozen=True)
class RecipientProfile:
    """What the rules need to know of the recipient. `key` identifies it in transfer consents."""

    key: str
    name: str
    kind: RecipientKind
    country: str
    legal_name: str | None = None
    certifications: tuple[DpfCertification, ...] = ()
    international_organisation: bool = False


@dataclass(frozen=True)
class RecordedTransfer:
    country: str
    mechanism: TransferMechanism
    reference: str | None = None
    signed_on: date | None = None
    within_scope: bool | None = None


@dataclass(frozen=True)
class Flow:
    """One disclosure's data leaving `exporter` for `recipient`. `upstream`: the regimes that
    applied to the flows that brought the data to the exporter, when it is a processor.
    `within_group`: exporter and recipient are members of one corporate group (BCRs)."""

    exporter: Exporter
    recipient: RecipientProfile
    transfers: tuple[RecordedTransfer, ...]
    frequency: DisclosureFrequency
    starts: date
    within_group: bool = False
    upstream: frozenset[Jurisdiction] = frozenset()


@dataclass(frozen=True)
class Assessment:
    """One destination of a flow judged under one regime. `transfer` is the recorded transfer
    named (the one relied on, or the first recorded), or the implied one with mechanism NONE."""

    jurisdiction: Jurisdiction
    trigger: RegimeTrigger
    from_country: str
    transfer: RecordedTransfer
    lawful: bool
    basis: Basis
    explanation: str
    # A few words for the sentence a person reads: "under standard contractual clauses".
    phrase: str | None = None

    @property
    def country(self) -> str:
        return self.transfer.country

    @property
    def mechanism(self) -> TransferMechanism:
        return self.transfer.mechanism


# ---------------------------------------------------------------------------------------------
# 1. Which regimes apply.


def regimes_applying(
    exporter: Exporter,
    upstream: Iterable[Jurisdiction],
    day: date,
    lives_in: str | None,
) -> list[tuple[Jurisdiction, RegimeTrigger]]:
    """The regimes that apply to a flow on the day, each with the first trigger that holds.
    `lives_in`: the person's country; None asks for anyone (a dashboard: may the regime apply
    to some person?). Before a regime exists it applies to nothing."""
    before = frozenset(upstream)
    out = []
    for jurisdiction in Jurisdiction:
        if not regimes.regime_exists(jurisdiction, day):
            continue
        if regimes.in_territory(jurisdiction, exporter.country, day):
            out.append((jurisdiction, RegimeTrigger.EXPORTER_ESTABLISHED))
        elif jurisdiction in before:
            out.append((jurisdiction, RegimeTrigger.ONWARD_TRANSFER))
        elif (
            exporter.establishment
            and jurisdiction in exporter.targets
            and (lives_in is None or regimes.in_territory(jurisdiction, lives_in, day))
        ):
            out.append((jurisdiction, RegimeTrigger.SUBJECT_TARGETED))
    return out


class ChainRegimes:
    """The regimes under which data reaches each recipient (for ONWARD_TRANSFER along chains of
    processors): the union, over the flows that bring it there, of the regimes applying to each.
    `exporters_of` gives, for a recipient, the exporter of each of its flows in question (for a
    subprocessor, its engaging processor); a flow from a processor inherits what reached it.
    Cycles reach nothing further."""

    def __init__(
        self,
        exporters_of: Mapping[int, Sequence[Exporter]],
        engager_of: Mapping[int, int | None],
        day: date,
        lives_in: str | None,
    ) -> None:
        self.exporters_of = exporters_of
        self.engager_of = engager_of
        self.day = day
        self.lives_in = lives_in
        self._memo: dict[int, frozenset[Jurisdiction]] = {}

    def reaching(self, recipient_id: int) -> frozenset[Jurisdiction]:
        """Walked without recursion (a chain may be deeper than Python's stack): up the
        engaging chain to its top, a cycle or a recipient already known, then down."""
        chain: list[int] = []
        seen: set[int] = set()
        current: int | None = recipient_id
        while current is not None and current not in seen and current not in self._memo:
            chain.append(current)
            seen.add(current)
            current = self.engager_of.get(current)
        above = (
            self._memo.get(current, frozenset())
            if current is not None and current not in seen
            else frozenset()
        )
        for rid in reversed(chain):
            found: set[Jurisdiction] = set()
            for exporter in self.exporters_of.get(rid, ()):
                upstream = frozenset() if exporter.establishment else above
                found.update(
                    j for j, _ in regimes_applying(exporter, upstream, self.day, self.lives_in)
                )
            above = self._memo[rid] = frozenset(found)
        return self._memo[recipient_id]

    def upstream_of(self, recipient_id: int) -> frozenset[Jurisdiction]:
        """What reached the processor that engaged this recipient (nothing when none did)."""
        engager = self.engager_of.get(recipient_id)
        return frozenset() if engager is None else self.reaching(engager)


def no_regime_note(day: date) -> str | None:
    """The sentence for a day before GDPR applied: no transfer is assessed then."""
    return regimes.why_no_regime(Jurisdiction.EEA, day)


# ---------------------------------------------------------------------------------------------
# 2. Destinations.


def destinations(flow: Flow) -> list[tuple[str, tuple[RecordedTransfer, ...]]]:
    """The recipient's own country first, then every other country the transfers record, each
    with its recorded transfers in order (the own country's may be none)."""
    by_country: dict[str, list[RecordedTransfer]] = {flow.recipient.country: []}
    for transfer in flow.transfers:
        recorded = by_country.setdefault(transfer.country, [])
        if transfer not in recorded:
            recorded.append(transfer)
    return [(country, tuple(recorded)) for country, recorded in by_country.items()]


# ---------------------------------------------------------------------------------------------
# 3. Judging a destination under one regime.

SAFEGUARD_NAMES = {
    M.STANDARD_CONTRACTUAL_CLAUSES: "the standard contractual clauses",
    M.STANDARD_CONTRACTUAL_CLAUSES_2010: "the 2010 standard contractual clauses",
    M.BINDING_CORPORATE_RULES: "binding corporate rules",
    M.UK_IDTA: "the UK International Data Transfer Agreement",
    M.UK_ADDENDUM: "the UK Addendum to the standard contractual clauses",
}
# Derogations for specific situations (Art. 49(1)), with the point of the article.
DEROGATIONS = {
    M.DEROGATION_EXPLICIT_CONSENT: ("your explicit consent", "a"),
    M.DEROGATION_CONTRACT: ("the performance of a contract with you", "b"),
    M.DEROGATION_PUBLIC_INTEREST: ("important reasons of public interest", "d"),
    M.DEROGATION_LEGAL_CLAIMS: ("legal claims", "e"),
    M.DEROGATION_VITAL_INTERESTS: ("the protection of vital interests", "f"),
}
NEEDED = {
    Jurisdiction.EEA: "standard contractual clauses or binding corporate rules",
    Jurisdiction.UK: "the UK IDTA, the UK Addendum or binding corporate rules",
}
FRAMEWORK_NAMES = {
    DataPrivacyFramework.EU_US: "the EU-US Data Privacy Framework",
    DataPrivacyFramework.UK_EXTENSION: "the UK Extension to the EU-US Data Privacy Framework",
    DataPrivacyFramework.SWISS_US: "the Swiss-US Data Privacy Framework",
}
_FRAMEWORK_FOR = {
    Jurisdiction.EEA: DataPrivacyFramework.EU_US,
    Jurisdiction.UK: DataPrivacyFramework.UK_EXTENSION,
}
# Lower is preferred when several recorded mechanisms make one country lawful; on a tie, the
# recorded mechanism that says what the basis is.
_PREFERENCE = {
    Basis.NOT_RESTRICTED: 0,
    Basis.ADEQUACY: 0,
    Basis.SAFEGUARD: 1,
    Basis.DEROGATION: 2,
    Basis.MISSING: 3,
}
_AGREES = {Basis.NOT_RESTRICTED: M.NOT_RESTRICTED, Basis.ADEQUACY: M.ADEQUACY_DECISION}


def _place(country: str) -> str:
    return country_phrase(country_name(country))


def _day(value: date) -> str:
    return f"{value.day} {value:%B} {value.year}"


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def _home(jurisdiction: Jurisdiction) -> str:
    return "the EEA" if jurisdiction is Jurisdiction.EEA else "the United Kingdom"


def why_applies(jurisdiction: Jurisdiction, trigger: RegimeTrigger, exporter: Exporter) -> str:
    """Why the regime binds the flow, as a sentence."""
    law = LAW[jurisdiction]
    if trigger is RegimeTrigger.EXPORTER_ESTABLISHED:
        who = "" if exporter.establishment else ", binding processors too"
        return (
            f"{law} applies because the exporter, {exporter.name}, is established in "
            f"{_place(exporter.country)} ({law} Art. 3(1){who})."
        )
    if trigger is RegimeTrigger.ONWARD_TRANSFER:
        return (
            f"{law} applies because the data reached {exporter.name} under {law}, which follows "
            f"it onward ({law} Art. 44)."
        )
    return (
        f"{law} applies because {exporter.name} offers goods or services to, or monitors, people "
        f"in {_home(jurisdiction)}, and it is not established there ({law} Art. 3(2))."
    )


def _covered(
    decision: AdequacyDecision,
    jurisdiction: Jurisdiction,
    recipient: RecipientProfile,
    transfer: RecordedTransfer,
    day: date,
) -> tuple[bool, str]:
    """Whether a limited decision covers the recipient, and the words saying why (or why not)."""
    if decision.covers is Coverage.ALL:
        return True, ""
    place = _place(decision.country)
    if decision.covers is Coverage.DPF_CERTIFIED:
        framework = FRAMEWORK_NAMES[_FRAMEWORK_FOR[jurisdiction]]
        if regimes.certified_for(jurisdiction, recipient.certifications, day):
            return True, f": {recipient.name} holds a certification under {framework} in force"
        also = (
            " (with its EU-US certification, of which the Extension is an add-on)"
            if jurisdiction is Jurisdiction.UK
            else ""
        )
        return False, (
            f"the adequacy decision for {place} covers only organisations certified under "
            f"{framework}{also}, and {recipient.name} holds no such certification in force on "
            f"{_day(day)}"
        )
    scope = _lower_first(decision.scope or "")
    if decision.covers is Coverage.COMMERCIAL and recipient.kind is RecipientKind.PUBLIC_AUTHORITY:
        return False, (
            f"the adequacy decision for {place} covers only {scope}, and {recipient.name} is a "
            "public authority"
        )
    if transfer.within_scope:
        return True, f": it covers {scope}, and the transfer is recorded as within it"
    return False, (
        f"the adequacy decision for {place} covers only {scope}, and the transfer is not "
        "recorded as within it (record withinAdequacyScope once the importer is confirmed to be)"
    )


def _decision_situation(
    jurisdiction: Jurisdiction,
    recipient: RecipientProfile,
    country: str,
    day: date,
    ref: TransferReference,
) -> tuple[AdequacyDecision | None, str]:
    """The decision that may cover the destination on the day, or the words saying there is
    none (and when there was one)."""
    law = LAW[jurisdiction]
    if recipient.international_organisation:
        name = recipient.legal_name or recipient.name
        found = ref.organisation_decision(jurisdiction, name, day)
        if found is not None:
            return found, ""
        return None, (
            f"{recipient.name} is an international organisation, so a transfer to it is "
            f"restricted wherever its seat is ({law} Art. 44), and no adequacy decision under "
            f"{law} names it on {_day(day)}"
        )
    found = ref.decision(jurisdiction, country, day)
    if found is not None:
        return found, ""
    place = _place(country)
    ever = ref.decision_ever(jurisdiction, country)
    if ever is not None and day < ever.adopted_on:
        return None, (
            f"the adequacy decision for {place} ({ever.source}) applies only from "
            f"{_day(ever.adopted_on)}"
        )
    if ever is not None and ever.expires_on is not None and day > ever.expires_on:
        return None, (
            f"the adequacy decision for {place} ({ever.source}) expired on {_day(ever.expires_on)}"
        )
    return None, f"{place} has no adequacy decision for {jurisdiction} data"


def _judge_one(
    jurisdiction: Jurisdiction,
    exporter: Exporter,
    flow: Flow,
    transfer: RecordedTransfer,
    recorded: tuple[RecordedTransfer, ...],
    day: date,
    consent_granted: bool,
    ref: TransferReference,
) -> tuple[bool, Basis, str, str | None]:
    """One recorded transfer (or the implied one) under one regime: lawful, basis, the verdict's
    sentence and the phrase for a person's sentence."""
    law = LAW[jurisdiction]
    country = transfer.country
    place = _place(country)
    recipient = flow.recipient
    if not recipient.international_organisation and not regimes.restricted(
        jurisdiction, exporter.country, country, day
    ):
        if regimes.in_territory(jurisdiction, country, day):
            where = (
                f"{place[:1].upper()}{place[1:]} is in the EEA"
                if jurisdiction is Jurisdiction.EEA
                else "the destination is the United Kingdom"
            )
            phrase = "within the EEA" if jurisdiction is Jurisdiction.EEA else None
            return (
                True,
                Basis.NOT_RESTRICTED,
                f"Not a restricted transfer under {law}: {where}.",
                phrase,
            )
        return (
            True,
            Basis.NOT_RESTRICTED,
            (
                f"Not a restricted transfer under {law} on {_day(day)}: from 1 January 2021 "
                "until the EU's decision on the United Kingdom of 28 June 2021, data flowed from "
                "the EEA to the United Kingdom under the bridge of the Trade and Cooperation "
                "Agreement (Art. FINPROV.10A)."
            ),
            "under the bridge of the EU-UK Trade and Cooperation Agreement",
        )
    decision, situation = _decision_situation(jurisdiction, recipient, country, day, ref)
    if decision is not None:
        covered, words = _covered(decision, jurisdiction, recipient, transfer, day)
        if covered:
            subject = f"the {decision.organisation}" if decision.organisation else place
            until = f" to {_day(decision.expires_on)}" if decision.expires_on else ""
            return (
                True,
                Basis.ADEQUACY,
                (
                    f"Lawful under {law} on the adequacy decision for {subject} "
                    f"({decision.source}), in force from {_day(decision.adopted_on)}{until}{words}."
                ),
                "under an adequacy decision",
            )
        situation = words
    mechanism = transfer.mechanism
    obstacle: str | None
    if mechanism in regimes.SAFEGUARD_MECHANISMS:
        signed = regimes.effective_from(transfer.signed_on, flow.starts)
        obstacle = regimes.safeguard_obstacle(
            jurisdiction,
            mechanism,
            day,
            signed,
            beside_eu_sccs=any(t.mechanism is M.STANDARD_CONTRACTUAL_CLAUSES for t in recorded),
            within_group=flow.within_group,
        )
        if obstacle is None:
            name = SAFEGUARD_NAMES[mechanism]
            since = (
                f"signed on {_day(transfer.signed_on)}"
                if transfer.signed_on
                else f"in effect since the disclosure began on {_day(flow.starts)}"
            )
            article = "Art. 46 and 47" if mechanism is M.BINDING_CORPORATE_RULES else "Art. 46"
            return (
                True,
                Basis.SAFEGUARD,
                (
                    f"Lawful under {law} on {name}, {since}, an appropriate safeguard for "
                    f"{jurisdiction} data ({law} {article})."
                ),
                "under standard contractual clauses"
                if mechanism is M.STANDARD_CONTRACTUAL_CLAUSES
                else f"under {name}",
            )
    elif mechanism in regimes.DEROGATION_MECHANISMS:
        obstacle = regimes.derogation_obstacle(
            jurisdiction,
            mechanism,
            flow.frequency,
            reference=transfer.reference,
            consent_granted=consent_granted,
        )
        if obstacle is None:
            what, point = DEROGATIONS[mechanism]
            article = f"{law} Art. 49(1)({point})"
            if mechanism is M.DEROGATION_EXPLICIT_CONSENT:
                why = "the person's explicit consent to this transfer, on record"
            elif mechanism is M.DEROGATION_PUBLIC_INTEREST:
                why = f"{what} recognised in law ({transfer.reference})"
            else:
                why = f"{what}, as the disclosure is made only on request (an occasional transfer)"
            return (
                True,
                Basis.DEROGATION,
                (f"Lawful under {law} on a derogation for {why} ({article})."),
                f"on the derogation for {what}",
            )
    else:
        obstacle = _what_was_recorded(jurisdiction, recipient, transfer, place)
    cure = f"A transfer to {place} needs {NEEDED[jurisdiction]}"
    if decision is not None and decision.covers is Coverage.DPF_CERTIFIED:
        framework = FRAMEWORK_NAMES[_FRAMEWORK_FOR[jurisdiction]]
        cure += f", or the recipient's certification under {framework}"
    return (
        False,
        Basis.MISSING,
        (f"Not lawful under {law}: {situation}. {obstacle} {cure}."),
        "without a valid transfer safeguard",
    )


def _what_was_recorded(
    jurisdiction: Jurisdiction, recipient: RecipientProfile, transfer: RecordedTransfer, place: str
) -> str:
    mechanism = transfer.mechanism
    if mechanism is M.NONE:
        if transfer.country == recipient.country:
            return (
                f"No transfer to {place} is recorded, yet {recipient.name} is based there, so "
                "the data goes there."
            )
        return "No transfer mechanism is recorded."
    if mechanism is M.NOT_RESTRICTED:
        outside = (
            f"{recipient.name} is an international organisation"
            if recipient.international_organisation
            else f"{place} is outside {_home(jurisdiction)}"
        )
        return f"The transfer is recorded as not restricted, but {outside}."
    return "The transfer is recorded as relying on an adequacy decision, but none covers it."


def judge_destination(
    jurisdiction: Jurisdiction,
    trigger: RegimeTrigger,
    flow: Flow,
    country: str,
    recorded: tuple[RecordedTransfer, ...],
    day: date,
    consent_granted: bool,
    ref: TransferReference | None = None,
) -> Assessment:
    """All of a flow's transfers to one country judged together under one regime: the best
    lawful one, or the first recorded with what is missing. With nothing recorded, the implied
    transfer with mechanism NONE. `consent_granted`: the person's transfer consent for this
    recipient and country is granted on the day."""
    if ref is None:
        return _judged(jurisdiction, trigger, flow, country, recorded, day, consent_granted)
    exporter = flow.exporter
    candidates = recorded or (RecordedTransfer(country, M.NONE),)
    best: tuple[tuple[int, bool], RecordedTransfer, tuple[bool, Basis, str, str | None]] | None
    best = None
    for transfer in candidates:
        verdict = _judge_one(
            jurisdiction, exporter, flow, transfer, candidates, day, consent_granted, ref
        )
        rank = (_PREFERENCE[verdict[1]], _AGREES.get(verdict[1]) != transfer.mechanism)
        if best is None or rank < best[0]:
            best = (rank, transfer, verdict)
    assert best is not None
    _, transfer, (lawful, basis, verdict_text, phrase) = best
    text = f"{verdict_text} {why_applies(jurisdiction, trigger, exporter)}"
    return Assessment(
        jurisdiction, trigger, exporter.country, transfer, lawful, basis, text, phrase
    )


@functools.lru_cache(maxsize=16_384)
def _judged(
    jurisdiction: Jurisdiction,
    trigger: RegimeTrigger,
    flow: Flow,
    country: str,
    recorded: tuple[RecordedTransfer, ...],
    day: date,
    consent_granted: bool,
) -> Assessment:
    """The shared reference's answers, memoised: a report judges the same flows again and
    again, and every argument is an immutable value."""
    return judge_destination(
        jurisdiction, trigger, flow, country, recorded, day, consent_granted, reference()
    )


def _consent_matters(recorded: Sequence[RecordedTransfer]) -> bool:
    return any(t.mechanism is M.DEROGATION_EXPLICIT_CONSENT for t in recorded)


def assess_flow(
    flow: Flow,
    day: date,
    lives_in: str | None,
    consented: frozenset[str] = frozenset(),
    ref: TransferReference | None = None,
    only: Collection[str] | None = None,
) -> list[Assessment]:
    """Every destination of the flow under every regime that applies to it for a person living
    in `lives_in` (None: for anyone, as a record of processing asks), regime by regime (EEA,
    then UK), destinations in order. `consented`: the countries to which the person has granted
    a transfer consent for this recipient on the day. `only`: judge just these destinations (a
    record asks about third countries alone). Empty when no regime applies."""
    out: list[Assessment] = []
    applying = regimes_applying(flow.exporter, flow.upstream, day, lives_in)
    if not applying:
        return out
    places = destinations(flow)
    if only is not None:
        places = [(country, recorded) for country, recorded in places if country in only]
    for jurisdiction, trigger in applying:
        for country, recorded in places:
            granted = _consent_matters(recorded) and country in consented
            out.append(
                judge_destination(jurisdiction, trigger, flow, country, recorded, day, granted, ref)
            )
    return out


def gaps(
    flow: Flow, jurisdiction: Jurisdiction, day: date, ref: TransferReference | None = None
) -> list[Assessment]:
    """For a dashboard: the flow's destinations that would be unlawful for a person to whom
    `jurisdiction` applies by any trigger the flow allows, one per country. A destination with
    a transfer on the explicit-consent derogation is judged per person, and is not a gap."""
    trigger = dict(regimes_applying(flow.exporter, flow.upstream, day, None)).get(jurisdiction)
    if trigger is None:
        return []
    out = []
    for country, recorded in destinations(flow):
        if _consent_matters(recorded):
            continue
        verdict = judge_destination(jurisdiction, trigger, flow, country, recorded, day, False, ref)
        if not verdict.lawful:
            out.append(verdict)
    return out


def granted_countries(
    consents: Sequence[regimes.TransferConsent], recipient_key: str, day: date
) -> frozenset[str]:
    """The countries to which the person's latest transfer consent for the recipient, on the
    day, is a grant."""
    countries = {c.country for c in consents if c.recipient == recipient_key}
    return frozenset(
        c for c in countries if regimes.transfer_consent_granted(consents, recipient_key, c, day)
    )


def by_destination(
    assessments: Sequence[Assessment], flow: Flow
) -> list[tuple[str, list[tuple[Jurisdiction, str | None]]]]:
    """For a person's sentence: the flow's destinations in order, each with the phrase of each
    regime's assessment of it (none when no regime applies)."""
    found: dict[str, list[tuple[Jurisdiction, str | None]]] = {
        country: [] for country, _ in destinations(flow)
    }
    for assessment in assessments:
        found.setdefault(assessment.country, []).append(
            (assessment.jurisdiction, assessment.phrase)
        )
    return list(found.items())
