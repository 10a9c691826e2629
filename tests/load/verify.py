"""Hold the database to the clients' journal, reading the tables directly (sqlite3 or asyncpg,
not the ORM or the API under test).

- Every acknowledged mutation is in the database and in the audit log exactly once.
- Every audit event belongs to exactly one mutation: an acknowledged one, or one whose answer was
  lost (the server was killed mid-request). Nothing else writes.
- A loser (STALE_VERSION, INVALID_TRANSITION) wrote nothing, and its STALE_VERSION names a
  current version past the one it expected.
- A recipient's version is 1 + the number of its audit events after registration, each
  acknowledged version was handed out once, and the event at version v is the one whose request
  was answered with v.
- Replaying the audit events in order, each one's "before" is the state the previous ones left
  (no write was made against a state that had already changed), and the end of the replay is the
  row in the database. The same for data subjects, whose every upsert writes a unique set of
  categories.
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

from tests.load.harness import Load, Op

RECIPIENT_FIELDS = ("name", "description", "website", "country", "services", "status")
UPDATE_FIELDS = ("name", "description", "website", "services")
SUBJECT_FIELDS = ("subjectType", "country", "dataCategories")

QUERIES = {
    "recipients": "SELECT id, slug, name, description, website, country, services, status, "
    "version FROM recipient",
    "audit": "SELECT id, actor, action, entity_type, entity_id, recipient_id, changes "
    "FROM audit_event ORDER BY id",
    "disclosures": "SELECT id, recipient_id, retention FROM disclosure",
    "consents": "SELECT c.id, s.external_ref, c.purpose_id, c.granted, "
    "c.decided_at AS recorded_at, c.actor "
    "FROM consent_record c JOIN data_subject s ON s.id = c.subject_id",
    "subjects": "SELECT id, external_ref, subject_type_id, country, version FROM data_subject",
    "subject_categories": "SELECT subject_id, category_id FROM subject_category",
}


@dataclass
class Snapshot:
    recipients: dict[int, dict[str, Any]]
    audit: list[dict[str, Any]]
    disclosures: dict[int, dict[str, Any]]
    consents: list[dict[str, Any]]
    subjects: dict[str, dict[str, Any]]  # by externalRef, with "categories": sorted keys


def _moment(value: Any) -> datetime:
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


def _json(value: Any) -> Any:
    return orjson.loads(value) if isinstance(value, str | bytes) else value


async def _rows(url: str) -> dict[str, list[dict[str, Any]]]:
    if url.startswith("sqlite://"):
        connection = sqlite3.connect(url[len("sqlite://") :].split("?", 1)[0])
        connection.row_factory = sqlite3.Row
        try:
            return {
                name: [dict(row) for row in connection.execute(sql)]
                for name, sql in QUERIES.items()
            }
        finally:
            connection.close()
    import asyncpg

    pg = await asyncpg.connect(url.replace("postgres://", "postgresql://", 1))
    try:
        return {name: [dict(row) for row in await pg.fetch(sql)] for name, sql in QUERIES.items()}
    finally:
        await pg.close()


async def snapshot(url: str) -> Snapshot:
    rows = await _rows(url)
    categories: dict[int, list[str]] = defaultdict(list)
    for link in rows["subject_categories"]:
        categories[link["subject_id"]].append(link["category_id"])
    return Snapshot(
        recipients={r["id"]: {**r, "services": _json(r["services"])} for r in rows["recipients"]},
        audit=[{**e, "changes": _json(e["changes"])} for e in rows["audit"]],
        disclosures={d["id"]: d for d in rows["disclosures"]},
        consents=[
            {**c, "granted": bool(c["granted"]), "recorded_at": _moment(c["recorded_at"])}
            for c in rows["consents"]
        ],
        subjects={
            s["external_ref"]: {**s, "categories": sorted(categories[s["id"]])}
            for s in rows["subjects"]
        },
    )


def _after(event: dict[str, Any], key: str) -> Any:
    pair = event["changes"].get(key)
    return pair[1] if pair else None


def _proposed(event: dict[str, Any], key: str) -> Any:
    """A field's value in the change an openChange event opened (waiting for review)."""
    pair = (_after(event, "proposed") or {}).get(key)
    return pair[1] if pair else None


