"""The inventory as Fides manifests (issue 16 §3): the file validates as `fides push` reads it
(fideslang's own parser), reads back with PyYAML, and the procurement import of it, into an
empty inventory with the taxonomy, gives back the same recipients and the same terms of every
current disclosure: on the fixtures, and on random inventories.

The expected side is read from the database with the ORM, not through the export's reads."""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from fideslang.default_taxonomy import DEFAULT_TAXONOMY
from fideslang.models import Taxonomy
from fideslang.parse import load_manifests_into_taxonomy
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from tortoise import Tortoise

from server.db.models import Disclosure, Recipient, StatusChange
from server.domain.disclosure_terms import PURPOSES_MAX
from server.domain.enums import (
    DisclosureFrequency,
    DisclosureGround,
    LegalBasis,
    ProcessingRole,
    RecipientKind,
    RecipientStatus,
    SpecialCategoryCondition,
    TransferMechanism,
)
from server.domain.fides import SPECIAL_CONDITIONS
from server.domain.imports import ImportFormat, ImportReport
from server.domain.taxonomy import extensions
from server.services import clock, import_sources
from server.services.fides_export import DUMPER, fides_manifest, manifest_yaml
from server.services.fixtures import load_fixtures
from server.services.imports import ImportRequest, import_inventory
from tests.conftest import INVENTORY_TABLES

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
ACTIVE = RecipientStatus.ACTIVE

# What the import gives each recipient, and the terms it gives each disclosure.
Details = tuple[str, str | None, str | None, str | None, str, str, str | None]
Terms = tuple[frozenset[str], frozenset[str], str, str | None]


@dataclass
class View:
    recipients: dict[str, Details]
    # (slug, terms) -> the purposes of each disclosure with those terms, and their retentions.
    purposes: dict[tuple[str, Terms], list[frozenset[str]]]
    retentions: dict[tuple[str, Terms], set[str | None]]


def _split(text: str | None) -> frozenset[str]:
    return frozenset(text.split(",")) if text else frozenset()


async def inventory_view(at: datetime | None = None, *, exported_only: bool = True) -> View:
    """The recipients a manifest at `at` holds (ACTIVE then with a disclosure in effect on its
    day, and their engagers up the chain) with their details, and those disclosures' terms.
    Without `exported_only`: every recipient and disclosure (what an import wrote)."""
    moment = at or clock.now()
    day = moment.astimezone(UTC).date()
    recipients = {r.id: r for r in await Recipient.all()}
    status: dict[int, RecipientStatus] = {}
    for change in await StatusChange.all().order_by("at", "id"):
        if change.at <= moment:
            status[change.recipient_id] = change.to_status
    disclosures = await Disclosure.all().order_by("id")
    if exported_only:
        disclosures = [
            d
            for d in disclosures
            if d.effective_from <= day
            and (d.effective_to is None or d.effective_to > day)
            and status.get(d.recipient_id) == ACTIVE
        ]
    held = {d.recipient_id for d in disclosures} if exported_only else set(recipients)
    for rid in list(held):
        engager = recipients[rid].engaged_by_id
        while engager is not None and engager not in held:
            held.add(engager)
            engager = recipients[engager].engaged_by_id
    view = View({}, defaultdict(list), defaultdict(set))
    for rid in held:
        r = recipients[rid]
        engager = recipients[r.engaged_by_id].slug if r.engaged_by_id else None
        view.recipients[r.slug] = (
            r.name,
            r.legal_name,
            r.description,
            r.privacy_policy_url,
            r.kind.value,
            r.role.value,
            engager,
        )
    for d in disclosures:
        condition = d.special_category_condition.value if d.special_category_condition else None
        terms = (_split(d.categories_text), _split(d.subject_types_text), d.legal_basis.value)
        key = (recipients[d.recipient_id].slug, (*terms, condition))
        view.purposes[key].append(_split(d.purposes_text))
        view.retentions[key].add(d.retention)
    return view


async def empty_inventory(db_url: str) -> None:
    """Everything but the taxonomy gone: the empty database an import starts from."""
    conn = Tortoise.get_connection("default")
    if db_url.startswith("sqlite"):
        # RESTRICT is checked row by row: the chains go before their links.
        await conn.execute_script("UPDATE recipient SET engaged_by_id = NULL")
        for table in [t for t in INVENTORY_TABLES if t != "establishment"] + ["establishment"]:
            await conn.execute_script(f"DELETE FROM {table}")
    else:
        await conn.execute_script(f"TRUNCATE {', '.join(INVENTORY_TABLES)} CASCADE")
    assert await Recipient.all().count() == 0


