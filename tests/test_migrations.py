"""The committed migrations describe the models exactly: a model change without its migration
fails here, not in production."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path

import orjson
import pytest
from tortoise import Tortoise
from tortoise.cli.cli import tortoise_cli_context
from tortoise.migrations.api import migrate as migrate_api
from tortoise.migrations.autodetector import MigrationAutodetector

from server.db.config import tortoise_config
from server.db.disclosures import TransferRow, disclosures_by_id
from server.db.recipients import recipients_by_id
from server.domain.regimes import DataPrivacyFramework, DpfCertification


async def test_models_need_no_new_migration(tmp_path: Path) -> None:
    config = tortoise_config(f"sqlite://{tmp_path / 'autodetect.sqlite3'}")
    async with tortoise_cli_context(config) as ctx:
        autodetector = MigrationAutodetector(ctx.apps, config["apps"])
        writers = await autodetector.changes()
    assert [w.name for w in writers] == [], (
        "models changed without a migration: run "
        "`python -m tortoise -c server.db.config.TORTOISE_ORM makemigrations -n <what>`"
    )


async def _apply(url: str, target: str | None) -> None:
    try:
        await migrate_api(config=tortoise_config(url), target=target)
    finally:
        await Tortoise.close_connections()


@pytest.fixture(params=["sqlite", "postgres"])
async def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A database with no tables at all, on each backend."""
    if request.param == "sqlite":
        yield f"sqlite://{tmp_path / 'migrations.sqlite3'}"
        return
    base = os.environ.get("TEST_POSTGRES_URL")
    if not base:
        pytest.skip("TEST_POSTGRES_URL is not set")
    import asyncpg

    admin_url = base.replace("postgres://", "postgresql://", 1)
    name = f"migrations_{os.getpid()}"
    conn = await asyncpg.connect(admin_url)
    try:
        await conn.execute(f"DROP DATABASE IF EXISTS {name}")
        await conn.execute(f"CREATE DATABASE {name}")
    finally:
        await conn.close()
    yield base.rsplit("/", 1)[0] + f"/{name}"
    conn = await asyncpg.connect(admin_url)
    try:
        await conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    finally:
        await conn.close()


async def test_audience_index_is_backfilled_from_the_link_tables(empty_database: str) -> None:
    """Disclosures recorded before 0005 get their audience rows from the link tables."""
    await _apply(empty_database, "models.0004_api_keys")
    await Tortoise.init(config=tortoise_config(empty_database))
    try:
        conn = Tortoise.get_connection("default")
        for statement in (
            "INSERT INTO data_category (key, name, sensitive, parent_id) VALUES "
            "('user', 'User', FALSE, NULL), ('user.contact', 'Contact', FALSE, 'user'), "
            "('user.name', 'Name', FALSE, 'user')",
            "INSERT INTO subject_type (key, name) VALUES ('customer', 'Customer'), "
            "('employee', 'Employee')",
            "INSERT INTO recipient (id, slug, name, sort_name, search_text, kind, role, status, "
            "country, services, dpf_certified, registered_by, version, created_at, updated_at) "
            "VALUES (1, 'acme', 'Acme', 'acme', 'acme', 'SERVICE_PROVIDER', 'PROCESSOR', "
            "'ACTIVE', 'US', '[]', FALSE, 'tests', 1, '2026-01-01T00:00:00+00:00', "
            "'2026-01-01T00:00:00+00:00')",
            "INSERT INTO disclosure (id, recipient_id, legal_basis, ground, effective_from, "
            "created_at) VALUES (7, 1, 'CONTRACT', 'SERVICE_PROVISION', '2026-01-01', "
            "'2026-01-01T00:00:00+00:00')",
            "INSERT INTO disclosure_category (disclosure_id, category_id) VALUES "
            "(7, 'user.contact'), (7, 'user.name')",
            "INSERT INTO disclosure_subject_type (disclosure_id, subject_type_id) VALUES "
            "(7, 'customer'), (7, 'employee')",
        ):
            await conn.execute_script(statement)
    finally:
        await Tortoise.close_connections()
    await _apply(empty_database, None)
    await Tortoise.init(config=tortoise_config(empty_database))
    try:
        conn = Tortoise.get_connection("default")
        rows = await conn.execute_query_dict(
            "SELECT disclosure_id, subject_type_id, category_id FROM disclosure_audience"
        )
    finally:
        await Tortoise.close_connections()
    assert sorted((r["disclosure_id"], r["subject_type_id"], r["category_id"]) for r in rows) == [
        (7, "customer", "user.contact"),
        (7, "customer", "user.name"),
        (7, "employee", "user.contact"),
        (7, "employee", "user.name"),
    ]


