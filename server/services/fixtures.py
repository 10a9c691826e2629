"""Load the inventory from human-editable YAML through the same services (and validation) as the
API, and spreadsheets in the import's documented layout (CSV, XLSX) through the import itself.
Idempotent: a recipient whose slug exists is left as it is (a spreadsheet's re-import changes
nothing)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import yaml
from tortoise import Tortoise
from tortoise.transactions import in_transaction

from server.db.config import tortoise_config
from server.db.models import DataSubject, Disclosure, Establishment, Recipient
from server.domain import establishments as establishment_rules
from server.domain.disclosure_terms import DisclosureSpec, terms_from_record
from server.domain.enums import (
    DisclosureFrequency,
    ProcessingRole,
    RecipientKind,
    RecipientStatus,
)
from server.domain.errors import UserErrors
from server.domain.imports import ImportFormat
from server.domain.regimes import DataPrivacyFramework, DpfCertification, Jurisdiction
from server.services import (
    disclosure_events,
    disclosures,
    establishments,
    recipient_changes,
    registration,
    subjects,
)
from server.services.commands import ChangeStatus, EndDisclosure, RegisterRecipient
from server.services.imports import ImportRequest, import_inventory

ACTOR = "fixtures"
RECIPIENT_KEYS = {
    "slug", "name", "legal_name", "description", "kind", "role", "country", "services",
    "website", "privacy_policy_url", "dpa_signed_on", "dpf_certified", "dpf_certifications",
    "corporate_group", "international_organisation", "engaged_by", "status", "status_since",
    "status_history", "disclosures",
}  # fmt: skip
DISCLOSURE_KEYS = {
    "data_categories", "subject_types", "purposes", "legal_basis", "ground", "retention",
    "effective_from", "effective_to", "transfers", "frequency", "special_category_condition",
    "exporter",
}  # fmt: skip
SUBJECT_KEYS = {
    "external_ref", "subject_type", "country", "data_categories", "consents", "valid_from",
    "earlier_versions", "disclosure_events",
}  # fmt: skip
VERSION_KEYS = {"valid_from", "subject_type", "country", "data_categories"}
EVENT_KEYS = {"recipient", "occurred_at", "reference", "note"}
TRANSFER_KEYS = {"country", "mechanism", "reference", "signed_on", "within_adequacy_scope"}
CERTIFICATION_KEYS = {"framework", "certified_on", "lapsed_on"}
ESTABLISHMENT_KEYS = {"slug", "name", "legal_name", "country", "targets", "main"}
HISTORY_KEYS = {"status", "at", "note"}
CONSENT_KEYS = {"purpose", "granted", "decided_at", "explicit", "recorded_at"}
DOCUMENT_KEYS = {"establishments", "recipients", "data_subjects"}


class FixtureError(ValueError):
    """A fixture that is not in the documented shape: a typo must not pass silently."""


def _check_keys(raw: Any, allowed: set[str], what: str) -> None:
    if not isinstance(raw, dict):
        raise FixtureError(f"{what} must be a mapping")
    unknown = sorted(set(raw) - allowed)
    if unknown:
        raise FixtureError(f"{what} has unknown keys: {', '.join(unknown)}")


def _bool(value: Any, what: str) -> bool:
    if not isinstance(value, bool):
        raise FixtureError(f"{what} must be true or false, not {value!r}")
    return value


def _optional_bool(value: Any, what: str) -> bool | None:
    return None if value is None else _bool(value, what)


@dataclass
class LoadReport:
    created: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    establishments_created: list[str] = field(default_factory=list)
    establishments_skipped: list[str] = field(default_factory=list)
    subjects_created: list[str] = field(default_factory=list)
    subjects_skipped: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    # Spreadsheets in the import's layout (server/domain/imports.py), each loaded through the
    # import, all or nothing: its file name with the import's summary.
    spreadsheets: list[str] = field(default_factory=list)

    def summary(self) -> str:
        lines = [
            f"Establishments created: {len(self.establishments_created)}; already present: "
            f"{len(self.establishments_skipped)}; recipients created: {len(self.created)}; "
            f"already present: {len(self.skipped)}; data subjects created: "
            f"{len(self.subjects_created)}; already present: {len(self.subjects_skipped)}; "
            f"errors: {len(self.errors)}."
        ]
        lines += [f"  spreadsheet {s}" for s in self.spreadsheets]
        lines += [f"  error: {e}" for e in self.errors]
        return "\n".join(lines)


def _datetime(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    parsed = datetime.fromisoformat(str(value))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _date(value: Any) -> date | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def _disclosure(raw: dict[str, Any]) -> DisclosureSpec:
    for transfer in raw.get("transfers") or []:
        _optional_bool(transfer.get("within_adequacy_scope"), "transfer within_adequacy_scope")
    return terms_from_record(raw)


def _certifications(raw: Any, slug: str) -> list[DpfCertification] | None:
    if raw is None:
        return None
    if not isinstance(raw, list):
        raise FixtureError(f"recipient {slug} dpf_certifications must be a list")
    out = []
    for i, item in enumerate(raw):
        _check_keys(item, CERTIFICATION_KEYS, f"recipient {slug} dpf_certification {i}")
        certified_on = _date(item["certified_on"])
        assert certified_on is not None
        out.append(
            DpfCertification(
                DataPrivacyFramework(item["framework"]), certified_on, _date(item.get("lapsed_on"))
            )
        )
    return out


SPREADSHEETS = {".csv": ImportFormat.CSV, ".xlsx": ImportFormat.XLSX}


def spreadsheets_in(path: Path) -> list[Path]:
    """The files in the import's layout: the path itself, or those in the folder."""
    if not path.is_dir():
        return [path] if path.suffix.lower() in SPREADSHEETS else []
    return sorted(p for p in path.iterdir() if p.suffix.lower() in SPREADSHEETS)


