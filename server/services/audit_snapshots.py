"""What the audit log records of a recipient or a disclosure: its audited fields, under the
names the API gives them, so that audit.diff of two snapshots is an event's changes."""

from __future__ import annotations

from datetime import date
from typing import Any

from server.db.models import Recipient
from server.domain import validation
from server.domain.disclosure_terms import DisclosureSpec


def disclosure_snapshot(spec: DisclosureSpec, effective_from: date) -> dict[str, Any]:
    return {
        "dataCategories": validation.distinct(spec.data_categories),
        "subjectTypes": validation.distinct(spec.subject_types),
        "purposes": validation.distinct(spec.purposes),
        "legalBasis": spec.legal_basis,
        "ground": spec.ground,
        "retention": spec.retention,
        "transfers": [
            {"country": t.country, "mechanism": t.mechanism.value, "reference": t.reference}
            for t in spec.transfers
        ],
        "effectiveFrom": effective_from,
    }


def recipient_snapshot(r: Recipient) -> dict[str, Any]:
    return {
        "slug": r.slug,
        "name": r.name,
        "legalName": r.legal_name,
        "description": r.description,
        "kind": r.kind,
        "role": r.role,
        "status": r.status,
        "country": r.country,
        "services": list(r.services),
        "website": r.website,
        "privacyPolicyUrl": r.privacy_policy_url,
        "dpaSignedOn": r.dpa_signed_on,
        "engagedBy": r.engaged_by_id,
        "dataPrivacyFrameworkCertified": r.dpf_certified,
    }