async def import_manifest(content: bytes) -> ImportReport:
    return await import_inventory(
        ImportRequest(ImportFormat.FIDES_YAML, content, dry_run=False, default_country="FR"),
        actor="round-trip",
        role=None,
    )


def fides_push_reads(content: bytes) -> Taxonomy:
    """What `fides push` does with a manifest file: PyYAML, then fideslang's parser."""
    document = yaml.safe_load(content)
    assert isinstance(document, dict)
    return load_manifests_into_taxonomy(document)


async def round_trip(db_url: str, at: datetime | None = None) -> tuple[View, View, bytes]:
    """The inventory's view at `at`, its manifest, and the view of that manifest imported into
    an empty inventory."""
    expected = await inventory_view(at)
    content = await fides_manifest(as_of=at)
    await empty_inventory(db_url)
    report = await import_manifest(content)
    assert report.problems == [], report.problems
    assert report.applied and report.created == len(expected.recipients)
    return expected, await inventory_view(exported_only=False), content


def assert_same(expected: View, imported: View, *, exact: bool) -> None:
    """The same recipients with the same details (their country aside), and per recipient the
    same purposes for the same categories, subjects, basis and condition: declarations with the
    same terms are one disclosure after the import (cut at PURPOSES_MAX purposes). `exact`: no
    two current disclosures of a recipient share their terms, so each comes back as itself."""
    assert imported.recipients == expected.recipients
    assert set(imported.purposes) == set(expected.purposes)
    for key, purposes in expected.purposes.items():
        union = frozenset().union(*purposes)
        back = imported.purposes[key]
        assert frozenset().union(*back) == union, key
        assert len(back) == math.ceil(len(union) / PURPOSES_MAX), key
        retentions = {r for r in expected.retentions[key] if r}
        assert imported.retentions[key] == {min(retentions) if retentions else None}, key
        if exact:
            assert back == purposes, key


async def test_the_fixtures_manifest_is_what_fides_push_reads(db: str) -> None:
    assert (await load_fixtures(FIXTURES)).errors == []
    content = await fides_manifest()
    taxonomy = fides_push_reads(content)
    expected = await inventory_view()
    assert sorted(s.fides_key for s in taxonomy.system) == sorted(expected.recipients)
    # Our extensions, and only they, declared beside the systems; every term a declaration
    # names is a Fides default or one of them, and so is every extension's parent.
    ours = extensions()
    declared = {
        "data_category": {t.fides_key for t in taxonomy.data_category},
        "data_use": {t.fides_key for t in taxonomy.data_use},
        "data_subject": {t.fides_key for t in taxonomy.data_subject},
    }
    assert declared == {
        "data_category": set(ours.categories),
        "data_use": set(ours.purposes),
        "data_subject": set(ours.subject_types),
    }
    known = {
        "data_category": declared["data_category"]
        | {t.fides_key for t in DEFAULT_TAXONOMY.data_category},
        "data_use": declared["data_use"] | {t.fides_key for t in DEFAULT_TAXONOMY.data_use},
        "data_subject": declared["data_subject"]
        | {t.fides_key for t in DEFAULT_TAXONOMY.data_subject},
    }
    assert not any(
        t.is_default for t in (*taxonomy.data_category, *taxonomy.data_use, *taxonomy.data_subject)
    )
    assert {t.parent_key for t in taxonomy.data_category} <= known["data_category"]
    assert {t.parent_key for t in taxonomy.data_use} <= known["data_use"]
    for system in taxonomy.system:
        for declaration in system.privacy_declarations:
            assert set(declaration.data_categories) <= known["data_category"]
            assert declaration.data_use in known["data_use"]
            assert set(declaration.data_subjects) <= known["data_subject"]
        # One declaration per purpose of each disclosure, named apart within the system.
        names = [d.name for d in system.privacy_declarations]
        assert len(names) == len(set(names))
        disclosed = [
            purposes
            for (slug, _), each in expected.purposes.items()
            if slug == system.fides_key
            for purposes in each
        ]
        assert {d.data_use for d in system.privacy_declarations} == set().union(*disclosed)
        assert len(names) == sum(len(purposes) for purposes in disclosed)