async def _load_spreadsheet(file: Path, report: LoadReport) -> None:
    """One spreadsheet through the import (a trusted loader: any status), all or nothing;
    re-loading it changes nothing, as the YAML fixtures' loading does."""
    result = await import_inventory(
        ImportRequest(SPREADSHEETS[file.suffix.lower()], file.read_bytes()), actor=ACTOR, role=None
    )
    report.errors.extend(f"{file.name}: {problem.line()}" for problem in result.problems)
    report.spreadsheets.append(f"{file.name}: {result.summary()}")


def read_documents(path: Path) -> list[dict[str, Any]]:
    if not path.is_dir() and path.suffix.lower() in SPREADSHEETS:
        return []
    files = sorted(path.glob("*.yaml")) + sorted(path.glob("*.yml")) if path.is_dir() else [path]
    documents = []
    for file in files:
        loaded = yaml.safe_load(file.read_text(encoding="utf-8"))
        if loaded:
            documents.append(loaded)
    return documents


async def _load_recipient(raw: dict[str, Any], report: LoadReport) -> None:
    """One recipient with its status history and ended disclosures, all or nothing."""
    _check_keys(raw, RECIPIENT_KEYS, f"recipient {raw.get('slug')}")
    for i, disclosure in enumerate(raw.get("disclosures") or []):
        _check_keys(disclosure, DISCLOSURE_KEYS, f"recipient {raw.get('slug')} disclosure {i}")
        for j, transfer in enumerate(disclosure.get("transfers") or []):
            _check_keys(
                transfer, TRANSFER_KEYS, f"recipient {raw.get('slug')} disclosure {i} transfer {j}"
            )
    for i, step in enumerate(raw.get("status_history") or []):
        _check_keys(step, HISTORY_KEYS, f"recipient {raw.get('slug')} status_history {i}")
    slug = raw["slug"]
    history = raw.get("status_history") or [
        {"status": raw.get("status", "PROPOSED"), "at": raw.get("status_since")}
    ]
    moments = [_datetime(step["at"]) for step in history if step.get("at")]
    if moments != sorted(moments):
        raise FixtureError(f"recipient {slug}: status_history dates are not in order")
    async with in_transaction():
        await _register_with_history(raw, history)
    report.created.append(slug)


