"""A synthetic inventory of a large company, for `make bench`.

By default 10,000 recipients (a tenth of them subprocessors, chains up to three deep), about
100,000 disclosures over the whole taxonomy and 100,000 data subjects, shaped so that a typical
subject's report has 50 to 500 reasons. Rows are written in bulk straight into a migrated
database (SQLite file or PostgreSQL), which is much faster than the API and not what is measured.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import orjson

from server.domain.taxonomy import Taxonomy, default_taxonomy, keys_match
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
# Whose data: a few kinds of people are most of an inventory.
SUBJECT_WEIGHTS = {"platform_user": 3, "visitor": 2, "customer_contact": 2, "marketing_lead": 2}


def _pick(rng: random.Random, weighted: list[tuple[str, int]]) -> str:
    return rng.choices([k for k, _ in weighted], [w for _, w in weighted])[0]


@dataclass
class Inventory:
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


def generate(
    recipients: int = 10_000,
    disclosures_per_recipient: int = 10,
    subjects: int = 100_000,
    seed: int = 20261125,
) -> Inventory:
    rng = random.Random(seed)
    taxonomy = default_taxonomy()
    weights = Weights(taxonomy, rng)
    inv = Inventory()
    now = datetime(2026, 11, 1, tzinfo=UTC)
    today = now.date()
    processors: list[tuple[int, int]] = []  # (id, depth)
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
        inv.recipients.append(
            {
                "id": rid, "slug": slug, "name": name, "sort_name": name.casefold(),
                "search_text": search_text(name, None, slug), "legal_name": None,
                "description": None, "kind": _pick(rng, KINDS), "role": role, "status": status,
                "country": _pick(rng, COUNTRIES), "services": orjson.dumps(["hosting"]).decode(),
                "website": f"https://{slug}.example", "privacy_policy_url": None,
                "dpa_signed_on": created.date(), "engaged_by_id": engaged_by,
                "dpf_certified": rng.random() < 0.3, "registered_by": "bench", "version": 1,
                "created_at": created, "updated_at": created,
            }
        )  # fmt: skip
        if role in ("PROCESSOR", "SUBPROCESSOR") and depth < 3 and status == "ACTIVE":
            processors.append((rid, depth))
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
            for key in keys:
                inv.disclosure_categories.append((did, key))
            types = weights.subject_types_sample(rng, rng.choice([1, 1, 2]))
            for key in types:
                inv.disclosure_subject_types.append((did, key))
            purposes = weights.purposes_sample(rng, rng.randint(1, 3))
            for position, key in enumerate(purposes):
                inv.disclosure_purposes.append((did, key, position))
            transfers = [
                [_pick(rng, COUNTRIES), _pick(rng, MECHANISMS), "bench"]
                for _ in range(rng.choice([0, 1, 1, 2]))
            ]
            for transfer in transfers:
                inv.transfers.append((did, *transfer))
            # The read model the services write with every disclosure.
            inv.disclosures.append(
                (did, rid, _pick(rng, BASES), rng.choice(GROUNDS), "P1Y", start, end, created,
                 end and created, ",".join(sorted(keys)), ",".join(sorted(types)), ",".join(purposes),
                 orjson.dumps(transfers).decode())
            )  # fmt: skip
    marketing = [p for p in weights.purposes if p.startswith("marketing")]
    for sid in range(1, subjects + 1):
        subject_type = weights.subject_types_sample(rng, 1)[0]
        created = now - timedelta(days=rng.randint(1, 900))
        inv.subjects.append(
            (sid, f"subject-{sid:06d}", subject_type, _pick(rng, COUNTRIES), 1, created, created)
        )
        mine = weights.categories_sample(rng, 2)
        for key in mine:
            inv.subject_categories.append((sid, key))
        inv.subject_versions.append(
            (sid, subject_type, inv.subjects[-1][3], ",".join(sorted(set(mine))), created, created)
        )
        if rng.random() < 0.5:
            for purpose in rng.sample(marketing, 2):
                inv.consents.append((sid, purpose, rng.random() < 0.6, created, created, created))
    return inv


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
                     "registered_by", "version", "created_at", "updated_at")  # fmt: skip
TABLES: list[tuple[str, tuple[str, ...]]] = [
    ("status_change", ("recipient_id", "from_status", "to_status", "at", "recorded_at", "note", "actor")),
    ("disclosure", ("id", "recipient_id", "legal_basis", "ground", "retention", "effective_from",
                    "effective_to", "created_at", "ended_recorded_at", "categories_text", "subject_types_text",
                    "purposes_text", "transfers_json")),
    ("disclosure_category", ("disclosure_id", "category_id")),
    ("disclosure_subject_type", ("disclosure_id", "subject_type_id")),
    ("disclosure_audience", ("disclosure_id", "subject_type_id", "category_id")),
    ("disclosure_purpose", ("disclosure_id", "purpose_id", "position")),
    ("transfer", ("disclosure_id", "country", "mechanism", "reference")),
    ("data_subject", ("id", "external_ref", "subject_type_id", "country", "version", "created_at", "updated_at")),
    ("subject_category", ("subject_id", "category_id")),
    ("consent_record", ("subject_id", "purpose_id", "granted", "decided_at", "recorded_at", "created_at")),
    ("subject_version", ("subject_id", "subject_type_id", "country", "categories_text", "valid_from", "recorded_at")),
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
            for table in ("recipient", "disclosure", "data_subject"):
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
