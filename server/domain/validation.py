"""Checks on single values from the outside world, each returning a message or None."""

from __future__ import annotations

import functools
import re
import unicodedata
from datetime import date, datetime
from urllib.parse import urlsplit

import isodate
import pycountry

NAME_MAX = 200
LEGAL_NAME_MAX = 300
SLUG_MAX = 100
URL_MAX = 2000
RETENTION_MAX = 200
NOTE_MAX = 2000
DESCRIPTION_MAX = 2000
SERVICE_TAG_MAX = 60
SERVICES_MAX = 50
REFERENCE_MAX = 500
# The longest text a search can match (name, legal name and slug, joined by spaces): a longer
# search is refused, not sent to the database (SQLite refuses LIKE patterns over 50,000 bytes).
SEARCH_MAX = NAME_MAX + LEGAL_NAME_MAX + SLUG_MAX + 2
SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
SERVICE_TAG_RE = re.compile(r"^[a-z0-9]+(?:[-_][a-z0-9]+)*$")
# Codes people type that are not ISO 3166-1 alpha-2, with the code they mean.
COUNTRY_HINTS = {"UK": "GB", "EL": "GR", "EU": None}


def has_control_characters(text: str) -> bool:
    return any(unicodedata.category(ch) == "Cc" for ch in text)


def check_name(value: str, label: str = "Name", maximum: int = NAME_MAX) -> str | None:
    stripped = value.strip()
    if not stripped:
        return f"{label} must not be empty."
    if len(stripped) > maximum:
        return f"{label} is {len(stripped)} characters long; at most {maximum} are allowed."
    if has_control_characters(stripped):
        return f"{label} must not contain control characters."
    return None


def country_error(code: str) -> str | None:
    """None when `code` is an ISO 3166-1 alpha-2 code (upper case)."""
    if code in COUNTRY_HINTS:
        better = COUNTRY_HINTS[code]
        if better:
            return f'"{code}" is not an ISO 3166-1 alpha-2 code: use "{better}".'
        return f'"{code}" is not a country: name the country the data goes to.'
    if len(code) == 2 and code.isascii() and code.isalpha():
        if code != code.upper():
            if code.upper() in _alpha_2_codes():
                return f'Country codes are upper case: use "{code.upper()}".'
        elif code in _alpha_2_codes():
            return None
    return f'"{code[:20]}" is not an ISO 3166-1 alpha-2 country code (for example GB, US, DE).'


@functools.cache
def _alpha_2_codes() -> frozenset[str]:
    """Every ISO 3166-1 alpha-2 code, read from pycountry once: an import checks tens of
    thousands of countries."""
    return frozenset(country.alpha_2 for country in pycountry.countries)


@functools.cache
def country_name(code: str) -> str:
    country = pycountry.countries.get(alpha_2=code)
    if country is None:
        return code
    return getattr(country, "common_name", None) or country.name


def url_error(value: str) -> str | None:
    if len(value) > URL_MAX:
        return f"URL is longer than {URL_MAX} characters."
    try:
        parts = urlsplit(value)
    except ValueError:
        return "Not a valid URL."
    if parts.scheme not in ("http", "https"):
        return "URL must start with http:// or https://."
    if not parts.hostname or any(c.isspace() for c in value):
        return "URL must name a host and contain no spaces."
    return None


# Art. 5(1)(e): personal data is kept no longer than necessary, so a retention period sets a
# limit. A duration longer than this is no limit in practice.
RETENTION_YEARS_MAX = 100
# Words that say the data is kept without limit, and words that bound a rule in words.
_NO_LIMIT = re.compile(
    r"\b(forever|indefinite(ly)?|permanent(ly)?|perpetu(al|ally|ity)|unlimited|"
    r"no (time )?limit|never (deleted|erased|removed))",
    re.IGNORECASE,
)
_BOUNDED = re.compile(
    r"\b(until|after|within|when|once|upon|end of|deleted|erased|anonymi[sz]ed)\b|"
    r"\bP\d|\b\d+\s*(hour|day|week|month|year)s?\b",
    re.IGNORECASE,
)
# A whole value that is meant as a duration, and a duration inside a rule in words.
_LOOKS_LIKE_DURATION = re.compile(r"P(?:[\dYMWDTHS.,]*|\d\S*)", re.IGNORECASE)
_DURATION = re.compile(r"\bPT?\d[^\s,;)]*", re.IGNORECASE)


def duration_days(text: str) -> float:
    """An ISO 8601 duration's length in days, a year counted as 365.25 and a month as 1/12 of
    one; raises isodate.ISO8601Error (or ValueError) when it is not one."""
    parsed = isodate.parse_duration(text.upper())
    if isinstance(parsed, isodate.Duration):
        years = float(parsed.years) + float(parsed.months) / 12
        return years * 365.25 + parsed.tdelta.total_seconds() / 86_400
    return float(parsed.total_seconds()) / 86_400


