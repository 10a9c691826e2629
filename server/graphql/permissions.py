"""Who may call which field: strawberry permission classes over the rules in
server/domain/access.py.

- A query field a key may not read answers null with an error whose `extensions.code` is
  FORBIDDEN (`needs`).
- A mutation a key may not call answers its payload with a FORBIDDEN user error and runs
  nothing, so nothing is written (`mutation_needs`).

Which status moves and initial statuses a role may use depends on the arguments, so the
services check those (same rules, same FORBIDDEN code).
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

from strawberry.extensions import FieldExtension
from strawberry.extensions.field_extension import AsyncExtensionResolver
from strawberry.permission import BasePermission, PermissionExtension
from strawberry.relay import GlobalID
from strawberry.types import Info
from strawberry.types.field import StrawberryField

from server.domain import access
from server.domain.access import Capability
from server.graphql import enums
from server.graphql.errors import MAX_DATABASE_ID, UserError
from server.services import audit, clock

FORBIDDEN = "FORBIDDEN"
FORBIDDEN_CODE = enums.UserErrorCode.FORBIDDEN


class RolePermission(BasePermission):
    """Granted when the request's key has a role with the capability."""

    capability: ClassVar[Capability]
    error_extensions: ClassVar[dict[str, Any]] = {"code": FORBIDDEN}  # type: ignore[misc]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if hasattr(cls, "capability"):
            roles = ", ".join(r.value for r in access.Role if access.can(r, cls.capability))
            cls.message = f"Forbidden: to {cls.capability.value} you need a key of role {roles}."

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        principal = getattr(info.context, "principal", None)
        return principal is not None and access.can(principal.role, self.capability)


class CanReadInventory(RolePermission):
    capability = Capability.READ_INVENTORY


class CanReadSubjects(RolePermission):
    capability = Capability.READ_SUBJECTS


class CanWriteSubjects(RolePermission):
    capability = Capability.WRITE_SUBJECTS


class CanWriteInventory(RolePermission):
    capability = Capability.WRITE_INVENTORY


class CanChangeStatus(RolePermission):
    capability = Capability.CHANGE_STATUS


class CanRecordDisclosureEvents(RolePermission):
    capability = Capability.RECORD_DISCLOSURE_EVENTS


class CanManageEstablishments(RolePermission):
    capability = Capability.MANAGE_ESTABLISHMENTS


class MutationPermission(PermissionExtension):
    """A refused mutation returns its payload type with every field null but `userErrors`,
    which holds one FORBIDDEN error; the resolver does not run. Every FORBIDDEN answer (this
    refusal, or a service's for a status the role may not set) goes to the audit trail with the
    actor, the operation and its target, and marks the request for the access log."""

    def __init__(self, permissions: list[BasePermission]) -> None:
        super().__init__(permissions, use_directives=False)
        self.field: StrawberryField | None = None

    def apply(self, field: StrawberryField) -> None:
        super().apply(field)
        self.field = field

    async def resolve_async(
        self, next_: AsyncExtensionResolver, source: Any, info: Info, **kwargs: Any
    ) -> Any:
        payload = await super().resolve_async(next_, source, info, **kwargs)
        errors = getattr(payload, "user_errors", None) or []
        info.context.user_error_codes.extend(e.code.value for e in errors)
        refusals = [e for e in errors if e.code == FORBIDDEN_CODE]
        if refusals:
            context = info.context
            context.forbidden = True
            entity_type, entity_id = _target(kwargs.get("input"))
            await audit.record_refusal(
                at=clock.now(),
                actor=context.actor,
                operation=info.field_name,
                entity_type=entity_type,
                entity_id=entity_id,
                recipient_id=entity_id if entity_type == "Recipient" else None,
                reason=refusals[0].message,
            )
        return payload

    def _on_unauthorized(self, permission: BasePermission) -> Any:
        assert self.field is not None
        payload_type: Any = self.field.type
        values: dict[str, Any] = {
            f.name: None
            for f in dataclasses.fields(payload_type)
            if f.init and f.name != "user_errors"  # a field with a resolver is no argument
        }
        error = UserError(
            field=None, message=permission.message or FORBIDDEN, code=enums.UserErrorCode.FORBIDDEN
        )
        return payload_type(**values, user_errors=[error])


def _target(given: Any) -> tuple[str, int]:
    """The node a mutation's input names (`id`, else `recipientId`), or ("Mutation", 0)."""
    for name in ("id", "recipient_id"):
        value = getattr(given, name, None)
        if value is None:
            continue
        try:
            target = GlobalID.from_id(str(value))
            node_id = int(target.node_id)
        except (ValueError, TypeError):
            continue
        if 0 < node_id <= MAX_DATABASE_ID:
            return target.type_name, node_id
    return "Mutation", 0


def needs(*permissions: type[RolePermission]) -> list[FieldExtension]:
    """Extensions for a query field: refused with a FORBIDDEN GraphQL error."""
    return [PermissionExtension([p() for p in permissions], use_directives=False)]


def mutation_needs(*permissions: type[RolePermission]) -> list[FieldExtension]:
    """Extensions for a mutation: refused with a FORBIDDEN user error in its payload."""
    return [MutationPermission([p() for p in permissions])]


def require(info: Info, permission: type[RolePermission]) -> None:
    """The same check inside a resolver that serves several types (`node`): raises the same
    FORBIDDEN error when refused."""
    check = permission()
    if not check.has_permission(None, info):
        check.on_unauthorized()
