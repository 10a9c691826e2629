"""Disclosure rows by hand-written SQL, and the one SQL form of "in effect on a day"."""

from __future__ import annotations

import dataclasses
import functools
import operator
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Generic, TypeVar, overload

import orjson

from server.db.sql import (
    NOT_READ,
    Statement,
    connection,
    fetch,
    in_turns,
    to_date,
    to_datetime,
)

T = TypeVar("T")


def in_effect_on(st: Statement, day: date, table: str = "d") -> str:
    """The disclosure applies on `day`: started, and not yet ended (effective_to is the first
    day it no longer applies). The rule in Python is server.domain.who_receives.in_effect."""
    return f"{table}.effective_from <= {st.param(day)} AND {not_ended_on(st, day, table)}"


def not_ended_on(st: Statement, day: date, table: str = "d") -> str:
    """The disclosure has not ended by `day`: in effect, or still to come."""
    return f"({table}.effective_to IS NULL OR {table}.effective_to > {st.param(day)})"


@dataclass
class TransferRow:
    country: str
    mechanism: str
    reference: str | None
    # When the safeguard took effect, and whether the importer is within a limited decision's
    # scope: null when not recorded (and in rows written before migration 0009).
    signed_on: date | None = None
    within_adequacy_scope: bool | None = None


def transfer_row(item: Sequence[Any]) -> TransferRow:
    """One element of transfers_json: [country, mechanism, reference, signed_on, scope], or the
    three-element form written before migration 0009."""
    if len(item) == 3:
        return TransferRow(item[0], item[1], item[2])
    country, mechanism, reference, signed_on, scope = item
    return TransferRow(
        country,
        mechanism,
        reference,
        date.fromisoformat(signed_on) if signed_on else None,
        scope,
    )


class parsed_once(Generic[T]):
    """An attribute computed on first read and then stored on the instance: functools'
    cached_property without the lock Python 3.11 takes on every first read (0.7 µs, paid
    for each of the hundreds of disclosures in a report)."""

    def __init__(self, parse: Callable[[Any], T]) -> None:
        self.parse = parse
        self.name = parse.__name__
        self.__doc__ = parse.__doc__

    @overload
    def __get__(self, instance: None, owner: type | None = None) -> parsed_once[T]: ...
    @overload
    def __get__(self, instance: object, owner: type | None = None) -> T: ...
    def __get__(self, instance: object | None, owner: type | None = None) -> Any:
        if instance is None:
            return self
        value = instance.__dict__[self.name] = self.parse(instance)
        return value


@dataclass
class DisclosureRow:
    """One disclosure as read. Its categories, subject types, purposes and transfers arrive as
    the text of its read-model columns (see models.Disclosure) and are split only when used."""

    id: int
    recipient_id: int
    legal_basis: str
    ground: str
    retention: str | None
    # Its days and the moments it was recorded as the driver gives them (SQLite's text,
    # PostgreSQL's dates), converted on first use: a page of hundreds of disclosures shows few.
    effective_from_stored: date | str
    effective_to_stored: date | str | None
    categories_text: str | None
    subject_types_text: str | None
    purposes_text: str | None
    transfers_json: str | None
    frequency: str = "CONTINUOUS"
    special_category_condition: str | None = None
    # This service's clock: when the disclosure was recorded, and when its end was.
    recorded_at_stored: datetime | str | None = None
    ended_recorded_at_stored: datetime | str | None = None
    # The establishment it is disclosed from, as recorded (see models.Disclosure.exporter).
    exporter_id: int | None = None
    # Its corrections (see models.Disclosure): the version, the day it first took effect when a
    # correction moved effective_from on, and on a row of terms a correction replaced, which
    # disclosure they belong to.
    version: int = 1
    started_on_stored: date | str | None = None
    corrected_into_id: int | None = None

    @parsed_once
    def effective_from(self) -> date:
        day = to_date(self.effective_from_stored)
        assert day is not None  # the column is NOT NULL
        return day

    @parsed_once
    def effective_to(self) -> date | None:
        return to_date(self.effective_to_stored)

    @parsed_once
    def started_on(self) -> date:
        """The day the disclosure first took effect, as people know it: effective_from unless a
        correction split it."""
        return to_date(self.started_on_stored) or self.effective_from

    @parsed_once
    def recorded_at(self) -> datetime | None:
        return to_datetime(self.recorded_at_stored)

    @parsed_once
    def ended_recorded_at(self) -> datetime | None:
        return to_datetime(self.ended_recorded_at_stored)

    @parsed_once
    def data_categories(self) -> list[str]:
        return self.categories_text.split(",") if self.categories_text else []

    @parsed_once
    def subject_types(self) -> list[str]:
        return self.subject_types_text.split(",") if self.subject_types_text else []

    @parsed_once
    def purposes(self) -> list[str]:
        return self.purposes_text.split(",") if self.purposes_text else []

    @parsed_once
    def transfers(self) -> list[TransferRow]:
        text = self.transfers_json
        if not text or text == "[]":
            return []
        return [transfer_row(item) for item in orjson.loads(text)]


