"""Who engages a subprocessor (GDPR Art. 28(2) and (4)), rule by rule in plain Python."""

from __future__ import annotations

import pytest

from server.domain import subprocessors
from server.domain.enums import ProcessingRole as R
from server.domain.subprocessors import (
    ENGAGING_ROLES,
    cycle_error,
    engaged_role_error,
    engager_error,
    engaging_role_error,
    kept_engagement_error,
    may_engage,
    missing_engager_error,
)

NOT_ENGAGING = [r for r in R if r not in ENGAGING_ROLES]


def test_only_processors_engage() -> None:
    """Art. 28(4): a processor engages another processor; a subprocessor is one for its own."""
    assert {R.PROCESSOR, R.SUBPROCESSOR} == ENGAGING_ROLES
    assert NOT_ENGAGING == [R.CONTROLLER, R.JOINT_CONTROLLER]
    assert all(may_engage(r) for r in ENGAGING_ROLES)
    assert not any(may_engage(r) for r in NOT_ENGAGING)


@pytest.mark.parametrize("role", sorted(ENGAGING_ROLES))
def test_a_processor_may_be_the_engager(role: R) -> None:
    assert engager_error("Acme", role, itself=False) is None


@pytest.mark.parametrize("role", NOT_ENGAGING)
def test_a_controller_is_not_an_engager(role: R) -> None:
    assert engager_error("Acme", role, itself=False) == (
        f"Acme is a {role.value}; only a PROCESSOR or SUBPROCESSOR engages subprocessors."
    )


@pytest.mark.parametrize("role", list(R))
def test_a_recipient_cannot_engage_itself(role: R) -> None:
    """Its chain would never reach a processor the controller engaged."""
    assert engager_error("Acme", role, itself=True) == "A recipient cannot engage itself."


def test_a_cycle_names_the_engager() -> None:
    message = cycle_error("Acme")
    assert message.startswith("Acme is already engaged") and "cycle" in message


@pytest.mark.parametrize("role", list(R))
def test_an_engaged_recipient_is_a_subprocessor(role: R) -> None:
    problem = engaged_role_error(role)
    if role == R.SUBPROCESSOR:
        assert problem is None
    else:
        assert problem == (
            "A recipient engaged by a processor is a SUBPROCESSOR; set role to SUBPROCESSOR."
        )


@pytest.mark.parametrize("role", list(R))
@pytest.mark.parametrize("engaged", [True, False])
def test_a_subprocessor_names_its_engager(role: R, engaged: bool) -> None:
    """Art. 28(4): the processor that engaged a subprocessor answers for it."""
    problem = missing_engager_error(role, engaged=engaged)
    if role == R.SUBPROCESSOR and not engaged:
        assert problem == "A SUBPROCESSOR must name the processor that engaged it (engagedBy)."
    else:
        assert problem is None


@pytest.mark.parametrize("role", list(R))
def test_a_recipient_kept_engaged_stays_a_subprocessor(role: R) -> None:
    problem = kept_engagement_error(role)
    if role == R.SUBPROCESSOR:
        assert problem is None
    else:
        assert problem is not None and "clear engagedBy to change its role" in problem


@pytest.mark.parametrize("role", list(R))
@pytest.mark.parametrize("has_subprocessors", [True, False])
def test_an_engager_stays_a_processor(role: R, has_subprocessors: bool) -> None:
    """Its subprocessors would otherwise answer to no processor (Art. 28(4))."""
    problem = engaging_role_error(role, has_subprocessors=has_subprocessors)
    if has_subprocessors and role in NOT_ENGAGING:
        assert problem == (
            "This recipient has engaged subprocessors, so it must stay a PROCESSOR or SUBPROCESSOR."
        )
    else:
        assert problem is None


@pytest.mark.parametrize(
    ("links_above", "levels_below", "allowed"),
    [
        (0, 0, True),  # engaged by a processor the controller engaged: one link
        (9, 0, True),  # ten links: the most allowed
        (10, 0, False),
        (4, 5, True),  # moving a recipient with five levels below it under a 4-deep engager
        (4, 6, False),
        (0, 9, True),
        (0, 10, False),
    ],
)
def test_a_chain_is_at_most_ten_links_deep(
    links_above: int, levels_below: int, allowed: bool
) -> None:
    """Issue 11 §4: every chain is finite and shallow, checked when it is written."""
    problem = subprocessors.chain_length_error("Acme", links_above, levels_below)
    assert (problem is None) == allowed
    if problem:
        assert "Acme" in problem and str(subprocessors.MAX_CHAIN_LINKS) in problem