async def test_search_text_and_read_model_are_backfilled(empty_database: str) -> None:
    """Recipients and disclosures recorded before 0002 and 0003 get search_text and the read
    model derived by those migrations' own (frozen) code."""
    await _apply(empty_database, "models.0001_initial")
    await Tortoise.init(config=tortoise_config(empty_database))
    try:
        conn = Tortoise.get_connection("default")
        for statement in (
            "INSERT INTO data_category (key, name, sensitive, parent_id) VALUES "
            "('user', 'User', FALSE, NULL), ('user.name', 'Name', FALSE, 'user'), "
            "('user.contact', 'Contact', FALSE, 'user')",
            "INSERT INTO subject_type (key, name) VALUES ('employee', 'Employee'), "
            "('customer', 'Customer')",
            "INSERT INTO purpose (key, name) VALUES ('support', 'Support'), "
            "('analytics', 'Analytics')",
            "INSERT INTO recipient (id, slug, name, sort_name, legal_name, kind, role, status, "
            "country, services, dpf_certified, registered_by, version, created_at, updated_at) "
            "VALUES (1, 'straße-co', 'STRASSE Co', 'strasse co', 'Straße Co GmbH', "
            "'SERVICE_PROVIDER', 'PROCESSOR', 'ACTIVE', 'DE', '[]', FALSE, 'tests', 1, "
            "'2026-01-01T00:00:00+00:00', '2026-01-01T00:00:00+00:00'), "
            "(2, 'acme', 'Acme', 'acme', NULL, 'SERVICE_PROVIDER', 'PROCESSOR', 'ACTIVE', 'US', "
            "'[]', FALSE, 'tests', 1, '2026-01-01T00:00:00+00:00', '2026-01-01T00:00:00+00:00')",
            "INSERT INTO disclosure (id, recipient_id, legal_basis, ground, effective_from, "
            "created_at) VALUES (7, 1, 'CONTRACT', 'SERVICE_PROVISION', '2026-01-01', "
            "'2026-01-01T00:00:00+00:00'), (8, 2, 'CONTRACT', 'SERVICE_PROVISION', "
            "'2026-01-01', '2026-01-01T00:00:00+00:00')",
            "INSERT INTO disclosure_category (disclosure_id, category_id) VALUES "
            "(7, 'user.name'), (7, 'user.contact')",
            "INSERT INTO disclosure_subject_type (disclosure_id, subject_type_id) VALUES "
            "(7, 'employee'), (7, 'customer')",
            "INSERT INTO disclosure_purpose (disclosure_id, purpose_id, position) VALUES "
            "(7, 'support', 1), (7, 'analytics', 0)",
            "INSERT INTO transfer (id, disclosure_id, country, mechanism, reference) VALUES "
            "(2, 7, 'US', 'STANDARD_CONTRACTUAL_CLAUSES', 'DPA annex 2'), "
            "(1, 7, 'GB', 'ADEQUACY_DECISION', NULL)",
        ):
            await conn.execute_script(statement)
    finally:
        await Tortoise.close_connections()
    await _apply(empty_database, "models.0003_disclosure_read_model")
    await Tortoise.init(config=tortoise_config(empty_database))
    try:
        conn = Tortoise.get_connection("default")
        recipients = await conn.execute_query_dict(
            "SELECT id, search_text FROM recipient ORDER BY id"
        )
        disclosures = await conn.execute_query_dict(
            "SELECT id, categories_text, subject_types_text, purposes_text, transfers_json "
            "FROM disclosure ORDER BY id"
        )
    finally:
        await Tortoise.close_connections()
    assert [(r["id"], r["search_text"]) for r in recipients] == [
        (1, "strasse co strasse co gmbh strasse-co"),
        (2, "acme acme"),
    ]
    first, second = disclosures
    assert (first["categories_text"], first["subject_types_text"], first["purposes_text"]) == (
        "user.contact,user.name",
        "customer,employee",
        "analytics,support",
    )
    assert orjson.loads(first["transfers_json"]) == [
        ["GB", "ADEQUACY_DECISION", None],
        ["US", "STANDARD_CONTRACTUAL_CLAUSES", "DPA annex 2"],
    ]
    assert (second["categories_text"], second["subject_types_text"]) == (None, None)
    assert second["purposes_text"] is None
    # No transfers: PostgreSQL's json_agg gives NULL, SQLite's json_group_array gives [].
    assert second["transfers_json"] in (None, "[]")


