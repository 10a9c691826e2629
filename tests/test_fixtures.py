"""The real fixtures load cleanly, once, and give reports a reader can check by eye against
fixtures/inventory.yaml and fixtures/subjects.yaml; a typo in a fixture is an error."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from server.db.establishments import establishments_by_id
from server.db.models import DataSubject, Disclosure, Establishment, Recipient
from server.db.recipients import recipient_by_slug
from server.domain.enums import ComplianceGapKind
from server.domain.regimes import DataPrivacyFramework, DpfCertification, Jurisdiction
from server.domain.who_receives import WithheldReason
from server.services import compliance, reports
from server.services.fixtures import LoadReport, load_fixtures

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
MARKETING = "marketing.communications.email"
SUBJECTS = [
    "user-uk-priya",
    "visitor-ie-sean",
    "visitor-de-lena",
    "lead-us-marcus",
    "applicant-uk-amara",
    "applicant-ie-niamh",
]


async def loaded() -> LoadReport:
    result = await load_fixtures(FIXTURES)
    assert result.errors == [], result.summary()
    return result


async def subject_report(ref: str) -> reports.SubjectReport:
    found = await reports.who_receives_report(subject_id=None, external_ref=ref, as_of=None)
    assert found is not None, ref
    return found


def received(found: reports.SubjectReport) -> dict[str, list[str]]:
    """Each recipient's slug with the first purposes of its reasons."""
    return {
        access.recipient["slug"]: [r.disclosure.purposes[0] for r in access.reasons]
        for access in found.recipients
    }


def withheld(found: reports.SubjectReport) -> dict[tuple[str, str], WithheldReason]:
    return {(w.recipient["slug"], w.disclosure.purposes[0]): w.reason for w in found.withheld}


async def test_fixtures_load_without_errors(db: str) -> None:
    result = await loaded()
    assert len(result.created) == 31
    assert result.subjects_created == SUBJECTS
    assert result.skipped == [] and result.subjects_skipped == []
    assert await Recipient.all().count() == 31
    assert await DataSubject.all().count() == len(SUBJECTS)


async def test_second_load_creates_nothing(db: str) -> None:
    await loaded()
    again = await load_fixtures(FIXTURES)
    assert again.errors == []
    assert again.created == [] and again.subjects_created == []
    assert len(again.skipped) == 31
    assert sorted(again.subjects_skipped) == sorted(SUBJECTS)
    assert await Recipient.all().count() == 31
    assert await DataSubject.all().count() == len(SUBJECTS)


async def test_only_if_empty_skips_a_loaded_database(db: str) -> None:
    await loaded()
    again = await load_fixtures(FIXTURES, only_if_empty=True)
    assert (again.created, again.skipped, again.errors) == ([], [], [])


async def test_lead_who_withdrew_consent(db: str) -> None:
    await loaded()
    found = await subject_report("lead-us-marcus")
    held = withheld(found)
    assert held[("kestrel-post", MARKETING)] == WithheldReason.CONSENT_WITHDRAWN
    assert held[("bramblefield-crm", MARKETING)] == WithheldReason.CONSENT_WITHDRAWN
    # Neither receives the lead's data for marketing email.
    for name in ("kestrel-post", "bramblefield-crm"):
        assert MARKETING not in received(found).get(name, [])


async def test_visitor_who_never_opted_in(db: str) -> None:
    await loaded()
    found = await subject_report("visitor-de-lena")
    held = withheld(found)
    assert held[("kestrel-post", MARKETING)] == WithheldReason.NO_CONSENT
    assert held[("bramblefield-crm", MARKETING)] == WithheldReason.NO_CONSENT
    assert "kestrel-post" not in received(found)


async def test_visitor_who_opted_in_gets_the_newsletter(db: str) -> None:
    await loaded()
    found = await subject_report("visitor-ie-sean")
    assert MARKETING in received(found)["kestrel-post"]
    assert ("kestrel-post", MARKETING) not in withheld(found)
    access = next(a for a in found.recipients if a.recipient["slug"] == "kestrel-post")
    [reason] = [r for r in access.reasons if r.disclosure.purposes[0] == MARKETING]
    assert "user.contact.email" in reason.data_categories


async def test_platform_user_reaches_the_sub_subprocessor(db: str) -> None:
    await loaded()
    found = await subject_report("user-uk-priya")
    vias = {a.recipient["slug"]: [v["slug"] for v in a.via] for a in found.recipients}
    assert vias["fernhill-data-centres"] == ["coldvault-backup", "stratus-harbor-cloud"]
    assert vias["coldvault-backup"] == ["stratus-harbor-cloud"]
    assert vias["stratus-harbor-cloud"] == []
    assert found.withheld == []