async def test_the_fixtures_manifest_says_what_fides_has_fields_for(db: str) -> None:
    assert (await load_fixtures(FIXTURES)).errors == []
    systems = {s["fides_key"]: s for s in yaml.safe_load(await fides_manifest())["system"]}
    cloud = systems["stratus-harbor-cloud"]
    assert (cloud["system_type"], cloud["responsibility"]) == ("Service provider", ["Processor"])
    assert cloud["legal_name"] == "Stratus Harbor Cloud Services, Inc."
    assert cloud["privacy_policy"] == "https://stratus-harbor.example/legal/privacy"
    # The US is outside the EEA and the UK; the DPF-covered transfers are adequacy (Art. 45).
    assert (cloud["does_international_transfers"], cloud["legal_basis_for_transfers"]) == (
        True,
        ["Adequacy Decision"],
    )
    # The chain of sub-processors (Art. 28(4)) as data flows between systems.
    assert cloud["egress"] == [{"fides_key": "coldvault-backup", "type": "system"}]
    backup = systems["coldvault-backup"]
    assert backup["responsibility"] == ["Sub-Processor"]
    assert backup["ingress"] == [{"fides_key": "stratus-harbor-cloud", "type": "system"}]
    assert backup["does_international_transfers"] is False
    # A joint controller (Art. 26): a Controller with its party named.
    joint = systems["lumora-works-limited"]
    assert (joint["responsibility"], joint["joint_controller_info"]) == (
        ["Controller"],
        joint["legal_name"],
    )
    assert "joint_controller_info" not in systems["brightwater-partners"]  # a controller
    # The Art. 9(2)(a) condition of the fixtures' one special-category disclosure.
    special = [
        d
        for s in systems.values()
        for d in s["privacy_declarations"]
        if d.get("special_category_legal_basis")
    ]
    assert special and all(
        d["special_category_legal_basis"] == "Explicit consent"
        and d["processes_special_category_data"]
        for d in special
    )


async def test_the_fixtures_come_back_from_their_manifest(db: str) -> None:
    assert (await load_fixtures(FIXTURES)).errors == []
    expected, imported, content = await round_trip(db)
    assert len(expected.recipients) == 22
    # No two current disclosures of one fixture recipient share their terms: each comes back.
    assert_same(expected, imported, exact=True)
    rows = await Recipient.all()
    assert {r.status for r in rows} == {RecipientStatus.PROPOSED} and {r.country for r in rows} == {
        "FR"
    }
    # The same manifest again changes nothing.
    again = await import_manifest(content)
    assert (again.created, again.updated, again.unchanged, again.problems) == (0, 0, 22, [])
    # Nothing is ACTIVE now: a manifest of no systems, which imports as nothing.
    empty = await fides_manifest()
    assert fides_push_reads(empty).system == []
    nothing = await import_manifest(empty)
    assert (nothing.applied, nothing.created, nothing.problems) == (True, 0, [])


@pytest.mark.parametrize(
    ("as_of", "present", "absent"),
    [
        (datetime(2023, 6, 1, tzinfo=UTC), "greystone-equity", "larkspur-events"),
        (datetime(2025, 1, 1, tzinfo=UTC), "larkspur-events", "greystone-equity"),
    ],
)
async def test_a_past_manifest_holds_the_recipients_active_then(
    db: str, as_of: datetime, present: str, absent: str
) -> None:
    assert (await load_fixtures(FIXTURES)).errors == []
    now = {s.fides_key for s in fides_push_reads(await fides_manifest()).system}
    assert present not in now and absent not in now  # offboarded and suspended today
    expected, imported, content = await round_trip(db, as_of)
    systems = {s.fides_key for s in fides_push_reads(content).system}
    assert present in systems and absent not in systems
    assert_same(expected, imported, exact=True)


# ---------------------------------------------------------------------------------------------
# The manifest's YAML is yaml.safe_dump's (with the same emitter), without its representer.

# Names YAML would read as something else, or that need quoting: valid recipient names.
NAMES = ["yes", "null", "Acme: Ltd", "O'Brien & Co", "#1 Hosting", "- Dash", "Ünïcode GmbH", "42"]
# And text no name may hold: line breaks YAML folds, a byte-order mark, characters beyond the BMP.
ODD = ["", "~", "2024-01-01", "1.0", "a\nb", " lead", "x\u2028y", "\x85", "\ufeffbom", "😀"]
SCALARS = st.one_of(st.text(max_size=30), st.booleans(), st.sampled_from(NAMES + ODD))
DOCUMENTS = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=30,
)


