"""The inventory as a Fides manifest (issue 16 §3): what `fides push` loads, and what the
import (services/import_sources.py) reads back.

Each recipient ACTIVE at the moment with a disclosure in effect that day is a system (its slug
the fides_key); each of those disclosures is a privacy declaration per purpose (data use), with
its categories, subjects, Art. 6 basis, Art. 9 condition and retention. A sub-processor names
the system that engaged it as its ingress (and that one it as egress), so its engagers up the
chain are systems too, with no declarations when they receive nothing themselves. Our taxonomy
extensions come first, as data categories, data uses and data subjects a Fides server does not
have. How each term reads in Fides is server/domain/fides.py."""

from __future__ import annotations

import io
from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

import yaml
from yaml.resolver import Resolver

from server.db import disclosures as disclosure_rows
from server.db import recipients as recipient_rows
from server.db.disclosures import DisclosureRow
from server.domain import fides
from server.domain.enums import (
    LegalBasis,
    ProcessingRole,
    RecipientKind,
    RecipientStatus,
    SpecialCategoryCondition,
    TransferMechanism,
)
from server.domain.imports import enum_label
from server.domain.taxonomy import Taxonomy, Term, default_taxonomy, extensions
from server.domain.who_receives import utc_day
from server.services import clock

Recipient = Mapping[str, Any]
# libyaml's emitter where PyYAML has it (its wheels do), else PyYAML's own: the same output.
DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
STR, BOOL = "tag:yaml.org,2002:str", "tag:yaml.org,2002:bool"
MAP, SEQ = "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"


async def fides_manifest(*, as_of: datetime | None = None) -> bytes:
    """The manifest at `as_of` (default now): statuses at that moment, disclosures in effect on
    its day (UTC), recipients' details as they are now. YAML, UTF-8."""
    at = clock.as_utc(as_of) if as_of else clock.now()
    day = utc_day(at)
    rows = await disclosure_rows.disclosures_in_effect_on(day)
    found = await recipient_rows.recipients_with_status_at(
        sorted({r.recipient_id for r in rows}), as_of and at
    )
    active = {rid: row for rid, (row, status) in found.items() if status == RecipientStatus.ACTIVE}
    systems = active | await _engagers(active)
    declared: dict[int, list[DisclosureRow]] = defaultdict(list)
    for row in sorted(rows, key=lambda r: (r.effective_from, r.id)):
        if row.recipient_id in active:
            declared[row.recipient_id].append(row)
    engaged: dict[int, list[str]] = defaultdict(list)
    for recipient in sorted(systems.values(), key=lambda r: r["slug"]):
        if recipient["engaged_by_id"] is not None:
            engaged[recipient["engaged_by_id"]].append(recipient["slug"])
    taxonomy = default_taxonomy()
    ours = extensions()
    # Whether a disclosure's categories are special, by its categories: few distinct sets.
    special: dict[str | None, bool] = {}
    document = {
        "data_category": [_term(t, parent=True) for t in ours.categories.values()],
        "data_use": [_term(t, parent=True) for t in ours.purposes.values()],
        "data_subject": [_term(t, parent=False) for t in ours.subject_types.values()],
        "system": [
            _system(
                recipient,
                declared[rid],
                engager=(
                    systems[recipient["engaged_by_id"]]["slug"]
                    if recipient["engaged_by_id"] is not None
                    else None
                ),
                engages=engaged[rid],
                taxonomy=taxonomy,
                special=special,
                day=day,
            )
            for rid, recipient in sorted(systems.items(), key=lambda item: item[1]["slug"])
        ],
    }
    header = (
        f"# Recipient Inventory as Fides manifests (fideslang {fides.FIDESLANG_VERSION}), as of "
        f"{at.isoformat()}: the recipients ACTIVE then with the disclosures in effect on "
        f"{day.isoformat()}, and the processors that engaged them.\n"
    )
    return (header + manifest_yaml(document)).encode("utf-8")


def manifest_yaml(document: dict[str, Any]) -> str:
    """The document as yaml.safe_dump writes it with DUMPER (block style, keys in order,
    unicode, lines of 100), but sent to the emitter event by event: safe_dump's representer
    builds a node for every scalar first, which took most of 90 seconds and 1.3 GB for the
    bench's 10,000 recipients. Whether a string may go unquoted is the resolver's answer, as in
    safe_dump."""
    out = io.StringIO()
    dumper = DUMPER(out, allow_unicode=True, width=100)
    emit = dumper.emit
    resolver = Resolver()
    # This document's distinct strings (taxonomy keys, names...), each resolved once.
    implicit: dict[str, tuple[bool, bool]] = {}

    def scalar(text: str) -> None:
        flags = implicit.get(text)
        if flags is None:
            plain = resolver.resolve(yaml.ScalarNode, text, (True, False)) == STR
            flags = implicit[text] = (plain, True)
        emit(yaml.ScalarEvent(None, STR, flags, text))

    def put(value: Any) -> None:
        if type(value) is str:
            scalar(value)
        elif type(value) is dict:
            emit(yaml.MappingStartEvent(None, MAP, True, flow_style=False))
            for key, item in value.items():
                scalar(key)
                put(item)
            emit(yaml.MappingEndEvent())
        elif type(value) is list:
            emit(yaml.SequenceStartEvent(None, SEQ, True, flow_style=False))
            for item in value:
                put(item)
            emit(yaml.SequenceEndEvent())
        elif type(value) is bool:
            emit(yaml.ScalarEvent(None, BOOL, (True, False), "true" if value else "false"))
        else:
            raise TypeError(f"not in a manifest: {type(value).__name__}")

    try:
        emit(yaml.StreamStartEvent())
        emit(yaml.DocumentStartEvent(explicit=False))
        put(document)
        emit(yaml.DocumentEndEvent(explicit=False))
        emit(yaml.StreamEndEvent())
    finally:
        dumper.dispose()
    return out.getvalue()


