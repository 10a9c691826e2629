"""What the audit log records of a recipient or a disclosure: its audited fields under the names
the API gives them, so that audit.diff of two snapshots is an event's changes.

Both follow a declaration instead of a hand-written list, so that a new field is audited without
another edit here: a recipient's snapshot follows the columns of the Recipient model, less the
bookkeeping ones below; a disclosure's follows the fields of DisclosureSpec, its terms as given
(the Disclosure row keeps no order of its data categories, and its text columns are a read model
of the link tables)."""

from __future__ import annotations

import copy
import dataclasses
import functools
import operator
from collections.abc import Callable, Hashable, Mapping
from datetime import date, datetime
from enum import Enum
from typing import Any, cast

from tortoise.models import Model

from server.db.models import Recipient
from server.domain import validation
from server.domain.disclosure_terms import DisclosureSpec
from server.services import audit

# Recipient columns the audit log leaves out: each event records them itself, or they follow
# from the audited columns.
RECIPIENT_UNAUDITED = frozenset(
    {
        "id",  # the event's entity_id and recipient_id
        "sort_name",  # the name, case-folded for ordering
        "search_text",  # name, legal name and slug, case-folded for search
        "registered_by",  # the registration event's actor
        "version",  # moves on with every event
        "created_at",  # the registration event's at
        "updated_at",  # the latest event's at
        # The deprecated summary of dpf_certifications as written that day: the certifications
        # are audited themselves (as dpfCertifications), and the summary follows from them.
        "dpf_certified",
    }
)
# Where the API's name for a recipient column is not the column's name in camelCase.
RECIPIENT_API_NAMES = {"engaged_by_id": "engagedBy"}
# A transfer's terms recorded only when given: events written before they existed hold a
# transfer's country, mechanism and reference, and one that gives neither still reads so.
TRANSFER_TERMS_WHEN_GIVEN = frozenset({"signed_on", "within_adequacy_scope"})


def camel_case(name: str) -> str:
    first, *rest = name.split("_")
    return first + "".join(word.capitalize() for word in rest)


def audited_columns(
    model: type[Model], unaudited: frozenset[str], api_names: Mapping[str, str]
) -> list[tuple[str, str]]:
    """Each column of `model` but the unaudited ones, in declaration order, with the name the
    audit log records it under. A foreign key counts by its `<name>_id` column, which tortoise
    adds when it starts."""
    meta = model._meta
    return [
        (column, api_names.get(column) or camel_case(column))
        for column in meta.fields_map
        if column in meta.db_fields and column not in unaudited
    ]


def recipient_snapshot(recipient: Recipient | Mapping[str, Any]) -> dict[str, Any]:
    """The recipient's audited fields (the model, or its fields by name, as a bulk write
    inserts them)."""
    read: Callable[[str], Any] = (
        recipient.__getitem__
        if isinstance(recipient, Mapping)
        else functools.partial(getattr, recipient)
    )
    # A copy of each value that can change in place (a list of services, say), so that a
    # snapshot taken before a change is not changed with it.
    return {
        key: value
        if type(value) in _UNCHANGING or isinstance(value, Enum)
        else copy.deepcopy(value)
        for column, key in _recipient_columns(frozenset(Recipient._meta.db_fields))
        for value in (read(column),)
    }


# Values a snapshot keeps as they are: nothing changes them in place.
_UNCHANGING = frozenset({str, int, float, bool, type(None), date, datetime})


@functools.lru_cache(maxsize=4)
def _recipient_columns(db_fields: frozenset[str]) -> tuple[tuple[str, str], ...]:
    """audited_columns of Recipient, once for the columns tortoise gives it (it adds the
    foreign keys' when it starts)."""
    return tuple(audited_columns(Recipient, RECIPIENT_UNAUDITED, RECIPIENT_API_NAMES))


def disclosure_snapshot(
    terms: DisclosureSpec, effective_from: date, exporter: str | None = None
) -> dict[str, Any]:
    """The terms as given, each list of taxonomy keys without repeats (as they are written), the
    day the disclosure takes effect (today, when the terms do not say), and the slug of the
    establishment it was recorded as coming from (the main one, when the terms name none)."""
    snapshot = {key: _term(getattr(terms, name)) for name, key in _names_of(terms)}
    snapshot["effectiveFrom"] = effective_from
    snapshot["exporter"] = exporter
    return snapshot


