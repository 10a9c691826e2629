"""Inventories kept by other tools, read into the import's entries (server/domain/imports.py):
Fides system manifests, parsed and validated by fideslang as `fides push` reads them, and
vendors chosen by id from an IAB TCF Global Vendor List v3, their purposes mapped through
fideslang's published GVL mappings. Neither gives a country: new recipients take
`default_country`, and reviewers correct it; an update leaves country, kind and role as the
reviewers left them."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import yaml
from fideslang import gvl
from fideslang.models import DataFlow, PrivacyDeclaration, System
from pydantic import ValidationError

from server.domain import fides, imports, validation
from server.domain.disclosure_terms import CATEGORIES_MAX, PURPOSES_MAX, DisclosureSpec
from server.domain.enums import (
    DisclosureGround,
    LegalBasis,
    ProcessingRole,
    RecipientKind,
    UserErrorCode,
)
from server.domain.imports import DisclosureEntry, ImportPlan, ImportProblem, RecipientEntry
from server.domain.taxonomy import Taxonomy, default_taxonomy

# Whose data a GVL vendor receives: the visitors of our websites and apps.
GVL_SUBJECT_TYPE = "visitor"
# The fields an update from these sources changes; country, kind and role are the reviewers'.
UPDATED_FIELDS = {"name", "legalName", "description", "privacyPolicyUrl"}


def _problem(plan: ImportPlan, sheet: str, column: str | None, value: Any, message: str) -> None:
    text = None if value is None else str(value)[:200]
    plan.problems.append(ImportProblem(sheet, None, column, text, UserErrorCode.INVALID, message))


def _note(plan: ImportPlan, sheet: str, column: str | None, message: str) -> None:
    plan.notes.append(imports.ImportNote(sheet, None, column, message))


def _entry(
    plan: ImportPlan,
    sheet: str,
    slug: str,
    default_country: str | None,
    **details: Any,
) -> RecipientEntry:
    cells = {k: str(v) for k, v in details.items() if v is not None}
    entry = RecipientEntry(sheet, None, slug, {"slug": slug, **cells}, set(UPDATED_FIELDS))
    for name, value in details.items():
        setattr(entry, name, value)
    entry.country = default_country
    if default_country is None:
        _problem(
            plan,
            sheet,
            "defaultCountry",
            None,
            "This format gives no country: pass defaultCountry (--default-country), the "
            "country recorded for each new recipient until reviewers correct it.",
        )
        entry.usable = False
    return entry


def _slug_of(key: str) -> str:
    """A Fides key as a slug: lower case, hyphens for underscores and dots."""
    return validation.slugify(key.replace("_", "-").replace(".", "-"))


def _slug(plan: ImportPlan, sheet: str, key: str) -> str:
    """A system's Fides key as its slug (noted when they differ)."""
    slug = _slug_of(key)
    if slug != key:
        _note(plan, sheet, "fides_key", f'"{key}" is recorded as the slug "{slug}".')
    return slug


