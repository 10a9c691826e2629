"""Special-category (GDPR Art. 9) and criminal-offence (Art. 10) data in a disclosure: which keys
count, and which condition a disclosure of them must give."""

from __future__ import annotations

import pytest

from server.domain import special_categories as special
from server.domain.disclosure_terms import DisclosureSpec, check_disclosure
from server.domain.enums import DisclosureGround, LegalBasis, RecipientStatus
from server.domain.enums import SpecialCategoryCondition as C
from server.domain.errors import ErrorCollector
from server.domain.explain import special_category_gap_sentence
from server.domain.taxonomy import default_taxonomy
from server.domain.who_receives import RecipientFacts

TAXONOMY = default_taxonomy()
PATH = ["input", "disclosures", "0"]
CONDITION = [*PATH, "specialCategoryCondition"]
CATEGORIES = [*PATH, "dataCategories"]


def problems(keys: list[str], condition: C | None) -> list[list[str] | None]:
    errors = ErrorCollector()
    spec = DisclosureSpec(
        data_categories=keys,
        subject_types=["customer"],
        purposes=["essential.service"],
        legal_basis=LegalBasis.CONTRACT,
        ground=DisclosureGround.SERVICE_PROVISION,
        special_category_condition=condition,
    )
    check_disclosure(errors, PATH, spec, TAXONOMY)
    return [e.field for e in errors.errors]


# One key for each item of Art. 9(1) and Art. 10, a key inside it, and the article it falls under.
@pytest.mark.parametrize(
    ("item", "key", "article"),
    [
        ("racial or ethnic origin", "user.demographic.race_ethnicity", 9),
        ("political opinions", "user.demographic.political_opinion", 9),
        ("religious beliefs", "user.demographic.religious_belief", 9),
        ("philosophical beliefs", "user.demographic.philosophical_belief", 9),
        ("trade union membership", "user.demographic.trade_union_membership", 9),
        ("genetic data", "user.health_and_medical.genetic", 9),
        ("biometric data for unique identification", "user.biometric.fingerprint", 9),
        ("biometric data for unique identification", "user.authorization.biometric", 9),
        ("data concerning health", "user.health_and_medical.record_id", 9),
        ("data concerning sex life", "user.demographic.sex_life", 9),
        ("sexual orientation", "user.demographic.sexual_orientation", 9),
        ("criminal convictions and offences", "user.criminal_history", 10),
    ],
)
def test_each_item_of_the_articles_is_special(item: str, key: str, article: int) -> None:
    found = special.coverage([key])
    assert found.special
    assert any(item in i for i in found.items)
    if article == 10:
        assert (found.art_9_keys, found.art_10_keys) == ((), (key,))
    else:
        assert (found.art_9_keys, found.art_10_keys) == ((key,), ())


@pytest.mark.parametrize(
    ("key", "art_9", "art_10"),
    [
        # A broad key covers the special categories under it: the report's matching would show
        # a subject's health data as received by a recipient of `user`.
        ("user", True, True),
        ("user.demographic", True, False),
        ("user.authorization", True, False),
        ("user.health_and_medical", True, False),
        # Ordinary data, and narrower keys beside the special ones.
        ("user.contact.email", False, False),
        ("user.demographic.age_range", False, False),
        ("user.authorization.password", False, False),
        ("system", False, False),
    ],
)
def test_which_keys_count(key: str, art_9: bool, art_10: bool) -> None:
    found = special.coverage([key])
    assert (bool(found.art_9_keys), bool(found.art_10_keys)) == (art_9, art_10)


def test_a_broad_key_reaches_every_item_under_it() -> None:
    assert set(special.coverage(["user.demographic"]).items) == {
        "Art. 9(1) racial or ethnic origin",
        "Art. 9(1) political opinions",
        "Art. 9(1) religious beliefs",
        "Art. 9(1) philosophical beliefs",
        "Art. 9(1) trade union membership",
        "Art. 9(1) data concerning sex life",
        "Art. 9(1) sexual orientation",
    }
    assert special.coverage(["user"]).items == tuple(special.SPECIAL_CATEGORIES)


def test_special_keys_of_the_taxonomy() -> None:
    keys = special.special_keys(TAXONOMY.categories)
    assert {"user", "user.demographic", "user.authorization", "user.criminal_history"} <= set(keys)
    assert "user.contact.email" not in keys
    assert all(special.coverage([k]).special for k in keys)


