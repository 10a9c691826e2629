"""The taxonomy rules in plain Python: ancestry, matching both ways, special categories."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.domain.taxonomy import (
    EXTENSIONS_FILE,
    FIDES_FILE,
    SPECIAL_CATEGORIES,
    ancestors_of,
    default_taxonomy,
    is_same_or_descendant,
    is_sensitive,
    keys_match,
    matched_categories,
)

# Few, short segments so that generated keys often share ancestry; "ab" next to "a" catches
# prefix matching that forgets the dot (user.contact vs user.contacts).
SEGMENTS = st.sampled_from(["a", "ab", "b", "user", "contact", "contacts"])
KEYS = st.lists(SEGMENTS, min_size=1, max_size=4).map(".".join)
KEY_LISTS = st.lists(KEYS, max_size=6)


def test_ancestors_of_nearest_first() -> None:
    assert list(ancestors_of("user.contact.address.city")) == [
        "user.contact.address",
        "user.contact",
        "user",
    ]


def test_ancestors_of_a_root_is_empty() -> None:
    assert list(ancestors_of("user")) == []


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("user.contact", "user.contact.email"),
        ("user", "user.contact.address.city"),
        ("user.contact.email", "user.contact.email"),
    ],
)
def test_keys_match_by_ancestry_both_ways(a: str, b: str) -> None:
    assert keys_match(a, b)
    assert keys_match(b, a)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("user.contact", "user.contacts"),
        ("user.contact.email", "user.contact.phone_number"),
        ("user.contact", "user.device"),
        ("user", "users.contact"),
        ("system", "user"),
    ],
)
def test_keys_do_not_match_across_branches_or_by_bare_prefix(a: str, b: str) -> None:
    assert not keys_match(a, b)
    assert not keys_match(b, a)


def test_matched_categories_returns_the_more_specific_key() -> None:
    assert matched_categories(["user.contact"], ["user.contact.email"]) == ["user.contact.email"]
    assert matched_categories(["user.contact.email"], ["user.contact"]) == ["user.contact.email"]


def test_matched_categories_without_repeats_sorted() -> None:
    subject = ["user.contact.phone_number", "user.contact", "user.contact.email", "user.device"]
    disclosed = ["user.contact.email", "user.contact", "user.contact.email", "user.financial"]
    assert matched_categories(subject, disclosed) == [
        "user.contact",
        "user.contact.email",
        "user.contact.phone_number",
    ]


def test_matched_categories_with_nothing_in_common_is_empty() -> None:
    assert matched_categories(["user.contact"], ["user.device", "system"]) == []
    assert matched_categories([], ["user"]) == []
    assert matched_categories(["user"], []) == []


def test_matched_categories_accepts_generators() -> None:
    subject = (k for k in ["user.contact", "user.device"])
    disclosed = (k for k in ["user.contact.email", "user.device.cookie_id"])
    assert matched_categories(subject, disclosed) == [
        "user.contact.email",
        "user.device.cookie_id",
    ]


@pytest.mark.parametrize(
    "key",
    [
        "user.biometric",
        "user.biometric.fingerprint",
        "user.authorization.biometric",
        "user.health_and_medical",
        "user.health_and_medical.genetic",
        "user.demographic.political_opinion",
        "user.demographic.religious_belief",
        "user.demographic.sexual_orientation",
        "user.demographic.race_ethnicity",
        "user.criminal_history",
    ],
)
def test_special_categories_and_their_children_are_sensitive(key: str) -> None:
    assert is_sensitive(key)


@pytest.mark.parametrize(
    "key",
    [
        "user",
        "user.contact",
        "user.contact.email",
        "user.demographic",
        "user.demographic.gender",
        "user.authorization",
        "user.biometrics",
    ],
)
def test_ordinary_categories_are_not_sensitive(key: str) -> None:
    assert not is_sensitive(key)


def test_sensitive_flag_of_taxonomy_terms() -> None:
    categories = default_taxonomy().categories
    assert categories["user.biometric.fingerprint"].sensitive
    assert categories["user.health_and_medical"].sensitive
    assert not categories["user.contact"].sensitive
    assert not categories["user.contact.email"].sensitive
    assert {k for k, t in categories.items() if t.sensitive} == {
        k for k in categories if is_sensitive(k)
    }


def test_default_taxonomy_counts() -> None:
    fides = json.loads(FIDES_FILE.read_text())
    ours = json.loads(EXTENSIONS_FILE.read_text())
    assert len(fides["data_categories"]) == 85
    assert len(fides["data_uses"]) == 56
    assert len(fides["data_subjects"]) == 15
    taxonomy = default_taxonomy()
    for section, terms in (
        ("data_categories", taxonomy.categories),
        ("data_uses", taxonomy.purposes),
        ("data_subjects", taxonomy.subject_types),
    ):
        assert len(ours[section]) > 0
        assert len(terms) >= len(fides[section]) + len(ours[section]), section
        assert {t["key"] for t in fides[section] + ours[section]} == set(terms), section


def test_every_extension_has_a_known_parent() -> None:
    ours = json.loads(EXTENSIONS_FILE.read_text())
    taxonomy = default_taxonomy()
    for section, terms in (
        ("data_categories", taxonomy.categories),
        ("data_uses", taxonomy.purposes),
    ):
        for row in ours[section]:
            term = terms[row["key"]]
            if "." in row["key"]:
                assert term.parent == row["key"].rsplit(".", 1)[0]
            if term.parent is not None:
                assert term.parent in terms, f"{row['key']} has unknown parent {term.parent}"
    for row in ours["data_subjects"]:
        assert row["key"] in taxonomy.subject_types


def test_children_of_lists_direct_children_sorted() -> None:
    taxonomy = default_taxonomy()
    children = taxonomy.children_of("user.contact")
    assert "user.contact.email" in children
    assert "user.contact.address.city" not in children
    assert children == sorted(children)


@given(KEYS, KEYS)
def test_keys_match_is_symmetric(a: str, b: str) -> None:
    assert keys_match(a, b) == keys_match(b, a)


@given(KEYS)
def test_keys_match_is_reflexive(a: str) -> None:
    assert keys_match(a, a)


@given(KEYS, KEYS)
def test_keys_match_is_ancestry(a: str, b: str) -> None:
    assert keys_match(a, b) == (a == b or a in ancestors_of(b) or b in ancestors_of(a))


@given(KEYS, st.lists(SEGMENTS, min_size=1, max_size=3).map(".".join))
def test_a_key_matches_its_descendants(a: str, rest: str) -> None:
    child = f"{a}.{rest}"
    assert keys_match(a, child)
    assert matched_categories([a], [child]) == [child]
    assert matched_categories([child], [a]) == [child]


@given(KEY_LISTS, KEY_LISTS)
def test_matched_categories_properties(subject: list[str], disclosed: list[str]) -> None:
    result = matched_categories(subject, disclosed)
    assert result == sorted(set(result))
    assert set(result) <= set(subject) | set(disclosed)
    for key in result:
        assert any(keys_match(key, s) for s in subject)
        assert any(keys_match(key, d) for d in disclosed)
    # Every matching pair is represented by its deeper key.
    for s in subject:
        for d in disclosed:
            if keys_match(s, d):
                assert (s if len(s) >= len(d) else d) in result


@given(KEY_LISTS, KEY_LISTS)
def test_matched_categories_is_symmetric(subject: list[str], disclosed: list[str]) -> None:
    assert matched_categories(subject, disclosed) == matched_categories(disclosed, subject)


@given(KEY_LISTS, KEY_LISTS)
def test_matched_categories_ignores_order_and_repeats(
    subject: list[str], disclosed: list[str]
) -> None:
    expected = matched_categories(subject, disclosed)
    assert matched_categories(subject * 2, list(reversed(disclosed))) == expected


@pytest.mark.parametrize(
    ("item", "key"),
    [
        ("Art. 9(1) racial or ethnic origin", "user.demographic.race_ethnicity"),
        ("Art. 9(1) political opinions", "user.demographic.political_opinion"),
        ("Art. 9(1) religious beliefs", "user.demographic.religious_belief"),
        ("Art. 9(1) philosophical beliefs", "user.demographic.philosophical_belief"),
        ("Art. 9(1) trade union membership", "user.demographic.trade_union_membership"),
        ("Art. 9(1) genetic data", "user.health_and_medical.genetic"),
        ("Art. 9(1) biometric data for unique identification", "user.biometric.fingerprint"),
        ("Art. 9(1) data concerning health", "user.health_and_medical"),
        ("Art. 9(1) data concerning sex life", "user.demographic.sex_life"),
        ("Art. 9(1) sexual orientation", "user.demographic.sexual_orientation"),
        ("Art. 10 criminal convictions and offences", "user.criminal_history"),
    ],
)
def test_each_special_category_of_art_9_and_10_has_a_sensitive_key(item: str, key: str) -> None:
    """One key per item of Art. 9(1) and Art. 10, in the installed taxonomy and sensitive."""
    assert key in default_taxonomy().categories
    assert default_taxonomy().categories[key].sensitive
    assert any(is_same_or_descendant(key, root) for root in SPECIAL_CATEGORIES[item])


def test_the_special_categories_are_exactly_the_articles_items() -> None:
    assert len(SPECIAL_CATEGORIES) == 11  # ten items of Art. 9(1), one of Art. 10
