"""A recipient's DPF certifications as given by a caller, and the deprecated
dataPrivacyFrameworkCertified flag read and written over them (server/domain/dpf.py)."""

from __future__ import annotations

from datetime import date

import pytest

from server.domain import dpf
from server.domain.errors import ErrorCollector
from server.domain.regimes import DataPrivacyFramework, DpfCertification

EU = DataPrivacyFramework.EU_US
UK = DataPrivacyFramework.UK_EXTENSION
CH = DataPrivacyFramework.SWISS_US
TODAY = date(2026, 12, 2)
PATH = ["input", "dpfCertifications"]


def cert(framework: DataPrivacyFramework, on: str, lapsed: str | None = None) -> DpfCertification:
    return DpfCertification(
        framework, date.fromisoformat(on), date.fromisoformat(lapsed) if lapsed else None
    )


# (case, certifications, the flag as read on TODAY)
READS = [
    ("none", [], False),
    ("EU-US in force", [cert(EU, "2024-01-01")], True),
    ("EU-US certified today", [cert(EU, "2026-12-02")], True),
    ("EU-US certified tomorrow", [cert(EU, "2026-12-03")], False),
    ("EU-US lapsing tomorrow", [cert(EU, "2024-01-01", "2026-12-03")], True),
    ("EU-US lapsed today", [cert(EU, "2024-01-01", "2026-12-02")], False),
    ("UK Extension alone", [cert(UK, "2024-01-01")], False),
    ("Swiss-US alone", [cert(CH, "2024-01-01")], False),
    ("a lapsed EU-US and a current one",
     [cert(EU, "2023-08-01", "2024-02-01"), cert(EU, "2025-01-01")], True),
]  # fmt: skip


@pytest.mark.parametrize(("case", "certifications", "flag"), READS)
def test_the_flag_reads_an_eu_us_certification_in_force(
    case: str, certifications: list[DpfCertification], flag: bool
) -> None:
    assert dpf.eu_us_in_force(certifications, TODAY) is flag, case


def test_the_flag_counts_no_earlier_than_the_framework() -> None:
    """Certified before 10 July 2023 (the Privacy Shield's list carried over): in force only
    from the framework's start."""
    early = [cert(EU, "2023-01-01")]
    assert not dpf.eu_us_in_force(early, date(2023, 7, 9))
    assert dpf.eu_us_in_force(early, date(2023, 7, 10))


# (case, certifications before, the flag written, certifications after)
WRITES = [
    ("true records EU-US from today", [], True, [cert(EU, "2026-12-02")]),
    ("true beside a UK Extension only adds EU-US",
     [cert(UK, "2024-01-01", "2024-06-01")], True,
     [cert(UK, "2024-01-01", "2024-06-01"), cert(EU, "2026-12-02")]),
    ("true with EU-US in force changes nothing",
     [cert(EU, "2024-01-01", "2027-01-01")], True, [cert(EU, "2024-01-01", "2027-01-01")]),
    ("true after a lapse records a new one",
     [cert(EU, "2024-01-01", "2026-12-02")], True,
     [cert(EU, "2024-01-01", "2026-12-02"), cert(EU, "2026-12-02")]),
    ("true with EU-US certified for later records one from today",
     [cert(EU, "2027-01-01")], True, [cert(EU, "2027-01-01"), cert(EU, "2026-12-02")]),
    ("false ends EU-US in force today", [cert(EU, "2024-01-01")], False,
     [cert(EU, "2024-01-01", "2026-12-02")]),
    ("false ends a lapse still to come today",
     [cert(EU, "2024-01-01", "2027-06-01")], False, [cert(EU, "2024-01-01", "2026-12-02")]),
    ("false drops one certified today", [cert(EU, "2026-12-02")], False, []),
    ("false ends the UK Extension with it",
     [cert(EU, "2024-01-01"), cert(UK, "2024-01-01")], False,
     [cert(EU, "2024-01-01", "2026-12-02"), cert(UK, "2024-01-01", "2026-12-02")]),
    ("false keeps what is not in force, and Swiss-US",
     [cert(EU, "2023-08-01", "2024-01-01"), cert(CH, "2024-10-01"), cert(EU, "2027-01-01")],
     False,
     [cert(EU, "2023-08-01", "2024-01-01"), cert(CH, "2024-10-01"), cert(EU, "2027-01-01")]),
    ("false with none changes nothing", [], False, []),
]  # fmt: skip


