"""The privacy notice's recipients sections (issue 16 §2, GDPR and UK GDPR Art. 13(1)(e)-(f) and
14(1)(e)-(f)): which class of the seed notice each disclosure falls in, what a class says, and
the destinations with the safeguards named."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from server.domain import notice, ropa
from server.domain.enums import (
    DisclosureFrequency,
    DisclosureGround,
    LegalBasis,
    ProcessingRole,
    RecipientKind,
)
from server.domain.enums import TransferMechanism as M
from server.domain.notice import NoticeClass as N
from server.domain.regimes import DataPrivacyFramework, DpfCertification, Jurisdiction
from server.domain.taxonomy import default_taxonomy
from server.domain.transfers import Exporter, Flow, RecipientProfile, RecordedTransfer

K = RecipientKind
R = ProcessingRole
G = DisclosureGround
DAY = date(2026, 6, 1)
AT = datetime(2026, 6, 1, 12, tzinfo=UTC)
US_MAIN = Exporter("MPN Technologies LLC", "US", frozenset({Jurisdiction.EEA, Jurisdiction.UK}))


@pytest.mark.parametrize(
    ("kind", "role", "ground", "expected"),
    [
        # Art. 13(1)(e): the recipients' categories, by what they are and why they receive.
        (K.GROUP_AFFILIATE, R.JOINT_CONTROLLER, G.GROUP_SHARING, N.GROUP),
        (K.GROUP_AFFILIATE, R.PROCESSOR, G.SERVICE_PROVISION, N.GROUP),
        (K.ACQUIRER, R.CONTROLLER, G.CORPORATE_TRANSACTION, N.ACQUIRERS),
        (K.PUBLIC_AUTHORITY, R.CONTROLLER, G.LEGAL_DUTY, N.LEGAL_DUTY),
        (K.PUBLIC_AUTHORITY, R.CONTROLLER, G.SERVICE_PROVISION, N.LEGAL_DUTY),
        (K.PUBLIC_AUTHORITY, R.CONTROLLER, G.PROTECTION_OF_RIGHTS, N.PROTECTION),
        (K.SERVICE_PROVIDER, R.PROCESSOR, G.USER_PERMISSION, N.PERMISSION),
        (K.BUSINESS_PARTNER, R.CONTROLLER, G.USER_PERMISSION, N.PERMISSION),
        (K.SERVICE_PROVIDER, R.CONTROLLER, G.PROTECTION_OF_RIGHTS, N.PROTECTION),
        (K.SERVICE_PROVIDER, R.CONTROLLER, G.LEGAL_DUTY, N.LEGAL_DUTY),
        (K.BUSINESS_PARTNER, R.CONTROLLER, G.CORPORATE_TRANSACTION, N.ACQUIRERS),
        (K.SERVICE_PROVIDER, R.PROCESSOR, G.GROUP_SHARING, N.GROUP),
        (K.ANALYTICS_PROVIDER, R.PROCESSOR, G.SERVICE_PROVISION, N.ANALYTICS),
        (K.ANALYTICS_PROVIDER, R.CONTROLLER, G.SERVICE_PROVISION, N.ANALYTICS),
        (K.SERVICE_PROVIDER, R.PROCESSOR, G.SERVICE_PROVISION, N.PROCESSORS),
        (K.SERVICE_PROVIDER, R.SUBPROCESSOR, G.SERVICE_PROVISION, N.PROCESSORS),
        (K.AI_PROVIDER, R.PROCESSOR, G.SERVICE_PROVISION, N.PROCESSORS),
        (K.SERVICE_PROVIDER, R.CONTROLLER, G.SERVICE_PROVISION, N.PARTNERS),
        (K.AI_PROVIDER, R.JOINT_CONTROLLER, G.SERVICE_PROVISION, N.PARTNERS),
        (K.BUSINESS_PARTNER, R.CONTROLLER, G.SERVICE_PROVISION, N.PARTNERS),
    ],
)
def test_each_disclosure_falls_in_one_class_of_the_seed_notice(
    kind: RecipientKind, role: ProcessingRole, ground: DisclosureGround, expected: N
) -> None:
    assert notice.class_of(kind, role, ground) is expected


def test_the_classes_are_worded_as_the_seed_notice_words_them() -> None:
    assert notice.CLASSES[N.ANALYTICS].startswith("Analytics and search engine providers")
    assert notice.CLASSES[N.ACQUIRERS].startswith("To third parties to whom we may choose to sell")
    assert notice.CLASSES[N.GROUP] == "To other companies in our group of companies"
    assert list(notice.CLASSES) == list(N)


def item(
    rid: int,
    name: str,
    kind: RecipientKind,
    role: ProcessingRole,
    ground: DisclosureGround,
    purposes: tuple[str, ...],
    basis: LegalBasis,
    country: str = "US",
    transfers: tuple[RecordedTransfer, ...] = (),
    certifications: tuple[DpfCertification, ...] = (),
) -> notice.NoticeDisclosure:
    who = ropa.Recipient(rid, name, kind, role, country)
    countries = (country, *(t.country for t in transfers))
    flow = None
    if ropa.needs_flow(who, countries):
        profile = RecipientProfile(str(rid), name, kind, country, None, certifications)
        flow = Flow(US_MAIN, profile, transfers, DisclosureFrequency.CONTINUOUS, DAY)
    recorded = tuple(dict.fromkeys((t.country, t.mechanism) for t in transfers))
    disclosure = ropa.Disclosure(
        who, purposes, ("user.name",), ("customer",), basis, None, None, recorded, flow
    )
    return notice.NoticeDisclosure(disclosure, ground)


CERTIFIED = (DpfCertification(DataPrivacyFramework.EU_US, date(2023, 7, 17)),)
ITEMS = [
    item(1, "Stratus", K.SERVICE_PROVIDER, R.PROCESSOR, G.SERVICE_PROVISION,
         ("functional.storage", "essential.service"), LegalBasis.CONTRACT,
         transfers=(RecordedTransfer("US", M.ADEQUACY_DECISION),
                    RecordedTransfer("IE", M.NOT_RESTRICTED)),
         certifications=CERTIFIED),
    item(2, "Cinder AI", K.AI_PROVIDER, R.PROCESSOR, G.SERVICE_PROVISION,
         ("essential.service",), LegalBasis.LEGITIMATE_INTERESTS,
         transfers=(RecordedTransfer("US", M.STANDARD_CONTRACTUAL_CLAUSES),
                    RecordedTransfer("US", M.UK_IDTA))),
    item(3, "Lumora UK", K.GROUP_AFFILIATE, R.JOINT_CONTROLLER, G.GROUP_SHARING,
         ("third_party_sharing.group_companies",), LegalBasis.LEGITIMATE_INTERESTS, "GB"),
    item(4, "Saffron", K.SERVICE_PROVIDER, R.SUBPROCESSOR, G.SERVICE_PROVISION,
         ("essential.service.operations.support.customer",), LegalBasis.CONTRACT, "IN",
         transfers=(RecordedTransfer("IN", M.NONE),)),
    item(5, "Pinewick", K.BUSINESS_PARTNER, R.CONTROLLER, G.USER_PERMISSION,
         ("third_party_sharing.business_partners",), LegalBasis.CONTRACT,
         transfers=(RecordedTransfer("US", M.DEROGATION_CONTRACT),)),
]  # fmt: skip


def section(named: bool = False) -> notice.NoticeSection:
    return notice.notice_section(ITEMS, DAY, default_taxonomy(), at=AT, generated=AT, named=named)


def test_only_the_classes_present_are_listed_in_the_notices_order() -> None:
    found = section()
    assert [e.notice_class for e in found.shared] == [N.PROCESSORS]
    assert [e.notice_class for e in found.circumstances] == [N.PERMISSION, N.GROUP]
    assert notice.notice_section([], DAY, default_taxonomy(), at=AT, generated=AT, named=True) == (
        notice.NoticeSection(AT, AT, True, (), (), (), (), ())
    )


def test_a_class_says_what_for_and_on_which_basis_in_a_persons_words() -> None:
    (processors,) = section().shared
    assert processors.purposes == (
        "to provide the platform",
        "to answer your support requests",
        "to store data for us",
    )
    assert processors.bases == ("legitimate interests", "the performance of a contract")
    assert processors.recipients == ()


def test_named_lists_name_the_recipients_of_each_class() -> None:
    processors = section(named=True).shared[0]
    assert processors.recipients == ("Cinder AI", "Saffron", "Stratus")
    assert section(named=True).circumstances[1].recipients == ("Lumora UK",)


def test_f_every_destination_by_name_and_each_third_country_with_its_safeguards() -> None:
    found = section()
    assert found.countries == ("India", "Ireland", "the United Kingdom", "the United States")
    assert found.transfers == (
        # Art. 13(1)(f): no safeguard is named where none makes the transfer lawful.
        notice.Destination("India", (notice.NO_SAFEGUARD,)),
        notice.Destination(
            "United States",
            (
                "the EU-US Data Privacy Framework",
                "standard contractual clauses",
                "the UK International Data Transfer Agreement",
            ),
        ),
    )
    assert found.safeguards == (
        "the EU-US Data Privacy Framework",
        "standard contractual clauses",
        "the UK International Data Transfer Agreement",
    )


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("Ashgrove & Pell", "Ashgrove & Pell"),
        ("*Star* _vendor_ [x](y)", "\\*Star\\* \\_vendor\\_ \\[x\\](y)"),
        ("two\nlines  here", "two lines here"),
        ("a|b`c`<d>~e\\", "a\\|b\\`c\\`\\<d\\>\\~e\\\\"),
    ],
)
def test_a_value_in_markdown_reads_as_itself(value: str, text: str) -> None:
    assert notice.markdown_text(value) == text


def test_the_notice_dates_itself() -> None:
    assert notice.moment_words(datetime(2026, 12, 3, 9, 5, tzinfo=UTC)) == (
        "3 December 2026, 09:05 UTC"
    )
