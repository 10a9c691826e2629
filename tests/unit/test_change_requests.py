"""Issue 15 §2: a change waiting for a second key is decided once, by a key with the privacy
role (or admin) that authored no part of it."""

from __future__ import annotations

from datetime import date

import pytest

from server.domain.access import Role
from server.domain.change_requests import (
    Destination,
    decision_error,
    disclosure_summary,
    end_is_material,
    needs_review,
    recipient_summary,
    skips_review,
)
from server.domain.enums import ChangeRequestStatus as C
from server.domain.enums import RecipientStatus as S
from server.domain.enums import UserErrorCode as E


@pytest.mark.parametrize(
    ("role", "actor", "status", "code"),
    [
        (Role.PRIVACY, "dpo", C.PENDING, None),
        (Role.ADMIN, "ops", C.PENDING, None),
        # The author is the first pair of eyes, not the second.
        (Role.PRIVACY, "importer", C.PENDING, E.FORBIDDEN),
        (Role.ADMIN, "importer", C.PENDING, E.FORBIDDEN),
        # Only the privacy office (or an admin) decides.
        (Role.PROCUREMENT, "buyer", C.PENDING, E.FORBIDDEN),
        (Role.VIEWER, "dashboard", C.PENDING, E.FORBIDDEN),
        # Decided once: a decision is history, not a draft.
        (Role.PRIVACY, "dpo", C.APPROVED, E.INVALID),
        (Role.PRIVACY, "dpo", C.REJECTED, E.INVALID),
    ],
)
def test_who_decides(role: Role, actor: str, status: C, code: E | None) -> None:
    found = decision_error(role=role, actor=actor, authors=["importer"], status=status)
    assert (found[1] if found else None) == code


@pytest.mark.parametrize("status", list(S))
def test_only_a_proposal_goes_through_review(status: S) -> None:
    assert skips_review(status) is (status is not S.PROPOSED)


@pytest.mark.parametrize(
    ("status", "role", "waits"),
    [
        # Issue 15 §2: once a reviewer passed it, a key's material change waits.
        (S.APPROVED, Role.PROCUREMENT, True),
        (S.ACTIVE, Role.PROCUREMENT, True),
        (S.ACTIVE, Role.PRIVACY, True),
        (S.ACTIVE, Role.ADMIN, True),
        # Before review, review is still to come; after offboarding nothing flows.
        (S.PROPOSED, Role.PROCUREMENT, False),
        (S.UNDER_REVIEW, Role.ADMIN, False),
        (S.SUSPENDED, Role.ADMIN, False),
        (S.OFFBOARDED, Role.ADMIN, False),
        # A trusted replay of a recorded history (the fixture loader, an approval applied).
        (S.ACTIVE, None, False),
    ],
)
def test_which_changes_wait_for_a_second_key(status: S, role: Role | None, waits: bool) -> None:
    assert needs_review(status, role) is waits


@pytest.mark.parametrize(
    ("effective_to", "material"),
    [
        (date(2026, 1, 9), True),  # rewrites what reports say of a day already past
        (date(2026, 1, 10), False),  # from today: only stops what has not happened
        (date(2026, 2, 1), False),
    ],
)
def test_an_end_is_material_when_it_rewrites_the_past(effective_to: date, material: bool) -> None:
    assert end_is_material(effective_to, date(2026, 1, 10)) is material


def test_a_disclosure_summary_puts_special_data_first_and_names_each_destination() -> None:
    text = disclosure_summary(
        name="Harmless Ltd",
        verb="adds a disclosure",
        special=["health data"],
        categories=["health data", "government ID"],
        purposes=["analytics"],
        legal_basis="LEGITIMATE_INTERESTS",
        destinations=[
            Destination("United Kingdom", None),
            Destination("China", "Under the EEA regime: no safeguard."),
            Destination("India", None, judged=False),
        ],
    )
    assert text == (
        "Harmless Ltd: adds a disclosure. Special-category or criminal-offence data (Art. 9, "
        "10): health data. New data categories: government ID. New purposes: analytics. Legal "
        "basis: LEGITIMATE_INTERESTS. To United Kingdom: no transfer gap. To China: transfer "
        "gap. Under the EEA regime: no safeguard. To India: cannot be judged until the "
        "organisation's establishments are registered (registerEstablishment)."
    )


def test_a_recipient_summary_names_only_the_destinations_to_look_at() -> None:
    quiet = recipient_summary(
        name="Acme",
        changes={"kind": ("SERVICE_PROVIDER", "AI_PROVIDER")},
        destinations=[Destination("Germany", None)],
    )
    assert (
        quiet
        == "Acme: kind SERVICE_PROVIDER → AI_PROVIDER. Its disclosures would open no transfer gap."
    )
    moved = recipient_summary(
        name="Acme",
        changes={"country": ("GB", "CN")},
        destinations=[Destination("Germany", None), Destination("China", "No safeguard.")],
    )
    assert moved == "Acme: country GB → CN. To China: transfer gap. No safeguard."
