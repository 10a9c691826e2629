"""The terms of a disclosure, and the checks they pass before the inventory records them.

A disclosure is an entry in the record of processing (GDPR Art. 30(1)): it names whose data
(the categories of data subjects) of which categories goes to the recipient, for which purposes,
on which legal basis and ground, for how long, and to which countries. Plain Python, no ORM: the
services check the terms here before they touch the database, and server/db writes them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from server.domain import validation
from server.domain.enums import DisclosureGround, LegalBasis, TransferMechanism
from server.domain.errors import ErrorCollector
from server.domain.taxonomy import Taxonomy


@dataclass
class TransferSpec:
    country: str
    mechanism: TransferMechanism
    reference: str | None = None


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


def check_disclosure(
    errors: ErrorCollector, path: list[str], spec: DisclosureSpec, taxonomy: Taxonomy
) -> None:
    """Record under `path` everything wrong with these terms."""
    # Art. 30(1)(c): the categories of data subjects and of personal data; Art. 30(1)(b): the
    # purposes. An entry without one of each does not say what it records. Keys come from the
    # taxonomy, so that matching by ancestry (rule 4) works on them.
    lists = (
        ("dataCategories", spec.data_categories, taxonomy.categories, "data category"),
        ("subjectTypes", spec.subject_types, taxonomy.subject_types, "subject type"),
        ("purposes", spec.purposes, taxonomy.purposes, "purpose"),
    )
    for name, keys, known, label in lists:
        if not keys:
            errors.add([*path, name], f"A disclosure needs at least one {label}.")
        for i, key in enumerate(keys):
            if key not in known:
                errors.add([*path, name, str(i)], f'Unknown {label} "{key[:100]}".')
    # Art. 30(1)(f): the envisaged time limit for erasure, when there is one.
    if spec.retention is not None and (problem := validation.retention_error(spec.retention)):
        errors.add([*path, "retention"], problem)
    for i, transfer in enumerate(spec.transfers):
        # Art. 30(1)(e): a transfer identifies the third country.
        if problem := validation.country_error(transfer.country):
            errors.add([*path, "transfers", str(i), "country"], problem)
        if transfer.reference is not None and len(transfer.reference) > validation.REFERENCE_MAX:
            errors.add(
                [*path, "transfers", str(i), "reference"],
                f"Reference is longer than {validation.REFERENCE_MAX} characters.",
            )
