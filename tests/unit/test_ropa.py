"""The record of processing activities (issue 16 §1, GDPR and UK GDPR Art. 30(1)): which rows,
which columns, and how each cell is composed. Each table names the point of Art. 30(1) its
column answers."""

from __future__ import annotations

import random
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from server.domain import ropa
from server.domain.enums import (
    DisclosureFrequency,
    LegalBasis,
    ProcessingRole,
    RecipientKind,
    SpecialCategoryCondition,
    TransferMechanism,
)
from server.domain.regimes import DataPrivacyFramework, DpfCertification, Jurisdiction
from server.domain.taxonomy import default_taxonomy
from server.domain.transfers import Exporter, Flow, RecipientProfile, RecordedTransfer

M = TransferMechanism
K = RecipientKind
R = ProcessingRole
EEA, UK = Jurisdiction.EEA, Jurisdiction.UK
DAY = date(2026, 6, 1)
US_MAIN = Exporter("MPN Technologies LLC", "US", frozenset({EEA, UK}))
TAXONOMY = default_taxonomy()


def test_the_icos_thirty_headings_in_order() -> None:
    assert len(ropa.HEADINGS) == 30
    assert ropa.HEADINGS[0] == "Business function"
    assert ropa.HEADINGS[1] == "Purpose of processing"
    assert ropa.HEADINGS[5] == "Categories of recipients"
    assert ropa.HEADINGS[ropa.THIRD_COUNTRIES].startswith("Names of third countries")
    assert ropa.HEADINGS[ropa.SAFEGUARDS].startswith("Safeguards for exceptional transfers")
    assert ropa.HEADINGS[-1] == "Reasons for not adhering to policy document (if applicable)"
    assert len(set(ropa.HEADINGS)) == 30


@pytest.mark.parametrize(
    ("case", "establishments", "contact", "expected"),
    [
        ("(a) the main establishment, then the others, then the contact from the settings",
         [ropa.Establishment("MPN UK", "GB", "MPN Technologies Limited"),
          ropa.Establishment("MPN Technologies LLC", "US", "MPN Technologies LLC", main=True)],
         ropa.ControllerContact("ignored", "privacy@mpnt.example", "DPO: A. Smith", "MPN UK"),
         ropa.ControllerBlock(
             "MPN Technologies LLC (United States); other establishments: MPN UK (MPN "
             "Technologies Limited, United Kingdom); privacy@mpnt.example",
             "DPO: A. Smith", "MPN UK")),
        ("(a) no establishment on record: the name the settings give",
         [], ropa.ControllerContact("Lumora Works, Inc.", None, None, None),
         ropa.ControllerBlock("Lumora Works, Inc.", "", "")),
        ("(a) nothing known: empty, never invented", [], ropa.ControllerContact(),
         ropa.ControllerBlock("", "", "")),
    ],
)  # fmt: skip
def test_controller_block(
    case: str,
    establishments: list[ropa.Establishment],
    contact: ropa.ControllerContact,
    expected: ropa.ControllerBlock,
) -> None:
    assert ropa.controller_block(establishments, contact) == expected, case


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"Art. 6(1)(b) contract": {"B", "a"}}, "Art. 6(1)(b) contract"),
        ({"Art. 6(1)(f) legitimate interests": {"Zed"}, "Art. 6(1)(b) contract": {"b", "A"}},
         "Art. 6(1)(b) contract (A, b); Art. 6(1)(f) legitimate interests (Zed)"),
    ],
)  # fmt: skip
def test_a_cell_names_recipients_only_where_they_differ(
    values: dict[str, set[str]], expected: str
) -> None:
    assert ropa.grouped(values) == expected


@pytest.mark.parametrize(
    ("keys", "expected"),
    [
        (["user.contact.email", "user.contact", "user.name"], ["user.contact", "user.name"]),
        (["user.contact.email", "user.contact.phone_number"],
         ["user.contact.email", "user.contact.phone_number"]),
        (["user", "user.health_and_medical"], ["user"]),
    ],
)  # fmt: skip
def test_c_a_category_another_covers_is_left_out(keys: list[str], expected: list[str]) -> None:
    assert ropa.covered_keys(keys) == expected


@pytest.mark.parametrize(
    ("key", "mark"),
    [
        ("user.health_and_medical", " [special category data]"),
        ("user.criminal_history", " [criminal offence data]"),
        ("user.demographic", " [special category data]"),  # covers Art. 9(1) items
        ("user.contact.email", ""),
    ],
)
def test_c_special_category_and_criminal_offence_data_are_marked(key: str, mark: str) -> None:
    assert ropa.special_mark(key) == mark