async def test_applicant_is_received_by_the_hiring_system(db: str) -> None:
    """Her health data too (the adjustments she asked for), on her explicit consent (Art.
    9(2)(a)); and the calendar module is upcoming."""
    await loaded()
    found = await subject_report("applicant-uk-amara")
    [access] = found.recipients
    assert access.recipient["slug"] == "fernleaf-hire"
    assert [r.data_categories for r in access.reasons] == [
        ("user.contact", "user.correspondence", "user.job_title", "user.name", "user.workplace"),
        ("user.health_and_medical",),
    ]
    assert found.withheld == []
    [upcoming] = found.upcoming
    assert upcoming.starts_at.date().isoformat() == "2027-07-01"


async def test_applicant_without_explicit_consent_keeps_her_health_data(db: str) -> None:
    await loaded()
    found = await subject_report("applicant-ie-niamh")
    assert received(found)["fernleaf-hire"] == ["employment.recruitment"]
    [held] = found.withheld
    assert held.reason == WithheldReason.EXPLICIT_CONSENT_MISSING
    assert held.disclosure.data_categories == ["user.health_and_medical"]


async def test_past_recipients_of_the_lead_and_the_platform_user(db: str) -> None:
    """Art. 15(1)(c): the vendors that received the data and no longer do, and why."""
    await loaded()
    marcus = await subject_report("lead-us-marcus")
    ended = {(p.recipient["slug"], p.ended_because.value) for p in marcus.past}
    assert ("kestrel-post", "CONSENT_WITHDRAWN") in ended
    assert ("bramblefield-crm", "CONSENT_WITHDRAWN") in ended
    kestrel = next(p for p in marcus.past if p.recipient["slug"] == "kestrel-post")
    assert "from 10 September 2024 to 1 August 2025" in kestrel.explanation
    priya = await subject_report("user-uk-priya")
    ended = {(p.recipient["slug"], p.ended_because.value) for p in priya.past}
    assert ("postwhistle-mail", "DISCLOSURE_ENDED") in ended
    assert ("us-law-enforcement", "ONE_OFF") in ended
    assert [e.reference for e in priya.events] == ["LE-REG-2025-117"]
    # The police receive data only on request: possible, never a recipient of everyone's data.
    assert "us-law-enforcement" in {p.recipient["slug"] for p in priya.possible}
    assert "us-law-enforcement" not in received(priya)


@pytest.mark.parametrize("ref", SUBJECTS)
async def test_no_report_names_a_recipient_that_is_not_active(db: str, ref: str) -> None:
    await loaded()
    found = await subject_report(ref)
    named = [a.recipient for a in found.recipients]
    named += [v for a in found.recipients for v in a.via]
    named += [w.recipient for w in found.withheld]
    assert named, ref
    statuses = {row["slug"]: row["status"] for row in named}
    assert set(statuses.values()) == {"ACTIVE"}, statuses
    # The fixtures' suspended, offboarded and not-yet-active recipients never appear.
    for absent in (
        "larkspur-events",
        "postwhistle-mail",
        "greystone-equity",
        "mirrorgate-models",
        "tallowby-surveys",
        "vantage-ridge-holdings",
    ):
        assert absent not in statuses


async def test_every_fixture_report_lists_sorted_recipients(db: str) -> None:
    await loaded()
    for ref in SUBJECTS:
        found = await subject_report(ref)
        names = [a.recipient["name"].casefold() for a in found.recipients]
        assert names == sorted(names), ref


