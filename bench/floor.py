"""The floor: each benchmarked answer computed with hand-written SQL and the domain rules, and
serialised to the same JSON as the GraphQL answer, with no GraphQL at all. The distance between
the floor and the API is what the API layer costs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson
from strawberry import relay

from server.db.sql import Statement, connection, fetch
from server.domain import dpf
from server.domain.taxonomy import Term, default_taxonomy
from server.services import reports as report_service
from server.services.clock import today

RECIPIENT_FIELDS = "id slug name legalName kind role status country services website dpaSignedOn version dataPrivacyFrameworkCertified"
CATEGORY_FIELDS = "key name description sensitive"
TERM_FIELDS = "key name description"
DISCLOSURE_FIELDS = f"""id legalBasis ground retention effectiveFrom effectiveTo
  transfers {{ country mechanism reference }}
  dataCategories {{ {CATEGORY_FIELDS} }} subjectTypes {{ {TERM_FIELDS} }} purposes {{ {TERM_FIELDS} }}"""

# The complete answer (issue 12): who receives, who did, who will, who may on request, what is
# withheld, and the one-off disclosures (events).
WHO_RECEIVES_FIELDS = f"""
    asOf
    asKnownAt
    subject {{
      id externalRef country createdAt subjectType {{ {TERM_FIELDS} }}
      dataCategories {{ {CATEGORY_FIELDS} }}
      consents {{ granted recordedAt decidedAt explicit purpose {{ {TERM_FIELDS} }} }}
    }}
    recipients {{
      recipient {{ {RECIPIENT_FIELDS} }}
      via {{ {RECIPIENT_FIELDS} }}
      reasons {{
        disclosure {{ {DISCLOSURE_FIELDS} }}
        dataCategories {{ {CATEGORY_FIELDS} }}
        purposes {{ {TERM_FIELDS} }}
        legalBasis ground
        transfers {{ country mechanism reference }}
        explanation
        transferAssessments {{ jurisdiction trigger fromCountry country mechanism lawful explanation }}
        since
      }}
    }}
    withheld {{
      recipient {{ {RECIPIENT_FIELDS} }} disclosure {{ {DISCLOSURE_FIELDS} }} reason explanation
      purposes {{ {TERM_FIELDS} }}
    }}
    pastRecipients {{
      recipient {{ {RECIPIENT_FIELDS} }}
      via {{ {RECIPIENT_FIELDS} }}
      disclosure {{ {DISCLOSURE_FIELDS} }}
      periods {{ from to }}
      dataCategories {{ {CATEGORY_FIELDS} }}
      purposes {{ {TERM_FIELDS} }}
      endedBecause
      explanation
    }}
    upcomingRecipients {{
      recipient {{ {RECIPIENT_FIELDS} }} disclosure {{ {DISCLOSURE_FIELDS} }} startsAt explanation
    }}
    possibleRecipients {{
      recipient {{ {RECIPIENT_FIELDS} }} disclosure {{ {DISCLOSURE_FIELDS} }} explanation
    }}
    events {{ id occurredAt reference note recordedAt recipient {{ {RECIPIENT_FIELDS} }} disclosure {{ id }} }}
"""
WHO_RECEIVES = f"""
query WhoReceives($ref: String!) {{
  whoReceives(subject: {{externalRef: $ref}}) {{ {WHO_RECEIVES_FIELDS} }}
}}
"""
# The same, from the facts recorded up to a moment (issue 12 §1).
WHO_RECEIVES_AS_KNOWN_AT = f"""
query WhoReceivesAsKnownAt($ref: String!, $knownAt: DateTime!) {{
  whoReceives(subject: {{externalRef: $ref}}, asKnownAt: $knownAt) {{ {WHO_RECEIVES_FIELDS} }}
}}
"""
RECIPIENTS_OF_CATEGORY = '{ recipientsOfCategory(key: "user.contact") { name kind country } }'
DASHBOARD_PAGE = """
{ recipients(first: 50) { totalCount pageInfo { hasNextPage endCursor }
    edges { cursor node { id name kind status country
      disclosures { id legalBasis dataCategories { key name } } } } } }
