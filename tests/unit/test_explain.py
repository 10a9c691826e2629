"""Rule 8: the sentences a privacy officer pastes into a reply to the person."""

from __future__ import annotations

from typing import Any

import pytest

from server.domain.enums import DisclosureGround, LegalBasis
from server.domain.explain import (
    GROUND_PHRASES,
    LEGAL_BASIS_PHRASES,
    category_phrase,
    country_phrase,
    disclosure_sentence,
    join_words,
    purpose_phrase,
    transfer_basis,
    withheld_sentence,
)
from server.domain.taxonomy import default_taxonomy


@pytest.mark.parametrize(
    ("items", "expected"),
    [
        ([], ""),
        (["name"], "name"),
        (["name", "email address"], "name and email address"),
        (["name", "email address", "IP address"], "name, email address and IP address"),
        (["a", "b", "c", "d"], "a, b, c and d"),
        (("x", "y"), "x and y"),
    ],
)
def test_join_words(items: list[str], expected: str) -> None:
    assert join_words(items) == expected


def sentence(**overrides: Any) -> str:
    arguments: dict[str, Any] = {
        "recipient": "Kestrel Post",
        "categories": ["email address", "name"],
        "purposes": ["to send you marketing emails"],
        "legal_basis": LegalBasis.CONSENT,
        "ground": DisclosureGround.USER_PERMISSION,
        "destinations": [("United States", None)],
    }
    arguments.update(overrides)
    return disclosure_sentence(**arguments)


def assert_one_sentence(text: str) -> None:
    assert text[0].isupper() and text.endswith(".")
    assert "\n" not in text
    assert ". " not in text and ".." not in text


def test_sentence_names_everything_in_one_sentence() -> None:
    text = sentence()
    assert text == (
        "Kestrel Post receives your email address and name to send you marketing emails, "
        "with your permission, on the legal basis of your consent; "
        "the data goes to the United States, where the recipient is based."
    )
    assert_one_sentence(text)


def test_sentence_lists_several_purposes_and_destinations() -> None:
    text = sentence(
        recipient="Stratus Harbor Cloud",
        categories=["name", "email address", "IP address"],
        purposes=["to provide the platform", "to store data for us"],
        legal_basis=LegalBasis.CONTRACT,
        ground=DisclosureGround.SERVICE_PROVISION,
        destinations=[
            ("United States", "under standard contractual clauses"),
            ("Ireland", "within the EEA"),
            ("Netherlands", None),
        ],
    )
    assert text.startswith("Stratus Harbor Cloud receives your name, email address and IP address ")
    assert "to provide the platform and to store data for us" in text
    assert "as a provider of services to us" in text
    assert "on the legal basis of the performance of a contract" in text
    assert text.endswith(
        "the data goes to the United States (under standard contractual clauses), where the "
        "recipient is based, and is transferred to Ireland (within the EEA) and the Netherlands."
    )
    assert "stays in" not in text
    assert_one_sentence(text)


@pytest.mark.parametrize("basis", list(LegalBasis))
def test_every_legal_basis_has_a_phrase_in_the_sentence(basis: LegalBasis) -> None:
    phrase = LEGAL_BASIS_PHRASES[basis]
    assert phrase and phrase == phrase.strip()
    assert f"on the legal basis of {phrase};" in sentence(legal_basis=basis)


@pytest.mark.parametrize("ground", list(DisclosureGround))
def test_every_ground_has_a_phrase_in_the_sentence(ground: DisclosureGround) -> None:
    phrase = GROUND_PHRASES[ground]
    assert phrase and phrase == phrase.strip()
    assert f", {phrase}, " in sentence(ground=ground)


def test_every_phrase_is_distinct() -> None:
    assert len(set(LEGAL_BASIS_PHRASES.values())) == len(LegalBasis)
    assert len(set(GROUND_PHRASES.values())) == len(DisclosureGround)


def test_no_transfers_says_where_the_recipient_is_based() -> None:
    """Never "stays in": the recipient's country may be a third country for the regime."""
    text = sentence(destinations=[("Germany", None)])
    assert text.endswith("; the data goes to Germany, where the recipient is based.")
    assert "transferred" not in text and "United States" not in text
    assert_one_sentence(text)


def test_a_country_named_with_an_article() -> None:
    text = sentence(destinations=[("United Kingdom", "under an adequacy decision")])
    assert (
        "the data goes to the United Kingdom (under an adequacy decision), where the recipient "
        "is based." in text
    )


