"""Taxonomy types and queries, served from the versioned taxonomy in memory: it changes only
with a release (and `migrate` installs the same terms into the database)."""

from __future__ import annotations

from dataclasses import dataclass

import strawberry
from strawberry.types import Info

from server.domain.taxonomy import Taxonomy, Term
from server.graphql.context import Context
from server.graphql.permissions import CanReadInventory, needs
from server.graphql.shaped import Shaped


@strawberry.type(
    description=(
        "A node of the hierarchical data-category taxonomy; keys are dotted paths such as "
        "user.contact.email."
    )
)
class DataCategory:
    key: str
    name: str
    description: str | None
    sensitive: bool

    @strawberry.field
    def parent(self, info: Info[Context, None]) -> DataCategory | None:
        term = info.context.taxonomy.categories[self.key]
        return category(info.context.taxonomy.categories[term.parent]) if term.parent else None

    @strawberry.field
    def children(self, info: Info[Context, None]) -> list[DataCategory]:
        taxonomy = info.context.taxonomy
        return [category(taxonomy.categories[k]) for k in taxonomy.children_of(self.key)]


@strawberry.type
class Purpose:
    key: str
    name: str
    description: str | None


@strawberry.type(
    description="Whose data: platform user, website visitor, customer contact, marketing lead, ..."
)
class SubjectType:
    key: str
    name: str
    description: str | None


@dataclass(frozen=True)
class ShapedTerms:
    """Every term of one taxonomy, shaped once: terms never change while the process runs, and
    a report shows the same few hundred terms thousands of times."""

    categories: dict[str, Shaped]
    purposes: dict[str, Shaped]
    subject_types: dict[str, Shaped]


# By the taxonomy's identity, the taxonomy held too so that its id is never reused.
_SHAPED_TERMS: dict[int, tuple[Taxonomy, ShapedTerms]] = {}


def shaped_terms(taxonomy: Taxonomy) -> ShapedTerms:
    found = _SHAPED_TERMS.get(id(taxonomy))
    if found is None:
        if len(_SHAPED_TERMS) >= 16:  # only tests build other taxonomies
            _SHAPED_TERMS.clear()
        shaped = ShapedTerms(
            categories={k: _shaped_category(t) for k, t in taxonomy.categories.items()},
            purposes={k: _shaped_term(t, purpose(t)) for k, t in taxonomy.purposes.items()},
            subject_types={
                k: _shaped_term(t, subject_type(t)) for k, t in taxonomy.subject_types.items()
            },
        )
        found = _SHAPED_TERMS[id(taxonomy)] = (taxonomy, shaped)
    return found[1]


def _shaped_category(term: Term) -> Shaped:
    return Shaped(
        {
            "key": term.key,
            "name": term.name,
            "description": term.description,
            "sensitive": term.sensitive,
        },
        category(term),
    )


def _shaped_term(term: Term, source: Purpose | SubjectType) -> Shaped:
    return Shaped({"key": term.key, "name": term.name, "description": term.description}, source)


def category(term: Term) -> DataCategory:
    return DataCategory(
        key=term.key, name=term.name, description=term.description, sensitive=term.sensitive
    )


def purpose(term: Term) -> Purpose:
    return Purpose(key=term.key, name=term.name, description=term.description)


def subject_type(term: Term) -> SubjectType:
    return SubjectType(key=term.key, name=term.name, description=term.description)


@strawberry.type
class TaxonomyQuery:
    @strawberry.field(
        description="Every data category, sorted by key.", extensions=needs(CanReadInventory)
    )
    def data_categories(self, info: Info[Context, None]) -> list[DataCategory]:
        terms = info.context.taxonomy.categories
        return [category(terms[k]) for k in sorted(terms)]

    @strawberry.field(
        description="One data category by key; null when there is none.",
        extensions=needs(CanReadInventory),
    )
    def data_category(self, info: Info[Context, None], key: str) -> DataCategory | None:
        term = info.context.taxonomy.categories.get(key)
        return category(term) if term else None

    @strawberry.field(
        description="Every purpose (data use), sorted by key.", extensions=needs(CanReadInventory)
    )
    def purposes(self, info: Info[Context, None]) -> list[Purpose]:
        terms = info.context.taxonomy.purposes
        return [purpose(terms[k]) for k in sorted(terms)]

    @strawberry.field(
        description="Every subject type, sorted by key.", extensions=needs(CanReadInventory)
    )
    def subject_types(self, info: Info[Context, None]) -> list[SubjectType]:
        terms = info.context.taxonomy.subject_types
        return [subject_type(terms[k]) for k in sorted(terms)]