@pytest.mark.parametrize(("case", "before", "flag", "after"), WRITES)
def test_writing_the_flag(
    case: str, before: list[DpfCertification], flag: bool, after: list[DpfCertification]
) -> None:
    written = dpf.with_flag(before, flag, TODAY)
    assert written == after, case
    assert dpf.eu_us_in_force(written, TODAY) is flag, case
    # Never a UK Extension recorded: that must be recorded as such.
    assert [c.certified_on for c in written if c.framework is UK] == [
        c.certified_on for c in before if c.framework is UK
    ], case


def test_what_the_flag_leaves_is_checked() -> None:
    """Writing false leaves a UK Extension certified for later without its EU-US one."""
    left = dpf.with_flag([cert(EU, "2024-01-01"), cert(UK, "2027-01-01")], False, TODAY)
    assert dpf.flag_result_error(left) is not None
    assert dpf.flag_result_error(dpf.with_flag([cert(EU, "2024-01-01")], False, TODAY)) is None


# (case, certifications given, the fields with errors)
GIVEN = [
    ("none", [], []),
    ("EU-US and the UK Extension", [cert(EU, "2023-08-01"), cert(UK, "2023-10-12")], []),
    ("the UK Extension within a lapsed EU-US",
     [cert(EU, "2023-08-01", "2025-01-01"), cert(UK, "2023-10-12", "2024-06-01")], []),
    ("Swiss-US alone", [cert(CH, "2024-10-01")], []),
    ("a lapse on the day certified", [cert(EU, "2024-01-01", "2024-01-01")],
     [[*PATH, "0", "lapsedOn"]]),
    ("a lapse before it", [cert(CH, "2024-01-01", "2023-01-01")], [[*PATH, "0", "lapsedOn"]]),
    ("the UK Extension alone", [cert(UK, "2024-01-01")], [[*PATH, "0", "framework"]]),
    ("the UK Extension outliving EU-US",
     [cert(EU, "2024-01-01", "2025-01-01"), cert(UK, "2024-01-01")], [[*PATH, "1", "framework"]]),
    ("a year out of range", [cert(EU, "1800-01-01", "2300-01-01")],
     [[*PATH, "0", "certifiedOn"], [*PATH, "0", "lapsedOn"]]),
    ("every error at once",
     [cert(EU, "2024-01-01", "2023-01-01"), cert(UK, "2024-01-01"), cert(CH, "1899-12-31")],
     [[*PATH, "2", "certifiedOn"], [*PATH, "0", "lapsedOn"], [*PATH, "1", "framework"]]),
    ("too many", [cert(CH, "2024-10-01")] * (dpf.CERTIFICATIONS_MAX + 1), [PATH]),
]  # fmt: skip


@pytest.mark.parametrize(("case", "certifications", "fields"), GIVEN)
def test_certifications_given(
    case: str, certifications: list[DpfCertification], fields: list[list[str]]
) -> None:
    errors = ErrorCollector()
    dpf.check_given(errors, PATH, certifications)
    assert [e.field for e in errors.errors] == fields, case


@pytest.mark.parametrize(
    ("flag_given", "list_given", "conflict"),
    [(True, True, True), (True, False, False), (False, True, False), (False, False, False)],
)
def test_give_the_flag_or_the_list(flag_given: bool, list_given: bool, conflict: bool) -> None:
    assert (dpf.flag_conflict_error(flag_given, list_given) is not None) is conflict