def _duration_error(text: str) -> str | None:
    try:
        days = duration_days(text)
    except (isodate.ISO8601Error, ValueError):
        return f'"{text}" looks like an ISO 8601 duration but is not one (for example P30D).'
    if not any(ch.isdigit() for ch in text) or text.upper().endswith(("T", "P")):
        return f'"{text}" looks like an ISO 8601 duration but is not complete (say P30D, PT12H).'
    if days > RETENTION_YEARS_MAX * 365.25:
        return (
            f'"{text}" is longer than {RETENTION_YEARS_MAX} years, which sets no limit in '
            "practice: Art. 5(1)(e) GDPR requires one. Give the real period."
        )
    return None


# An import judges tens of thousands of retention periods, most of them the same few.
@functools.lru_cache(maxsize=4096)
def retention_error(value: str) -> str | None:
    """Retention is an ISO 8601 duration up to RETENTION_YEARS_MAX years (P30D, P2Y6M) or a
    rule in words of up to RETENTION_MAX characters ("until the account is closed + P30D"),
    and either sets a limit: Art. 5(1)(e) GDPR (storage limitation), Art. 30(1)(f) (the
    envisaged time limits for erasure). A rule that keeps the data without one ("forever",
    "indefinitely", "permanent") is refused; so is a duration inside a rule that is not one."""
    text = value.strip()
    if not text:
        return "Retention must not be empty; leave it out if unknown."
    if len(text) > RETENTION_MAX:
        return (
            f"Retention is {len(text)} characters long; write an ISO 8601 duration such as "
            f"P30D or a short phrase of at most {RETENTION_MAX} characters."
        )
    if has_control_characters(text):
        return "Retention must not contain control characters."
    if _LOOKS_LIKE_DURATION.fullmatch(text):
        return _duration_error(text)
    if not any(ch.isalpha() for ch in text):
        return "Retention must be an ISO 8601 duration (for example P30D) or a rule in words."
    no_limit = _NO_LIMIT.search(text)
    if no_limit and not _BOUNDED.search(f"{text[: no_limit.start()]} {text[no_limit.end() :]}"):
        return (
            f'"{text[:60]}" keeps the data without a time limit; Art. 5(1)(e) GDPR requires '
            "one: give a period (P2Y) or the event that ends it (until the account is closed)."
        )
    for match in _DURATION.finditer(text):
        if problem := _duration_error(match.group(0)):
            return problem
    return None


def search_text(name: str, legal_name: str | None, slug: str) -> str:
    """What the dashboard's search matches: case-folded, so that it is case-insensitive beyond
    ASCII on every database."""
    return " ".join(part for part in (name, legal_name or "", slug) if part).casefold()


def slugify(name: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")
    return slug[:SLUG_MAX].rstrip("-")


def slug_error(slug: str) -> str | None:
    if len(slug) > SLUG_MAX:
        return f"Slug is longer than {SLUG_MAX} characters."
    if not SLUG_RE.fullmatch(slug):
        return "Slug must be lower-case letters, digits and single hyphens (for example acme-mail)."
    return None


def service_tag_error(tag: str) -> str | None:
    if len(tag) > SERVICE_TAG_MAX or not SERVICE_TAG_RE.fullmatch(tag):
        return (
            f'"{tag[:40]}" is not a service tag: use lower-case words joined by hyphens '
            "(for example email-delivery)."
        )
    return None


def description_error(value: str) -> str | None:
    if len(value) > DESCRIPTION_MAX:
        return f"A description is at most {DESCRIPTION_MAX} characters."
    if "\x00" in value:
        return "A description must not contain NUL characters."
    return None


def note_error(value: str) -> str | None:
    if len(value) > NOTE_MAX:
        return f"A note is at most {NOTE_MAX} characters."
    return None


def distinct(keys: list[str]) -> list[str]:
    """The keys without repeats, each where it first appears: the order given is kept."""
    return list(dict.fromkeys(keys))


def period_error(effective_from: date, effective_to: date) -> str | None:
    """effectiveTo is the first day a disclosure no longer applies: never before it starts. On
    the day it starts, it never applied (a disclosure recorded by mistake is ended so, and every
    report at every moment leaves it out, while its history keeps it)."""
    if effective_to < effective_from:
        return (
            f"effectiveTo ({effective_to.isoformat()}) must not be before effectiveFrom "
            f"({effective_from.isoformat()}): it is the first day the disclosure no longer "
            "applies (the same day: it never applied)."
        )
    return None


# The moments and days an input may name: a person's data has no recipients before 1900 or
# after 2200, and a time zone offset on 0001-01-01 or 9999-12-31 overflows Python's dates.
EARLIEST_YEAR, LATEST_YEAR = 1900, 2200


def moment_error(moment: datetime | date) -> str | None:
    """A date or time outside the years 1900-2200 (checked before any arithmetic on it)."""
    if not EARLIEST_YEAR <= moment.year <= LATEST_YEAR:
        return (
            f"{moment.isoformat()} is outside the years {EARLIEST_YEAR}-{LATEST_YEAR} "
            "this service answers for."
        )
    return None
