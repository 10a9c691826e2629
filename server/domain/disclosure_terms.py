"""The terms of a disclosure, and the checks they pass before the inventory records them.

A disclosure is an entry in the record of processing (GDPR Art. 30(1)): it names whose data
(the categories of data subjects) of which categories goes to the recipient, for which purposes,
on which legal basis and ground, for how long, and to which countries. Plain Python, no ORM: the
services check the terms here before they touch the database, and server/db writes them."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from server.domain import special_categories, validation
from server.domain.enums import (
    DisclosureFrequency,
    DisclosureGround,
    LegalBasis,
    SpecialCategoryCondition,
    TransferMechanism,
)
from server.domain.errors import ErrorCollector
from server.domain.taxonomy import Taxonomy

# What one disclosure may list, and how many disclosures one request or one recipient may hold.
# Each disclosure becomes a row per category and subject type pair (the audience the report
# reads): these caps keep one request's writes in the thousands of rows, and they are the
# documented maxima the query cost can rely on (issue 11 §4).
CATEGORIES_MAX = 30
SUBJECT_TYPES_MAX = 10
PURPOSES_MAX = 10
TRANSFERS_MAX = 20
DISCLOSURES_PER_REQUEST_MAX = 50
DISCLOSURES_PER_RECIPIENT_MAX = 200


@dataclass
class TransferSpec:
    country: str
    mechanism: TransferMechanism
    reference: str | None = None
    # When the safeguard took effect (may lie ahead: the answer is then as planned).
    signed_on: date | None = None
    # The importer is attested to fall within a limited adequacy decision's scope.
    within_adequacy_scope: bool | None = None


@dataclass
class DisclosureSpec:
    data_categories: list[str]
    subject_types: list[str]
    purposes: list[str]
    legal_basis: LegalBasis
    ground: DisclosureGround
    retention: str | None = None
    transfers: list[TransferSpec] = field(default_factory=list)
    effective_from: date | None = None
    frequency: DisclosureFrequency = DisclosureFrequency.CONTINUOUS
    special_category_condition: SpecialCategoryCondition | None = None
    # The exporting establishment's slug; None: the main establishment (none for a
    # subprocessor, whose data comes from the processor that engaged it).
    exporter: str | None = None


def check_disclosure(
    errors: ErrorCollector, path: list[str], spec: DisclosureSpec, taxonomy: Taxonomy
) -> None:
    """Record under `path` everything wrong with these terms."""
    # Art. 30(1)(c): the categories of data subjects and of personal data; Art. 30(1)(b): the
    # purposes. An entry without one of each does not say what it records. Keys come from the
    # taxonomy, so that matching by ancestry (rule 4) works on them.
    lists = (
        (
            "dataCategories",
            spec.data_categories,
            taxonomy.categories,
            "data category",
            CATEGORIES_MAX,
        ),
        (
            "subjectTypes",
            spec.subject_types,
            taxonomy.subject_types,
            "subject type",
            SUBJECT_TYPES_MAX,
        ),
        ("purposes", spec.purposes, taxonomy.purposes, "purpose", PURPOSES_MAX),
    )
    for name, keys, known, label, most in lists:
        if not keys:
            errors.add([*path, name], f"A disclosure needs at least one {label}.")
        if len(keys) > most:
            # A broader key covers its descendants (rule 4): "user.contact" for every contact.
            hint = "" if name == "subjectTypes" else " Where several share a parent, name it."
            errors.add(
                [*path, name], f"A disclosure names at most {most} {name}; got {len(keys)}.{hint}"
            )
            continue
        for i, key in enumerate(keys):
            if key not in known:
                errors.add([*path, name, str(i)], f'Unknown {label} "{key[:100]}".')
    # GDPR Art. 9(2) and Art. 10: special-category and criminal-offence data need a condition
    # that fits them (server/domain/special_categories.py says which keys count). Judged on the
    # known keys only: an unknown one has its own error above, and too many keys have theirs.
    if len(spec.data_categories) <= CATEGORIES_MAX:
        special_categories.check_condition(
            errors,
            path,
            [k for k in spec.data_categories if k in taxonomy.categories],
            spec.special_category_condition,
        )
    # Art. 30(1)(f): the envisaged time limit for erasure, when there is one.
    if spec.retention is not None and (problem := validation.retention_error(spec.retention)):
        errors.add([*path, "retention"], problem)
    if spec.effective_from is not None and (
        problem := validation.moment_error(spec.effective_from)
    ):
        errors.add([*path, "effectiveFrom"], problem)
    if len(spec.transfers) > TRANSFERS_MAX:
        errors.add(
            [*path, "transfers"],
            f"A disclosure lists at most {TRANSFERS_MAX} transfers; got {len(spec.transfers)}.",
        )
        return
    for i, transfer in enumerate(spec.transfers):
        # Art. 30(1)(e): a transfer identifies the third country.
        if problem := validation.country_error(transfer.country):
            errors.add([*path, "transfers", str(i), "country"], problem)
        if transfer.reference is not None and len(transfer.reference) > validation.REFERENCE_MAX:
            errors.add(
                [*path, "transfers", str(i), "reference"],
                f"Reference is longer than {validation.REFERENCE_MAX} characters.",
            )
        if transfer.signed_on is not None and (
            problem := validation.moment_error(transfer.signed_on)
        ):
            errors.add([*path, "transfers", str(i), "signedOn"], problem)


def disclosure_count_error(count: int, maximum: int, where: str) -> str | None:
    """More disclosures than `where` (one request, one recipient) may hold."""
    if count <= maximum:
        return None
    return (
        f"At most {maximum} disclosures {where}; got {count}. Split them over several requests, "
        "or end disclosures that no longer apply."
    )


# The terms a correction may clear (an explicit null), and what they become; the others are
# required, and a correction leaves out those it keeps.
CLEARABLE_TERMS: dict[str, Any] = {
    "retention": None,
    "special_category_condition": None,
    "transfers": [],
}


def terms_record(spec: DisclosureSpec) -> dict[str, Any]:
    """The terms as JSON-ready values, for a change that applies them later (on approval):
    `terms_from_record` reads them back exactly."""
    record = dataclasses.asdict(spec)
    for transfer in record["transfers"]:
        if transfer["signed_on"] is not None:
            transfer["signed_on"] = transfer["signed_on"].isoformat()
    if spec.effective_from is not None:
        record["effective_from"] = spec.effective_from.isoformat()
    return record


def terms_from_record(record: dict[str, Any]) -> DisclosureSpec:
    """Terms from snake_case values: a change's proposal (terms_record) or a fixture file's
    entry, whose days may already be dates."""

    def day(value: Any) -> date | None:
        if value is None or value == "":
            return None
        if isinstance(value, datetime):
            return value.date()
        return value if isinstance(value, date) else date.fromisoformat(str(value))

    condition = record.get("special_category_condition")
    return DisclosureSpec(
        data_categories=list(record["data_categories"]),
        subject_types=list(record["subject_types"]),
        purposes=list(record["purposes"]),
        legal_basis=LegalBasis(record["legal_basis"]),
        ground=DisclosureGround(record["ground"]),
        retention=record.get("retention"),
        transfers=[
            TransferSpec(
                country=str(t["country"]),
                mechanism=TransferMechanism(t["mechanism"]),
                reference=t.get("reference"),
                signed_on=day(t.get("signed_on")),
                within_adequacy_scope=t.get("within_adequacy_scope"),
            )
            for t in record.get("transfers") or []
        ],
        effective_from=day(record.get("effective_from")),
        frequency=DisclosureFrequency(record.get("frequency") or DisclosureFrequency.CONTINUOUS),
        special_category_condition=SpecialCategoryCondition(condition) if condition else None,
        exporter=record.get("exporter"),
    )