def plan_fides(content: bytes, default_country: str | None) -> ImportPlan:
    """Fides manifests: each system a recipient (its fides_key the slug; its kind the one its
    system_type names, else a service provider; a Sub-Processor engaged by the system of its
    ingress), its privacy declarations disclosures, regrouped when their categories, subjects,
    basis and condition are the same (their purposes merged). The terms read as
    server/domain/fides.py says, the table our export (services/fides_export.py) writes by."""
    plan = ImportPlan()
    try:
        document = yaml.safe_load(content.decode("utf-8-sig"))
    except UnicodeDecodeError:
        _problem(plan, "manifest", None, None, "The manifest is not UTF-8 text.")
        return plan
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        _problem(plan, "manifest", None, None, f"The manifest is not YAML{where}.")
        return plan
    systems = document.get("system") if isinstance(document, dict) else None
    if not isinstance(systems, list):
        _problem(
            plan,
            "manifest",
            "system",
            None,
            "A Fides manifest lists its systems under `system:` (as `fides push` reads them).",
        )
        return plan
    if not systems:
        # An export of an inventory with no ACTIVE recipient: nothing to import, nothing wrong.
        _note(plan, "manifest", "system", "The manifest lists no systems: nothing to import.")
        return plan
    others = sorted(k for k in document if k != "system")
    if others:
        _note(plan, "manifest", None, f"Only systems are imported; left out: {', '.join(others)}.")
    for index, raw in enumerate(systems):
        sheet = f"system {raw.get('fides_key', index + 1) if isinstance(raw, dict) else index + 1}"
        try:
            system = System.model_validate(raw)
        except ValidationError as exc:
            for error in exc.errors():
                column = ".".join(str(p) for p in error["loc"])
                _problem(plan, sheet, column, error.get("input"), f"fideslang: {error['msg']}.")
            continue
        except TypeError as exc:
            # fideslang sorts a system's declarations by name, and fails where one has none.
            _problem(
                plan,
                sheet,
                "privacy_declarations",
                None,
                f"fideslang cannot read this system ({exc}): give every privacy declaration a "
                "name, as `fides push` needs.",
            )
            continue
        # fideslang sorts a system's declarations: read them in the file's order, so that a
        # problem's index is the one a person finds in the file.
        declarations = [
            PrivacyDeclaration.model_validate(d) for d in raw.get("privacy_declarations") or []
        ]
        plan.recipients.append(_system(plan, sheet, system, declarations, default_country))
    return plan


def _engager(plan: ImportPlan, sheet: str, ingress: list[DataFlow] | None) -> str | None:
    """A sub-processor's engager (Art. 28(4)): the system it receives data from."""
    systems = [flow.fides_key for flow in ingress or [] if flow.type == "system"]
    if len(systems) > 1:
        _note(
            plan,
            sheet,
            "ingress",
            f'Engaged by "{systems[0]}", the first system of its ingress: reviewers correct it.',
        )
    return _slug_of(systems[0]) if systems else None


def _system(
    plan: ImportPlan,
    sheet: str,
    system: System,
    declarations: list[PrivacyDeclaration],
    default_country: str | None,
) -> RecipientEntry:
    role = fides.role_of(system.responsibility, system.joint_controller_info)
    if len(system.responsibility) != 1:
        _note(plan, sheet, "responsibility", f"Recorded as {role.value}: reviewers correct it.")
    entry = _entry(
        plan,
        sheet,
        _slug(plan, sheet, system.fides_key),
        default_country,
        name=system.name or system.fides_key,
        legal_name=system.legal_name,
        description=system.description,
        privacy_policy_url=str(system.privacy_policy) if system.privacy_policy else None,
        # Our export writes the kind's label; any other system type is a service provider.
        kind=imports.enum_value(RecipientKind, system.system_type)
        or RecipientKind.SERVICE_PROVIDER,
        role=role,
        engaged_by=(
            _engager(plan, sheet, system.ingress) if role == ProcessingRole.SUBPROCESSOR else None
        ),
    )
    groups: dict[tuple[Any, ...], list[tuple[int, PrivacyDeclaration]]] = {}
    for i, declaration in enumerate(declarations):
        column = f"privacy_declarations.{i}"
        if declaration.legal_basis_for_processing is None:
            _problem(
                plan,
                sheet,
                f"{column}.legal_basis_for_processing",
                None,
                "A disclosure needs its legal basis (Art. 6(1)): give legal_basis_for_processing.",
            )
            # Its other terms are still checked.
            entry.disclosures.append(
                DisclosureEntry(
                    f"{sheet} ({column})",
                    None,
                    entry.slug,
                    {
                        "dataCategories": "; ".join(declaration.data_categories),
                        "subjectTypes": "; ".join(declaration.data_subjects),
                        "purposes": declaration.data_use,
                    },
                    None,
                    draft=DisclosureSpec(
                        data_categories=list(declaration.data_categories),
                        subject_types=list(declaration.data_subjects),
                        purposes=[declaration.data_use],
                        legal_basis=LegalBasis.CONTRACT,
                        ground=DisclosureGround.SERVICE_PROVISION,
                        retention=declaration.retention_period,
                    ),
                )
            )
            continue
        key = (
            frozenset(declaration.data_categories),
            frozenset(declaration.data_subjects),
            declaration.legal_basis_for_processing,
            declaration.special_category_legal_basis,
        )
        groups.setdefault(key, []).append((i, declaration))
    for members in groups.values():
        entry.disclosures.extend(_regrouped(plan, sheet, entry.slug, members))
    return entry