@pytest.mark.parametrize(
    ("retention", "phrase"),
    [
        ("P35D", "35 days"),
        ("P1Y", "1 year"),
        ("p2y6m", "2 years and 6 months"),
        ("P1Y2M3D", "1 year, 2 months and 3 days"),
        ("P1W", "1 week"),
        ("PT12H", "PT12H"),  # not whole days: as written
        ("P", "P"),
        ("Until the end of talks", "Until the end of talks"),
        (None, "not recorded"),
    ],
)
def test_f_retention_in_words(retention: str | None, phrase: str) -> None:
    assert ropa.retention_phrase(retention) == phrase


@pytest.mark.parametrize(
    ("country", "third"),
    [("US", True), ("IN", True), ("CH", True), ("GI", True), ("GB", False), ("DE", False),
     ("NO", False), ("AX", False), ("RE", False)],
)  # fmt: skip
def test_e_third_countries_are_outside_the_eea_and_the_uk(country: str, third: bool) -> None:
    assert ropa.is_third_country(country) is third


@pytest.mark.parametrize(
    ("safeguard", "name", "phrase", "derogation"),
    [
        (ropa.Safeguard(EEA, M.DEROGATION_CONTRACT, False),
         "Art. 49(1)(b) derogation: performance of a contract with the person",
         "the derogation for the performance of a contract with you (Art. 49(1)(b))", True),
        (ropa.Safeguard(UK, M.DEROGATION_EXPLICIT_CONSENT, True),
         "Art. 49(1)(a) derogation: explicit consent of each person, on record",
         "the derogation for your explicit consent (Art. 49(1)(a))", True),
        (ropa.Safeguard(EEA, M.STANDARD_CONTRACTUAL_CLAUSES, True),
         "standard contractual clauses", "standard contractual clauses", False),
        (ropa.Safeguard(UK, M.UK_ADDENDUM, True),
         "UK Addendum to the standard contractual clauses",
         "the UK Addendum to the standard contractual clauses", False),
        (ropa.Safeguard(EEA, M.ADEQUACY_DECISION, True, DataPrivacyFramework.EU_US),
         "EU-US Data Privacy Framework", "the EU-US Data Privacy Framework", False),
        (ropa.Safeguard(EEA, M.ADEQUACY_DECISION, True), "adequacy decision",
         "an adequacy decision", False),
        (ropa.Safeguard(EEA, M.NONE, False), "no transfer mechanism recorded",
         "no transfer mechanism recorded", False),
    ],
)  # fmt: skip
def test_e_safeguards_are_named_and_art_49_derogations_flagged(
    safeguard: ropa.Safeguard, name: str, phrase: str, derogation: bool
) -> None:
    assert safeguard.name == name
    assert safeguard.phrase == phrase
    assert safeguard.derogation is derogation
    assert safeguard.name.startswith("Art. 49(1)(") is derogation


@pytest.mark.parametrize(
    ("recorded", "words"),
    [
        ((), ropa.NO_MECHANISM),
        ((M.NONE,), ropa.NO_MECHANISM),
        ((M.STANDARD_CONTRACTUAL_CLAUSES, M.STANDARD_CONTRACTUAL_CLAUSES, M.UK_IDTA),
         "standard contractual clauses and UK International Data Transfer Agreement"),
        ((M.NONE, M.BINDING_CORPORATE_RULES), "binding corporate rules"),
        ((M.DEROGATION_PUBLIC_INTEREST,),
         "Art. 49(1)(d) derogation: important reasons of public interest"),
        ((M.NOT_RESTRICTED,), "recorded as not restricted"),
        ((M.ADEQUACY_DECISION,), "adequacy decision"),
    ],
)  # fmt: skip
def test_e_one_destination_documents_its_recorded_safeguards(
    recorded: tuple[TransferMechanism, ...], words: str
) -> None:
    """Art. 30(1)(e): the record identifies each destination and documents the safeguards
    recorded for it, Art. 49(1) derogations flagged; it does not judge them."""
    assert ropa.documented_safeguards(recorded) == words


