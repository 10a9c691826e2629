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
from collections.abc import Hashable, Mapping
from datetime import date
from enum import Enum
from typing import Any, cast

from tortoise.models import Model

from server.db.models import Recipient
from server.domain import validation
from server.domain.disclosure_terms import DisclosureSpec

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


def recipient_snapshot(recipient: Recipient) -> dict[str, Any]:
    # A copy of each value, so that a snapshot taken before a change is not changed with it.
    return {
        key: copy.deepcopy(getattr(recipient, column))
        for column, key in audited_columns(Recipient, RECIPIENT_UNAUDITED, RECIPIENT_API_NAMES)
    }


def disclosure_snapshot(
    terms: DisclosureSpec, effective_from: date, exporter: str | None = None
) -> dict[str, Any]:
    """The terms as given, each list of taxonomy keys without repeats (as they are written), the
    day the disclosure takes effect (today, when the terms do not say), and the slug of the
    establishment it was recorded as coming from (the main one, when the terms name none)."""
    snapshot: dict[str, Any] = {}
    for name, key in _names_of(terms):
        value = getattr(terms, name)
        if isinstance(value, list):
            if all(isinstance(item, str) for item in value):
                value = validation.distinct(value)
            else:
                value = [_item(item) for item in value]
        snapshot[key] = value
    snapshot["effectiveFrom"] = effective_from
    snapshot["exporter"] = exporter
    return snapshot


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