def destinations_in(text: str | None) -> list[tuple[str, str]]:
    """The (country, mechanism) of each transfer a transfers_json column holds, in the order
    recorded: what a reader of where data goes needs (the record of processing reads tens of
    thousands), without the rest of a TransferRow."""
    if not text or text == "[]":
        return []
    return [(item[0], item[1]) for item in orjson.loads(text)]


# The columns a disclosure is read from, in DisclosureRow's order (its fields up to
# corrected_into_id). Every read selects them all but a page that shows only some fields of its
# disclosures (`disclosures_of`'s `columns`): a column costs about 0.1 µs a row to read.
COLUMNS = (
    "id",
    "recipient_id",
    "legal_basis",
    "ground",
    "retention",
    "effective_from",
    "effective_to",
    "categories_text",
    "subject_types_text",
    "purposes_text",
    "transfers_json",
    "frequency",
    "special_category_condition",
    "created_at",
    "ended_recorded_at",
    "exporter_id",
    "version",
    "started_on",
    "corrected_into_id",
)
# Always read: a row is found and grouped by them.
KEY_COLUMNS = ("id", "recipient_id")
_SELECT = f"SELECT {', '.join(f'd.{column}' for column in COLUMNS)} FROM disclosure d"


# DisclosureRow's fields, in the order of COLUMNS.
_FIELDS = tuple(f.name for f in dataclasses.fields(DisclosureRow))
assert len(_FIELDS) == len(COLUMNS), "a column for each field of DisclosureRow"


class NarrowDisclosureRow(DisclosureRow):
    """A row read in only some columns (`_select`'s `columns`): it holds the fields read, and
    each other field reads as NOT_READ, from the class. Hundreds a page are made and freed:
    a row of four fields rather than nineteen. Its own class, so that reading a full row's
    fields stays as fast as Python reads any attribute (a `__getattr__` would slow them)."""


for _field in _FIELDS:
    setattr(NarrowDisclosureRow, _field, NOT_READ)


@functools.lru_cache(maxsize=256)
def _narrow(columns: tuple[str, ...]) -> tuple[str, tuple[str, ...]]:
    """The SELECT of these columns (of COLUMNS, in its order), and the fields of DisclosureRow
    they fill. Bounded: the column sets are those of the fields of a query's pages."""
    if not set(KEY_COLUMNS) <= set(columns) or columns != tuple(c for c in COLUMNS if c in columns):
        raise ValueError(f"not a set of disclosure columns in order: {columns}")
    text = f"SELECT {', '.join(f'd.{column}' for column in columns)} FROM disclosure d"
    return text, tuple(_FIELDS[COLUMNS.index(c)] for c in columns)


async def _select(
    st: Statement, where: str, order: str = " ORDER BY d.id", columns: tuple[str, ...] = COLUMNS
) -> list[DisclosureRow]:
    """Rows in _SELECT's column order, unpacked positionally: hundreds a request. With fewer
    `columns` (see `disclosures_of`), a NarrowDisclosureRow, whose other fields read as
    NOT_READ: made as DisclosureRow's __init__ would make it (it only sets each field), with
    only the fields read set, at a third of the cost of 19 arguments picked apart."""
    conn = connection()
    out: list[DisclosureRow] = []
    if columns != COLUMNS:
        select, fields = _narrow(columns)
        new = object.__new__
        async for chunk in in_turns(await fetch(conn, st, f"{select} WHERE {where}{order}")):
            for values in chunk:
                row = new(NarrowDisclosureRow)
                row.__dict__.update(zip(fields, values, strict=True))
                out.append(row)
        return out
    async for chunk in in_turns(await fetch(conn, st, f"{_SELECT} WHERE {where}{order}")):
        out += [
            DisclosureRow(
                did,
                recipient,
                basis,
                ground,
                retention,
                start,
                end,
                categories,
                subject_types,
                purposes,
                transfers,
                frequency,
                condition,
                recorded,
                ended,
                exporter,
                version,
                started_on,
                corrected_into,
            )
            for (
                did,
                recipient,
                basis,
                ground,
                retention,
                start,
                end,
                categories,
                subject_types,
                purposes,
                transfers,
                frequency,
                condition,
                recorded,
                ended,
                exporter,
                version,
                started_on,
                corrected_into,
            ) in chunk
        ]
    return out


async def disclosures_of(
    recipient_ids: Sequence[int],
    *,
    not_ended_on_day: date | None,
    columns: tuple[str, ...] = COLUMNS,
) -> dict[int, list[DisclosureRow]]:
    """Recipients' disclosures, oldest first; with `not_ended_on_day`, only those that have not
    ended by that day. The terms a correction replaced are the corrected disclosure's history,
    not disclosures of their own: left out. With `columns` (of COLUMNS, in its order, the
    KEY_COLUMNS among them), only those are read and the row's other fields hold NOT_READ: for
    a page whose fields read no others."""
    out: dict[int, list[DisclosureRow]] = defaultdict(list)
    if not recipient_ids:
        return out
    st = Statement(connection())
    where = (
        st.is_in("d.recipient_id", list(set(recipient_ids))) + " AND d.corrected_into_id IS NULL"
    )
    if not_ended_on_day is not None:
        where += f" AND {not_ended_on(st, not_ended_on_day)}"
    # By recipient first: the index on (recipient_id, effective_from) gives the rows in this
    # order, with no sort (a page of 50 recipients: a fifth of the statement's time on SQLite).
    order = " ORDER BY d.recipient_id, d.effective_from, d.id"
    for row in await _select(st, where, order, columns):
        out[row.recipient_id].append(row)
    return out


