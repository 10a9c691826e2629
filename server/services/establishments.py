"""Registering and changing the organisation's own establishments, each write in one
transaction with its audit event; exactly one is main once any exist."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from server.db.models import Establishment
from server.domain import establishments as rules
from server.domain.enums import UserErrorCode
from server.domain.errors import ErrorCollector, UserError, UserErrors
from server.services import audit, clock

PATH = ["input"]


@dataclass
class RegisterEstablishment:
    terms: rules.EstablishmentTerms
    slug: str | None = None


@dataclass
class UpdateEstablishment:
    establishment_id: int
    expected_version: int
    terms: rules.EstablishmentTerms


def snapshot(row: Establishment) -> dict[str, Any]:
    return {
        "slug": row.slug,
        "name": row.name,
        "legalName": row.legal_name,
        "country": row.country,
        "targets": row.targets_text.split(",") if row.targets_text else [],
        "main": row.main,
    }


async def register_establishment(command: RegisterEstablishment, *, actor: str) -> Establishment:
    terms = command.terms
    assert terms.name is not None and terms.country is not None and terms.targets is not None
    errors = ErrorCollector()
    rules.check_terms(errors, PATH, terms)
    slug = rules.new_slug(errors, PATH, terms.name, command.slug)
    errors.raise_if_any()
    at = clock.now()
    async with in_transaction() as conn:
        any_exist = await Establishment.all().using_db(conn).exists()
        main = rules.main_after_registration(bool(terms.main), any_exist)
        if main:
            await Establishment.filter(main=True).using_db(conn).update(main=False, updated_at=at)
        try:
            row = await Establishment.create(
                slug=slug,
                name=terms.name.strip(),
                legal_name=terms.legal_name.strip() if terms.legal_name else None,
                country=terms.country,
                targets_text=rules.targets_text(terms.targets),
                main=main,
                version=1,
                created_at=at,
                updated_at=at,
                using_db=conn,
            )
        except IntegrityError as exc:
            raise UserErrors(
                [UserError([*PATH, "slug"], f'Slug "{slug}" is taken.', UserErrorCode.DUPLICATE)]
            ) from exc
        await audit.record(
            connection=conn,
            at=at,
            actor=actor,
            action="registerEstablishment",
            entity_type="Establishment",
            entity_id=row.id,
            recipient_id=None,
            changes=audit.diff({}, snapshot(row)),
        )
    return row


async def update_establishment(command: UpdateEstablishment, *, actor: str) -> Establishment:
    terms = command.terms
    errors = ErrorCollector()
    rules.check_terms(errors, PATH, terms)
    errors.raise_if_any()
    at = clock.now()
    async with in_transaction() as conn:
        row = await Establishment.get_or_none(id=command.establishment_id, using_db=conn)
        if row is None:
            raise UserErrors(
                [UserError([*PATH, "id"], "No such establishment.", UserErrorCode.NOT_FOUND)]
            )
        if problem := rules.unmark_main_error(row.main, terms.main):
            raise UserErrors([UserError([*PATH, "main"], problem)])
        before = snapshot(row)
        changes: dict[str, Any] = {}
        if terms.name is not None:
            changes["name"] = terms.name.strip()
        if terms.legal_name is not None:
            changes["legal_name"] = terms.legal_name.strip()
        if terms.country is not None:
            changes["country"] = terms.country
        if terms.targets is not None:
            changes["targets_text"] = rules.targets_text(terms.targets)
        if terms.main:
            changes["main"] = True
            await (
                Establishment.filter(main=True)
                .exclude(id=row.id)
                .using_db(conn)
                .update(main=False, updated_at=at)
            )
        updated = (
            await Establishment.filter(id=row.id, version=command.expected_version)
            .using_db(conn)
            .update(**changes, version=command.expected_version + 1, updated_at=at)
        )
        if updated != 1:
            raise UserErrors(
                [
                    UserError(
                        [*PATH, "expectedVersion"],
                        f"The establishment has changed since the version you read; its current "
                        f"version is {row.version}. Reload it and apply your change again.",
                        UserErrorCode.STALE_VERSION,
                    )
                ]
            )
        fresh = await Establishment.get(id=row.id, using_db=conn)
        if diff := audit.diff(before, snapshot(fresh)):
            await audit.record(
                connection=conn,
                at=at,
                actor=actor,
                action="updateEstablishment",
                entity_type="Establishment",
                entity_id=row.id,
                recipient_id=None,
                changes=diff,
            )
    return fresh
