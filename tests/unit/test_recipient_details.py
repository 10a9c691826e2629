"""A recipient's details in plain Python: which are required, the checks each passes, and the
slug a new recipient gets."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from server.domain.errors import ErrorCollector
from server.domain.recipient_details import (
    check_details,
    check_new_details,
    check_not_cleared,
    registration_slug,
    registration_slug_error,
    status_since_error,
)
from server.domain.validation import DESCRIPTION_MAX, LEGAL_NAME_MAX, SERVICES_MAX

PATH = ["input"]
TODAY = date(2026, 12, 3)


def details(**values: Any) -> list[tuple[list[str] | None, str]]:
    errors = ErrorCollector()
    check_details(errors, PATH, today=TODAY, **values)
    return [(e.field, e.message) for e in errors.errors]


def test_nothing_given_nothing_checked() -> None:
    assert details() == []
    assert details(name=None, country=None, services=None, website=None) == []


def test_good_details_pass() -> None:
    assert (
        details(
            name="Acme Mail",
            legal_name="Acme Mail, Inc.",
            description="Sends our e-mail.",
            country="US",
            services=["email-delivery", "hosting"],
            website="https://acme.example",
            privacy_policy_url="https://acme.example/privacy",
        )
        == []
    )


def test_name_and_legal_name() -> None:
    """Art. 13(1)(e): the recipient is named to the people whose data it receives."""
    assert details(name="  ") == [(["input", "name"], "Name must not be empty.")]
    [(field, message)] = details(legal_name="x" * (LEGAL_NAME_MAX + 1))
    assert field == ["input", "legalName"] and message.startswith("Legal name is 301 characters")


def test_description() -> None:
    assert details(description="x" * DESCRIPTION_MAX) == []
    assert details(description="x" * (DESCRIPTION_MAX + 1)) == [
        (["input", "description"], f"A description is at most {DESCRIPTION_MAX} characters.")
    ]
    assert details(description="a\x00b") == [
        (["input", "description"], "A description must not contain NUL characters.")
    ]


def test_country() -> None:
    """GDPR Chapter V (Art. 44): where the recipient is tells whether data leaves the EEA."""
    assert details(country="UK") == [
        (["input", "country"], '"UK" is not an ISO 3166-1 alpha-2 code: use "GB".')
    ]


def test_services() -> None:
    assert details(services=["hosting", "Not A Tag"]) == [
        (
            ["input", "services", "1"],
            '"Not A Tag" is not a service tag: use lower-case words joined by hyphens '
            "(for example email-delivery).",
        )
    ]
    too_many = [f"tag-{i}" for i in range(SERVICES_MAX + 1)]
    assert details(services=too_many) == [
        (["input", "services"], f"At most {SERVICES_MAX} service tags.")
    ]


def test_urls() -> None:
    """No article: a link is kept only when a reader can open it (http or https)."""
    assert [f for f, _ in details(website="ftp://x", privacy_policy_url="acme.example")] == [
        ["input", "website"],
        ["input", "privacyPolicyUrl"],
    ]


def test_every_problem_is_reported_in_order() -> None:
    found = details(
        name="",
        legal_name="",
        description="\x00",
        country="xx",
        services=["X"],
        website="x",
        privacy_policy_url="y",
    )
    assert [f for f, _ in found] == [
        ["input", "name"],
        ["input", "legalName"],
        ["input", "description"],
        ["input", "country"],
        ["input", "services", "0"],
        ["input", "website"],
        ["input", "privacyPolicyUrl"],
    ]


def test_a_new_recipient_needs_a_name() -> None:
    errors = ErrorCollector()
    check_new_details(errors, PATH, today=TODAY, name=None, country="US")
    assert [(e.field, e.message) for e in errors.errors] == [
        (["input", "name"], "Name must not be empty.")
    ]
    errors = ErrorCollector()
    check_new_details(errors, PATH, today=TODAY, name="", country="UK")
    assert [e.field for e in errors.errors] == [["input", "name"], ["input", "country"]]


def test_required_details_cannot_be_cleared() -> None:
    errors = ErrorCollector()
    check_not_cleared(errors, PATH, {"name": "Acme", "kind": None, "role": 0, "services": []})
    assert [(e.field, e.message) for e in errors.errors] == [
        (["input", "kind"], "kind cannot be cleared.")
    ]


@pytest.mark.parametrize(
    ("name", "given", "slug"),
    [
        ("Acme Mail", None, "acme-mail"),
        ("Acme Mail", "acme", "acme"),
        ("Acme Mail", "Not A Slug", "Not A Slug"),
        ("株式会社", None, ""),
        (None, None, ""),
    ],
)
def test_registration_slug(name: str | None, given: str | None, slug: str) -> None:
    assert registration_slug(name, given) == slug


def test_registration_slug_error() -> None:
    assert registration_slug_error(None, "acme-mail") is None
    assert registration_slug_error("acme", "acme") is None
    assert registration_slug_error(None, "") == "Cannot derive a slug from this name: give one."
    given = registration_slug_error("Not A Slug", "Not A Slug")
    assert given is not None and "lower-case letters" in given
    assert registration_slug_error("", "") is not None


def test_status_since() -> None:
    now = datetime(2025, 1, 1, tzinfo=UTC)
    assert status_since_error(None, now) is None
    assert status_since_error(now, now) is None
    assert status_since_error(now - timedelta(days=400), now) is None
    assert status_since_error(now + timedelta(seconds=1), now) == (
        "statusSince must not be in the future."
    )


def test_a_naive_status_since_is_read_as_utc() -> None:
    now = datetime(2025, 1, 1, tzinfo=UTC)
    assert status_since_error(datetime(2024, 12, 31, 23, 59), now) is None
    assert status_since_error(datetime(2025, 1, 1, 0, 1), now) == (
        "statusSince must not be in the future."
    )


@pytest.mark.parametrize(
    ("signed_on", "refused"),
    [
        (TODAY, False),
        (TODAY - timedelta(days=400), False),
        (TODAY + timedelta(days=1), True),
        (date(2031, 1, 1), True),
    ],
)
def test_a_dpa_is_signed_on_or_before_today(signed_on: date, refused: bool) -> None:
    """Art. 28(3) GDPR: processing by a processor is governed by a contract; the day it was
    signed is a fact, never in the future (a DPA 'signed' in 2031 was accepted before)."""
    found = details(dpa_signed_on=signed_on)
    if refused:
        [(field, message)] = found
        assert field == ["input", "dpaSignedOn"] and "after today" in message
    else:
        assert found == []