async def disclosures_by_id(ids: Sequence[int]) -> dict[int, DisclosureRow]:
    if not ids:
        return {}
    st = Statement(connection())
    return {row.id: row for row in await _select(st, st.is_in("d.id", list(set(ids))))}


async def disclosures_reaching(
    subject_type: str | None,
    category_keys: Sequence[str],
    day: date,
    *,
    only_active_now: bool = False,
) -> list[DisclosureRow]:
    """Disclosures in effect on `day` that cover one of `category_keys` (and, when given, the
    subject type). Asking about now, `only_active_now` leaves out what inactive recipients hold
    (the report's rules apply anyway)."""
    st = Statement(connection())
    # Driven from an index: the audience table when the subject type is known (one range scan
    # per category), the category links otherwise. Intersecting the link tables cost 8x more.
    if subject_type is not None:
        covering = (
            "SELECT a.disclosure_id FROM disclosure_audience a "
            f"WHERE a.subject_type_id = {st.param(subject_type)} "
            f"AND {st.is_in('a.category_id', category_keys)}"
        )
    else:
        covering = (
            "SELECT dc.disclosure_id FROM disclosure_category dc "
            f"WHERE {st.is_in('dc.category_id', category_keys)}"
        )
    conditions = [f"d.id IN ({covering})"]
    if only_active_now:
        # Per row, by primary key: listing every active recipient first cost 3 ms.
        conditions.append(
            "(SELECT r.status FROM recipient r WHERE r.id = d.recipient_id) = 'ACTIVE'"
        )
    conditions.append(in_effect_on(st, day))
    return await _select(st, " AND ".join(conditions))


async def disclosures_covering(
    subject_types: Sequence[str], category_keys: Sequence[str]
) -> list[DisclosureRow]:
    """Every disclosure, whenever in effect, whose audience holds one of the subject types and
    one of `category_keys`: what could ever have reached a subject with these facts."""
    if not subject_types or not category_keys:
        return []
    st = Statement(connection())
    covering = (
        "SELECT a.disclosure_id FROM disclosure_audience a "
        f"WHERE {st.is_in('a.subject_type_id', subject_types)} "
        f"AND {st.is_in('a.category_id', category_keys)}"
    )
    return await _select(st, f"d.id IN ({covering})")


async def disclosures_in_effect_on(day: date) -> list[DisclosureRow]:
    """Every disclosure in effect on `day` (each has a destination: its recipient's country)."""
    st = Statement(connection())
    return await _select(st, in_effect_on(st, day))


# What the record of processing reads of a disclosure: the columns of DisclosureRow's fields
# of the same names (`record_terms` reads them off a DisclosureRow, in this order).
RECORD_COLUMNS = (
    "recipient_id",
    "legal_basis",
    "retention",
    "categories_text",
    "subject_types_text",
    "purposes_text",
    "transfers_json",
    "special_category_condition",
)
record_terms = operator.attrgetter(*RECORD_COLUMNS)


async def record_terms_in_effect_on(day: date) -> list[Sequence[Any]]:
    """RECORD_COLUMNS of every disclosure in effect on `day`, as the driver gives them. The
    record of processing reads every disclosure in effect, tens of thousands, and making a
    DisclosureRow of each would cost more than reading it."""
    conn = connection()
    st = Statement(conn)
    columns = ", ".join(f"d.{column}" for column in RECORD_COLUMNS)
    where = in_effect_on(st, day)
    return list(
        await fetch(conn, st, f"SELECT {columns} FROM disclosure d WHERE {where} ORDER BY d.id")
    )


async def disclosures_without_condition_on(
    category_keys: Sequence[str], day: date
) -> list[DisclosureRow]:
    """Disclosures in effect on `day` that record no special-category condition and cover one
    of `category_keys` (the keys that count as special: server/domain/special_categories.py)."""
    st = Statement(connection())
    return await _select(
        st,
        "d.special_category_condition IS NULL AND d.id IN (SELECT dc.disclosure_id FROM "
        f"disclosure_category dc WHERE {st.is_in('dc.category_id', category_keys)}) "
        f"AND {in_effect_on(st, day)}",
    )


async def recipients_with_disclosure_of(category_keys: Sequence[str], day: date) -> list[int]:
    """Recipients with a disclosure in effect on `day` covering one of `category_keys`."""
    conn = connection()
    st = Statement(conn)
    rows = await fetch(
        conn,
        st,
        "SELECT DISTINCT d.recipient_id FROM disclosure d WHERE d.id IN "
        "(SELECT dc.disclosure_id FROM disclosure_category dc WHERE "
        f"{st.is_in('dc.category_id', category_keys)}) AND {in_effect_on(st, day)}",
    )
    return [r[0] for r in rows]
