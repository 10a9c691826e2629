"""`node(id:)`: any object by its global ID, for Relay clients and caches."""

from __future__ import annotations

import strawberry
from strawberry.relay import GlobalID
from strawberry.types import Info

from server.domain import errors as domain_errors
from server.graphql.context import Context
from server.graphql.disclosure_events import DisclosureEvent
from server.graphql.errors import decode_id
from server.graphql.establishments import Establishment
from server.graphql.inventory import ChangeRequest, Disclosure, Recipient
from server.graphql.nodes import Node
from server.graphql.permissions import CanReadInventory, CanReadSubjects, needs, require
from server.graphql.subjects import DataSubject
from server.services import change_requests


@strawberry.type
class NodeQuery:
    @strawberry.field(
        description="Fetches an object given its ID; null when there is none.",
        extensions=needs(CanReadInventory),
    )
    async def node(self, info: Info[Context, None], id: strawberry.ID) -> Node | None:
        try:
            type_name = GlobalID.from_id(id).type_name
            pk = decode_id(id, type_name, ["id"])
        except (ValueError, TypeError, domain_errors.UserErrors):
            return None
        if type_name == "Recipient":
            row = await info.context.loaders.recipient.load(pk)
            return Recipient.from_row(row, info.context) if row else None
        if type_name == "Disclosure":
            return (await Disclosure.load(info, [pk]))[0]
        if type_name == "DataSubject":
            require(info, CanReadSubjects)
            return (await DataSubject.load(info, [pk]))[0]
        if type_name == "DisclosureEvent":
            # An event is about one person: readable with the subjects.
            require(info, CanReadSubjects)
            return (await DisclosureEvent.load([pk]))[0]
        if type_name == "Establishment":
            return (await Establishment.load([pk]))[0]
        if type_name == "ChangeRequest":
            found = await change_requests.changes_by_id([pk])
            return ChangeRequest.from_model(found[pk]) if pk in found else None
        return None
