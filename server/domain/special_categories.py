"""Special-category data (GDPR Art. 9) and criminal-offence data (Art. 10) in a disclosure, and
the condition that makes disclosing it lawful.

Which keys count. A disclosure's category counts as special when it *matches* a special category
by ancestry, the same rule the report uses to say what a recipient receives (rule 4 of
who_receives):

- a key inside a special category (`user.health_and_medical.genetic`) is special data;
- a key that covers one (`user`, `user.demographic`, `user.authorization`) is special too: a
  recipient of `user.demographic` receives a subject's `user.demographic.race_ethnicity` by the
  report's own matching, and the report would tell that person so. Declaring the broad key is
  declaring the special data under it; to leave it out, name the narrower ordinary keys
  (`user.demographic.age_range`). Anything else would let a broad key carry health data with
  no Art. 9(2) condition, the gap this rule exists to close.

Art. 9(2) conditions fit only Art. 9 data and Art. 10's authorisation by law only Art. 10 data,
so one disclosure of both (`user` covers both) must be split in two, each with its condition.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass

from server.domain.enums import RecipientStatus, SpecialCategoryCondition
from server.domain.errors import ErrorCollector
from server.domain.taxonomy import SPECIAL_CATEGORIES, keys_match
from server.domain.who_receives import RecipientFacts

ART_10_PREFIX = "Art. 10"
# Each special category's root key, with the item of Art. 9(1) or Art. 10 it holds.
_ITEM_OF_ROOT: dict[str, str] = {
    root: item for item, roots in SPECIAL_CATEGORIES.items() for root in roots
}
ART_10_CONDITIONS = frozenset({SpecialCategoryCondition.CRIMINAL_DATA_AUTHORISED_BY_LAW})
ART_9_CONDITIONS = frozenset(SpecialCategoryCondition) - ART_10_CONDITIONS


@dataclass(frozen=True)
class SpecialCoverage:
    """The disclosure's own keys that match Art. 9 and Art. 10 data, and the items they reach."""

    art_9_keys: tuple[str, ...] = ()
    art_10_keys: tuple[str, ...] = ()
    items: tuple[str, ...] = ()

    @property
    def special(self) -> bool:
        return bool(self.art_9_keys or self.art_10_keys)

    @property
    def keys(self) -> tuple[str, ...]:
        """Every key of the disclosure that matches special data, in the disclosure's order."""
        return tuple(dict.fromkeys(self.art_9_keys + self.art_10_keys))


def coverage(keys: Iterable[str]) -> SpecialCoverage:
    """Which of `keys` match special-category data (see the module's docstring), by article."""
    art_9: list[str] = []
    art_10: list[str] = []
    items: dict[str, None] = {}
    for key in dict.fromkeys(keys):
        for item in _items_matched(key):
            items[item] = None
            target = art_10 if item.startswith(ART_10_PREFIX) else art_9
            if key not in target:
                target.append(key)
    if not items:
        # Most disclosures (an import judges tens of thousands): one answer, made once.
        return _NO_COVERAGE
    ordered = tuple(i for i in SPECIAL_CATEGORIES if i in items)
    return SpecialCoverage(tuple(art_9), tuple(art_10), ordered)


_NO_COVERAGE = SpecialCoverage()


@functools.lru_cache(maxsize=4096)
def _items_matched(key: str) -> tuple[str, ...]:
    """The item of Art. 9(1) or Art. 10 of each special category `key` matches, in the order
    of the categories (an import asks this of the same few keys tens of thousands of times)."""
    return tuple(item for root, item in _ITEM_OF_ROOT.items() if keys_match(key, root))


def special_keys(known: Iterable[str]) -> list[str]:
    """The keys of a taxonomy that count as special by this rule: what a search for disclosures
    of special data must look for."""
    return sorted(k for k in known if coverage([k]).special)


def missing_condition(
    keys: Iterable[str], condition: SpecialCategoryCondition | None
) -> SpecialCoverage | None:
    """A recorded disclosure's compliance gap: the special data it covers without a condition."""
    if condition is not None:
        return None
    found = coverage(keys)
    return found if found.special else None


@dataclass(frozen=True)
class RecordedDisclosure:
    """A disclosure in effect at the moment asked about, with its recipient's status then."""

    id: int
    recipient: RecipientFacts
    data_categories: tuple[str, ...]
    condition: SpecialCategoryCondition | None


@dataclass(frozen=True)
class SpecialCategoryGap:
    disclosure: RecordedDisclosure
    coverage: SpecialCoverage


def special_category_gaps(disclosures: Iterable[RecordedDisclosure]) -> list[SpecialCategoryGap]:
    """Disclosures to recipients ACTIVE at the moment that cover special-category or
    criminal-offence data without a condition (recorded before the rule, or written around it),
    by recipient name, then disclosure. Only an ACTIVE recipient receives anything (rule 1)."""
    gaps = []
    for disclosure in disclosures:
        if disclosure.recipient.status_at != RecipientStatus.ACTIVE:
            continue
        found = missing_condition(disclosure.data_categories, disclosure.condition)
        if found is not None:
            gaps.append(SpecialCategoryGap(disclosure, found))
    gaps.sort(
        key=lambda g: (
            g.disclosure.recipient.name.casefold(),
            g.disclosure.recipient.name,
            g.disclosure.recipient.id,
            g.disclosure.id,
        )
    )
    return gaps


def _item_names(items: Iterable[str]) -> str:
    return "; ".join(items)


def check_condition(
    errors: ErrorCollector,
    path: list[str],
    keys: Iterable[str],
    condition: SpecialCategoryCondition | None,
) -> None:
    """Record under `path` what is wrong with the disclosure's special-category condition."""
    found = coverage(keys)
    where = [*path, "specialCategoryCondition"]
    if not found.special:
        if condition is not None:
            errors.add(
                where,
                f"specialCategoryCondition is for special-category (GDPR Art. 9) or "
                f"criminal-offence (Art. 10) data; this disclosure has none, so leave "
                f"{condition.value} out.",
            )
        return
    if found.art_9_keys and found.art_10_keys:
        errors.add(
            [*path, "dataCategories"],
            "This disclosure covers both special-category data (GDPR Art. 9: "
            f"{', '.join(found.art_9_keys)}) and criminal-offence data (Art. 10: "
            f"{', '.join(found.art_10_keys)}); each needs its own condition, so split it in "
            "two disclosures (a broad key such as user covers both: name narrower keys).",
        )
        return
    art_10 = bool(found.art_10_keys)
    broad = (
        " A broader key covers the special categories under it; name narrower keys to leave "
        "them out."
    )
    if condition is None:
        needed = (
            "CRIMINAL_DATA_AUTHORISED_BY_LAW (Art. 10)"
            if art_10
            else "one of the Art. 9(2) conditions"
        )
        errors.add(
            where,
            f"{', '.join(found.keys)} {'is' if len(found.keys) == 1 else 'are'} "
            f"{'criminal-offence' if art_10 else 'special-category'} data "
            f"({_item_names(found.items)}): give specialCategoryCondition, {needed}.{broad}",
        )
        return
    allowed = ART_10_CONDITIONS if art_10 else ART_9_CONDITIONS
    if condition not in allowed:
        errors.add(
            where,
            f"{condition.value} does not fit {', '.join(found.keys)}: "
            + (
                "criminal-offence data (Art. 10) needs CRIMINAL_DATA_AUTHORISED_BY_LAW."
                if art_10
                else "CRIMINAL_DATA_AUTHORISED_BY_LAW is for criminal-offence data (Art. 10); "
                "special-category data needs an Art. 9(2) condition."
            ),
        )