def safe_dump(document: Any) -> str:
    """yaml.safe_dump with the manifest's emitter (libyaml's where PyYAML has it)."""
    return yaml.dump(document, Dumper=DUMPER, sort_keys=False, allow_unicode=True, width=100)


@settings(max_examples=300)
@given(document=st.dictionaries(st.text(max_size=12), DOCUMENTS, max_size=5))
def test_the_manifest_yaml_is_what_safe_dump_writes(document: dict[str, Any]) -> None:
    text = manifest_yaml(document)
    assert text == safe_dump(document)
    assert yaml.safe_load(text) == document


async def test_the_fixtures_manifest_is_safe_dumps_text(db: str) -> None:
    assert (await load_fixtures(FIXTURES)).errors == []
    content = (await fides_manifest()).decode("utf-8")
    header, body = content.split("\n", 1)
    assert header.startswith("# ") and yaml.safe_load(header) is None
    assert body == safe_dump(yaml.safe_load(body))


# ---------------------------------------------------------------------------------------------
# Random inventories, in the fixtures' own format and loaded by their loader.

ORDINARY = [
    "user.contact.email",
    "user.name",
    "user.device.ip_address",
    "user.account",
    "user.financial",
    "user.correspondence",  # ours
    "user.behavior.clickstream",  # ours
    "user.privacy_preferences.marketing",  # ours
]
SPECIAL = ["user.health_and_medical", "user.biometric", "user.demographic.sex_life"]
SUBJECTS = ["customer", "employee", "visitor", "platform_user", "customer_contact"]
PURPOSES = [
    "essential.service",
    "essential.service.operations.support.customer",  # ours
    "marketing.communications.email",
    "analytics.reporting",
    "functional.storage",
    "third_party_sharing.group_companies",  # ours
    "third_party_sharing.advisers",  # ours
    "functional.service.improve.statistics",  # ours
    "personalize",
    "collect",
    "train_ai_system",
    "employment.recruitment",
]
HISTORIES = [
    [ACTIVE],
    [ACTIVE],
    [ACTIVE],
    [RecipientStatus.PROPOSED],
    [RecipientStatus.APPROVED],
    [ACTIVE, RecipientStatus.SUSPENDED],
    [ACTIVE, RecipientStatus.OFFBOARDED],
    [ACTIVE, RecipientStatus.SUSPENDED, ACTIVE],
]
STARTED = date(2024, 2, 1)


def _history(statuses: list[RecipientStatus]) -> list[dict[str, Any]]:
    return [
        {"status": s.value, "at": (STARTED + timedelta(days=200 * i)).isoformat()}
        for i, s in enumerate(statuses)
    ]


@st.composite
def disclosures(draw: st.DrawFn, earlier: list[dict[str, Any]]) -> dict[str, Any]:
    if earlier and draw(st.booleans()):
        # The terms of an earlier disclosure with other purposes: one disclosure once imported.
        base = draw(st.sampled_from(earlier))
        terms = {k: base[k] for k in ("data_categories", "subject_types", "legal_basis")}
        if base.get("special_category_condition"):
            terms["special_category_condition"] = base["special_category_condition"]
    else:
        terms = {
            "data_categories": draw(st.lists(st.sampled_from(ORDINARY), min_size=1, max_size=4)),
            "subject_types": draw(st.lists(st.sampled_from(SUBJECTS), min_size=1, max_size=3)),
            "legal_basis": draw(st.sampled_from(LegalBasis)).value,
        }
        if draw(st.booleans()):
            terms["data_categories"] = [*terms["data_categories"], draw(st.sampled_from(SPECIAL))]
            terms["special_category_condition"] = draw(
                st.sampled_from(sorted(SPECIAL_CONDITIONS))
            ).value
        terms = {k: list(dict.fromkeys(v)) if isinstance(v, list) else v for k, v in terms.items()}
    today = clock.today()
    end = draw(st.sampled_from([None, None, date(2025, 1, 1), today + timedelta(days=30)]))
    return {
        **terms,
        "purposes": list(
            dict.fromkeys(draw(st.lists(st.sampled_from(PURPOSES), min_size=1, max_size=7)))
        ),
        "ground": draw(st.sampled_from(DisclosureGround)).value,
        "retention": draw(st.sampled_from([None, "P30D", "P1Y", "Until the contract ends"])),
        "frequency": draw(st.sampled_from(DisclosureFrequency)).value,
        "effective_from": STARTED.isoformat(),
        "effective_to": end.isoformat() if end else None,
        "transfers": draw(
            st.sampled_from(
                [
                    [],
                    [{"country": "US", "mechanism": TransferMechanism.ADEQUACY_DECISION.value}],
                    [{"country": "IN", "mechanism": TransferMechanism.NONE.value}],
                ]
            )
        ),
    }