async def test_history_keeps_two_clocks_for_facts_recorded_before_0006(
    empty_database: str,
) -> None:
    """0006: a consent's old recordedAt (the caller's time) becomes its decidedAt and our clock
    its recordedAt; status changes were recorded when they took effect; an ended disclosure's
    end was recorded when its audit event says; each subject gets one version, valid since it
    was created, with its categories."""
    await _apply(empty_database, "models.0005_disclosure_audience")
    await Tortoise.init(config=tortoise_config(empty_database))
    try:
        conn = Tortoise.get_connection("default")
        for statement in (
            "INSERT INTO data_category (key, name, sensitive, parent_id) VALUES "
            "('user', 'User', FALSE, NULL), ('user.name', 'Name', FALSE, 'user'), "
            "('user.contact', 'Contact', FALSE, 'user')",
            "INSERT INTO subject_type (key, name) VALUES ('customer', 'Customer')",
            "INSERT INTO purpose (key, name) VALUES ('marketing', 'Marketing')",
            "INSERT INTO recipient (id, slug, name, sort_name, search_text, kind, role, status, "
            "country, services, dpf_certified, registered_by, version, created_at, updated_at) "
            "VALUES (1, 'acme', 'Acme', 'acme', 'acme', 'SERVICE_PROVIDER', 'PROCESSOR', "
            "'ACTIVE', 'US', '[]', FALSE, 'tests', 1, '2026-01-01T00:00:00+00:00', "
            "'2026-01-01T00:00:00+00:00')",
            "INSERT INTO status_change (recipient_id, from_status, to_status, at, actor) VALUES "
            "(1, NULL, 'ACTIVE', '2025-06-01T00:00:00+00:00', 'tests')",
            "INSERT INTO disclosure (id, recipient_id, legal_basis, ground, effective_from, "
            "effective_to, created_at) VALUES (7, 1, 'CONTRACT', 'SERVICE_PROVISION', "
            "'2026-01-01', '2026-03-01', '2026-01-01T00:00:00+00:00'), (8, 1, 'CONTRACT', "
            "'SERVICE_PROVISION', '2026-01-01', NULL, '2026-01-01T00:00:00+00:00')",
            "INSERT INTO audit_event (at, actor, action, entity_type, entity_id, recipient_id, "
            "changes) VALUES ('2026-02-10T00:00:00+00:00', 'tests', 'endDisclosure', "
            "'Disclosure', 7, 1, '{}')",
            "INSERT INTO data_subject (id, external_ref, subject_type_id, country, version, "
            "created_at, updated_at) VALUES (3, 'u-3', 'customer', 'DE', 2, "
            "'2025-01-01T00:00:00+00:00', '2025-02-01T00:00:00+00:00'), (4, 'u-4', 'customer', "
            "'FR', 1, '2025-03-01T00:00:00+00:00', '2025-03-01T00:00:00+00:00')",
            "INSERT INTO subject_category (subject_id, category_id) VALUES "
            "(3, 'user.name'), (3, 'user.contact')",
            "INSERT INTO consent_record (subject_id, purpose_id, granted, recorded_at, "
            "created_at, actor) VALUES (3, 'marketing', TRUE, '2025-01-05T00:00:00+00:00', "
            "'2025-01-09T00:00:00+00:00', 'tests')",
        ):
            await conn.execute_script(statement)
    finally:
        await Tortoise.close_connections()
    await _apply(empty_database, None)
    await Tortoise.init(config=tortoise_config(empty_database))
    try:
        conn = Tortoise.get_connection("default")
        consent = await conn.execute_query_dict(
            "SELECT decided_at, recorded_at, explicit FROM consent_record"
        )
        status = await conn.execute_query_dict("SELECT at, recorded_at FROM status_change")
        ends = await conn.execute_query_dict(
            "SELECT id, ended_recorded_at, frequency, special_category_condition "
            "FROM disclosure ORDER BY id"
        )
        versions = await conn.execute_query_dict(
            "SELECT subject_id, subject_type_id, country, categories_text, valid_from, "
            "recorded_at FROM subject_version ORDER BY subject_id"
        )
    finally:
        await Tortoise.close_connections()

    def iso(value: object) -> str:
        return value if isinstance(value, str) else value.isoformat()  # type: ignore[attr-defined]

    assert [
        (iso(c["decided_at"]), iso(c["recorded_at"]), bool(c["explicit"])) for c in consent
    ] == [("2025-01-05T00:00:00+00:00", "2025-01-09T00:00:00+00:00", False)]
    assert [iso(s["recorded_at"]) for s in status] == ["2025-06-01T00:00:00+00:00"]
    assert [
        (e["id"], e["ended_recorded_at"] and iso(e["ended_recorded_at"]), e["frequency"])
        for e in ends
    ] == [(7, "2026-02-10T00:00:00+00:00", "CONTINUOUS"), (8, None, "CONTINUOUS")]
    assert all(e["special_category_condition"] is None for e in ends)
    assert [
        (v["subject_id"], v["subject_type_id"], v["country"], v["categories_text"])
        for v in versions
    ] == [(3, "customer", "DE", "user.contact,user.name"), (4, "customer", "FR", "")]
    assert [iso(v["valid_from"]) for v in versions] == [
        "2025-01-01T00:00:00+00:00",
        "2025-03-01T00:00:00+00:00",
    ]


