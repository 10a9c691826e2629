"""A synthetic inventory of a large company, for `make bench`.

By default 10,000 recipients (a tenth of them subprocessors, chains up to three deep), about
100,000 disclosures over the whole taxonomy and 100,000 data subjects, shaped so that a typical
subject's report has 50 to 500 reasons. Rows are written in bulk straight into a migrated
database (SQLite file or PostgreSQL), which is much faster than the API and not what is measured.

With `histories` (the default) the facts have pasts (issue 12): recipients move through their
lifecycle (some suspended for a while, some offboarded), many subjects have earlier versions
(other categories, now and then another type), consents are granted and later withdrawn,
disclosures have ended or start later, about a tenth are ON_REQUEST (public authorities) with
one-off events for some subjects, and disclosures of special-category data carry an Art. 9 or
Art. 10 condition. Those draws come from a second seeded generator, so that `histories=False`
builds the inventory as it was before them, from the same draws: the same recipients,
disclosures and subjects, without their pasts.

The organisation has three establishments (issue 13): a US main one targeting the EEA and the
UK, a UK company targeting the EEA and an Irish one targeting the UK; each disclosure names one
as its exporter (a subprocessor's names none). Recipients hold dated DPF certifications, group
affiliates and some subprocessors a corporate group, and transfers carry signing days and, for
the limited decisions, whether they are within scope. These draws come from a third generator,
so that the rest stays as it was.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import orjson

from server.domain.taxonomy import (
    Taxonomy,
    default_taxonomy,
    is_same_or_descendant,
    is_sensitive,
    keys_match,
)
from server.domain.validation import search_text

KINDS = [
    ("SERVICE_PROVIDER", 50),
    ("AI_PROVIDER", 5),
    ("ANALYTICS_PROVIDER", 15),
    ("BUSINESS_PARTNER", 15),
    ("GROUP_AFFILIATE", 5),
    ("ACQUIRER", 2),
    ("PUBLIC_AUTHORITY", 8),
]
STATUSES = [("ACTIVE", 80), ("SUSPENDED", 5), ("OFFBOARDED", 5), ("APPROVED", 4),
            ("UNDER_REVIEW", 3), ("PROPOSED", 2), ("REJECTED", 1)]  # fmt: skip
BASES = [("CONTRACT", 45), ("LEGITIMATE_INTERESTS", 35), ("CONSENT", 12),
         ("LEGAL_OBLIGATION", 6), ("VITAL_INTERESTS", 1), ("PUBLIC_TASK", 1)]  # fmt: skip
GROUNDS = ["SERVICE_PROVISION", "USER_PERMISSION", "CORPORATE_TRANSACTION", "GROUP_SHARING",
           "LEGAL_DUTY", "PROTECTION_OF_RIGHTS"]  # fmt: skip
COUNTRIES = [("US", 30), ("GB", 15), ("IE", 10), ("DE", 10), ("FR", 6), ("NL", 6), ("IN", 5),
             ("JP", 3), ("CA", 3), ("AU", 3), ("SG", 3), ("CH", 3), ("BR", 2), ("KR", 1)]  # fmt: skip
MECHANISMS = [("STANDARD_CONTRACTUAL_CLAUSES", 40), ("ADEQUACY_DECISION", 20),
              ("NOT_RESTRICTED", 15), ("UK_ADDENDUM", 10), ("UK_IDTA", 5),
              ("BINDING_CORPORATE_RULES", 5), ("DEROGATION_EXPLICIT_CONSENT", 2), ("NONE", 3)]  # fmt: skip
# The organisation's establishments: (id, slug, name, country, targets, main), and how often each
# exports a disclosure.
ESTABLISHMENTS = [(1, "bench-us", "Bench Corp, Inc.", "US", "EEA,UK", True),
                  (2, "bench-uk", "Bench Corp Limited", "GB", "EEA", False),
                  (3, "bench-ie", "Bench Corp Ireland DAC", "IE", "UK", False)]  # fmt: skip
EXPORTER_WEIGHTS = [70, 20, 10]
# A transfer's later draws: the 2010 clauses and derogations now and then.
LATER_MECHANISMS = [("STANDARD_CONTRACTUAL_CLAUSES_2010", 3), ("DEROGATION_CONTRACT", 2),
                    ("DEROGATION_PUBLIC_INTEREST", 1)]  # fmt: skip
# Whose data: a few kinds of people are most of an inventory.
SUBJECT_WEIGHTS = {"platform_user": 3, "visitor": 2, "customer_contact": 2, "marketing_lead": 2}


# Art. 9(2) conditions a disclosure of special-category data gives (Art. 10 data: authorised by
# law), by how often an inventory holds them.
ART9_CONDITIONS = [("EMPLOYMENT_SOCIAL_SECURITY", 30), ("HEALTH_OR_SOCIAL_CARE", 20),
                   ("EXPLICIT_CONSENT", 10), ("LEGAL_CLAIMS", 10), ("SUBSTANTIAL_PUBLIC_INTEREST", 10),
                   ("VITAL_INTERESTS", 5), ("ARCHIVING_RESEARCH_STATISTICS", 5),
                   ("PUBLIC_HEALTH", 5), ("MADE_PUBLIC_BY_SUBJECT", 3), ("NOT_FOR_PROFIT_BODY", 2)]  # fmt: skip
ART10_ROOT = "user.criminal_history"
DAY = timedelta(days=1)


def _pick(rng: random.Random, weighted: list[tuple[str, int]]) -> str:
    return rng.choices([k for k, _ in weighted], [w for _, w in weighted])[0]


@dataclass
class Inventory:
    establishments: list[tuple[Any, ...]] = field(default_factory=list)
    recipients: list[dict[str, Any]] = field(default_factory=list)
    status_changes: list[tuple[Any, ...]] = field(default_factory=list)
    disclosures: list[tuple[Any, ...]] = field(default_factory=list)
    disclosure_categories: list[tuple[int, str]] = field(default_factory=list)
    disclosure_subject_types: list[tuple[int, str]] = field(default_factory=list)
    disclosure_purposes: list[tuple[int, str, int]] = field(default_factory=list)
    transfers: list[tuple[Any, ...]] = field(default_factory=list)
    subjects: list[tuple[Any, ...]] = field(default_factory=list)
    subject_categories: list[tuple[int, str]] = field(default_factory=list)
    consents: list[tuple[Any, ...]] = field(default_factory=list)
    subject_versions: list[tuple[Any, ...]] = field(default_factory=list)
    disclosure_events: list[tuple[Any, ...]] = field(default_factory=list)


class Weights:
    """Zipf-like popularity over the taxonomy: a few categories and purposes are everywhere."""

    def __init__(self, taxonomy: Taxonomy, rng: random.Random) -> None:
        user_keys = [k for k in taxonomy.categories if k.startswith("user.")]
        leaves = [k for k in user_keys if not taxonomy.children_of(k)]
        rng.shuffle(leaves)
        self.categories = leaves
        self.category_weights = [1.0 / (i + 1) ** 0.25 for i in range(len(leaves))]
        # Now and then a disclosure names a whole branch (user.contact): rule 4's other direction.
        self.branches = [k for k in user_keys if taxonomy.children_of(k)]
        purposes = list(taxonomy.purposes)
        rng.shuffle(purposes)
        self.purposes = purposes
        self.purpose_weights = [1.0 / (i + 1) for i in range(len(purposes))]
        types = list(taxonomy.subject_types)
        self.subject_types = types
        self.subject_weights = [SUBJECT_WEIGHTS.get(t, 1) for t in types]

    def categories_sample(self, rng: random.Random, n: int) -> list[str]:
        return list(dict.fromkeys(rng.choices(self.categories, self.category_weights, k=n)))

    def purposes_sample(self, rng: random.Random, n: int) -> list[str]:
        return list(dict.fromkeys(rng.choices(self.purposes, self.purpose_weights, k=n)))

    def subject_types_sample(self, rng: random.Random, n: int) -> list[str]:
        return list(dict.fromkeys(rng.choices(self.subject_types, self.subject_weights, k=n)))


def _moves(
    h: random.Random, status: str, created: datetime, now: datetime
) -> list[tuple[str, datetime]]:
    """A recipient's way through its lifecycle to `status`, oldest first: proposed when
    registered, approved and activated within weeks, now and then suspended for a while,
    and, when it is so now, suspended or offboarded at last."""
    moves = [("PROPOSED", created)]
    at = created + timedelta(days=h.randint(1, 10), hours=h.randint(0, 23))
    if status in ("PROPOSED",):
        return moves
    if status in ("UNDER_REVIEW", "REJECTED"):
        moves.append(("UNDER_REVIEW", at))
        if status == "REJECTED":
            moves.append(("REJECTED", at + timedelta(days=h.randint(1, 30))))
        return moves
    moves.append(("APPROVED", at))
    if status == "APPROVED":
        return moves
    active = at + timedelta(days=h.randint(1, 20), hours=h.randint(0, 23))
    moves.append(("ACTIVE", active))
    room = (
        now - active
    ).days - 2  # days left for later moves, at least 10 (created >= 60 days ago)
    if status == "ACTIVE":
        if h.random() < 0.12 and room > 40:
            suspended = active + timedelta(days=h.randint(10, room - 30), hours=h.randint(0, 23))
            moves.append(("SUSPENDED", suspended))
            moves.append(("ACTIVE", suspended + timedelta(days=h.randint(3, 25))))
        return moves
    # SUSPENDED or OFFBOARDED now: it was active until then.
    ended = active + timedelta(days=h.randint(min(room, 10), room), hours=h.randint(0, 23))
    if status == "OFFBOARDED" and h.random() < 0.3:
        moves.append(("SUSPENDED", ended - timedelta(days=h.randint(1, 7))))
    moves.append((status, ended))
    return moves


def _recorded(h: random.Random, at: datetime, now: datetime) -> datetime:
    """When this service recorded a fact that held from `at`: a little after, never after now."""
    return min(now, at + timedelta(minutes=h.randint(1, 3 * 24 * 60)))


def _between(h: random.Random, start: datetime, end: datetime) -> datetime:
    return start + (end - start) * (0.05 + 0.9 * h.random())


def generate(
    recipients: int = 10_000,
    disclosures_per_recipient: int = 10,
    subjects: int = 100_000,
    seed: int = 20261125,
    histories: bool = True,
) -> Inventory:
    rng = random.Random(seed)
    # Every draw of the histories comes from here, so that the rest is the same without them.
    h = random.Random(seed + 1)
    # And every draw of issue 13's facts (exporters, certifications, dated transfers) from here.
    x = random.Random(seed + 2)
    taxonomy = default_taxonomy()
    weights = Weights(taxonomy, rng)
    inv = Inventory()
    now = datetime(2026, 11, 1, tzinfo=UTC)
    today = now.date()
    founded = datetime(2017, 1, 1, tzinfo=UTC)
    inv.establishments = [
        (eid, slug, name, name, country, targets, main, 1, founded, founded)
        for eid, slug, name, country, targets, main in ESTABLISHMENTS
    ]
    processors: list[tuple[int, int]] = []  # (id, depth)
    # For the one-off events: each recipient's ACTIVE spans, and the ON_REQUEST disclosures
    # by subject type (id, recipient, first day, end day, categories).
    active_spans: dict[int, list[tuple[datetime, datetime]]] = {}
    on_request: dict[str, list[tuple[int, int, date, date | None, list[str]]]] = {}
    n_sub = recipients // 10
    for rid in range(1, recipients + 1):
        is_sub = rid > recipients - n_sub and processors
        engaged_by = None
        depth = 0
        if is_sub:
            engager, engager_depth = rng.choice(processors)
            engaged_by, depth = engager, engager_depth + 1
        name = f"Vendor {rid:05d} {rng.choice(['Cloud', 'Mail', 'Data', 'Analytics', 'Partners', 'Labs'])}"
        slug = f"vendor-{rid:05d}"
        status = "ACTIVE" if is_sub and rng.random() < 0.9 else _pick(rng, STATUSES)
        role = (
            "SUBPROCESSOR"
            if is_sub
            else rng.choice(["PROCESSOR"] * 6 + ["CONTROLLER"] * 3 + ["JOINT_CONTROLLER"])
        )
        created = now - timedelta(days=rng.randint(60, 1500))
        kind = _pick(rng, KINDS)
        certified = rng.random() < 0.3
        certifications = [
            {"framework": "EU_US", "certifiedOn": created.date().isoformat(), "lapsedOn": None}
        ] if certified else []  # fmt: skip
        inv.recipients.append(
            {
                "id": rid, "slug": slug, "name": name, "sort_name": name.casefold(),
                "search_text": search_text(name, None, slug), "legal_name": None,
                "description": None, "kind": kind, "role": role, "status": status,
                "country": _pick(rng, COUNTRIES), "services": orjson.dumps(["hosting"]).decode(),
                "website": f"https://{slug}.example", "privacy_policy_url": None,
                "dpa_signed_on": created.date(), "engaged_by_id": engaged_by,
                "dpf_certified": certified,
                "dpf_certifications": orjson.dumps(certifications).decode(),
                "registered_by": "bench", "version": 1,
                "created_at": created, "updated_at": created,
            }
        )  # fmt: skip
        _regime_facts(x, inv.recipients[-1], engaged_by, inv.recipients)
        if role in ("PROCESSOR", "SUBPROCESSOR") and depth < 3 and status == "ACTIVE":
            processors.append((rid, depth))
        if histories:
            previous = None
            spans = active_spans[rid] = []
            for to_status, at in _moves(h, status, created, now):
                inv.status_changes.append(
                    (rid, previous, to_status, at, _recorded(h, at, now), "bench", "bench")
                )
                if previous == "ACTIVE":
                    spans[-1] = (spans[-1][0], at)
                if to_status == "ACTIVE":
                    spans.append((at, now))
                previous = to_status
            inv.recipients[-1]["updated_at"] = inv.status_changes[-1][4]
        else:
            inv.status_changes.append((rid, None, status, created, created, "bench", "bench"))
        n_disclosures = max(1, int(rng.gauss(disclosures_per_recipient, 3)))
        for _ in range(n_disclosures):
            did = len(inv.disclosures) + 1
            start = today - timedelta(days=rng.randint(30, 1400))
            end = start + timedelta(days=rng.randint(200, 900)) if rng.random() < 0.08 else None
            keys = weights.categories_sample(rng, rng.choice([1, 1, 2]))
            if rng.random() < 0.03:
                keys.append(rng.choice(weights.branches))
            keys = list(dict.fromkeys(keys))
            types = weights.subject_types_sample(rng, rng.choice([1, 1, 2]))
            purposes = weights.purposes_sample(rng, rng.randint(1, 3))
            transfers = [
                _dated(x, [_pick(rng, COUNTRIES), _pick(rng, MECHANISMS), "bench"])
                for _ in range(rng.choice([0, 1, 1, 2]))
            ]
            exporter = None if engaged_by else x.choices([1, 2, 3], EXPORTER_WEIGHTS)[0]
            basis, ground = _pick(rng, BASES), rng.choice(GROUNDS)
            frequency, condition, ended_recorded = "CONTINUOUS", None, end and created
            if histories:
                if kind == "PUBLIC_AUTHORITY" or (
                    basis == "LEGAL_OBLIGATION" and h.random() < 0.25
                ):
                    # A police force, a court, a regulator: data goes only on a lawful request.
                    frequency, basis, ground = "ON_REQUEST", "LEGAL_OBLIGATION", "LEGAL_DUTY"
                elif end is None and h.random() < 0.02:
                    start, end = today + timedelta(days=h.randint(60, 365)), None
                elif end is None and h.random() < 0.06:
                    end = today - timedelta(days=h.randint(1, (today - start).days - 1))
                if end is not None:
                    ended_recorded = max(
                        created,
                        min(now, _midnight(end) + timedelta(hours=h.randint(-30 * 24, 3 * 24))),
                    )
                sensitive = [k for k in keys if is_sensitive(k)]
                if sensitive:
                    criminal = [k for k in sensitive if is_same_or_descendant(k, ART10_ROOT)]
                    if criminal and len(criminal) < len(sensitive):
                        # Art. 9 and Art. 10 data go in two disclosures: keep this one Art. 9.
                        keys = [k for k in keys if k not in criminal]
                    condition = (
                        "CRIMINAL_DATA_AUTHORISED_BY_LAW"
                        if len(criminal) == len(sensitive)
                        else _pick(h, ART9_CONDITIONS)
                    )
                if frequency == "ON_REQUEST":
                    for key in types:
                        on_request.setdefault(key, []).append((did, rid, start, end, keys))
            for key in keys:
                inv.disclosure_categories.append((did, key))
            for key in types:
                inv.disclosure_subject_types.append((did, key))
            for position, key in enumerate(purposes):
                inv.disclosure_purposes.append((did, key, position))
            for transfer in transfers:
                inv.transfers.append((did, *transfer))
            # The read model the services write with every disclosure.
            inv.disclosures.append(
                (did, rid, basis, ground, "P1Y", start, end, created, ended_recorded,
                 ",".join(sorted(keys)), ",".join(sorted(types)), ",".join(purposes),
                 orjson.dumps(transfers).decode(), frequency, condition, exporter)
            )  # fmt: skip
    marketing = [p for p in weights.purposes if p.startswith("marketing")]
    # Explicit consent is asked for the purposes special-category data is most often shared for.
    popular = weights.purposes[:6]
    for sid in range(1, subjects + 1):
        subject_type = weights.subject_types_sample(rng, 1)[0]
        created = now - timedelta(days=rng.randint(1, 900))
        country = _pick(rng, COUNTRIES)
        mine = weights.categories_sample(rng, 2)
        versions = [(subject_type, sorted(set(mine)), created, created)]
        if histories and (now - created).days > 20 and h.random() < 0.45:
            versions = _earlier_versions(h, weights, subject_type, mine, created, now)
        for key in mine:
            inv.subject_categories.append((sid, key))
        for kind_of, keys, valid_from, recorded in versions:
            inv.subject_versions.append(
                (sid, kind_of, country, ",".join(keys), valid_from, recorded)
            )
        inv.subjects.append(
            (sid, f"subject-{sid:06d}", subject_type, country, len(versions), created,
             versions[-1][3])
        )  # fmt: skip
        if rng.random() < 0.5:
            for purpose in rng.sample(marketing, 2):
                granted = rng.random() < 0.6
                if histories and not granted and h.random() < 0.6:
                    # Granted when they signed up, withdrawn later.
                    inv.consents.append((sid, purpose, True, created, created, created, False))
                    decided = _between(h, created, now)
                    recorded = _recorded(h, decided, now)
                    inv.consents.append((sid, purpose, False, decided, recorded, recorded, False))
                else:
                    inv.consents.append((sid, purpose, granted, created, created, created, False))
        if histories:
            held = {k for _, keys, _, _ in versions for k in keys}
            if any(is_sensitive(k) for k in held) and h.random() < 0.4:
                for purpose in h.sample(popular, 2):
                    decided = _between(h, created, now)
                    recorded = _recorded(h, decided, now)
                    inv.consents.append((sid, purpose, True, decided, recorded, recorded, True))
                    if h.random() < 0.2:
                        withdrawn = _between(h, decided, now)
                        recorded = _recorded(h, withdrawn, now)
                        inv.consents.append(
                            (sid, purpose, False, withdrawn, recorded, recorded, True)
                        )
            if h.random() < 0.03:
                _events(h, inv, sid, versions[-1], on_request, active_spans, now)
    return inv


def _regime_facts(
    x: random.Random,
    row: dict[str, Any],
    engaged_by: int | None,
    recipients: list[dict[str, Any]],
) -> None:
    """Issue 13's facts of a recipient: its DPF certifications (from the old flag's draw: EU-US
    from its creation, half of them with the UK Extension, a few lapsed), its corporate group
    (group affiliates; a subprocessor now and then shares its processor's) and, rarely for a
    public authority, that it is an international organisation."""
    certifications: list[dict[str, Any]] = []
    if row["dpf_certified"]:
        certified = row["created_at"].date()
        lapsed = certified + timedelta(days=x.randint(200, 900)) if x.random() < 0.1 else None
        certifications.append(
            {"framework": "EU_US", "certifiedOn": certified.isoformat(),
             "lapsedOn": lapsed and lapsed.isoformat()}
        )  # fmt: skip
        if x.random() < 0.5:
            certifications.append(
                {"framework": "UK_EXTENSION", "certifiedOn": certified.isoformat(),
                 "lapsedOn": lapsed and lapsed.isoformat()}
            )  # fmt: skip
    row["dpf_certifications"] = orjson.dumps(certifications).decode()
    group = None
    if row["kind"] == "GROUP_AFFILIATE":
        group = "Bench Corp group"
    elif engaged_by is not None and x.random() < 0.3:
        group = recipients[engaged_by - 1]["corporate_group"] or f"Group of vendor {engaged_by:05d}"
        recipients[engaged_by - 1]["corporate_group"] = group
    row["corporate_group"] = group
    row["international_organisation"] = row["kind"] == "PUBLIC_AUTHORITY" and x.random() < 0.05


def _dated(x: random.Random, transfer: list[Any]) -> list[Any]:
    """A drawn transfer with its later facts: another mechanism now and then, the day a
    safeguard was signed (half the time), and for the limited decisions' countries whether it is
    recorded within scope."""
    country, mechanism, reference = transfer
    if x.random() < 0.06:
        mechanism = _pick(x, LATER_MECHANISMS)
        if mechanism == "DEROGATION_PUBLIC_INTEREST" and x.random() < 0.5:
            reference = "Anti-Money Laundering Act, s. 12"
    signed = date(2020, 1, 1) + timedelta(days=x.randint(0, 2400)) if x.random() < 0.5 else None
    scope = x.random() < 0.7 if country in ("JP", "CA", "KR") else None
    return [country, mechanism, reference, signed, scope]


def _midnight(day: date) -> datetime:
    return datetime.combine(day, datetime.min.time(), UTC)


def _earlier_versions(
    h: random.Random,
    weights: Weights,
    subject_type: str,
    mine: list[str],
    created: datetime,
    now: datetime,
) -> list[tuple[str, list[str], datetime, datetime]]:
    """One or two earlier versions of a subject whose latest is (subject_type, mine): it held
    a category it no longer does, or another in place of one, or was another kind of subject
    (a lead who became a customer). The first holds from `created`, recorded then; each later
    one from a moment in the past, recorded a little after."""
    versions: list[tuple[str, list[str]]] = [(subject_type, sorted(set(mine)))]
    for _ in range(1 if h.random() < 0.7 else 2):
        kind_of, keys = versions[0]
        roll = h.random()
        if roll < 0.5:
            keys = sorted({*keys, *weights.categories_sample(h, 1)})
        elif roll < 0.85:
            keys = sorted({*keys[1:], *weights.categories_sample(h, 1)})
        else:
            kind_of = weights.subject_types_sample(h, 1)[0]
        versions.insert(0, (kind_of, keys))
    moments = [created]
    for _ in versions[1:]:
        moments.append(_between(h, moments[-1], now - timedelta(days=1)))
    return [
        (kind_of, keys, valid_from, created if i == 0 else _recorded(h, valid_from, now))
        for i, ((kind_of, keys), valid_from) in enumerate(zip(versions, moments, strict=True))
    ]


def _events(
    h: random.Random,
    inv: Inventory,
    sid: int,
    version: tuple[str, list[str], datetime, datetime],
    on_request: dict[str, list[tuple[int, int, date, date | None, list[str]]]],
    active_spans: dict[int, list[tuple[datetime, datetime]]],
    now: datetime,
) -> None:
    """One or two lawful requests for this subject's data, each as the service would accept
    it: under an ON_REQUEST disclosure in effect that day and covering the subject as they
    then stood (their latest version), its recipient ACTIVE then, in the past."""
    subject_type, keys, valid_from, _ = version
    candidates = on_request.get(subject_type, [])
    wanted = h.randint(1, 2)
    for did, rid, start, end, covered in h.sample(candidates, min(30, len(candidates))):
        if not any(keys_match(a, b) for a in keys for b in covered):
            continue
        opens = max(valid_from, _midnight(start))
        closes = min(now, _midnight(end)) if end else now
        for active_from, active_to in active_spans[rid]:
            lo, hi = max(opens, active_from), min(closes, active_to)
            if hi - lo > DAY:
                occurred = _between(h, lo, hi)
                recorded = _recorded(h, occurred, now)
                reference = f"REQ-{sid:06d}-{did}"
                inv.disclosure_events.append(
                    (did, sid, occurred, reference, "lawful request", recorded, "bench")
                )
                wanted -= 1
                break
        if not wanted:
            return


def reasons_estimate(inv: Inventory, sample: int = 300, seed: int = 7) -> list[int]:
    """Rules 2-4 counted in Python for a sample of subjects (statuses and chains aside):
    the shape of the answer the benchmark asks for."""
    rng = random.Random(seed)
    by_type: dict[str, list[int]] = {}
    for did, key in inv.disclosure_subject_types:
        by_type.setdefault(key, []).append(did)
    cats: dict[int, list[str]] = {}
    for did, key in inv.disclosure_categories:
        cats.setdefault(did, []).append(key)
    subject_cats: dict[int, list[str]] = {}
    for sid, key in inv.subject_categories:
        subject_cats.setdefault(sid, []).append(key)
    day = date(2026, 11, 1)
    live = {d[0] for d in inv.disclosures if d[5] <= day and (d[6] is None or day < d[6])}
    out = []
    for sid, _, subject_type, *_ in rng.sample(inv.subjects, sample):
        mine = subject_cats.get(sid, [])
        count = 0
        for did in by_type.get(subject_type, []):
            if did in live and any(keys_match(a, b) for a in mine for b in cats[did]):
                count += 1
        out.append(count)
    return sorted(out)


RECIPIENT_COLUMNS = ("id", "slug", "name", "sort_name", "search_text", "legal_name", "description",
                     "kind", "role", "status", "country", "services", "website",
                     "privacy_policy_url", "dpa_signed_on", "engaged_by_id", "dpf_certified",
                     "dpf_certifications", "corporate_group", "international_organisation",
                     "registered_by", "version", "created_at", "updated_at")  # fmt: skip
TABLES: list[tuple[str, tuple[str, ...]]] = [
    ("establishment", ("id", "slug", "name", "legal_name", "country", "targets_text", "main",
                       "version", "created_at", "updated_at")),
    ("status_change", ("recipient_id", "from_status", "to_status", "at", "recorded_at", "note", "actor")),
    ("disclosure", ("id", "recipient_id", "legal_basis", "ground", "retention", "effective_from",
                    "effective_to", "created_at", "ended_recorded_at", "categories_text", "subject_types_text",
                    "purposes_text", "transfers_json", "frequency", "special_category_condition",
                    "exporter_id")),
    ("disclosure_category", ("disclosure_id", "category_id")),
    ("disclosure_subject_type", ("disclosure_id", "subject_type_id")),
    ("disclosure_audience", ("disclosure_id", "subject_type_id", "category_id")),
    ("disclosure_purpose", ("disclosure_id", "purpose_id", "position")),
    ("transfer", ("disclosure_id", "country", "mechanism", "reference", "signed_on",
                  "within_adequacy_scope")),
    ("data_subject", ("id", "external_ref", "subject_type_id", "country", "version", "created_at", "updated_at")),
    ("subject_category", ("subject_id", "category_id")),
    ("consent_record", ("subject_id", "purpose_id", "granted", "decided_at", "recorded_at", "created_at", "explicit")),
    ("subject_version", ("subject_id", "subject_type_id", "country", "categories_text", "valid_from", "recorded_at")),
    ("disclosure_event", ("disclosure_id", "subject_id", "occurred_at", "reference", "note", "recorded_at", "actor")),
]  # fmt: skip


def _audience(inv: Inventory) -> list[tuple[Any, ...]]:
    """The audience index the service writes with each disclosure (server/db/models.py)."""
    types: dict[int, list[str]] = {}
    for disclosure_id, subject_type in inv.disclosure_subject_types:
        types.setdefault(disclosure_id, []).append(subject_type)
    return [
        (disclosure_id, subject_type, category)
        for disclosure_id, category in inv.disclosure_categories
        for subject_type in types.get(disclosure_id, ())
    ]


def _rows(inv: Inventory) -> dict[str, list[tuple[Any, ...]]]:
    return {
        "establishment": inv.establishments,
        "status_change": inv.status_changes,
        "disclosure": inv.disclosures,
        "disclosure_category": inv.disclosure_categories,
        "disclosure_subject_type": inv.disclosure_subject_types,
        "disclosure_audience": _audience(inv),
        "disclosure_purpose": inv.disclosure_purposes,
        "transfer": inv.transfers,
        "data_subject": inv.subjects,
        "subject_category": inv.subject_categories,
        "consent_record": [(*c, "bench") for c in inv.consents],
        "subject_version": [(*v, "bench") for v in inv.subject_versions],
        "disclosure_event": inv.disclosure_events,
    }


def _sqlite_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return str(value.astimezone(UTC))
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return int(value)
    return value


def write_sqlite(path: str, inv: Inventory) -> None:
    import sqlite3

    conn = sqlite3.connect(path)
    conn.execute("PRAGMA synchronous=OFF")
    with conn:
        cols = ", ".join(RECIPIENT_COLUMNS)
        marks = ", ".join("?" for _ in RECIPIENT_COLUMNS)
        conn.executemany(
            f"INSERT INTO recipient ({cols}) VALUES ({marks})",
            ([_sqlite_value(r[c]) for c in RECIPIENT_COLUMNS] for r in inv.recipients),
        )
        rows = _rows(inv)
        for table, columns in TABLES:
            extra = ("actor",) if table in ("consent_record", "subject_version") else ()
            names = columns + extra
            marks = ", ".join("?" for _ in names)
            conn.executemany(
                f"INSERT INTO {table} ({', '.join(names)}) VALUES ({marks})",
                ([_sqlite_value(v) for v in row] for row in rows[table]),
            )
    conn.execute("ANALYZE")
    conn.close()


async def write_postgres(url: str, inv: Inventory) -> None:
    import asyncpg

    conn = await asyncpg.connect(url.replace("postgres://", "postgresql://", 1))
    try:
        async with conn.transaction():
            await conn.copy_records_to_table(
                "recipient",
                records=[tuple(r[c] for c in RECIPIENT_COLUMNS) for r in inv.recipients],
                columns=list(RECIPIENT_COLUMNS),
            )
            rows = _rows(inv)
            for table, columns in TABLES:
                extra = ("actor",) if table in ("consent_record", "subject_version") else ()
                await conn.copy_records_to_table(
                    table, records=rows[table], columns=list(columns + extra)
                )
            for table in ("recipient", "disclosure", "data_subject", "establishment"):
                await conn.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT max(id) FROM {table}))"
                )
        await conn.execute("ANALYZE")
    finally:
        await conn.close()


if __name__ == "__main__":
    import time

    started = time.perf_counter()
    inventory = generate()
    print(f"generated in {time.perf_counter() - started:.1f}s:",
          len(inventory.recipients), "recipients,", len(inventory.disclosures), "disclosures,",
          len(inventory.subjects), "subjects")  # fmt: skip
    counts = reasons_estimate(inventory)
    print("reasons per subject (rules 2-4): p10", counts[len(counts) // 10], "p50",
          counts[len(counts) // 2], "p90", counts[9 * len(counts) // 10], "max", counts[-1])  # fmt: skip
