"""Taxonomy types and queries, served from the versioned taxonomy in memory: it changes only
with a release (and `migrate` installs the same terms into the database)."""

from __future__ import annotations

from dataclasses import dataclass

import strawberry
from strawberry.types import Info

from server.domain.taxonomy import Taxonomy, Term
from server.graphql.permissions import CanReadInventory, needs

# The request context (server/graphql/context.py) holds the taxonomy and its term objects; it
# imports this module, so the resolvers here name its type loosely.
ContextInfo = Info


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
    def parent(self, info: ContextInfo) -> DataCategory | None:
        term = info.context.taxonomy.categories[self.key]
        return info.context.terms.categories[term.parent] if term.parent else None

    @strawberry.field
    def children(self, info: ContextInfo) -> list[DataCategory]:
        terms = info.context.terms.categories
        return [terms[k] for k in info.context.taxonomy.children_of(self.key)]

    @classmethod
    def from_term(cls, term: Term) -> DataCategory:
        return cls(
            key=term.key, name=term.name, description=term.description, sensitive=term.sensitive
        )


@strawberry.type
class Purpose:
    key: str
    name: str
    description: str | None

    @classmethod
    def from_term(cls, term: Term) -> Purpose:
        return cls(key=term.key, name=term.name, description=term.description)


@strawberry.type(
    description="Whose data: platform user, website visitor, customer contact, marketing lead, ..."
)
class SubjectType:
    key: str
    name: str
    description: str | None

    @classmethod
    def from_term(cls, term: Term) -> SubjectType:
        return cls(key=term.key, name=term.name, description=term.description)


@dataclass(frozen=True)
class TermObjects:
    """Every term of one taxonomy as a schema object, built once: terms never change while the
    process runs, and a report shows the same few hundred terms thousands of times."""

    categories: dict[str, DataCategory]
    purposes: dict[str, Purpose]
    subject_types: dict[str, SubjectType]


# By the taxonomy's identity, the taxonomy held too so that its id is never reused. Bounded:
# the server has one taxonomy; only tests build others.
_TERM_OBJECTS: dict[int, tuple[Taxonomy, TermObjects]] = {}
_TERM_OBJECTS_MAX = 16


def term_objects(taxonomy: Taxonomy) -> TermObjects:
    found = _TERM_OBJECTS.get(id(taxonomy))
    if found is None:
        if len(_TERM_OBJECTS) >= _TERM_OBJECTS_MAX:
            _TERM_OBJECTS.clear()
        objects = TermObjects(
            categories={k: DataCategory.from_term(t) for k, t in taxonomy.categories.items()},
            purposes={k: Purpose.from_term(t) for k, t in taxonomy.purposes.items()},
            subject_types={k: SubjectType.from_term(t) for k, t in taxonomy.subject_types.items()},
        )
        found = _TERM_OBJECTS[id(taxonomy)] = (taxonomy, objects)
    return found[1]


@strawberry.type
class TaxonomyQuery:
    @strawberry.field(
        description="Every data category, sorted by key.", extensions=needs(CanReadInventory)
    )
    def data_categories(self, info: ContextInfo) -> list[DataCategory]:
        terms = info.context.terms.categories
        return [terms[k] for k in sorted(terms)]

    @strawberry.field(
        description="One data category by key; null when there is none.",
        extensions=needs(CanReadInventory),
    )
    def data_category(self, info: ContextInfo, key: str) -> DataCategory | None:
        return info.context.terms.categories.get(key)

    @strawberry.field(
        description="Every purpose (data use), sorted by key.", extensions=needs(CanReadInventory)
    )
    def purposes(self, info: ContextInfo) -> list[Purpose]:
        terms = info.context.terms.purposes
        return [terms[k] for k in sorted(terms)]

    @strawberry.field(
        description="Every subject type, sorted by key.", extensions=needs(CanReadInventory)
    )
    def subject_types(self, info: ContextInfo) -> list[SubjectType]:
        terms = info.context.terms.subject_types
        return [terms[k] for k in sorted(terms)]