async def _register_with_history(raw: dict[str, Any], history: list[dict[str, Any]]) -> None:
    slug = raw["slug"]
    first = history[0]
    command = RegisterRecipient(
        name=raw["name"],
        slug=slug,
        legal_name=raw.get("legal_name"),
        description=raw.get("description"),
        kind=RecipientKind(raw["kind"]),
        role=ProcessingRole(raw["role"]),
        country=str(raw["country"]),
        services=list(raw.get("services") or []),
        website=raw.get("website"),
        privacy_policy_url=raw.get("privacy_policy_url"),
        dpa_signed_on=_date(raw.get("dpa_signed_on")),
        engaged_by=raw.get("engaged_by"),
        status=RecipientStatus(first["status"]),
        status_since=_datetime(first["at"]) if first.get("at") else None,
        disclosures=[_disclosure(d) for d in raw.get("disclosures") or []],
        dpf_certified=_bool(raw.get("dpf_certified", False), f"recipient {slug} dpf_certified"),
        dpf_certifications=_certifications(raw.get("dpf_certifications"), slug),
        corporate_group=raw.get("corporate_group"),
        international_organisation=_bool(
            raw.get("international_organisation", False),
            f"recipient {slug} international_organisation",
        ),
    )
    # A trusted import (role=None): fixtures may start at any status and replay their history.
    result = await registration.register_recipient(command, actor=ACTOR, role=None)
    assert result.recipient is not None
    recipient_id = result.recipient.id
    for step in history[1:]:
        await recipient_changes.change_status(
            ChangeStatus(
                recipient_id=recipient_id,
                status=RecipientStatus(step["status"]),
                note=step.get("note"),
                at=_datetime(step["at"]) if step.get("at") else None,
            ),
            actor=ACTOR,
            role=None,
        )
    ends = [d.get("effective_to") for d in raw.get("disclosures") or []]
    if any(ends):
        stored = await Disclosure.filter(recipient_id=recipient_id).order_by("id")
        for disclosure, end in zip(stored, ends, strict=True):
            if end:
                await disclosures.end_disclosure(
                    EndDisclosure(disclosure_id=disclosure.id, effective_to=_date(end)),  # type: ignore[arg-type]
                    actor=ACTOR,
                    role=None,
                )


async def _load_establishment(raw: Any, report: LoadReport) -> None:
    """One establishment, through the service (a slug already present is left as it is)."""
    _check_keys(raw, ESTABLISHMENT_KEYS, "an establishment")
    slug = str(raw["slug"])
    if await Establishment.exists(slug=slug):
        report.establishments_skipped.append(slug)
        return
    targets = raw.get("targets") or []
    if not isinstance(targets, list):
        raise FixtureError(f"establishment {slug} targets must be a list")
    await establishments.register_establishment(
        establishments.RegisterEstablishment(
            establishment_rules.EstablishmentTerms(
                name=str(raw["name"]),
                legal_name=raw.get("legal_name"),
                country=str(raw["country"]),
                targets=[Jurisdiction(t) for t in targets],
                main=_bool(raw.get("main", False), f"establishment {slug} main"),
            ),
            slug=slug,
        ),
        actor=ACTOR,
    )
    report.establishments_created.append(slug)


async def _load_subject(raw: dict[str, Any], report: LoadReport) -> None:
    _check_keys(raw, SUBJECT_KEYS, f"data subject {raw.get('external_ref')}")
    for i, consent in enumerate(raw.get("consents") or []):
        _check_keys(consent, CONSENT_KEYS, f"data subject {raw.get('external_ref')} consent {i}")
    ref = str(raw["external_ref"])
    if await DataSubject.exists(external_ref=ref):
        report.subjects_skipped.append(ref)
        return
    async with in_transaction():
        await _subject_with_consents(raw, ref)
    report.subjects_created.append(ref)


async def _subject_with_consents(raw: dict[str, Any], ref: str) -> None:
    """The subject's earlier versions oldest first, then its current facts (each from its
    valid_from), its consent log and its one-off disclosure events, as an import replays them."""
    for i, earlier in enumerate(raw.get("earlier_versions") or []):
        _check_keys(earlier, VERSION_KEYS, f"data subject {ref} earlier version {i}")
        await _upsert_version(ref, {**raw, **earlier})
    await _upsert_version(ref, raw)
    for consent in raw.get("consents") or []:
        decided = consent.get("decided_at") or consent.get("recorded_at")
        await subjects.record_consent(
            subjects.RecordConsent(
                subject=subjects.SubjectRef(external_ref=ref),
                purpose=consent["purpose"],
                granted=_bool(consent["granted"], f"data subject {ref} consent granted"),
                decided_at=_datetime(decided) if decided else None,
                explicit=_bool(consent.get("explicit", False), f"data subject {ref} explicit"),
            ),
            actor=ACTOR,
        )
    for i, event in enumerate(raw.get("disclosure_events") or []):
        _check_keys(event, EVENT_KEYS, f"data subject {ref} disclosure event {i}")
        recipient = await Recipient.get_or_none(slug=event["recipient"])
        on_request = (
            await Disclosure.filter(
                recipient_id=recipient.id, frequency=DisclosureFrequency.ON_REQUEST
            )
            .order_by("id")
            .first()
            if recipient
            else None
        )
        if on_request is None:
            raise FixtureError(
                f"data subject {ref} disclosure event {i}: {event['recipient']} has no "
                "ON_REQUEST disclosure"
            )
        await disclosure_events.record_disclosure_event(
            disclosure_events.RecordDisclosureEvent(
                subject=subjects.SubjectRef(external_ref=ref),
                disclosure_id=on_request.id,
                occurred_at=_datetime(event["occurred_at"]),
                reference=str(event["reference"]),
                note=event.get("note"),
            ),
            actor=ACTOR,
        )