async def test_dpf_flags_become_dated_certifications_in_0009(empty_database: str) -> None:
    """0009: a recipient flagged DPF-certified gets one EU-US certification from the day it was
    recorded (in UTC), still in force; the others none. The old column stays. New columns read
    as unset on old rows, and a disclosure's old three-element transfers still parse."""
    await _apply(empty_database, "models.0008_establishments_transfer_consents")
    await Tortoise.init(config=tortoise_config(empty_database))
    try:
        conn = Tortoise.get_connection("default")
        columns = (
            "INSERT INTO recipient (id, slug, name, sort_name, search_text, kind, role, status, "
            "country, services, dpf_certified, registered_by, version, created_at, updated_at) "
        )
        for statement in (
            columns + "VALUES (1, 'late', 'Late', 'late', 'late', 'SERVICE_PROVIDER', "
            "'PROCESSOR', 'ACTIVE', 'US', '[]', TRUE, 'tests', 1, '2025-03-04T23:30:00-05:00', "
            "'2025-03-04T23:30:00-05:00')",
            columns + "VALUES (2, 'plain', 'Plain', 'plain', 'plain', 'SERVICE_PROVIDER', "
            "'PROCESSOR', 'ACTIVE', 'US', '[]', FALSE, 'tests', 1, '2025-01-01T00:00:00+00:00', "
            "'2025-01-01T00:00:00+00:00')",
            columns + "VALUES (3, 'early', 'Early', 'early', 'early', 'SERVICE_PROVIDER', "
            "'PROCESSOR', 'ACTIVE', 'US', '[]', TRUE, 'tests', 1, '2022-06-01T10:00:00+00:00', "
            "'2022-06-01T10:00:00+00:00')",
            "INSERT INTO disclosure (id, recipient_id, legal_basis, ground, effective_from, "
            "created_at, transfers_json) VALUES (7, 1, 'CONTRACT', 'SERVICE_PROVISION', "
            "'2025-04-01', '2025-04-01T00:00:00+00:00', "
            '\'[["US", "ADEQUACY_DECISION", "DPF"]]\')',
            "INSERT INTO transfer (disclosure_id, country, mechanism, reference) VALUES "
            "(7, 'US', 'ADEQUACY_DECISION', 'DPF')",
        ):
            await conn.execute_script(statement)
    finally:
        await Tortoise.close_connections()
    await _apply(empty_database, None)
    await Tortoise.init(config=tortoise_config(empty_database))
    try:
        conn = Tortoise.get_connection("default")
        stored = await conn.execute_query_dict(
            "SELECT id, dpf_certified, dpf_certifications, corporate_group, "
            "international_organisation FROM recipient ORDER BY id"
        )
        transfers = await conn.execute_query_dict(
            "SELECT signed_on, within_adequacy_scope FROM transfer"
        )
        rows = await recipients_by_id([1, 2, 3])
        [disclosure] = (await disclosures_by_id([7])).values()
    finally:
        await Tortoise.close_connections()

    def as_json(value: object) -> object:
        return orjson.loads(value) if isinstance(value, str | bytes) else value

    assert [
        (r["id"], bool(r["dpf_certified"]), as_json(r["dpf_certifications"])) for r in stored
    ] == [
        (1, True, [{"framework": "EU_US", "certifiedOn": "2025-03-05", "lapsedOn": None}]),
        (2, False, []),
        (3, True, [{"framework": "EU_US", "certifiedOn": "2022-06-01", "lapsedOn": None}]),
    ]
    assert all(r["corporate_group"] is None for r in stored)
    assert all(not r["international_organisation"] for r in stored)
    assert [(t["signed_on"], t["within_adequacy_scope"]) for t in transfers] == [(None, None)]
    eu = DataPrivacyFramework.EU_US
    assert rows[1]["dpf_certifications"] == [DpfCertification(eu, date(2025, 3, 5))]
    assert rows[2]["dpf_certifications"] == []
    # Certified before the framework existed: in force only from 10 July 2023.
    assert rows[3]["dpf_certifications"] == [DpfCertification(eu, date(2022, 6, 1))]
    assert (rows[1]["international_organisation"], rows[1]["corporate_group"]) == (False, None)
    assert disclosure.exporter_id is None
    assert disclosure.transfers == [TransferRow("US", "ADEQUACY_DECISION", "DPF", None, None)]