@pytest.mark.parametrize(
    ("home", "organisation", "recorded", "destinations"),
    [
        # The recipient's own country first, with nothing recorded for it; the EEA left out.
        ("US", False, (("IE", M.NOT_RESTRICTED), ("IN", M.BINDING_CORPORATE_RULES)),
         [("US", ropa.NO_MECHANISM), ("IN", "binding corporate rules")]),
        ("US", False, (("US", M.STANDARD_CONTRACTUAL_CLAUSES),),
         [("US", "standard contractual clauses")]),
        # Neither the EEA nor the UK is a third country...
        ("GB", False, (("DE", M.NOT_RESTRICTED),), []),
        # ...but an international organisation is a destination wherever it sits.
        ("DE", True, (), [("DE", ropa.NO_MECHANISM)]),
    ],
)  # fmt: skip
def test_e_destinations_outside_the_eea_and_the_uk(
    home: str,
    organisation: bool,
    recorded: tuple[tuple[str, TransferMechanism], ...],
    destinations: list[tuple[str, str]],
) -> None:
    assert ropa.documented_destinations(home, organisation, recorded) == destinations


def recipient(
    rid: int,
    name: str,
    kind: RecipientKind = K.SERVICE_PROVIDER,
    role: ProcessingRole = R.PROCESSOR,
    country: str = "US",
    **extra: object,
) -> ropa.Recipient:
    return ropa.Recipient(rid, name, kind, role, country, **extra)  # type: ignore[arg-type]


def disclosure(
    who: ropa.Recipient,
    purposes: tuple[str, ...],
    *,
    categories: tuple[str, ...] = ("user.name",),
    subjects: tuple[str, ...] = ("customer",),
    basis: LegalBasis = LegalBasis.CONTRACT,
    retention: str | None = "P1Y",
    condition: SpecialCategoryCondition | None = None,
    transfers: tuple[RecordedTransfer, ...] = (),
    frequency: DisclosureFrequency = DisclosureFrequency.CONTINUOUS,
    certifications: tuple[DpfCertification, ...] = (),
    exporter: Exporter | None = US_MAIN,
) -> ropa.Disclosure:
    countries = (who.country, *(t.country for t in transfers))
    flow = None
    if exporter is not None and ropa.needs_flow(who, countries):
        profile = RecipientProfile(
            str(who.id),
            who.name,
            who.kind,
            who.country,
            who.legal_name,
            certifications,
            who.international_organisation,
        )
        flow = Flow(exporter, profile, transfers, frequency, date(2024, 1, 1))
    recorded = tuple(dict.fromkeys((t.country, t.mechanism) for t in transfers))
    return ropa.Disclosure(
        who, purposes, categories, subjects, basis, retention, condition, recorded, flow
    )


HOST = recipient(1, "Stratus", legal_name="Stratus, Inc.", dpa_signed_on=date(2022, 4, 11))
BACKUP = recipient(2, "Coldvault", role=R.SUBPROCESSOR, country="DE")
GROUP = recipient(3, "Lumora UK", K.GROUP_AFFILIATE, R.JOINT_CONTROLLER, "GB", legal_name="LW Ltd")
HIRE = recipient(4, "Fernleaf", dpa_signed_on=date(2024, 9, 9))
PARTNER = recipient(5, "Pinewick", K.BUSINESS_PARTNER, R.CONTROLLER)
PATENTS = recipient(
    6, "EPO", K.PUBLIC_AUTHORITY, R.CONTROLLER, "DE",
    legal_name="European Patent Organisation", international_organisation=True,
)  # fmt: skip
CERTIFIED = (DpfCertification(DataPrivacyFramework.EU_US, date(2023, 7, 17)),)
DISCLOSURES = [
    disclosure(HOST, ("essential.service", "functional.storage"),
               categories=("user.contact", "user.contact.email", "user.name"),
               subjects=("customer", "prospect"), certifications=CERTIFIED,
               transfers=(RecordedTransfer("US", M.ADEQUACY_DECISION),
                          RecordedTransfer("IE", M.NOT_RESTRICTED))),
    disclosure(BACKUP, ("functional.storage",), retention="P35D",
               exporter=Exporter("Stratus", "US", establishment=False)),
    disclosure(GROUP, ("essential.service",), basis=LegalBasis.LEGITIMATE_INTERESTS,
               retention="As long as the customer relationship lasts"),
    disclosure(HIRE, ("employment.recruitment",), categories=("user.health_and_medical",),
               subjects=("job_applicant",), basis=LegalBasis.LEGITIMATE_INTERESTS,
               condition=SpecialCategoryCondition.EXPLICIT_CONSENT,
               transfers=(RecordedTransfer("US", M.STANDARD_CONTRACTUAL_CLAUSES),
                          RecordedTransfer("US", M.UK_IDTA))),
    disclosure(HIRE, ("employment.recruitment",), categories=("user.criminal_history",),
               subjects=("job_applicant",), basis=LegalBasis.LEGAL_OBLIGATION,
               transfers=(RecordedTransfer("US", M.STANDARD_CONTRACTUAL_CLAUSES),
                          RecordedTransfer("US", M.UK_IDTA))),
    disclosure(PARTNER, ("third_party_sharing.business_partners",),
               transfers=(RecordedTransfer("US", M.DEROGATION_CONTRACT),)),
    disclosure(PATENTS, ("third_party_sharing.legal_obligation",),
               basis=LegalBasis.LEGAL_OBLIGATION, frequency=DisclosureFrequency.ON_REQUEST),
]  # fmt: skip


