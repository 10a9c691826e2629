"""The organisation's establishments by hand-written SQL: a handful of rows, read whole once per
request by whatever needs an exporter (a report, Disclosure.exporter)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from server.db.models import Establishment
from server.db.sql import Statement, connection, fetch
from server.domain.establishments import targets_of
from server.domain.regimes import Jurisdiction


@dataclass(frozen=True)
class EstablishmentRow:
    id: int
    slug: str
    name: str
    legal_name: str | None
    country: str
    targets: tuple[Jurisdiction, ...]
    main: bool
    version: int = 1


async def establishments_by_id() -> dict[int, EstablishmentRow]:
    """Every establishment, by id, in one statement."""
    conn = connection()
    st = Statement(conn)
    rows = await fetch(
        conn,
        st,
        "SELECT id, slug, name, legal_name, country, targets_text, main, version "
        "FROM establishment ORDER BY id",
    )
    return {
        eid: EstablishmentRow(
            eid, slug, name, legal_name, country, tuple(targets_of(targets)), bool(main), version
        )
        for eid, slug, name, legal_name, country, targets, main, version in rows
    }


def establishment_row(model: Establishment) -> EstablishmentRow:
    """A row a write read through the ORM, in the shape every read gives."""
    return EstablishmentRow(
        model.id,
        model.slug,
        model.name,
        model.legal_name,
        model.country,
        tuple(targets_of(model.targets_text)),
        model.main,
        model.version,
    )


def main_establishment(found: Mapping[int, EstablishmentRow]) -> EstablishmentRow | None:
    """The main one of `establishments_by_id()`'s answer (None while there is none)."""
    return next((row for row in found.values() if row.main), None)