async def _indexed_columns(url: str) -> set[tuple[str, tuple[str, ...]]]:
    """Every (table, columns) an index of the migrated database covers, in column order."""
    await Tortoise.init(config=tortoise_config(url))
    try:
        conn = Tortoise.get_connection("default")
        found: set[tuple[str, tuple[str, ...]]] = set()
        if url.startswith("sqlite"):
            tables = await conn.execute_query_dict(
                "SELECT name FROM sqlite_master WHERE type = 'table'"
            )
            for table in (t["name"] for t in tables):
                for index in await conn.execute_query_dict(f'PRAGMA index_list("{table}")'):
                    info = await conn.execute_query_dict(f'PRAGMA index_info("{index["name"]}")')
                    found.add(
                        (table, tuple(c["name"] for c in sorted(info, key=lambda c: c["seqno"])))
                    )
        else:
            rows = await conn.execute_query_dict(
                "SELECT t.relname AS table, array_agg(a.attname ORDER BY k.n) AS columns "
                "FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid "
                "JOIN pg_namespace s ON s.oid = t.relnamespace "
                "CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, n) "
                "JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum "
                "WHERE s.nspname = 'public' GROUP BY i.indexrelid, t.relname"
            )
            found = {(r["table"], tuple(r["columns"])) for r in rows}
        return found
    finally:
        await Tortoise.close_connections()


async def test_every_index_the_models_declare_survives_the_migrations(empty_database: str) -> None:
    """SQLite rebuilds a table to change a column, and a rebuild once dropped its indexes
    (0006): the report then scanned whole tables. Each declared index must exist, migrated
    step by step from before 0006 as from nothing."""
    await _apply(empty_database, "models.0005_disclosure_audience")
    await _apply(empty_database, None)
    found = await _indexed_columns(empty_database)
    await Tortoise.init(config=tortoise_config(empty_database))
    try:
        declared = set()
        for model in Tortoise.apps["models"].values():
            meta = model._meta
            for index in getattr(meta, "indexes", ()) or ():
                columns = tuple(
                    meta.fields_db_projection.get(name, name)
                    for name in (index if isinstance(index, tuple | list) else index.fields)
                )
                declared.add((meta.db_table, columns))
    finally:
        await Tortoise.close_connections()
    assert ("status_change", ("recipient_id", "at")) in declared
    assert declared <= found, sorted(declared - found)