@st.composite
def inventories(draw: st.DrawFn) -> dict[str, Any]:
    recipients: list[dict[str, Any]] = []
    for i in range(draw(st.integers(1, 6))):
        engagers = [r["slug"] for r in recipients if r["role"] in ("PROCESSOR", "SUBPROCESSOR")]
        roles = [r for r in ProcessingRole if r != ProcessingRole.SUBPROCESSOR or engagers]
        role = draw(st.sampled_from(roles))
        made: list[dict[str, Any]] = []
        for _ in range(draw(st.integers(0, 3))):
            made.append(draw(disclosures(made)))
        recipient = {
            "slug": f"recipient-{i}",
            "name": draw(st.sampled_from(NAMES)),
            "legal_name": draw(st.sampled_from([None, *NAMES])),
            "description": draw(st.sampled_from([None, "Hosts: the\nservice", "yes"])),
            "kind": draw(st.sampled_from(RecipientKind)).value,
            "role": role.value,
            "country": draw(st.sampled_from(["DE", "GB", "US", "IN"])),
            "privacy_policy_url": draw(st.sampled_from([None, f"https://r{i}.example/privacy"])),
            "status_history": _history(draw(st.sampled_from(HISTORIES))),
            "disclosures": [{k: v for k, v in d.items() if v is not None} for d in made],
        }
        if role in (ProcessingRole.PROCESSOR, ProcessingRole.SUBPROCESSOR):
            recipient["dpa_signed_on"] = STARTED.isoformat()
        if role == ProcessingRole.SUBPROCESSOR:
            recipient["engaged_by"] = draw(st.sampled_from(engagers))
        recipients.append(recipient)
    return {"recipients": recipients}