"""
RECIPIENT_BY_SLUG = """
query BySlug($slug: String!) { recipient(slug: $slug) { id name status subprocessors { name } } }
"""


def _iso(value: Any) -> Any:
    return None if value is None else value.isoformat()


def _recipient(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": relay.to_base64("Recipient", row["id"]),
        "slug": row["slug"],
        "name": row["name"],
        "legalName": row["legal_name"],
        "kind": row["kind"],
        "role": row["role"],
        "status": row["status"],
        "country": row["country"],
        "services": row["services"],
        "website": row["website"],
        "dpaSignedOn": _iso(row["dpa_signed_on"]),
        "version": row["version"],
        "dataPrivacyFrameworkCertified": dpf.eu_us_in_force(row["dpf_certifications"], today()),
    }


def _category(term: Term) -> dict[str, Any]:
    return {
        "key": term.key,
        "name": term.name,
        "description": term.description,
        "sensitive": term.sensitive,
    }


def _term(term: Term) -> dict[str, Any]:
    return {"key": term.key, "name": term.name, "description": term.description}


def _transfers(row: Any) -> list[dict[str, Any]]:
    return [
        {"country": t.country, "mechanism": t.mechanism, "reference": t.reference}
        for t in row.transfers
    ]


def _disclosure(row: Any) -> dict[str, Any]:
    taxonomy = default_taxonomy()
    return {
        "id": relay.to_base64("Disclosure", row.id),
        "legalBasis": row.legal_basis,
        "ground": row.ground,
        "retention": row.retention,
        "effectiveFrom": row.effective_from.isoformat(),
        "effectiveTo": _iso(row.effective_to),
        "transfers": _transfers(row),
        "dataCategories": [_category(taxonomy.categories[k]) for k in row.data_categories],
        "subjectTypes": [_term(taxonomy.subject_types[k]) for k in row.subject_types],
        "purposes": [_term(taxonomy.purposes[k]) for k in row.purposes],
    }


async def who_receives(ref: str, as_known_at: datetime | None = None) -> bytes:
    """The report as the service assembles it (server/services/reports.py), serialised by hand:
    the API adds only the GraphQL layer to this."""
    taxonomy = default_taxonomy()
    categories = taxonomy.categories
    purposes = taxonomy.purposes
    report = await report_service.who_receives_report(
        subject_id=None, external_ref=ref, as_of=None, as_known_at=as_known_at
    )
    assert report is not None and report.as_known_at is not None
    subject = report.subject
    # An event's recipient is one of the report's past recipients (its one-off receipt).
    one_off = {p.recipient["id"]: p.recipient for p in report.past}
    out_recipients = []
    for access in report.recipients:
        reasons = []
        for reason in access.reasons:
            d = reason.disclosure
            reasons.append(
                {
                    "disclosure": _disclosure(d),
                    "dataCategories": [_category(categories[k]) for k in reason.data_categories],
                    "purposes": [_term(purposes[k]) for k in reason.purposes],
                    "legalBasis": d.legal_basis,
                    "ground": d.ground,
                    "transfers": _transfers(d),
                    "explanation": reason.explanation,
                    "transferAssessments": [
                        {
                            "jurisdiction": a.jurisdiction.value,
                            "trigger": a.trigger.value,
                            "fromCountry": a.from_country,
                            "country": a.country,
                            "mechanism": a.mechanism.value,
                            "lawful": a.lawful,
                            "explanation": a.explanation,
                        }
                        for a in reason.assessments
                    ],
                    "since": reason.since.isoformat(),
                }
            )
        out_recipients.append(
            {
                "recipient": _recipient(access.recipient),
                "via": [_recipient(v) for v in access.via],
                "reasons": reasons,
            }
        )
    withheld = [
        {
            "recipient": _recipient(item.recipient),
            "disclosure": _disclosure(item.disclosure),
            "reason": item.reason.value,
            "explanation": item.explanation,
            "purposes": [_term(purposes[k]) for k in item.purposes],
        }
        for item in report.withheld
    ]
    past = [
        {
            "recipient": _recipient(item.recipient),
            "via": [_recipient(v) for v in item.via],
            "disclosure": _disclosure(item.disclosure),
            "periods": [{"from": p.start.isoformat(), "to": _iso(p.end)} for p in item.periods],
            "dataCategories": [_category(categories[k]) for k in item.data_categories],
            "purposes": [_term(purposes[k]) for k in item.purposes],
            "endedBecause": item.ended_because.value,
            "explanation": item.explanation,
        }
        for item in report.past
    ]
    upcoming = [
        {
            "recipient": _recipient(item.recipient),
            "disclosure": _disclosure(item.disclosure),
            "startsAt": item.starts_at.isoformat(),
            "explanation": item.explanation,
        }
        for item in report.upcoming
    ]
    possible = [
        {
            "recipient": _recipient(item.recipient),
            "disclosure": _disclosure(item.disclosure),
            "explanation": item.explanation,
        }
        for item in report.possible
    ]
    answer = {
        "whoReceives": {
            "asOf": report.at.isoformat(),
            "asKnownAt": report.as_known_at.isoformat(),
            "subject": {
                "id": relay.to_base64("DataSubject", subject.id),
                "externalRef": subject.external_ref,
                "country": subject.country,
                "createdAt": subject.created_at.isoformat(),
                "subjectType": _term(taxonomy.subject_types[subject.subject_type]),
                "dataCategories": [_category(categories[k]) for k in subject.data_categories],
                "consents": [
                    {
                        "granted": c.granted,
                        "recordedAt": c.recorded_at.isoformat(),
                        "decidedAt": c.decided_at.isoformat(),
                        "explicit": c.explicit,
                        "purpose": _term(purposes[c.purpose]),
                    }
                    for c in subject.consents
                ],
            },
            "recipients": out_recipients,
            "withheld": withheld,
            "pastRecipients": past,
            "upcomingRecipients": upcoming,
            "possibleRecipients": possible,
            "events": [
                {
                    "id": relay.to_base64("DisclosureEvent", e.id),
                    "occurredAt": e.occurred_at.isoformat(),
                    "reference": e.reference,
                    "note": e.note,
                    "recordedAt": e.recorded_at.isoformat(),
                    "recipient": _recipient(one_off[e.recipient_id]),
                    "disclosure": {"id": relay.to_base64("Disclosure", e.disclosure_id)},
                }
                for e in report.events
            ],
        }
    }
    return orjson.dumps({"data": answer})


async def recipients_of_category(key: str = "user.contact") -> bytes:
    rows = await report_service.recipients_of_category(key, None)
    answer = [{"name": r["name"], "kind": r["kind"], "country": r["country"]} for r in rows]
    return orjson.dumps({"data": {"recipientsOfCategory": answer}})


async def dashboard_page() -> bytes:
    """The first page of 50 recipients with their current disclosures and categories."""
    import base64

    from server.services import clock

    conn = connection()
    st = Statement(conn)
    rows = list(
        await fetch(
            conn,
            st,
            "SELECT id, name, sort_name, kind, status, country FROM recipient "
            "ORDER BY sort_name, id LIMIT 51",
        )
    )
    st = Statement(conn)
    total = next(iter(await fetch(conn, st, "SELECT count(*) FROM recipient")))[0]
    page = rows[:50]
    today = clock.today()
    st = Statement(conn)
    ids = [r[0] for r in page]
    disclosures: dict[int, list[dict[str, Any]]] = {i: [] for i in ids}
    by_id: dict[int, dict[str, Any]] = {}
    for did, rid, basis in await fetch(
        conn,
        st,
        "SELECT id, recipient_id, legal_basis FROM disclosure WHERE "
        f"{st.is_in('recipient_id', ids)} AND (effective_to IS NULL OR effective_to > "
        f"{st.param(today)}) ORDER BY effective_from, id",
    ):
        item = {
            "id": relay.to_base64("Disclosure", did),
            "legalBasis": basis,
            "dataCategories": [],
        }
        disclosures[rid].append(item)
        by_id[did] = item
    taxonomy = default_taxonomy()
    st = Statement(conn)
    for did, key in await fetch(
        conn,
        st,
        "SELECT disclosure_id, category_id FROM disclosure_category WHERE "
        f"{st.is_in('disclosure_id', list(by_id))} ORDER BY category_id",
    ):
        by_id[did]["dataCategories"].append({"key": key, "name": taxonomy.categories[key].name})

    def cursor(sort_name: str, rid: int) -> str:
        raw = "recipients:" + orjson.dumps([sort_name, rid]).decode()
        return base64.urlsafe_b64encode(raw.encode()).decode()

    edges = [
        {
            "cursor": cursor(r[2], r[0]),
            "node": {
                "id": relay.to_base64("Recipient", r[0]),
                "name": r[1],
                "kind": r[3],
                "status": r[4],
                "country": r[5],
                "disclosures": disclosures[r[0]],
            },
        }
        for r in page
    ]
    answer = {
        "recipients": {
            "totalCount": total,
            "pageInfo": {
                "hasNextPage": len(rows) > 50,
                "endCursor": edges[-1]["cursor"] if edges else None,
            },
            "edges": edges,
        }
    }
    return orjson.dumps({"data": answer})


async def recipient_by_slug(slug: str) -> bytes:
    conn = connection()
    st = Statement(conn)
    rows = list(
        await fetch(
            conn, st, f"SELECT id, name, status FROM recipient WHERE slug = {st.param(slug)}"
        )
    )
    if not rows:
        return orjson.dumps({"data": {"recipient": None}})
    rid, name, status = rows[0]
    st = Statement(conn)
    subs = await fetch(
        conn,
        st,
        f"SELECT name FROM recipient WHERE engaged_by_id = {st.param(rid)} ORDER BY sort_name, id",
    )
    answer = {
        "id": relay.to_base64("Recipient", rid),
        "name": name,
        "status": status,
        "subprocessors": [{"name": s[0]} for s in subs],
    }
    return orjson.dumps({"data": {"recipient": answer}})
