"""Shared GraphQL snippets and builders for API tests."""

from __future__ import annotations

from typing import Any

import httpx

from tests.conftest import gql

RECIPIENT_FIELDS = """
  id slug name legalName kind role status country services website privacyPolicyUrl
  dpaSignedOn version createdAt updatedAt dataPrivacyFrameworkCertified
  engagedBy { slug }
"""

REGISTER = f"""
mutation Register($input: RegisterRecipientInput!) {{
  registerRecipient(input: $input) {{
    recipient {{ {RECIPIENT_FIELDS} disclosures {{ id effectiveFrom effectiveTo }} }}
    userErrors {{ field message code }}
  }}
}}
"""

UPDATE = f"""
mutation Update($input: UpdateRecipientInput!) {{
  updateRecipient(input: $input) {{
    recipient {{ {RECIPIENT_FIELDS} }}
    userErrors {{ field message code }}
  }}
}}
"""

CHANGE_STATUS = """
mutation Move($input: ChangeRecipientStatusInput!) {
  changeRecipientStatus(input: $input) {
    recipient { id status version }
    userErrors { field message code }
  }
}
"""

ADD_DISCLOSURE = """
mutation Add($input: AddDisclosureInput!) {
  addDisclosure(input: $input) {
    disclosure {
      id legalBasis ground retention effectiveFrom effectiveTo
      dataCategories { key } subjectTypes { key } purposes { key }
      transfers { country mechanism reference }
      recipient { slug version }
    }
    userErrors { field message code }
  }
}
"""

END_DISCLOSURE = """
mutation End($input: EndDisclosureInput!) {
  endDisclosure(input: $input) {
    disclosure { id effectiveFrom effectiveTo }
    change { id status }
    userErrors { field message code }
  }
}
"""

DECIDE_CHANGE = """
mutation Decide($input: DecideChangeInput!) {
  decideChange(input: $input) {
    change { id status decidedBy }
    userErrors { field message code }
  }
}
"""


async def approve_change(reviewer: httpx.AsyncClient, change_id: str) -> None:
    """A second key approves a change waiting for review; fails the test on any user error."""
    body = await gql(reviewer, DECIDE_CHANGE, {"input": {"id": change_id, "approve": True}})
    payload = body["data"]["decideChange"]
    assert payload["userErrors"] == [], payload["userErrors"]
    assert payload["change"]["status"] == "APPROVED"


def disclosure_input(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "dataCategories": ["user.contact.email"],
        "subjectTypes": ["platform_user"],
        "purposes": ["essential.service"],
        "legalBasis": "CONTRACT",
        "ground": "SERVICE_PROVISION",
        "retention": "P30D",
        "transfers": [{"country": "US", "mechanism": "STANDARD_CONTRACTUAL_CLAUSES"}],
    }
    base.update(overrides)
    return base


def recipient_input(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "name": "Acme Mail",
        "kind": "SERVICE_PROVIDER",
        "role": "PROCESSOR",
        "country": "US",
        "services": ["email-delivery"],
        "website": "https://acme-mail.example",
        # A processor goes ACTIVE only with a signed DPA (Art. 28(3)).
        "dpaSignedOn": "2024-01-15",
    }
    base.update(overrides)
    return base


async def register(client: httpx.AsyncClient, **overrides: Any) -> dict[str, Any]:
    """Register a recipient and return it; fails the test on any user error."""
    body = await gql(client, REGISTER, {"input": recipient_input(**overrides)})
    payload = body["data"]["registerRecipient"]
    assert payload["userErrors"] == [], payload["userErrors"]
    recipient: dict[str, Any] = payload["recipient"]
    return recipient


async def move(client: httpx.AsyncClient, recipient_id: str, *statuses: str) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for status in statuses:
        body = await gql(client, CHANGE_STATUS, {"input": {"id": recipient_id, "status": status}})
        payload = body["data"]["changeRecipientStatus"]
        assert payload["userErrors"] == [], payload["userErrors"]
        result = payload["recipient"]
    return result


# Data subjects: create or replace one, and append a consent decision.
UPSERT = """
mutation Upsert($input: DataSubjectInput!) {
  upsertDataSubject(input: $input) {
    dataSubject { id externalRef }
    userErrors { field message code }
  }
}
"""

RECORD_CONSENT = """
mutation Consent($input: ConsentInput!) {
  recordConsent(input: $input) {
    dataSubject { id }
    userErrors { field message code }
  }
}
"""