async def _upsert_version(ref: str, raw: dict[str, Any]) -> None:
    await subjects.upsert_data_subject(
        subjects.UpsertDataSubject(
            external_ref=ref,
            subject_type=raw["subject_type"],
            country=str(raw["country"]),
            data_categories=list(raw.get("data_categories") or []),
            valid_from=_datetime(raw["valid_from"]) if raw.get("valid_from") else None,
        ),
        actor=ACTOR,
    )


async def load_fixtures(path: Path, *, only_if_empty: bool = False) -> LoadReport:
    """Load into the database Tortoise is connected to."""
    report = LoadReport()
    if only_if_empty and await Recipient.exists():
        return report
    pending: list[dict[str, Any]] = []
    documents = read_documents(path)
    for document in documents:
        if not isinstance(document, dict) or set(document) - DOCUMENT_KEYS:
            unknown = sorted(set(document) - DOCUMENT_KEYS) if isinstance(document, dict) else []
            report.errors.append(
                "a fixture file must be a mapping with only establishments, recipients and "
                "data_subjects"
                + (f"; unknown keys: {', '.join(map(str, unknown))}" if unknown else "")
            )
    documents = [d for d in documents if isinstance(d, dict)]
    # Establishments first: a disclosure names its exporter by slug, or takes the main one.
    for document in documents:
        for raw in document.get("establishments") or []:
            try:
                await _load_establishment(raw, report)
            except UserErrors as exc:
                report.errors.append(f"establishment {raw.get('slug')}: {exc}")
            except FixtureError as exc:
                report.errors.append(str(exc))
            except (KeyError, ValueError, TypeError, AttributeError) as exc:
                report.errors.append(f"establishment: malformed fixture ({exc!r})")
    for document in documents:
        pending.extend(document.get("recipients") or [])
    existing = set(await Recipient.all().values_list("slug", flat=True))
    seen: set[str] = set()
    unique = []
    for raw in pending:
        slug = raw.get("slug") if isinstance(raw, dict) else None
        if slug is None:
            name = raw.get("name") if isinstance(raw, dict) else None
            report.errors.append(
                f"a recipient without a slug ({f'name {name!r}' if name else 'and no name'}): "
                "give each recipient its slug"
            )
            continue
        if slug in seen:
            report.errors.append(f"{slug}: the slug appears more than once in the fixtures")
            continue
        seen.add(str(slug))
        unique.append(raw)
    pending = unique
    # Engagers first: keep passing over the list until nothing more can be placed.
    while pending:
        progress = False
        waiting = []
        for raw in pending:
            slug = raw.get("slug", "?")
            if slug in existing:
                report.skipped.append(slug)
                progress = True
                continue
            engager = raw.get("engaged_by")
            if (
                engager
                and engager not in existing
                and any(p.get("slug") == engager for p in pending)
            ):
                waiting.append(raw)
                continue
            try:
                await _load_recipient(raw, report)
            except UserErrors as exc:
                report.errors.append(f"{slug}: {exc}")
            except FixtureError as exc:
                report.errors.append(str(exc))
            except (KeyError, ValueError, TypeError) as exc:
                report.errors.append(f"{slug}: malformed fixture ({exc!r})")
            existing.add(slug)
            progress = True
        if not progress:
            report.errors.extend(
                f"{r.get('slug')}: engagedBy cycle or unknown engager" for r in waiting
            )
            break
        pending = waiting
    # The import's layout last: its rows may add disclosures to recipients loaded above.
    for file in spreadsheets_in(path):
        await _load_spreadsheet(file, report)
    for document in documents:
        for raw in document.get("data_subjects") or []:
            try:
                await _load_subject(raw, report)
            except UserErrors as exc:
                report.errors.append(f"{raw.get('external_ref')}: {exc}")
            except FixtureError as exc:
                report.errors.append(str(exc))
            except (KeyError, ValueError, TypeError) as exc:
                report.errors.append(f"{raw.get('external_ref')}: malformed fixture ({exc!r})")
    return report


async def load_fixtures_into(
    database_url: str, path: Path, *, only_if_empty: bool = False
) -> LoadReport:
    await Tortoise.init(config=tortoise_config(database_url))
    try:
        return await load_fixtures(path, only_if_empty=only_if_empty)
    finally:
        await Tortoise.close_connections()
