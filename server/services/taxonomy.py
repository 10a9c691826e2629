"""Install the default taxonomy into the database, where disclosures reference it."""

from __future__ import annotations

from tortoise.transactions import in_transaction

from server.db.models import DataCategory, Purpose, SubjectType
from server.domain.taxonomy import Taxonomy, default_taxonomy


async def install_taxonomy(taxonomy: Taxonomy | None = None) -> dict[str, int]:
    """Insert missing terms and refresh names and descriptions; never deletes (disclosures may
    reference a term). Returns how many terms of each kind were added."""
    taxonomy = taxonomy or default_taxonomy()
    added = {"dataCategories": 0, "purposes": 0, "subjectTypes": 0}
    async with in_transaction() as conn:
        existing_categories = {c.key: c for c in await DataCategory.all().using_db(conn)}
        for term in sorted(taxonomy.categories.values(), key=lambda t: t.key.count(".")):
            row = existing_categories.get(term.key)
            if row is None:
                await DataCategory.create(
                    key=term.key,
                    name=term.name,
                    description=term.description,
                    sensitive=term.sensitive,
                    parent_id=term.parent,
                    using_db=conn,
                )
                added["dataCategories"] += 1
            elif (row.name, row.description, row.sensitive) != (
                term.name,
                term.description,
                term.sensitive,
            ):
                row.name, row.description, row.sensitive = (
                    term.name,
                    term.description,
                    term.sensitive,
                )
                await row.save(using_db=conn)
        existing_purposes = {p.key: p for p in await Purpose.all().using_db(conn)}
        for term in sorted(taxonomy.purposes.values(), key=lambda t: t.key.count(".")):
            prow = existing_purposes.get(term.key)
            if prow is None:
                await Purpose.create(
                    key=term.key,
                    name=term.name,
                    description=term.description,
                    parent_id=term.parent,
                    using_db=conn,
                )
                added["purposes"] += 1
            elif (prow.name, prow.description) != (term.name, term.description):
                prow.name, prow.description = term.name, term.description
                await prow.save(using_db=conn)
        existing_subjects = {s.key: s for s in await SubjectType.all().using_db(conn)}
        for term in taxonomy.subject_types.values():
            srow = existing_subjects.get(term.key)
            if srow is None:
                await SubjectType.create(
                    key=term.key, name=term.name, description=term.description, using_db=conn
                )
                added["subjectTypes"] += 1
            elif (srow.name, srow.description) != (term.name, term.description):
                srow.name, srow.description = term.name, term.description
                await srow.save(using_db=conn)
    return added