async def _engagers(recipients: Mapping[int, Recipient]) -> dict[int, Recipient]:
    """The processors above these recipients, up each chain, that are not among them: a chain
    is at most MAX_CHAIN_LINKS long, so as many statements at most."""
    out: dict[int, Recipient] = {}
    wanted = {r["engaged_by_id"] for r in recipients.values()} - {None} - set(recipients)
    while wanted:
        found = await recipient_rows.recipients_by_id(sorted(wanted))
        out |= found
        known = set(recipients) | set(out)
        wanted = {r["engaged_by_id"] for r in found.values()} - {None} - known
    return out


def _term(term: Term, *, parent: bool) -> dict[str, Any]:
    """One of our taxonomy extensions as fideslang declares a term (not one of its defaults)."""
    out: dict[str, Any] = {"fides_key": term.key, "name": term.name}
    if term.description:
        out["description"] = term.description
    if parent and term.parent:
        out["parent_key"] = term.parent
    out["is_default"] = False
    return out


def _system(
    recipient: Recipient,
    rows: Sequence[DisclosureRow],
    *,
    engager: str | None,
    engages: Sequence[str],
    taxonomy: Taxonomy,
    special: dict[str | None, bool],
    day: date,
) -> dict[str, Any]:
    role = ProcessingRole(recipient["role"])
    system: dict[str, Any] = {
        "fides_key": recipient["slug"],
        "name": recipient["name"],
        "description": recipient["description"],
        "system_type": enum_label(RecipientKind(recipient["kind"])),
        "legal_name": recipient["legal_name"],
        "privacy_policy": recipient["privacy_policy_url"],
        "responsibility": [fides.RESPONSIBILITIES[role]],
        "joint_controller_info": (
            recipient["legal_name"] or recipient["name"]
            if role == ProcessingRole.JOINT_CONTROLLER
            else None
        ),
        "ingress": [{"fides_key": engager, "type": "system"}] if engager else None,
        "egress": [{"fides_key": slug, "type": "system"} for slug in engages] or None,
    }
    if rows:
        international, bases = fides.transfer_bases(
            [(recipient["country"], None)]
            + [(t.country, TransferMechanism(t.mechanism)) for r in rows for t in r.transfers],
            international_organisation=recipient["international_organisation"],
            on=day,
        )
        system["does_international_transfers"] = international
        system["legal_basis_for_transfers"] = bases
    system["privacy_declarations"] = _declarations(rows, taxonomy, special)
    return {k: v for k, v in system.items() if v is not None}


def _declarations(
    rows: Sequence[DisclosureRow], taxonomy: Taxonomy, special: dict[str | None, bool]
) -> list[dict[str, Any]]:
    """One declaration per purpose of each disclosure, in the disclosures' order; one that says
    exactly what an earlier one says is not repeated."""
    out: list[dict[str, Any]] = []
    seen: set[tuple[Any, ...]] = set()
    for row in rows:
        if row.categories_text not in special:
            special[row.categories_text] = fides.processes_special_category_data(
                row.data_categories
            )
        condition = (
            SpecialCategoryCondition(row.special_category_condition)
            if row.special_category_condition
            else None
        )
        for purpose in row.purposes:
            said = (
                purpose,
                frozenset(row.data_categories),
                frozenset(row.subject_types),
                row.legal_basis,
                condition,
                row.retention,
            )
            if said in seen:
                continue
            seen.add(said)
            declaration: dict[str, Any] = {
                "data_use": purpose,
                "data_categories": list(row.data_categories),
                "data_subjects": list(row.subject_types),
                "legal_basis_for_processing": fides.LEGAL_BASES[LegalBasis(row.legal_basis)],
                # The inventory records one basis; a notice may not swap it for another.
                "flexible_legal_basis_for_processing": False,
                "processes_special_category_data": special[row.categories_text],
            }
            if condition is not None and condition in fides.SPECIAL_CONDITIONS:
                declaration["special_category_legal_basis"] = fides.SPECIAL_CONDITIONS[condition]
            if row.retention:
                declaration["retention_period"] = row.retention
            out.append(declaration)
    names = fides.declaration_names([taxonomy.purposes[d["data_use"]].name for d in out])
    return [{"name": name, **d} for name, d in zip(names, out, strict=True)]