def _event_key(event: dict[str, Any]) -> tuple[Any, ...]:
    """What a write made unique, as its audit event shows it: see _op_key."""
    action, rid = event["action"], event["recipient_id"]
    if action == "registerRecipient":
        return ("register", event["entity_id"])
    if action == "updateRecipient":
        return ("update", rid, _after(event, "name"))
    if action == "changeRecipientStatus":
        return ("status", rid, _after(event, "note"))
    if action == "addDisclosure":
        return ("disclosure", rid, _after(event, "retention"))
    if action == "openChange" and _after(event, "kind") == "ADD_DISCLOSURE":
        return ("disclosure", rid, _proposed(event, "retention"))
    if action in ("createDataSubject", "replaceDataSubject"):
        return ("upsert", tuple(_after(event, "dataCategories") or ()))
    if action == "recordConsent":
        recorded = _after(event, "decidedAt")
        return ("consent", _moment(recorded) if recorded else None)
    return (action, event["id"])


def _op_key(op: Op) -> tuple[Any, ...]:
    if op.kind == "register":
        return ("register", op.target)
    if op.kind == "update":
        return ("update", op.target, op.input["name"])
    if op.kind == "status":
        return ("status", op.target, op.input["note"])
    if op.kind == "disclosure":
        return ("disclosure", op.target, op.input["disclosure"]["retention"])
    if op.kind == "upsert":
        return ("upsert", tuple(sorted(op.input["dataCategories"])))
    if op.kind == "consent":
        return ("consent", _moment(op.input["recordedAt"]))
    raise AssertionError(op.kind)


def _matches(op: Op, event: dict[str, Any]) -> bool:
    """Whether this audit event records this op's write (every op writes unique values)."""
    if event["actor"] != op.actor:
        return False
    if op.kind == "register":
        return event["action"] == "registerRecipient" and event["entity_id"] == op.target
    if op.kind == "update":
        return (
            event["action"] == "updateRecipient"
            and event["recipient_id"] == op.target
            and _after(event, "name") == op.input["name"]
        )
    if op.kind == "status":
        return (
            event["action"] == "changeRecipientStatus"
            and event["recipient_id"] == op.target
            and _after(event, "note") == op.input["note"]
            and _after(event, "status") == op.input["status"]
        )
    if op.kind == "disclosure":
        retention = op.input["disclosure"]["retention"]
        if event["action"] == "openChange":
            # An addition that waits for review.
            return (
                _after(event, "kind") == "ADD_DISCLOSURE"
                and event["recipient_id"] == op.target
                and _proposed(event, "retention") == retention
                and op.result_id is None
                and (op.change_id is None or event["entity_id"] == op.change_id)
            )
        return (
            event["action"] == "addDisclosure"
            and event["recipient_id"] == op.target
            and _after(event, "retention") == retention
            and op.change_id is None
            and (op.result_id is None or event["entity_id"] == op.result_id)
        )
    if op.kind == "upsert":
        return event["action"] in ("createDataSubject", "replaceDataSubject") and _after(
            event, "dataCategories"
        ) == sorted(op.input["dataCategories"])
    if op.kind == "consent":
        recorded = _after(event, "decidedAt")
        return (
            event["action"] == "recordConsent"
            and _after(event, "subject") == op.target
            and _after(event, "purpose") == op.input["purpose"]
            and _after(event, "granted") == op.input["granted"]
            and recorded is not None
            and _moment(recorded) == _moment(op.input["recordedAt"])
        )
    raise AssertionError(op.kind)


