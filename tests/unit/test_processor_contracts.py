"""Art. 28(3) GDPR (and 28(4) for a subprocessor): a processor works under a signed DPA."""

from __future__ import annotations

from datetime import date

import pytest

from server.domain.enums import ProcessingRole as R
from server.domain.enums import RecipientStatus as S
from server.domain.explain import processor_without_dpa_sentence
from server.domain.processor_contracts import activation_error, without_dpa_on

SIGNED = date(2024, 1, 15)


@pytest.mark.parametrize(
    ("role", "target", "signed_on", "article"),
    [
        # Art. 28(3): a processor goes ACTIVE only with a signed DPA.
        (R.PROCESSOR, S.ACTIVE, None, "Art. 28(3)"),
        # Art. 28(4): the same obligations bind a subprocessor.
        (R.SUBPROCESSOR, S.ACTIVE, None, "Art. 28(4)"),
        # Signed: nothing to say.
        (R.PROCESSOR, S.ACTIVE, SIGNED, None),
        (R.SUBPROCESSOR, S.ACTIVE, SIGNED, None),
        # A controller or joint controller has no processor contract to sign (Art. 26 differs).
        (R.CONTROLLER, S.ACTIVE, None, None),
        (R.JOINT_CONTROLLER, S.ACTIVE, None, None),
        # Review and approval come before the contract; only putting it to work needs one.
        (R.PROCESSOR, S.APPROVED, None, None),
        (R.PROCESSOR, S.UNDER_REVIEW, None, None),
        (R.PROCESSOR, S.SUSPENDED, None, None),
        (R.PROCESSOR, S.OFFBOARDED, None, None),
    ],
)
def test_activation_needs_a_signed_dpa(
    role: R, target: S, signed_on: date | None, article: str | None
) -> None:
    problem = activation_error(name="Acme Mail", role=role, target=target, dpa_signed_on=signed_on)
    if article is None:
        assert problem is None
    else:
        assert problem is not None
        assert problem.startswith("Acme Mail is a ") and f"({article} GDPR)" in problem


@pytest.mark.parametrize(
    ("role", "signed_on", "day", "gap"),
    [
        (R.PROCESSOR, None, date(2025, 1, 1), True),
        (R.SUBPROCESSOR, None, date(2025, 1, 1), True),
        (R.PROCESSOR, SIGNED, date(2025, 1, 1), False),
        (R.PROCESSOR, SIGNED, SIGNED, False),  # signed that day: in place that day
        (R.PROCESSOR, SIGNED, date(2023, 12, 31), True),  # judged before it was signed
        (R.CONTROLLER, None, date(2025, 1, 1), False),
    ],
)
def test_without_dpa_on_a_day(role: R, signed_on: date | None, day: date, gap: bool) -> None:
    assert without_dpa_on(role, signed_on, day) is gap


def test_the_gap_names_the_article_and_a_late_signature() -> None:
    none = processor_without_dpa_sentence(
        recipient="Saffron Loop", role=R.SUBPROCESSOR, signed_on=None
    )
    assert none.startswith("Saffron Loop is an ACTIVE subprocessor with no signed data processing")
    assert "Art. 28(4) GDPR" in none
    late = processor_without_dpa_sentence(recipient="Acme", role=R.PROCESSOR, signed_on=SIGNED)
    assert "signed on 2024-01-15" in late and "Art. 28(3) GDPR" in late
