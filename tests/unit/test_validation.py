"""Single-value checks in plain Python: countries, URLs, retention, slugs and names."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.domain import validation
from server.domain.validation import (
    DESCRIPTION_MAX,
    NAME_MAX,
    NOTE_MAX,
    SLUG_MAX,
    URL_MAX,
    check_name,
    country_error,
    description_error,
    distinct,
    note_error,
    period_error,
    retention_error,
    service_tag_error,
    slug_error,
    slugify,
    url_error,
)


@pytest.mark.parametrize("code", ["GB", "US", "DE", "IE", "IN", "JP", "GR"])
def test_country_accepts_alpha_2(code: str) -> None:
    assert country_error(code) is None


@pytest.mark.parametrize(
    ("code", "fragment"),
    [
        ("UK", 'use "GB"'),
        ("EL", 'use "GR"'),
        ("EU", "not a country"),
        ("gb", 'upper case: use "GB"'),
        ("Us", 'upper case: use "US"'),
        ("XX", '"XX" is not an ISO 3166-1 alpha-2'),
        ("xx", '"xx" is not an ISO 3166-1 alpha-2'),
        ("GBR", "not an ISO 3166-1 alpha-2"),
        ("G", "not an ISO 3166-1 alpha-2"),
        ("", "not an ISO 3166-1 alpha-2"),
        ("G1", "not an ISO 3166-1 alpha-2"),
        ("ÄB", "not an ISO 3166-1 alpha-2"),
        (" GB", "not an ISO 3166-1 alpha-2"),
        ("United Kingdom", "not an ISO 3166-1 alpha-2"),
    ],
)
def test_country_rejects(code: str, fragment: str) -> None:
    problem = country_error(code)
    assert problem is not None
    assert fragment in problem


def test_country_error_truncates_long_input() -> None:
    problem = country_error("X" * 1000)
    assert problem is not None
    assert len(problem) < 200


@pytest.mark.parametrize(
    "url",
    [
        "https://acme.example",
        "http://acme.example/privacy?lang=en#s3",
        "https://acme.example:8443/path",
        "HTTPS://ACME.EXAMPLE",
    ],
)
def test_url_accepts_http_and_https(url: str) -> None:
    assert url_error(url) is None


@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        ("ftp://x", "http:// or https://"),
        ("javascript:alert(1)", "http:// or https://"),
        ("mailto:dpo@acme.example", "http:// or https://"),
        ("acme.example", "http:// or https://"),
        ("", "http:// or https://"),
        ("https://", "name a host"),
        ("https:///path", "name a host"),
        ("https://acme.example/a b", "no spaces"),
        ("https://[::1", "Not a valid URL"),
        ("https://acme.example/" + "a" * URL_MAX, f"longer than {URL_MAX}"),
    ],
)
def test_url_rejects(url: str, fragment: str) -> None:
    problem = url_error(url)
    assert problem is not None
    assert fragment in problem


@pytest.mark.parametrize(
    "retention",
    [
        "P30D",
        "P2Y6M",
        "PT12H",
        "P1Y2M3DT4H5M6S",
        "p30d",
        "until the account is closed",
        "30 days after the contract ends",
        "Pending legal review",
    ],
)
def test_retention_accepts_durations_and_phrases(retention: str) -> None:
    assert retention_error(retention) is None


@pytest.mark.parametrize(
    ("retention", "fragment"),
    [
        ("P30X", "looks like an ISO 8601 duration but is not one"),
        ("P1Y2X", "looks like an ISO 8601 duration"),
        ("PT", "looks like an ISO 8601 duration"),
        ("123", "ISO 8601 duration (for example P30D) or a rule in words"),
        ("30/60", "rule in words"),
        ("", "must not be empty"),
        ("   ", "must not be empty"),
        ("kept\x00forever", "control characters"),
        ("x" * 201, "201 characters long"),
    ],
)
def test_retention_rejects(retention: str, fragment: str) -> None:
    problem = retention_error(retention)
    assert problem is not None
    assert fragment in problem


@pytest.mark.parametrize(
    ("retention", "fragment"),
    [
        # Art. 5(1)(e) GDPR, storage limitation: a retention period sets a limit.
        ("forever", "without a time limit; Art. 5(1)(e)"),
        ("forever-ish", "without a time limit"),
        ("Indefinitely", "without a time limit"),
        ("permanent", "without a time limit"),
        ("kept permanently", "without a time limit"),
        ("in perpetuity", "without a time limit"),
        ("for an unlimited time", "without a time limit"),
        ("never deleted", "without a time limit"),
        ("no limit", "without a time limit"),
        # A duration of more than 100 years is no limit in practice, alone or inside a rule.
        ("P1000Y", "longer than 100 years"),
        ("P101Y", "longer than 100 years"),
        ("P1201M", "longer than 100 years"),
        ("until the account is closed + P1000Y", '"P1000Y" is longer than 100 years'),
        ("until the account is closed + P30X", '"P30X" looks like an ISO 8601 duration'),
        ("P", "looks like an ISO 8601 duration"),
    ],
)
def test_retention_sets_a_limit(retention: str, fragment: str) -> None:
    problem = retention_error(retention)
    assert problem is not None
    assert fragment in problem


@pytest.mark.parametrize(
    "retention",
    [
        "P100Y",
        "P1200M",
        "until the account is closed + P30D",
        "permanently deleted 30 days after the account is closed",
        "2 years after the last order, then anonymised",
        "until the contract ends",
    ],
)
def test_retention_limits_in_words_and_up_to_100_years(retention: str) -> None:
    """A rule naming a no-limit word is fine when it also bounds the data (Art. 5(1)(e))."""
    assert retention_error(retention) is None


@given(st.integers(min_value=0, max_value=1200))
def test_a_duration_in_months_is_refused_exactly_past_100_years(months: int) -> None:
    assert retention_error(f"P{months}M") is None
    assert retention_error(f"P{1201 + months}M") is not None


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("Acme Mail, Inc.", "acme-mail-inc"),
        ("  Acme  Mail  ", "acme-mail"),
        ("Café Zürich", "cafe-zurich"),
        ("ACME", "acme"),
        ("x--y__z", "x-y-z"),
        ("株式会社", ""),
        ("", ""),
        ("!!!", ""),
    ],
)
def test_slugify(name: str, slug: str) -> None:
    assert slugify(name) == slug


def test_slugify_truncates_without_trailing_hyphen() -> None:
    slug = slugify("a" * (SLUG_MAX - 1) + " bcd")
    assert slug == "a" * (SLUG_MAX - 1)
    assert slug_error(slug) is None


@given(st.text(max_size=300))
def test_slugify_gives_a_valid_slug_or_nothing(name: str) -> None:
    slug = slugify(name)
    assert slug == "" or slug_error(slug) is None
    assert slugify(slug) == slug


@pytest.mark.parametrize("slug", ["acme", "acme-mail", "a1-b2-c3", "x" * SLUG_MAX])
def test_slug_accepts(slug: str) -> None:
    assert slug_error(slug) is None


@pytest.mark.parametrize(
    ("slug", "fragment"),
    [
        ("Not A Slug", "lower-case letters"),
        ("Acme", "lower-case letters"),
        ("acme--mail", "single hyphens"),
        ("-acme", "single hyphens"),
        ("acme-", "single hyphens"),
        ("acme_mail", "lower-case letters"),
        ("", "lower-case letters"),
        ("acme\n", "lower-case letters"),
        ("x" * (SLUG_MAX + 1), f"longer than {SLUG_MAX}"),
    ],
)
def test_slug_rejects(slug: str, fragment: str) -> None:
    problem = slug_error(slug)
    assert problem is not None
    assert fragment in problem


@pytest.mark.parametrize("tag", ["hosting", "email-delivery", "anti_fraud", "ai2"])
def test_service_tag_accepts(tag: str) -> None:
    assert service_tag_error(tag) is None


@pytest.mark.parametrize("tag", ["Hosting", "email delivery", "-x", "x-", "", "hosting\n"])
def test_service_tag_rejects(tag: str) -> None:
    problem = service_tag_error(tag)
    assert problem is not None
    assert "not a service tag" in problem


@pytest.mark.parametrize("name", ["Acme", "  Acme  ", "a" * NAME_MAX, " " + "a" * NAME_MAX + " "])
def test_check_name_accepts(name: str) -> None:
    assert check_name(name) is None


@pytest.mark.parametrize(
    ("name", "fragment"),
    [
        ("", "Name must not be empty"),
        ("   \t\n", "Name must not be empty"),
        ("a" * (NAME_MAX + 1), f"{NAME_MAX + 1} characters long; at most {NAME_MAX}"),
        ("Acme\x07Mail", "control characters"),
        ("Acme\x00", "control characters"),
    ],
)
def test_check_name_rejects(name: str, fragment: str) -> None:
    problem = check_name(name)
    assert problem is not None
    assert fragment in problem


def test_check_name_uses_label_and_maximum() -> None:
    assert check_name("", "Legal name") == "Legal name must not be empty."
    problem = check_name("abcd", "Legal name", maximum=3)
    assert problem == "Legal name is 4 characters long; at most 3 are allowed."
    assert check_name("abc", "Legal name", maximum=3) is None


def test_period_error() -> None:
    start = date(2024, 1, 1)
    assert period_error(start, date(2024, 1, 2)) is None
    # Issue 15 §2: ending a disclosure on the day it starts means it never applied.
    assert period_error(start, start) is None
    before = period_error(start, date(2023, 12, 31))
    assert before is not None and "must not be before effectiveFrom (2024-01-01)" in before


def test_description_error() -> None:
    assert description_error("") is None
    assert description_error("x" * DESCRIPTION_MAX) is None
    too_long = description_error("x" * (DESCRIPTION_MAX + 1))
    assert too_long == f"A description is at most {DESCRIPTION_MAX} characters."
    # PostgreSQL text cannot hold NUL, so neither database is asked to.
    assert description_error("a\x00b") == "A description must not contain NUL characters."
    assert description_error("\x00" * (DESCRIPTION_MAX + 1)) == too_long


def test_note_error() -> None:
    assert note_error("x" * NOTE_MAX) is None
    assert note_error("x" * (NOTE_MAX + 1)) == f"A note is at most {NOTE_MAX} characters."


def test_distinct_keeps_the_first_of_each_in_order() -> None:
    assert distinct(["b", "a", "b", "c", "a"]) == ["b", "a", "c"]
    assert distinct([]) == []


@pytest.mark.parametrize(
    ("moment", "refused"),
    [
        (datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=5))), True),  # overflows in UTC
        (datetime(9999, 12, 31, 23, 59, 59, tzinfo=timezone(timedelta(hours=-5))), True),
        (datetime(1899, 12, 31, 23, 59), True),
        (datetime(1900, 1, 1), False),
        (datetime(2200, 12, 31, 23, 59), False),
        (date(2201, 1, 1), True),
        (date(2025, 6, 1), False),
    ],
)
def test_moments_are_limited_to_the_years_1900_to_2200(
    moment: datetime | date, refused: bool
) -> None:
    problem = validation.moment_error(moment)
    assert (problem is not None) == refused
    if refused:
        assert "1900-2200" in problem  # type: ignore[operator]