def rows() -> dict[str, dict[str, str]]:
    found = ropa.processing_activities(DISCLOSURES, DAY, TAXONOMY)
    return {a.purpose: dict(zip(ropa.HEADINGS, a.cells, strict=True)) for a in found}


def test_b_one_row_per_purpose_key_in_key_order() -> None:
    activities = ropa.processing_activities(DISCLOSURES, DAY, TAXONOMY)
    assert [a.purpose for a in activities] == [
        "employment.recruitment",
        "essential.service",
        "functional.storage",
        "third_party_sharing.business_partners",
        "third_party_sharing.legal_obligation",
    ]
    assert all(len(a.cells) == 30 for a in activities)
    assert ropa.processing_activities([], DAY, TAXONOMY) == []


FILLED = {
    "Purpose of processing",
    "Name and contact details of joint controller (if applicable)",
    "Categories of individuals",
    "Categories of personal data",
    "Categories of recipients",
    "Link to contract with processor",
    ropa.HEADINGS[ropa.THIRD_COUNTRIES],
    ropa.HEADINGS[ropa.SAFEGUARDS],
    "Retention schedule (if possible)",
    "Article 6 lawful basis for processing personal data",
    "Article 9 condition for processing special category data",
    "GDPR Article 6 lawful basis for processing",
}


def test_d_a_record_at_a_past_moment_names_only_the_dpas_signed_by_then() -> None:
    """Art. 28(3): a DPA signed after the day did not bind the processor on it."""
    cells = {
        a.purpose: a.cells[ropa.PROCESSOR_CONTRACTS]
        for a in ropa.processing_activities(DISCLOSURES, date(2023, 1, 1), TAXONOMY)
    }
    assert cells["employment.recruitment"] == "Fernleaf: no DPA on record"
    assert cells["essential.service"] == "Stratus: DPA signed 2022-04-11"
    assert ropa.processor_contract(HIRE, date(2024, 9, 9)) == "Fernleaf: DPA signed 2024-09-09"
    assert ropa.processor_contract(HIRE, date(2024, 9, 8)) == "Fernleaf: no DPA on record"


def test_what_the_inventory_cannot_know_is_left_empty() -> None:
    for row in rows().values():
        assert all(value == "" for heading, value in row.items() if heading not in FILLED)


