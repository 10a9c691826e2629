"""How big the inventory's lists can be: the counts behind a query's requested cost.

A list without `first` (a recipient's disclosures, a disclosure's categories) is as long as the
data makes it. Its bound is read here: the most items any one parent has, and how many exist in
all. One statement of scalar subqueries, on indexed columns; the service layer keeps the answer
for a while (server/services/statistics.py), since it costs tens of milliseconds on a large
inventory.
"""

from __future__ import annotations

from server.db.sql import Statement, connection, fetch

# Name -> SQL giving one integer (NULL when the table is empty counts as 0).
_MAX_PER = "SELECT MAX(n) FROM (SELECT COUNT(*) AS n FROM {table} {where} GROUP BY {parent}) AS t"
COUNTS: dict[str, str] = {
    "recipients": "SELECT COUNT(*) FROM recipient",
    "establishments": "SELECT COUNT(*) FROM establishment",
    "disclosures": "SELECT COUNT(*) FROM disclosure",
    "category_links": "SELECT COUNT(*) FROM disclosure_category",
    "purpose_links": "SELECT COUNT(*) FROM disclosure_purpose",
    "subject_type_links": "SELECT COUNT(*) FROM disclosure_subject_type",
    "transfers": "SELECT COUNT(*) FROM transfer",
    "recipient_events": "SELECT COUNT(*) FROM audit_event WHERE recipient_id IS NOT NULL",
    "consents": "SELECT COUNT(*) FROM consent_record",
    "transfer_consents": "SELECT COUNT(*) FROM transfer_consent",
    "status_changes": "SELECT COUNT(*) FROM status_change",
    "subject_category_links": "SELECT COUNT(*) FROM subject_category",
    "disclosures_per_recipient": _MAX_PER.format(
        table="disclosure", where="", parent="recipient_id"
    ),
    "subprocessors_per_recipient": _MAX_PER.format(
        table="recipient", where="WHERE engaged_by_id IS NOT NULL", parent="engaged_by_id"
    ),
    "categories_per_disclosure": _MAX_PER.format(
        table="disclosure_category", where="", parent="disclosure_id"
    ),
    "purposes_per_disclosure": _MAX_PER.format(
        table="disclosure_purpose", where="", parent="disclosure_id"
    ),
    "subject_types_per_disclosure": _MAX_PER.format(
        table="disclosure_subject_type", where="", parent="disclosure_id"
    ),
    "transfers_per_disclosure": _MAX_PER.format(table="transfer", where="", parent="disclosure_id"),
    "events_per_recipient": _MAX_PER.format(
        table="audit_event", where="WHERE recipient_id IS NOT NULL", parent="recipient_id"
    ),
    "status_changes_per_recipient": _MAX_PER.format(
        table="status_change", where="", parent="recipient_id"
    ),
    "consents_per_subject": _MAX_PER.format(table="consent_record", where="", parent="subject_id"),
    "transfer_consents_per_subject": _MAX_PER.format(
        table="transfer_consent", where="", parent="subject_id"
    ),
    # A subject's report lists only disclosures whose audience holds the subject's type.
    "disclosures_per_subject_type": (
        "SELECT MAX(n) FROM (SELECT COUNT(DISTINCT disclosure_id) AS n"
        " FROM disclosure_audience GROUP BY subject_type_id) AS t"
    ),
    "categories_per_subject": _MAX_PER.format(
        table="subject_category", where="", parent="subject_id"
    ),
    # What a receipt's periods can number: each change of the facts it depends on may start or
    # end one (server/domain/periods.py), and each one-off event is one.
    "moves_per_recipient": _MAX_PER.format(table="status_change", where="", parent="recipient_id"),
    "versions_per_subject": _MAX_PER.format(table="subject_version", where="", parent="subject_id"),
    "events_per_subject": _MAX_PER.format(table="disclosure_event", where="", parent="subject_id"),
}
# The longest engagedBy chain, in links (a recipient's `via` lists at most this many), cut at
# 1,000 links should a cycle ever be stored.
CHAIN = (
    "WITH RECURSIVE chain(id, links) AS ("
    " SELECT id, 0 FROM recipient WHERE engaged_by_id IS NULL"
    " UNION ALL SELECT r.id, c.links + 1 FROM recipient r JOIN chain c"
    " ON r.engaged_by_id = c.id WHERE c.links < 1000) "
)


async def inventory_counts() -> dict[str, int]:
    """Every count in COUNTS, and `chain_links`, in one statement."""
    conn = connection()
    columns = [f"({sql})" for sql in COUNTS.values()]
    text = CHAIN + "SELECT " + ", ".join([*columns, "(SELECT MAX(links) FROM chain)"])
    [row] = list(await fetch(conn, Statement(conn), text))
    names = [*COUNTS, "chain_links"]
    return {name: int(value or 0) for name, value in zip(names, row, strict=True)}