def _regrouped(
    plan: ImportPlan, sheet: str, slug: str, members: list[tuple[int, PrivacyDeclaration]]
) -> list[DisclosureEntry]:
    """Declarations with the same categories, subjects, basis and condition: one disclosure with
    their data uses as its purposes, or several of at most PURPOSES_MAX purposes each."""
    first = members[0][1]
    basis = fides.BASIS_OF[first.legal_basis_for_processing]  # type: ignore[index]
    retentions = {d.retention_period for _, d in members if d.retention_period}
    if len(retentions) > 1:
        _note(
            plan, sheet, "retention_period", f"Several retention periods; kept {min(retentions)!r}."
        )
    uses = list(dict.fromkeys(d.data_use for _, d in members))
    if len(uses) > PURPOSES_MAX:
        _note(
            plan,
            sheet,
            "privacy_declarations",
            f"{len(uses)} data uses with the same terms: recorded as disclosures of at most "
            f"{PURPOSES_MAX} purposes each.",
        )
    out = []
    for start in range(0, len(uses), PURPOSES_MAX):
        purposes = uses[start : start + PURPOSES_MAX]
        spec = DisclosureSpec(
            data_categories=list(first.data_categories),
            subject_types=list(first.data_subjects),
            purposes=purposes,
            legal_basis=basis,
            ground=(
                DisclosureGround.USER_PERMISSION
                if basis == LegalBasis.CONSENT
                else DisclosureGround.SERVICE_PROVISION
            ),
            retention=min(retentions) if retentions else None,
            special_category_condition=(
                fides.CONDITION_OF[first.special_category_legal_basis]
                if first.special_category_legal_basis
                else None
            ),
        )
        cells = {
            "dataCategories": "; ".join(spec.data_categories),
            "subjectTypes": "; ".join(spec.subject_types),
            "purposes": "; ".join(spec.purposes),
            "retention": spec.retention or "",
        }
        where = ", ".join(f"privacy_declarations.{i}" for i, d in members if d.data_use in purposes)
        out.append(DisclosureEntry(f"{sheet} ({where})", None, slug, cells, spec))
    return out


def without_special_categories(
    keys: Sequence[str], taxonomy: Taxonomy
) -> tuple[list[str], list[str]]:
    """The keys, each that covers special-category data (user.demographic) replaced by the
    narrower keys under it that do not; and which were replaced."""
    out: list[str] = []
    widened: list[str] = []

    def covers_special(key: str) -> bool:
        return any(taxonomy.categories[k].sensitive for k in taxonomy.category_and_descendants(key))

    def expand(key: str) -> list[str]:
        if key not in taxonomy.categories or not covers_special(key):
            return [key]
        if taxonomy.categories[key].sensitive:
            return []
        return [k for child in taxonomy.children_of(key) for k in expand(child)]

    for key in keys:
        replaced = expand(key)
        if replaced != [key]:
            widened.append(key)
        out.extend(replaced)
    return list(dict.fromkeys(out)), widened