@settings(
    max_examples=20,
    deadline=None,
    # Each example empties the database the fixture opened and fills it again.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(inventory=inventories())
async def test_a_random_inventory_comes_back_from_its_manifest(
    db: str, tmp_path: Path, inventory: dict[str, Any]
) -> None:
    await empty_inventory(db)
    path = tmp_path / "inventory.yaml"
    path.write_text(yaml.safe_dump(inventory, sort_keys=False), encoding="utf-8")
    loaded = await load_fixtures(path)
    assert loaded.errors == [], loaded.errors
    expected, imported, content = await round_trip(db)
    fides_push_reads(content)
    assert_same(expected, imported, exact=False)
    # What the examples cover (--hypothesis-show-statistics).
    with_terms = {slug for slug, _ in expected.purposes}
    count = len(expected.recipients)
    event(f"systems: {'3 or more' if count >= 3 else count}")
    event(f"disclosures sharing terms: {any(len(p) > 1 for p in expected.purposes.values())}")
    event(f"an engager receiving nothing: {bool(set(expected.recipients) - with_terms)}")
    event(f"a special-category condition: {any(t[3] for _, t in expected.purposes)}")


# ---------------------------------------------------------------------------------------------
# What the import reads that only the export used to leave out.


def _system(**given: Any) -> dict[str, Any]:
    return {
        "fides_key": "sub_one",
        "name": "Sub One",
        "system_type": "Service",
        "privacy_declarations": [],
        **given,
    }


def test_a_sub_processor_is_engaged_by_the_system_it_receives_from() -> None:
    manifest = {
        "system": [
            _system(
                responsibility=["Sub-Processor"],
                ingress=[
                    {"fides_key": "host.eu", "type": "system"},
                    {"fides_key": "other", "type": "system"},
                    {"fides_key": "user", "type": "user"},
                ],
            ),
            _system(fides_key="processor", responsibility=["Processor"], ingress=[
                {"fides_key": "host.eu", "type": "system"}
            ]),
        ]
    }  # fmt: skip
    plan = import_sources.plan_fides(yaml.safe_dump(manifest).encode(), "DE")
    sub, processor = plan.recipients
    assert (sub.role, sub.engaged_by) == (ProcessingRole.SUBPROCESSOR, "host-eu")
    assert any(n.column == "ingress" and "host.eu" in n.message for n in plan.notes)
    # Only a sub-processor is engaged: another system's ingress is a data flow, no more.
    assert (processor.role, processor.engaged_by) == (ProcessingRole.PROCESSOR, None)


@pytest.mark.parametrize(
    ("system_type", "kind"),
    [
        ("Analytics provider", RecipientKind.ANALYTICS_PROVIDER),
        ("AI provider", RecipientKind.AI_PROVIDER),
        ("public authority", RecipientKind.PUBLIC_AUTHORITY),
        ("Service", RecipientKind.SERVICE_PROVIDER),
        ("Application", RecipientKind.SERVICE_PROVIDER),
    ],
)
def test_a_systems_type_is_its_kind_when_it_names_one(
    system_type: str, kind: RecipientKind
) -> None:
    manifest = {"system": [_system(system_type=system_type, responsibility=["Controller"])]}
    (entry,) = import_sources.plan_fides(yaml.safe_dump(manifest).encode(), "DE").recipients
    assert entry.kind == kind


def test_declarations_of_many_uses_with_the_same_terms_are_cut_at_the_purposes_cap() -> None:
    uses = [*PURPOSES, "marketing", "analytics"]
    assert len(uses) > PURPOSES_MAX
    manifest = {
        "system": [
            _system(
                responsibility=["Controller"],
                joint_controller_info="Sub One Ltd",
                privacy_declarations=[
                    {
                        "name": f"Declaration {i}",
                        "data_use": use,
                        "data_categories": ["user.name"],
                        "data_subjects": ["customer"],
                        "legal_basis_for_processing": "Consent",
                    }
                    for i, use in enumerate(uses)
                ],
            )
        ]
    }
    plan = import_sources.plan_fides(yaml.safe_dump(manifest).encode(), "DE")
    (entry,) = plan.recipients
    assert entry.role == ProcessingRole.JOINT_CONTROLLER
    specs = [d.spec for d in entry.disclosures]
    assert [s.purposes for s in specs if s] == [uses[:PURPOSES_MAX], uses[PURPOSES_MAX:]]
    assert plan.problems == []


def test_declarations_without_names_are_a_problem_not_a_crash() -> None:
    """fideslang sorts a system's declarations by name: without names it raises TypeError."""
    declaration = {
        "data_use": "essential.service",
        "data_categories": ["user.name"],
        "data_subjects": ["customer"],
        "legal_basis_for_processing": "Contract",
    }
    manifest = {"system": [_system(privacy_declarations=[declaration, dict(declaration)])]}
    plan = import_sources.plan_fides(yaml.safe_dump(manifest).encode(), "DE")
    assert plan.recipients == []
    assert [(p.sheet, p.column) for p in plan.problems] == [
        ("system sub_one", "privacy_declarations")
    ]
    assert "give every privacy declaration a name" in plan.problems[0].message


async def test_art_10_data_leaves_without_its_condition_and_is_refused_back(
    db: str, tmp_path: Path
) -> None:
    """fideslang has no Art. 10 condition: the declaration says nothing of it, and the import
    refuses to record criminal-offence data without one (Art. 10), naming the field."""
    record = {
        "recipients": [
            {
                "slug": "vetting-bureau",
                "name": "Vetting Bureau",
                "kind": RecipientKind.SERVICE_PROVIDER.value,
                "role": ProcessingRole.CONTROLLER.value,
                "country": "GB",
                "status_history": _history([ACTIVE]),
                "disclosures": [
                    {
                        "data_categories": ["user.criminal_history"],
                        "subject_types": ["employee"],
                        "purposes": ["employment.recruitment"],
                        "legal_basis": LegalBasis.LEGAL_OBLIGATION.value,
                        "ground": DisclosureGround.LEGAL_DUTY.value,
                        "special_category_condition": (
                            SpecialCategoryCondition.CRIMINAL_DATA_AUTHORISED_BY_LAW.value
                        ),
                        "effective_from": STARTED.isoformat(),
                    }
                ],
            }
        ]
    }
    path = tmp_path / "inventory.yaml"
    path.write_text(yaml.safe_dump(record), encoding="utf-8")
    assert (await load_fixtures(path)).errors == []
    content = await fides_manifest()
    (system,) = fides_push_reads(content).system
    (declaration,) = system.privacy_declarations
    assert declaration.special_category_legal_basis is None
    assert declaration.processes_special_category_data is False
    await empty_inventory(db)
    report = await import_manifest(content)
    assert not report.applied and await Recipient.all().count() == 0
    assert [
        (p.column, "CRIMINAL_DATA_AUTHORISED_BY_LAW" in p.message) for p in report.problems
    ] == [("Special category condition", True)]