@pytest.mark.parametrize(
    ("purpose", "heading", "cell"),
    [
        # (b) the purpose by name with its key.
        ("essential.service", "Purpose of processing", "Essential for Service (essential.service)"),
        # (a) joint controllers: the activity's JOINT_CONTROLLER recipients.
        ("essential.service", "Name and contact details of joint controller (if applicable)",
         "Lumora UK (LW Ltd, United Kingdom)"),
        ("functional.storage", "Name and contact details of joint controller (if applicable)", ""),
        # (c) individuals and personal data; a covered key left out.
        ("essential.service", "Categories of individuals",
         "Customer (customer); Prospect (prospect)"),
        ("essential.service", "Categories of personal data",
         "Contact Data (user.contact); Name (user.name)"),
        ("employment.recruitment", "Categories of personal data",
         "Criminal History (user.criminal_history) [criminal offence data]; Health and Medical "
         "Data (user.health_and_medical) [special category data]"),
        # (d) recipients by kind, names in brackets; a processor's DPA beside them.
        ("essential.service", "Categories of recipients",
         "Service providers (Stratus); Group companies (Lumora UK)"),
        ("functional.storage", "Categories of recipients",
         "Service providers (Coldvault, Stratus)"),
        ("functional.storage", "Link to contract with processor",
         "Coldvault: no DPA on record; Stratus: DPA signed 2022-04-11"),
        # (e) third countries only (Ireland, Germany and the UK are not), an international
        # organisation by name; the safeguards recorded for each, Art. 49 derogations flagged.
        ("functional.storage", ropa.HEADINGS[ropa.THIRD_COUNTRIES], "United States"),
        ("essential.service", ropa.HEADINGS[ropa.SAFEGUARDS], "United States: adequacy decision"),
        ("employment.recruitment", ropa.HEADINGS[ropa.SAFEGUARDS],
         "United States: standard contractual clauses and UK International Data Transfer "
         "Agreement"),
        ("third_party_sharing.business_partners", ropa.HEADINGS[ropa.SAFEGUARDS],
         "United States: Art. 49(1)(b) derogation: performance of a contract with the person"),
        ("third_party_sharing.legal_obligation", ropa.HEADINGS[ropa.THIRD_COUNTRIES],
         "European Patent Organisation (international organisation)"),
        ("third_party_sharing.legal_obligation", ropa.HEADINGS[ropa.SAFEGUARDS],
         "European Patent Organisation (international organisation): no transfer mechanism "
         "recorded"),
        # (f) retention, each with its recipients where they differ.
        ("functional.storage", "Retention schedule (if possible)",
         "1 year (Stratus); 35 days (Coldvault)"),
        # Art. 6 and Art. 9: each value with its recipients where they differ.
        ("essential.service", "Article 6 lawful basis for processing personal data",
         "Art. 6(1)(b) contract (Stratus); Art. 6(1)(f) legitimate interests (Lumora UK)"),
        ("employment.recruitment", "Article 9 condition for processing special category data",
         "Art. 9(2)(a) explicit consent (Fernleaf); none recorded (Fernleaf)"),
        ("employment.recruitment", "GDPR Article 6 lawful basis for processing",
         "Art. 6(1)(c) legal obligation (Fernleaf); Art. 6(1)(f) legitimate interests (Fernleaf)"),
        ("essential.service", "Article 9 condition for processing special category data", ""),
    ],
)  # fmt: skip
def test_each_cell(purpose: str, heading: str, cell: str) -> None:
    assert rows()[purpose][heading] == cell


def test_e_without_an_establishment_a_transfer_is_still_documented() -> None:
    unjudged = disclosure(
        PARTNER,
        ("sales",),
        exporter=None,
        transfers=(RecordedTransfer("US", M.DEROGATION_CONTRACT),),
    )
    (row,) = ropa.processing_activities([unjudged], DAY, TAXONOMY)
    assert row.cells[ropa.THIRD_COUNTRIES] == "United States"
    assert row.cells[ropa.SAFEGUARDS] == (
        "United States: Art. 49(1)(b) derogation: performance of a contract with the person"
    )


def test_e_each_destination_names_its_recipients_where_their_safeguards_differ() -> None:
    other = recipient(7, "Amberlane")
    found = ropa.processing_activities(
        [
            disclosure(HOST, ("sales",), transfers=(RecordedTransfer("US", M.ADEQUACY_DECISION),)),
            disclosure(other, ("sales",), transfers=(RecordedTransfer("IN", M.UK_IDTA),)),
        ],
        DAY,
        TAXONOMY,
    )
    (row,) = found
    assert row.cells[ropa.THIRD_COUNTRIES] == "India; United States"
    assert row.cells[ropa.SAFEGUARDS] == (
        "India: UK International Data Transfer Agreement\n"
        "United States: adequacy decision (Stratus); no transfer mechanism recorded (Amberlane)"
    )