class Verifier:
    def __init__(self, load: Load, snap: Snapshot) -> None:
        self.load = load
        self.snap = snap
        # Looked up by key, then matched in full: a soak journals tens of thousands of writes.
        self.events_by_key: dict[tuple[Any, ...], list[dict[str, Any]]] = defaultdict(list)
        for event in snap.audit:
            self.events_by_key[_event_key(event)].append(event)
        self.lost_answers: dict[tuple[Any, ...], list[Op]] = defaultdict(list)
        for op in load.ops:
            if op.maybe_applied:
                self.lost_answers[_op_key(op)].append(op)
        self.problems: list[str] = []
        self.owner: dict[int, Op] = {}  # audit event id -> the op that wrote it
        self.recovered = 0  # events written by a request whose answer was lost

    def problem(self, text: str) -> None:
        self.problems.append(text)

    def claim(self, event: dict[str, Any], op: Op) -> None:
        if event["id"] in self.owner:
            self.problem(f"audit event {event['id']} claimed twice: {self.owner[event['id']]}")
        self.owner[event["id"]] = op

    def written(self, op: Op) -> list[dict[str, Any]]:
        """The audit events that record this op's write."""
        return [e for e in self.events_by_key.get(_op_key(op), []) if _matches(op, e)]

    def claim_acknowledged(self, ops: list[Op], what: str) -> None:
        """Each acknowledged op: exactly one audit event."""
        for op in ops:
            if not op.acknowledged:
                continue
            found = self.written(op)
            if len(found) != 1:
                self.problem(f"{what}: acknowledged {op.kind} in {len(found)} audit events: {op}")
            else:
                self.claim(found[0], op)

    def claim_the_rest(self, events: list[dict[str, Any]], what: str) -> None:
        """An event no acknowledged op claims must be a write whose answer was lost."""
        for event in events:
            if event["id"] in self.owner:
                continue
            lost = self.lost_answers.get(_event_key(event), [])
            candidates = [op for op in lost if _matches(op, event)]
            if len(candidates) == 1:
                self.claim(event, candidates[0])
                self.recovered += 1
            else:
                self.problem(f"{what}: audit event that no request accounts for: {event}")

    def check_losers(self, ops: list[Op], what: str) -> None:
        for op in ops:
            if op.outcome not in ("stale", "rejected"):
                continue
            if self.written(op):
                self.problem(f"{what}: a {op.outcome} {op.kind} was written anyway: {op}")
            if op.kind == "update":
                expected = op.input["expectedVersion"]
                if op.reported_version is None or op.reported_version <= expected:
                    self.problem(f"{what}: STALE_VERSION without a newer version: {op}")

    def run(self) -> list[str]:
        ops_by_recipient: dict[int, list[Op]] = defaultdict(list)
        ops_by_subject: dict[str, list[Op]] = defaultdict(list)
        for op in self.load.ops:
            if op.kind in ("register", "update", "status", "disclosure"):
                if op.target is not None:
                    ops_by_recipient[op.target].append(op)
            else:
                ops_by_subject[op.target].append(op)
        events_by_recipient: dict[int, list[dict[str, Any]]] = defaultdict(list)
        events_by_subject: dict[int, list[dict[str, Any]]] = defaultdict(list)
        consent_events: list[dict[str, Any]] = []
        change_events: list[dict[str, Any]] = []
        for event in self.snap.audit:
            kind = event["entity_type"]
            if kind in ("Recipient", "Disclosure"):
                events_by_recipient[event["recipient_id"]].append(event)
            elif kind == "DataSubject":
                events_by_subject[event["entity_id"]].append(event)
            elif kind == "ConsentRecord":
                consent_events.append(event)
            elif kind == "ApiKey" and event["action"] == "createApiKey":
                self.owner[event["id"]] = Op("key", "cli", None, {})
            elif kind == "ChangeRequest" and event["action"] == "openChange":
                change_events.append(event)
            else:
                self.problem(f"unexpected audit event {event}")

        if sorted(self.snap.recipients) != sorted(self.load.recipients):
            self.problem(
                f"recipients {sorted(self.snap.recipients)} != {sorted(self.load.recipients)}"
            )
        for rid in sorted(self.snap.recipients):
            self.recipient(rid, ops_by_recipient[rid], events_by_recipient.get(rid, []))
        disclosure_events = {
            e["entity_id"] for e in self.snap.audit if e["action"] == "addDisclosure"
        }
        if set(self.snap.disclosures) != disclosure_events:
            self.problem(
                "disclosures without their audit event, or the other way round: "
                f"{sorted(set(self.snap.disclosures) ^ disclosure_events)}"
            )

        subject_ids = {s["id"]: ref for ref, s in self.snap.subjects.items()}
        if sorted(self.snap.subjects) != sorted(self.load.subjects):
            self.problem(f"subjects {sorted(self.snap.subjects)} != {sorted(self.load.subjects)}")
        for sid, events in events_by_subject.items():
            if sid not in subject_ids:
                self.problem(f"audit events for a subject that is not there: {events}")
        for ref, row in self.snap.subjects.items():
            upserts = [op for op in ops_by_subject[ref] if op.kind == "upsert"]
            self.subject(ref, row, upserts, events_by_subject.get(row["id"], []))
        consents = [op for op in self.load.ops if op.kind == "consent"]
        self.consents(consents, consent_events)

        self.import_reviews(
            [e for e in change_events if _after(e, "kind") == "IMPORT"], events_by_recipient
        )
        # The other changes are additions waiting for review, each its request's one event.
        self.claim_the_rest([e for e in change_events if e["id"] not in self.owner], "changes")

        unowned = [e for e in self.snap.audit if e["id"] not in self.owner]
        if unowned:
            self.problem(f"{len(unowned)} audit events belong to no request: {unowned[:5]}")
        return self.problems

    def import_reviews(
        self,
        change_events: list[dict[str, Any]],
        events_by_recipient: dict[int, list[dict[str, Any]]],
    ) -> None:
        """A registration straight into a later status opens one import review in its own
        transaction (domain/change_requests.py): its event belongs to that registration."""
        opened: dict[int, list[dict[str, Any]]] = defaultdict(list)
        for event in change_events:
            opened[event["recipient_id"]].append(event)
        for rid, events in events_by_recipient.items():
            registration = events[0] if events else None
            if registration is None or registration["action"] != "registerRecipient":
                continue
            status = (_json(registration["changes"]).get("status") or [None, None])[1]
            expected = 0 if status in (None, "PROPOSED") else 1
            reviews = opened.pop(rid, [])
            if len(reviews) != expected:
                self.problem(f"recipient {rid}: {len(reviews)} import reviews, {expected} expected")
            op = self.owner.get(registration["id"])
            for review in reviews:
                if review["actor"] != registration["actor"] or op is None:
                    self.problem(f"recipient {rid}: an import review no registration opened")
                else:
                    self.claim(review, op)
        for rid, events in opened.items():
            self.problem(f"import reviews of a recipient that is not there ({rid}): {events}")

    def recipient(self, rid: int, ops: list[Op], events: list[dict[str, Any]]) -> None:
        what = f"recipient {rid}"
        row = self.snap.recipients[rid]
        if not events or events[0]["action"] != "registerRecipient":
            self.problem(f"{what}: the first audit event is not its registration: {events[:1]}")
            return
        bumps = events[1:]
        # Each change moves the version on by one and writes one audit event, in the same
        # transaction, after the version guard: so the k-th event after registration is the
        # change to version k + 1, on both databases.
        if row["version"] != 1 + len(bumps):
            self.problem(f"{what}: version {row['version']} but {len(bumps)} changes audited")
        self.claim_acknowledged(ops, what)
        versions: dict[int, Op] = {}
        for op in ops:
            if op.acknowledged and op.kind in ("update", "status"):
                assert op.version is not None
                if op.version in versions:
                    self.problem(f"{what}: version {op.version} acknowledged twice: {op}")
                versions[op.version] = op
                if not 2 <= op.version <= len(bumps) + 1:
                    self.problem(f"{what}: acknowledged version {op.version} is not there: {op}")
                elif self.owner.get(bumps[op.version - 2]["id"]) is not op:
                    self.problem(f"{what}: the change to version {op.version} is not {op}")
            if op.acknowledged and op.kind == "disclosure" and op.change_id is None:
                row_d = self.snap.disclosures.get(op.result_id or -1)
                if row_d is None or (row_d["recipient_id"], row_d["retention"]) != (
                    rid,
                    op.input["disclosure"]["retention"],
                ):
                    self.problem(f"{what}: acknowledged disclosure missing or wrong: {op}")
        self.claim_the_rest(events, what)
        self.check_losers(ops, what)

        # Replay the history in order from the registration.
        [register] = [op for op in ops if op.kind == "register"] or [None]
        if register is None:
            self.problem(f"{what}: not registered by this run")
            return
        state: dict[str, Any] = {"description": None} | {
            k: register.input[k] for k in RECIPIENT_FIELDS if k in register.input
        }
        for version, event in enumerate(bumps, start=2):
            for key, (before, after) in event["changes"].items():
                if key not in RECIPIENT_FIELDS:
                    continue
                if before != state[key]:
                    self.problem(
                        f"{what}: version {version} changed {key} from {before!r}, "
                        f"but it was {state[key]!r}: a write against a stale state"
                    )
                state[key] = after
            op = self.owner.get(event["id"])
            if op is not None and op.kind == "update":
                wanted = {k: op.input[k] for k in UPDATE_FIELDS}
                if {k: state[k] for k in UPDATE_FIELDS} != wanted:
                    self.problem(f"{what}: after version {version} {state} is not {wanted}")
            if op is not None and op.kind == "status" and state["status"] != op.input["status"]:
                self.problem(f"{what}: after version {version} status is {state['status']}")
        final = {k: row[k] for k in RECIPIENT_FIELDS}
        if final != state:
            self.problem(f"{what}: the row {final} is not the replayed history {state}")

    def subject(
        self, ref: str, row: dict[str, Any], ops: list[Op], events: list[dict[str, Any]]
    ) -> None:
        what = f"subject {ref}"
        if not events or events[0]["action"] != "createDataSubject":
            self.problem(f"{what}: the first audit event is not its creation: {events[:1]}")
            return
        # Every upsert writes a new set of categories, so every one bumps the version and is
        # audited: versions 1..n are the n events.
        if row["version"] != len(events):
            self.problem(f"{what}: version {row['version']} but {len(events)} audit events")
        self.claim_acknowledged(ops, what)
        self.claim_the_rest(events, what)
        self.check_losers(ops, what)
        state: dict[str, Any] = {}
        for event in events:
            for key, (before, after) in event["changes"].items():
                if before != state.get(key):
                    self.problem(
                        f"{what}: event {event['id']} changed {key} from {before!r}, "
                        f"but it was {state.get(key)!r}"
                    )
                state[key] = after
            op = self.owner.get(event["id"])
            if op is not None and op.kind == "upsert":
                wanted = {
                    "subjectType": op.input["subjectType"],
                    "country": op.input["country"],
                    "dataCategories": sorted(op.input["dataCategories"]),
                }
                if {k: state.get(k) for k in SUBJECT_FIELDS} != wanted:
                    self.problem(f"{what}: after event {event['id']} {state} is not {wanted}")
        final = {
            "subjectType": row["subject_type_id"],
            "country": row["country"],
            "dataCategories": row["categories"],
        }
        if final != {k: state.get(k) for k in SUBJECT_FIELDS}:
            self.problem(f"{what}: the row {final} is not the replayed history {state}")

    def consents(self, ops: list[Op], events: list[dict[str, Any]]) -> None:
        what = "consents"
        self.claim_acknowledged(ops, what)
        self.claim_the_rest(events, what)
        audited = sorted(e["entity_id"] for e in events)
        stored = sorted(c["id"] for c in self.snap.consents)
        if audited != stored:
            self.problem(f"consent records {stored} but audit events for {audited}")
        by_id = {c["id"]: c for c in self.snap.consents}
        for event in events:
            op = self.owner.get(event["id"])
            stored_row = by_id.get(event["entity_id"])
            if op is None or stored_row is None:
                continue
            found = (
                stored_row["external_ref"],
                stored_row["purpose_id"],
                stored_row["granted"],
                stored_row["recorded_at"],
                stored_row["actor"],
            )
            wanted = (
                op.target,
                op.input["purpose"],
                op.input["granted"],
                _moment(op.input["recordedAt"]),
                op.actor,
            )
            if found != wanted:
                self.problem(f"consent record {stored_row['id']} is {found}, not {wanted}")


async def verify(load: Load, url: str) -> tuple[list[str], int]:
    """The problems found (empty when the database matches the journal), and how many writes
    whose answers were lost turned out to have been made."""
    verifier = Verifier(load, await snapshot(url))
    return verifier.run(), verifier.recovered
