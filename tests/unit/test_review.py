"""Issue 15 §3: what a reviewer sees before approving or activating a recipient."""

from __future__ import annotations

from datetime import date

from server.domain.enums import ProcessingRole as R
from server.domain.review import OpenTransfer, review_warnings


def warnings(**overrides: object) -> list[str]:
    given: dict[str, object] = {
        "name": "Acme",
        "role": R.PROCESSOR,
        "dpa_signed_on": date(2024, 1, 15),
        "privacy_policy_url": "https://acme.example/privacy",
        "art_9": [],
        "art_10": [],
        "transfers": [],
    }
    given.update(overrides)
    return review_warnings(**given)  # type: ignore[arg-type]


def test_nothing_to_say() -> None:
    assert warnings() == []
    assert warnings(role=R.CONTROLLER, dpa_signed_on=None) == []


def test_each_warning_names_its_article_in_the_order_it_matters() -> None:
    found = warnings(
        dpa_signed_on=None,
        privacy_policy_url=None,
        art_9=["health data"],
        art_10=["criminal records"],
        transfers=[OpenTransfer("EEA", "India", "No safeguard is recorded.")],
    )
    assert found == [
        "Acme would receive special-category data (GDPR Art. 9): health data.",
        "Acme would receive criminal-offence data (GDPR Art. 10): criminal records.",
        "Transfer gap under the EEA regime, to India: No safeguard is recorded.",
        "Acme is a processor with no signed data processing agreement on record (Art. 28(3) "
        "GDPR): it cannot become ACTIVE until dpaSignedOn is recorded.",
        "Acme has no privacy policy URL on record: a person asking who receives their data "
        "cannot look up how it treats it.",
    ]


def test_a_subprocessor_is_bound_by_art_28_4() -> None:
    [found] = warnings(role=R.SUBPROCESSOR, dpa_signed_on=None)
    assert "(Art. 28(4) GDPR)" in found