async def test_establishments_and_certifications(db: str) -> None:
    """The seed notice's two companies, the US one main and the exporter of every disclosure
    but a subprocessor's; dated certifications, one recipient under the EU-US framework only."""
    result = await loaded()
    assert result.establishments_created == ["mpnt-us", "mpnt-uk"]
    found = {row.slug: row for row in (await establishments_by_id()).values()}
    us, uk = found["mpnt-us"], found["mpnt-uk"]
    assert (us.name, us.country, us.targets, us.main) == (
        "MPN Technologies LLC",
        "US",
        (Jurisdiction.EEA, Jurisdiction.UK),
        True,
    )
    assert (uk.name, uk.country, uk.targets, uk.main) == (
        "MPN Technologies Limited",
        "GB",
        (Jurisdiction.EEA,),
        False,
    )
    subprocessors = set(
        await Recipient.filter(engaged_by_id__isnull=False).values_list("id", flat=True)
    )
    sentinel = await recipient_by_slug("sentinel-finch")
    assert sentinel is not None
    for recipient_id, exporter_id in await Disclosure.all().values_list(
        "recipient_id", "exporter_id"
    ):
        # Sentinel Finch's disclosure names the UK company; the others name none (the main).
        named = uk.id if recipient_id == sentinel["id"] else us.id
        assert exporter_id == (None if recipient_id in subprocessors else named)
    eu, ext = DataPrivacyFramework.EU_US, DataPrivacyFramework.UK_EXTENSION
    stratus = await recipient_by_slug("stratus-harbor-cloud")
    assert stratus is not None
    assert stratus["dpf_certifications"] == [
        DpfCertification(eu, date(2023, 7, 17)),
        DpfCertification(ext, date(2023, 10, 12)),
    ]
    cinderlight = await recipient_by_slug("cinderlight-ai")
    assert cinderlight is not None
    assert cinderlight["dpf_certifications"] == [DpfCertification(eu, date(2024, 1, 15))]
    again = await load_fixtures(FIXTURES)
    assert again.errors == [] and again.establishments_skipped == ["mpnt-us", "mpnt-uk"]
    assert await Establishment.all().count() == 2


RECIPIENT_HEAD = """
recipients:
  - slug: typo-mail
    name: Typo Mail
    kind: SERVICE_PROVIDER
    role: PROCESSOR
    country: US
"""
DISCLOSURE_HEAD = """    status: ACTIVE
    disclosures:
      - data_categories: [user.contact.email]
        subject_types: [platform_user]
        purposes: [essential.service]
        legal_basis: CONTRACT
        ground: SERVICE_PROVISION
"""
SUBJECT_HEAD = """
data_subjects:
  - external_ref: typo-person
    subject_type: platform_user
    country: GB
    data_categories: [user.name]
"""
# (where the typo is, the YAML, the misspelt key the error must name)
UNKNOWN_KEYS = {
    "recipient": (RECIPIENT_HEAD + "    status: ACTIVE\n    engagd_by: nobody\n", "engagd_by"),
    "disclosure": (
        RECIPIENT_HEAD + DISCLOSURE_HEAD + "        effective_form: 2024-01-01\n",
        "effective_form",
    ),
    "transfer": (
        RECIPIENT_HEAD
        + DISCLOSURE_HEAD
        + "        transfers:\n"
        + "          - {country: US, mechanism: UK_IDTA, refrence: IDTA 2024}\n",
        "refrence",
    ),
    "status history step": (
        RECIPIENT_HEAD + "    status_history:\n      - {status: PROPOSED, date: 2022-01-01}\n",
        "date",
    ),
    "data subject": (
        SUBJECT_HEAD
        + "    consent:\n      - {purpose: marketing.communications.email, granted: true}\n",
        "consent",
    ),
    "consent record": (
        SUBJECT_HEAD
        + "    consents:\n"
        + "      - purpose: marketing.communications.email\n"
        + "        granted: true\n"
        + "        recorded: 2024-01-01T09:00:00Z\n",
        "recorded",
    ),
    "document": (RECIPIENT_HEAD.replace("recipients:", "recipient:"), "recipient"),
    "establishment": (
        "establishments:\n  - {slug: typo-co, name: Typo Co, country: US, target: [EEA]}\n",
        "target",
    ),
    "dpf certification": (
        RECIPIENT_HEAD
        + "    dpf_certifications:\n      - {framework: EU_US, certified: 2024-01-01}\n",
        "certified",
    ),
}


@pytest.mark.parametrize("where", list(UNKNOWN_KEYS))
async def test_unknown_keys_in_a_fixture_are_errors(db: str, tmp_path: Path, where: str) -> None:
    text, typo = UNKNOWN_KEYS[where]
    path = tmp_path / "typo.yaml"
    path.write_text(text, encoding="utf-8")
    result = await load_fixtures(path)
    assert len(result.errors) == 1, result.summary()
    assert typo in result.errors[0], result.errors
    assert result.created == [] and result.subjects_created == []
    assert await Recipient.all().count() == 0
    assert await DataSubject.all().count() == 0


async def test_saffron_loop_is_the_fixtures_processor_without_a_dpa(db: str) -> None:
    """Art. 28(4): the one ACTIVE subprocessor of the fixtures with no DPA on record."""
    await loaded()
    found = await compliance.compliance_gaps([ComplianceGapKind.PROCESSOR_WITHOUT_DPA])
    assert [gap.recipient["slug"] for gap in found] == ["saffron-loop"]
    assert "Art. 28(4) GDPR" in found[0].explanation