def test_a_note_follows_as_a_sentence_of_its_own() -> None:
    text = sentence(note="GDPR did not apply yet on 1 May 2018.")
    assert text.endswith("where the recipient is based. GDPR did not apply yet on 1 May 2018.")


@pytest.mark.parametrize(
    ("per_regime", "expected"),
    [
        ([], None),
        ([("GDPR", None)], None),
        ([("GDPR", "within the EEA")], "within the EEA"),
        ([("GDPR", "under an adequacy decision"), ("UK GDPR", "under an adequacy decision")],
         "under an adequacy decision"),
        ([("GDPR", "within the EEA"), ("UK GDPR", "without a valid transfer safeguard")],
         "GDPR: within the EEA; UK GDPR: without a valid transfer safeguard"),
        ([("GDPR", "under the standard contractual clauses"), ("UK GDPR", None)],
         "GDPR: under the standard contractual clauses; UK GDPR: not a restricted transfer"),
    ],
)  # fmt: skip
def test_transfer_basis_names_each_regime_only_when_they_differ(
    per_regime: list[tuple[str, str | None]], expected: str | None
) -> None:
    assert transfer_basis(per_regime) == expected


@pytest.mark.parametrize(
    ("name", "phrase"),
    [
        ("United States", "the United States"),
        ("United Kingdom", "the United Kingdom"),
        ("Netherlands", "the Netherlands"),
        ("Philippines", "the Philippines"),
        ("Germany", "Germany"),
        ("India", "India"),
    ],
)
def test_country_phrase(name: str, phrase: str) -> None:
    assert country_phrase(name) == phrase


def test_via_names_the_chain_nearest_first() -> None:
    text = sentence(
        recipient="Fernhill Data Centres",
        via=["Coldvault Backup", "Stratus Harbor Cloud"],
        destinations=[("Ireland", None)],
    )
    assert text.startswith(
        "Fernhill Data Centres receives your email address and name "
        "through Coldvault Backup and Stratus Harbor Cloud to send you marketing emails, "
    )
    assert text.endswith("the data goes to Ireland, where the recipient is based.")
    assert_one_sentence(text)


def test_direct_recipient_sentence_has_no_through() -> None:
    assert "through" not in sentence()


def test_transfer_bases_follow_each_destination() -> None:
    text = sentence(
        destinations=[
            ("United States", "under standard contractual clauses"),
            ("India", "without a valid transfer safeguard"),
            ("Ireland", None),
        ],
    )
    assert text.endswith(
        "goes to the United States (under standard contractual clauses), where the recipient is "
        "based, and is transferred to India (without a valid transfer safeguard) and Ireland."
    )
    assert_one_sentence(text)


def test_withheld_sentence_for_withdrawn_consent() -> None:
    text = withheld_sentence(
        recipient="Kestrel Post",
        categories=["email address", "name"],
        purposes=["to send you marketing emails"],
        reason="CONSENT_WITHDRAWN",
    )
    assert text == (
        "Kestrel Post would receive your email address and name to send you marketing emails, "
        "but you withdrew your consent, so it does not."
    )
    assert_one_sentence(text)


def test_withheld_sentence_for_no_consent() -> None:
    text = withheld_sentence(
        recipient="Bramblefield CRM",
        categories=["email address"],
        purposes=["to send you marketing emails", "for marketing"],
        reason="NO_CONSENT",
    )
    assert text.startswith("Bramblefield CRM would receive your email address ")
    assert "to send you marketing emails and for marketing" in text
    assert "only with your consent" in text and "no record" in text
    assert "withdrew" not in text
    assert_one_sentence(text)


def test_category_and_purpose_phrases_read_as_words() -> None:
    taxonomy = default_taxonomy()
    assert category_phrase(taxonomy.categories["user.contact.email"]) == "email address"
    assert category_phrase(taxonomy.categories["user.device.ip_address"]) == "IP address"
    assert (
        purpose_phrase(taxonomy.purposes["marketing.communications.email"])
        == "to send you marketing emails"
    )
    # Every category and purpose in the taxonomy reads as lower-case words (or an acronym).
    for term in taxonomy.categories.values():
        phrase = category_phrase(term)
        assert phrase and not phrase.startswith(" ") and "." not in phrase, term.key
    for term in taxonomy.purposes.values():
        phrase = purpose_phrase(term)
        assert phrase.startswith(("to ", "for ")), (term.key, phrase)
