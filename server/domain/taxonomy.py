"""The taxonomy of data categories, purposes and subject types, and how keys match across it.

Keys are dotted paths: `user.contact` is the parent of `user.contact.email`. Matching is by
ancestry in both directions, so a recipient of `user.contact` receives a subject's
`user.contact.email`, and a recipient of `user.contact.email` receives part of `user.contact`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

TAXONOMY_DIR = Path(__file__).resolve().parent.parent / "taxonomy"
FIDES_FILE = TAXONOMY_DIR / "fideslang-3.1.4.json"
EXTENSIONS_FILE = TAXONOMY_DIR / "extensions.json"

# The special categories of personal data, each item of GDPR Art. 9(1) and Art. 10 with the
# taxonomy keys that hold it (fideslang's where it has one, ours in extensions.json where it has
# none). Every key under them is sensitive too.
SPECIAL_CATEGORIES: dict[str, tuple[str, ...]] = {
    "Art. 9(1) racial or ethnic origin": ("user.demographic.race_ethnicity",),
    "Art. 9(1) political opinions": ("user.demographic.political_opinion",),
    "Art. 9(1) religious beliefs": ("user.demographic.religious_belief",),
    "Art. 9(1) philosophical beliefs": ("user.demographic.philosophical_belief",),
    "Art. 9(1) trade union membership": ("user.demographic.trade_union_membership",),
    "Art. 9(1) genetic data": ("user.health_and_medical.genetic",),
    "Art. 9(1) biometric data for unique identification": (
        "user.biometric",
        "user.authorization.biometric",
    ),
    "Art. 9(1) data concerning health": ("user.health_and_medical",),
    "Art. 9(1) data concerning sex life": ("user.demographic.sex_life",),
    "Art. 9(1) sexual orientation": ("user.demographic.sexual_orientation",),
    "Art. 10 criminal convictions and offences": ("user.criminal_history",),
}
SENSITIVE_ROOTS = frozenset(key for keys in SPECIAL_CATEGORIES.values() for key in keys)


def ancestors_of(key: str) -> Iterator[str]:
    """Proper ancestors of a dotted key, nearest first."""
    parts = key.split(".")
    for end in range(len(parts) - 1, 0, -1):
        yield ".".join(parts[:end])


def is_same_or_descendant(key: str, ancestor: str) -> bool:
    return key == ancestor or key.startswith(ancestor + ".")


def keys_match(a: str, b: str) -> bool:
    """Rule 4: two category keys match when one is the other or an ancestor of it."""
    return is_same_or_descendant(a, b) or is_same_or_descendant(b, a)


def more_specific(a: str, b: str) -> str:
    """Of two matching keys, the deeper one (the one that says more precisely what is shared)."""
    return a if is_same_or_descendant(a, b) else b


def matched_categories(subject_keys: Iterable[str], disclosure_keys: Iterable[str]) -> list[str]:
    """For each matching pair, the more specific key; without repeats, sorted."""
    disclosure_keys = list(disclosure_keys)
    found = {more_specific(s, d) for s in subject_keys for d in disclosure_keys if keys_match(s, d)}
    return sorted(found)


def is_sensitive(key: str) -> bool:
    return any(is_same_or_descendant(key, root) for root in SENSITIVE_ROOTS)


@dataclass(frozen=True)
class Term:
    key: str
    name: str
    description: str | None
    parent: str | None = None
    sensitive: bool = False


@dataclass
class Taxonomy:
    categories: dict[str, Term] = field(default_factory=dict)
    purposes: dict[str, Term] = field(default_factory=dict)
    subject_types: dict[str, Term] = field(default_factory=dict)

    def category_and_descendants(self, key: str) -> list[str]:
        return [k for k in self.categories if is_same_or_descendant(k, key)]

    def matching_categories(self, key: str) -> list[str]:
        """Every known key that matches `key` by rule 4: its ancestors, itself, its descendants."""
        return [k for k in self.categories if keys_match(k, key)]

    def children_of(self, key: str) -> list[str]:
        return sorted(k for k, t in self.categories.items() if t.parent == key)


def _terms(rows: Iterable[dict], *, categories: bool = False) -> dict[str, Term]:
    out: dict[str, Term] = {}
    for row in rows:
        key = row["key"]
        parent = row.get("parent")
        if parent is None and "." in key:
            parent = key.rsplit(".", 1)[0]
        out[key] = Term(
            key=key,
            name=row["name"],
            description=row.get("description"),
            parent=parent,
            sensitive=is_sensitive(key) if categories else False,
        )
    return out


@cache
def extensions() -> Taxonomy:
    """Our additions alone (extensions.json): the terms a Fides server does not have, which a
    Fides export declares beside its systems."""
    ours = json.loads(EXTENSIONS_FILE.read_text())
    return Taxonomy(
        categories=_terms(ours["data_categories"], categories=True),
        purposes=_terms(ours["data_uses"]),
        subject_types=_terms(ours["data_subjects"]),
    )


@cache
def default_taxonomy() -> Taxonomy:
    """Fides' default taxonomy (Ethyca, CC BY 4.0) plus our additions for the seed notice."""
    fides = json.loads(FIDES_FILE.read_text())
    ours = extensions()
    taxonomy = Taxonomy(
        categories=_terms(fides["data_categories"], categories=True) | ours.categories,
        purposes=_terms(fides["data_uses"]) | ours.purposes,
        subject_types=_terms(fides["data_subjects"]) | ours.subject_types,
    )
    for terms in (taxonomy.categories, taxonomy.purposes):
        for term in terms.values():
            if term.parent is not None and term.parent not in terms:
                raise ValueError(f"taxonomy term {term.key} has unknown parent {term.parent}")
    return taxonomy