def plan_gvl(
    content: bytes, vendor_ids: Sequence[int] | None, default_country: str | None
) -> ImportPlan:
    """The chosen vendors of a GVL v3: PROPOSED controllers (analytics providers) receiving the
    data of website visitors; their consent purposes one CONSENT disclosure, their
    legitimate-interest and special purposes one LEGITIMATE_INTERESTS disclosure."""
    plan = ImportPlan()
    if not vendor_ids:
        _problem(
            plan, "vendors", "vendorIds", None, "Choose the vendors to import by their GVL ids."
        )
        return plan
    try:
        document = json.loads(content)
    except (UnicodeDecodeError, ValueError):
        _problem(plan, "vendor list", None, None, "The file is not JSON: it is not a GVL.")
        return plan
    vendors = document.get("vendors") if isinstance(document, dict) else None
    version = document.get("gvlSpecificationVersion") if isinstance(document, dict) else None
    if not isinstance(vendors, dict) or version != 3:
        _problem(
            plan,
            "vendor list",
            "gvlSpecificationVersion",
            version,
            "Not an IAB TCF Global Vendor List v3 (gvlSpecificationVersion 3, `vendors`).",
        )
        return plan
    for vendor_id in dict.fromkeys(vendor_ids):
        sheet = f"vendor {vendor_id}"
        vendor = vendors.get(str(vendor_id))
        if not isinstance(vendor, dict):
            plan.problems.append(
                ImportProblem(
                    sheet,
                    None,
                    "vendorIds",
                    str(vendor_id),
                    UserErrorCode.NOT_FOUND,
                    f"No vendor {vendor_id} in this vendor list.",
                )
            )
            continue
        if vendor.get("deletedDate"):
            _problem(
                plan,
                sheet,
                "deletedDate",
                vendor["deletedDate"],
                "This vendor was deleted from the GVL: it cannot be engaged under the TCF.",
            )
            continue
        plan.recipients.append(_vendor(plan, sheet, vendor, default_country))
    return plan


def _vendor(
    plan: ImportPlan, sheet: str, vendor: dict[str, Any], default_country: str | None
) -> RecipientEntry:
    urls = vendor.get("urls") or []
    english = next((u for u in urls if u.get("langId") == "en"), urls[0] if urls else {})
    entry = _entry(
        plan,
        sheet,
        f"gvl-{vendor['id']}",
        default_country,
        name=str(vendor.get("name") or f"GVL vendor {vendor['id']}"),
        privacy_policy_url=english.get("privacy") or vendor.get("policyUrl"),
        kind=RecipientKind.ANALYTICS_PROVIDER,
        role=ProcessingRole.CONTROLLER,
    )
    categories = list(
        dict.fromkeys(
            key
            for declared in vendor.get("dataDeclaration") or []
            for key in gvl.data_category_id_to_data_categories(int(declared))
        )
    )
    categories, widened = without_special_categories(categories, default_taxonomy())
    if widened:
        _note(
            plan,
            sheet,
            "dataDeclaration",
            f"{', '.join(widened)} recorded by the keys under it that are no special category "
            "(the TCF does not cover Art. 9 data).",
        )
    if not categories:
        _problem(
            plan,
            sheet,
            "dataDeclaration",
            None,
            "The vendor declares no data categories (dataDeclaration): record them by hand.",
        )
        entry.usable = False
        return entry
    days = (vendor.get("dataRetention") or {}).get("stdRetention")
    retention = f"P{int(days)}D" if isinstance(days, int) and days > 0 else None
    consent = [gvl.purpose_to_data_use(int(p)) for p in vendor.get("purposes") or []]
    interests = [gvl.purpose_to_data_use(int(p)) for p in vendor.get("legIntPurposes") or []]
    interests += [
        gvl.purpose_to_data_use(int(p), special_purpose=True)
        for p in vendor.get("specialPurposes") or []
    ]
    for uses, basis, ground, column in (
        (consent, LegalBasis.CONSENT, DisclosureGround.USER_PERMISSION, "purposes"),
        (
            interests,
            LegalBasis.LEGITIMATE_INTERESTS,
            DisclosureGround.SERVICE_PROVISION,
            "legIntPurposes, specialPurposes",
        ),
    ):
        purposes = [use for group in uses for use in group]
        if not purposes:
            continue
        folded = imports.fold_keys(purposes, PURPOSES_MAX)
        if len(folded) < len(set(purposes)):
            _note(
                plan,
                sheet,
                column,
                f"{len(set(purposes))} data uses recorded as: {'; '.join(folded)}.",
            )
        spec = DisclosureSpec(
            data_categories=imports.fold_keys(categories, CATEGORIES_MAX),
            subject_types=[GVL_SUBJECT_TYPE],
            purposes=folded,
            legal_basis=basis,
            ground=ground,
            retention=retention,
        )
        cells = {"purposes": "; ".join(folded), "dataCategories": "; ".join(spec.data_categories)}
        entry.disclosures.append(
            DisclosureEntry(f"{sheet} ({column})", None, entry.slug, cells, spec)
        )
    return entry