@pytest.mark.parametrize(
    ("cell", "held"),
    [
        ("Stratus (United States)", "Stratus (United States)"),
        ("", ""),
        ('=HYPERLINK("https://x.example","Open"): DPA signed 2024-01-15',
         '\'=HYPERLINK("https://x.example","Open"): DPA signed 2024-01-15'),
        ("+1 555 0100", "'+1 555 0100"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("\rcmd", "'\rcmd"),
        ("a = b", "a = b"),
        ("'quoted", "'quoted"),
    ],
)  # fmt: skip
def test_a_csv_cell_a_spreadsheet_would_read_as_a_formula_opens_as_text(
    cell: str, held: str
) -> None:
    assert ropa.for_csv(cell) == held


def test_a_cell_too_long_for_a_spreadsheet_is_cut_at_a_separator_and_says_so() -> None:
    short = "Service providers (A, B)"
    assert ropa.for_spreadsheet(short) == short
    names = ", ".join(f"Vendor {i:05d}" for i in range(5000))
    cut = ropa.for_spreadsheet(f"Service providers ({names})")
    assert len(cut) <= ropa.SPREADSHEET_CELL_MAX
    kept, note = cut.split(" … ")
    assert kept.endswith(tuple(f"Vendor {i:05d}" for i in range(5000)))
    assert note.startswith("(cut: ") and "the CSV export holds the whole list" in note
    left_out = int(note.removeprefix("(cut: ").split(" ")[0])
    assert len(kept) + left_out == len(f"Service providers ({names})")


# The cells gathered as `processing_activities` gathers them (per purpose, each value with the
# recipients it holds for) must read as the rules above compose them, whatever the names (equal
# ones, ones equal but for case), the values and the order the disclosures come in.
_NAMES = st.sampled_from(["Acme", "acme", "ACME", "Bolt", "bolt", "Zed", "Émile", "émile", "Ola"])
_PURPOSES = st.sampled_from(["essential.service", "functional.storage", "marketing.advertising"])
_RETENTIONS = st.sampled_from([None, "P1Y", "P35D", "as long as the account lasts"])
_TRANSFERS = st.lists(
    st.tuples(st.sampled_from(["US", "IN", "DE", "GB"]), st.sampled_from(list(M))), max_size=3
).map(lambda found: tuple(dict.fromkeys(found)))


@st.composite
def _inventories(draw: st.DrawFn) -> list[ropa.Disclosure]:
    people = [
        ropa.Recipient(
            rid,
            draw(_NAMES),
            draw(st.sampled_from(list(K))),
            draw(st.sampled_from(list(R))),
            draw(st.sampled_from(["US", "DE", "IN"])),
            international_organisation=draw(st.booleans()),
        )
        for rid in range(1, draw(st.integers(1, 6)) + 1)
    ]
    return [
        ropa.Disclosure(
            draw(st.sampled_from(people)),
            tuple(draw(st.lists(_PURPOSES, min_size=1, max_size=2, unique=True))),
            tuple(draw(st.sampled_from([("user.name",), ("user.health_and_medical",)]))),
            ("customer",),
            draw(st.sampled_from(list(LegalBasis))),
            draw(_RETENTIONS),
            draw(st.sampled_from([None, SpecialCategoryCondition.EXPLICIT_CONSENT])),
            draw(_TRANSFERS),
        )
        for _ in range(draw(st.integers(1, 12)))
    ]


@settings(max_examples=300, deadline=None)
@given(_inventories(), st.randoms(use_true_random=False))
def test_cells_read_as_the_rules_compose_them_in_any_order(
    disclosures: list[ropa.Disclosure], shuffler: random.Random
) -> None:
    found = ropa.processing_activities(disclosures, DAY, TAXONOMY)
    shuffled = list(disclosures)
    shuffler.shuffle(shuffled)
    assert ropa.processing_activities(shuffled, DAY, TAXONOMY) == found
    for activity in found:
        cells = dict(zip(ropa.HEADINGS, activity.cells, strict=True))
        of_purpose = [d for d in disclosures if activity.purpose in d.purposes]
        basis: dict[str, set[str]] = {}
        kept: dict[str, set[str]] = {}
        places: dict[str, dict[str, set[str]]] = {}
        for d in of_purpose:
            basis.setdefault(ropa.ART_6_POINTS[d.legal_basis], set()).add(d.recipient.name)
            kept.setdefault(ropa.retention_phrase(d.retention), set()).add(d.recipient.name)
            for country, words in ropa.documented_destinations(
                d.recipient.country, d.recipient.international_organisation, d.transfers
            ):
                place = ropa.destination_label(d.recipient, country)
                places.setdefault(place, {}).setdefault(words, set()).add(d.recipient.name)
        assert cells["Article 6 lawful basis for processing personal data"] == ropa.grouped(basis)
        assert cells["Retention schedule (if possible)"] == ropa.grouped(kept)
        assert activity.cells[ropa.THIRD_COUNTRIES] == "; ".join(sorted(places))
        assert activity.cells[ropa.SAFEGUARDS] == "\n".join(
            f"{place}: {ropa.grouped(places[place])}" for place in sorted(places)
        )
        listed = sorted({d.recipient for d in of_purpose}, key=lambda r: (r.name.casefold(), r.id))
        for kind in K:
            names = [r.name for r in listed if r.kind is kind]
            assert (
                f"{ropa.KIND_PLURALS[kind]} ({', '.join(names)})"
                in cells["Categories of recipients"]
            ) == bool(names)