@pytest.mark.parametrize(
    ("keys", "condition", "fields"),
    [
        # Ordinary data: no condition, and none allowed (the contract: null otherwise).
        (["user.contact.email"], None, []),
        (["user.contact.email"], C.EXPLICIT_CONSENT, [CONDITION]),
        # Art. 9 data needs an Art. 9(2) condition ...
        (["user.health_and_medical"], None, [CONDITION]),
        (["user.contact.email", "user.demographic"], None, [CONDITION]),
        (["user.health_and_medical"], C.EXPLICIT_CONSENT, []),  # Art. 9(2)(a)
        (["user.health_and_medical"], C.EMPLOYMENT_SOCIAL_SECURITY, []),  # (b)
        (["user.biometric"], C.VITAL_INTERESTS, []),  # (c)
        (["user.demographic.trade_union_membership"], C.NOT_FOR_PROFIT_BODY, []),  # (d)
        (["user.demographic.political_opinion"], C.MADE_PUBLIC_BY_SUBJECT, []),  # (e)
        (["user.health_and_medical"], C.LEGAL_CLAIMS, []),  # (f)
        (["user.health_and_medical"], C.SUBSTANTIAL_PUBLIC_INTEREST, []),  # (g)
        (["user.health_and_medical"], C.HEALTH_OR_SOCIAL_CARE, []),  # (h)
        (["user.health_and_medical"], C.PUBLIC_HEALTH, []),  # (i)
        (["user.health_and_medical.genetic"], C.ARCHIVING_RESEARCH_STATISTICS, []),  # (j)
        # ... and not Art. 10's.
        (["user.health_and_medical"], C.CRIMINAL_DATA_AUTHORISED_BY_LAW, [CONDITION]),
        # Art. 10 data needs its authorisation by law, and no Art. 9(2) condition fits it.
        (["user.criminal_history"], None, [CONDITION]),
        (["user.criminal_history"], C.CRIMINAL_DATA_AUTHORISED_BY_LAW, []),
        (["user.criminal_history"], C.EXPLICIT_CONSENT, [CONDITION]),
        (["user.criminal_history"], C.LEGAL_CLAIMS, [CONDITION]),
        # Both articles in one disclosure: split it, whatever the condition.
        (["user.health_and_medical", "user.criminal_history"], None, [CATEGORIES]),
        (["user.health_and_medical", "user.criminal_history"], C.EXPLICIT_CONSENT, [CATEGORIES]),
        (["user"], C.CRIMINAL_DATA_AUTHORISED_BY_LAW, [CATEGORIES]),
        # A broad key needs one as well.
        (["user.authorization"], None, [CONDITION]),
        (["user.authorization.password"], None, []),
    ],
)
def test_condition_rules(keys: list[str], condition: C | None, fields: list[list[str]]) -> None:
    assert problems(keys, condition) == fields


def test_the_missing_condition_error_names_the_categories_and_the_article() -> None:
    errors = ErrorCollector()
    special.check_condition(errors, PATH, ["user.contact.email", "user.health_and_medical"], None)
    [error] = errors.errors
    assert "user.health_and_medical" in error.message
    assert "user.contact.email" not in error.message
    assert "Art. 9(1) data concerning health" in error.message
    assert "Art. 9(2)" in error.message
    errors = ErrorCollector()
    special.check_condition(errors, PATH, ["user.criminal_history"], None)
    assert "CRIMINAL_DATA_AUTHORISED_BY_LAW" in errors.errors[0].message


def test_the_split_error_says_so() -> None:
    errors = ErrorCollector()
    special.check_condition(errors, PATH, ["user"], None)
    [error] = errors.errors
    assert error.field == CATEGORIES
    assert "split it in two" in error.message


def test_unknown_keys_are_not_judged_twice() -> None:
    # An unknown key has its own error; the condition is not asked for it.
    assert problems(["user.health_and_medical.nope"], None) == [[*CATEGORIES, "0"]]


def test_missing_condition_is_the_compliance_gap() -> None:
    assert special.missing_condition(["user.contact.email"], None) is None
    assert special.missing_condition(["user.health_and_medical"], C.EXPLICIT_CONSENT) is None
    gap = special.missing_condition(["user.name", "user.health_and_medical"], None)
    assert gap is not None and gap.keys == ("user.health_and_medical",)


# -- complianceGaps: recorded disclosures without a condition ---------------------------------


def recorded(
    did: int,
    name: str,
    keys: tuple[str, ...],
    condition: C | None = None,
    status: RecipientStatus | None = RecipientStatus.ACTIVE,
) -> special.RecordedDisclosure:
    recipient = RecipientFacts(id=did * 10, name=name, engaged_by_id=None, status_at=status)
    return special.RecordedDisclosure(did, recipient, keys, condition)


def test_gaps_are_active_recipients_special_disclosures_without_condition() -> None:
    gaps = special.special_category_gaps(
        [
            recorded(1, "Zeta Clinic", ("user.health_and_medical",)),
            recorded(2, "alpha Labs", ("user.contact.email", "user.demographic")),
            recorded(3, "Covered Clinic", HEALTH_KEYS, C.HEALTH_OR_SOCIAL_CARE),
            recorded(4, "Mail Co", ("user.contact.email",)),
            recorded(5, "Suspended Clinic", HEALTH_KEYS, status=RecipientStatus.SUSPENDED),
            recorded(6, "Future Clinic", HEALTH_KEYS, status=None),
            recorded(7, "Beta Checks", ("user.criminal_history",)),
            recorded(0, "Zeta Clinic", ("user",)),
        ]
    )
    assert [(g.disclosure.recipient.name, g.disclosure.id) for g in gaps] == [
        ("alpha Labs", 2),
        ("Beta Checks", 7),
        ("Zeta Clinic", 0),
        ("Zeta Clinic", 1),
    ]
    assert gaps[0].coverage.keys == ("user.demographic",)
    assert gaps[1].coverage.art_10_keys == ("user.criminal_history",)


HEALTH_KEYS = ("user.health_and_medical",)


@pytest.mark.parametrize(
    ("art_9", "art_10", "phrase"),
    [
        (True, False, "special-category data (GDPR Art. 9), on the legal basis of legitimate "
         "interests with no Art. 9(2) condition recorded"),
        (False, True, "criminal-offence data (GDPR Art. 10), on the legal basis of legitimate "
         "interests with no Art. 10 authorisation by law recorded"),
        (True, True, "special-category and criminal-offence data (GDPR Art. 9 and Art. 10)"),
    ],
)  # fmt: skip
def test_gap_sentence_names_recipient_categories_and_article(
    art_9: bool, art_10: bool, phrase: str
) -> None:
    sentence = special_category_gap_sentence(
        recipient="Zeta Clinic",
        categories=["health records", "genetic data"],
        legal_basis=LegalBasis.LEGITIMATE_INTERESTS,
        art_9=art_9,
        art_10=art_10,
    )
    assert sentence.startswith("Zeta Clinic receives health records and genetic data, ")
    assert phrase in sentence