def disclosure_changes(
    terms: DisclosureSpec, effective_from: date, exporter: str | None = None
) -> dict[str, list[Any]]:
    """What recording these terms changes: audit.diff({}, disclosure_snapshot(terms,
    effective_from, exporter)), each term given as [None, its value as the log records it], in
    the snapshot's order. Built in one pass, without the snapshot (an import records tens of
    thousands); a value of a kind this pass does not know takes the snapshot's way."""
    read, keys, from_at, exporter_at = _plan(cast("Hashable", type(terms)))
    values = list(read(terms))
    values[from_at] = effective_from
    values[exporter_at] = exporter
    changes: dict[str, list[Any]] = {}
    for key, value in zip(keys, values, strict=True):
        if value is None:
            continue
        kind = type(value)
        if kind is list:
            types = set(map(type, value))
            if types <= _STR:
                value = list(dict.fromkeys(value))
            elif not any(issubclass(t, str) for t in types):
                value = [_recorded_item(item) for item in value]
            else:
                value = audit.recorded(_term(value))
        elif kind not in _EXACT:
            if isinstance(value, Enum):
                value = value._value_
            elif isinstance(value, date):
                value = value.isoformat()
            else:
                value = audit.recorded(_term(value))
        changes[key] = [None, value]
    return changes


# The types the log records as they are (audit.recorded leaves them so).
_EXACT = frozenset({str, int, float, bool})
_STR = frozenset({str})


@functools.lru_cache(maxsize=16)
def _plan(terms: Any) -> tuple[Callable[[Any], tuple[Any, ...]], tuple[str, ...], int, int]:
    """How disclosure_changes reads terms of this class: every field at once, the names the
    log gives them, and where the day recorded and the exporter go (the snapshot's
    effectiveFrom and exporter, which the terms declare too)."""
    fields = [name for name, _ in _api_names(terms)]
    keys = [key for _, key in _api_names(terms)]
    for key in ("effectiveFrom", "exporter"):
        if key not in keys:
            # After the terms, as the snapshot adds it (the value read is replaced).
            fields.append("__class__")
            keys.append(key)
    read = operator.attrgetter(*fields)
    return read, tuple(keys), keys.index("effectiveFrom"), keys.index("exporter")


def _term(value: Any) -> Any:
    """One term as the snapshot holds it: a list of keys without repeats, a list of items (a
    transfer) as their fields."""
    if isinstance(value, list):
        if all(isinstance(item, str) for item in value):
            return validation.distinct(value)
        return [_item(item) for item in value]
    return value


def _recorded_item(item: Any) -> Any:
    """audit.recorded(_item(item)), in one pass over an item of scalars."""
    out: dict[str, Any] = {}
    for name, key in _names_of(item):
        value = getattr(item, name)
        if value is None:
            if name in TRANSFER_TERMS_WHEN_GIVEN:
                continue
        elif type(value) not in _EXACT:
            if isinstance(value, Enum):
                value = value._value_
            elif isinstance(value, date):
                value = value.isoformat()
            else:
                return audit.recorded(_item(item))
        out[key] = value
    return out


def _names_of(terms: Any) -> tuple[tuple[str, str], ...]:
    """A dataclass's fields, each with the name the API gives it (an import snapshots tens of
    thousands of disclosures). A class is hashable: mypy reads a dataclass's __hash__ = None as
    its class's."""
    return _api_names(cast("Hashable", type(terms)))


@functools.lru_cache(maxsize=16)
def _api_names(terms: Any) -> tuple[tuple[str, str], ...]:
    return tuple((term.name, camel_case(term.name)) for term in dataclasses.fields(terms))


# Values dataclasses.asdict would copy unchanged: an item made of them is read field by field.
_SCALARS = (str, int, float, bool, date, Enum, type(None))


def _item(item: Any) -> dict[str, Any]:
    """One item of a list of terms (a transfer): its fields, as dataclasses.asdict reads them."""
    names = _names_of(item)
    values = [getattr(item, name) for name, _ in names]
    if not all(isinstance(value, _SCALARS) for value in values):
        copied = dataclasses.asdict(item)
        values = [copied[name] for name, _ in names]
    return {
        key: value
        for (name, key), value in zip(names, values, strict=True)
        if value is not None or name not in TRANSFER_TERMS_WHEN_GIVEN
    }
