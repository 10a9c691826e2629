"""The per-request context: who is asking, and DataLoaders that live for one request only."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Awaitable, Callable, Hashable, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any, TypeVar, cast

from graphql import GraphQLError
from strawberry.dataloader import DataLoader

from server.db import disclosures, establishments, recipients
from server.db.disclosures import DisclosureRow
from server.db.establishments import EstablishmentRow
from server.db.models import ChangeRequest
from server.domain.access import Principal, Role
from server.domain.taxonomy import Taxonomy, default_taxonomy
from server.graphql.taxonomy import TermObjects, term_objects
from server.services import change_requests, clock
from server.settings import Settings


class Loaders:
    """Created per request: a loader shared across requests would cache stale rows and be bound
    to another event loop. A loader's batch function is a plain function, not a method of this
    object: a bound method would tie this object and every loader's cache (all the rows the
    request read) into a reference cycle that only the garbage collector frees."""

    def __init__(self, today: date) -> None:
        self.today = today
        # The columns Recipient.disclosures reads in this request: all of them, or, once a page
        # has looked, those that every selection of disclosures in the request's document
        # reads (Recipient.load_ahead).
        self.disclosure_columns: tuple[str, ...] = disclosures.COLUMNS
        self._disclosures: dict[
            tuple[bool, tuple[str, ...]], DataLoader[int, list[DisclosureRow]]
        ] = {}

    # Each loader is made on first use: most requests need one or two of them.
    @functools.cached_property
    def recipient(self) -> DataLoader[int, dict[str, Any] | None]:
        return DataLoader(_recipients)

    @functools.cached_property
    def subprocessors(self) -> DataLoader[int, list[dict[str, Any]]]:
        return DataLoader(_subprocessors)

    def disclosures_of(self, include_ended: bool) -> DataLoader[int, list[DisclosureRow]]:
        """Recipients' disclosures: those not ended today, or with include_ended all of them,
        read in `disclosure_columns`. One loader for each, made on first use: a request uses
        one or two."""
        columns = self.disclosure_columns
        key = (include_ended, columns)
        loader = self._disclosures.get(key)
        if loader is None:
            day = None if include_ended else self.today
            loader = self._disclosures[key] = DataLoader(
                functools.partial(_disclosures_of, not_ended_on_day=day, columns=columns)
            )
        return loader

    @functools.cached_property
    def disclosure(self) -> DataLoader[int, DisclosureRow | None]:
        return DataLoader(_disclosures)

    @functools.cached_property
    def establishments(self) -> DataLoader[int, dict[int, EstablishmentRow]]:
        """Every establishment by id, under the one key ALL_ESTABLISHMENTS: read once a request."""
        return DataLoader(_establishments)

    @functools.cached_property
    def history(self) -> DataLoader[int, list[dict[str, Any]]]:
        return DataLoader(_history)

    @functools.cached_property
    def status_history(self) -> DataLoader[int, list[dict[str, Any]]]:
        return DataLoader(_status_history)

    @functools.cached_property
    def pending_changes(self) -> DataLoader[int, list[ChangeRequest]]:
        return DataLoader(_pending_changes)


K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
R = TypeVar("R")


def loaded(loader: DataLoader[K, V], key: K, then: Callable[[V], R]) -> R:
    """`then(value)` at once when this request has loaded the key already (no await, no task:
    a page's relations usually are), otherwise an awaitable of it, through the loader's batch.
    Typed as the answer: graphql-core awaits any awaitable a resolver returns, and so does the
    executor for a plain field (server/graphql/execution.py)."""
    future = loader.cache_map.get(key)
    if (
        future is not None
        and future.done()
        and not future.cancelled()
        and future.exception() is None
    ):
        return then(future.result())
    return cast(R, _then(loader.load(key), then))


async def load_all(loader: DataLoader[K, V], keys: Iterable[K]) -> None:
    """Load these keys and return once every one is loaded, for `loaded` to read from the
    loader's cache: what a resolver awaits before answering a page (Recipient.load_ahead).
    Through `load_many`, each key costs a future, a done callback and a turn of the event loop,
    and the batch a task of its own (a page of 50 recipients: 0.1 ms). Here the keys the
    loader has not seen are read by its batch function in this task, in one call, and primed
    into its cache; keys it is loading already are awaited."""
    cache = loader.cache_map
    missing: list[K] = []
    loading: list[Awaitable[V]] = []
    for key in dict.fromkeys(keys):
        future = cache.get(key)
        if future is None or future.cancelled():
            missing.append(key)
        elif not future.done():
            loading.append(future)
    if missing:
        values = list(await loader.load_fn(missing))
        failures = [v for v in values if isinstance(v, BaseException)]
        loader.prime_many(
            {
                k: v
                for k, v in zip(missing, values, strict=True)
                if not isinstance(v, BaseException)
            },
            force=True,  # over a cancelled load's future
        )
        if failures:
            raise failures[0]  # as the loader would have raised it for that key
    for waiting in loading:
        await waiting


async def _then(value: Awaitable[V], then: Callable[[V], R]) -> R:
    result = then(await value)
    # `then` may answer through another loader (`loaded` within `loaded`): await that too.
    if inspect.isawaitable(result):
        return cast(R, await result)
    return result


async def _recipients(ids: list[int]) -> list[dict[str, Any] | None]:
    found = await recipients.recipients_by_id(ids)
    return [found.get(i) for i in ids]


async def _subprocessors(ids: list[int]) -> list[list[dict[str, Any]]]:
    found = await recipients.subprocessors_of(ids)
    return [found.get(i, []) for i in ids]


async def _disclosures_of(
    ids: list[int], not_ended_on_day: date | None, columns: tuple[str, ...]
) -> list[list[DisclosureRow]]:
    found = await disclosures.disclosures_of(
        ids, not_ended_on_day=not_ended_on_day, columns=columns
    )
    return [found.get(i, []) for i in ids]


async def _disclosures(ids: list[int]) -> list[DisclosureRow | None]:
    found = await disclosures.disclosures_by_id(ids)
    return [found.get(i) for i in ids]


# The establishments loader's one key: the organisation has a handful, read all at once.
ALL_ESTABLISHMENTS = 0


async def _establishments(keys: list[int]) -> list[dict[int, EstablishmentRow]]:
    found = await establishments.establishments_by_id()
    return [found for _ in keys]


async def _history(ids: list[int]) -> list[list[dict[str, Any]]]:
    found = await recipients.audit_events_of(ids)
    return [found.get(i, []) for i in ids]


async def _pending_changes(ids: list[int]) -> list[list[ChangeRequest]]:
    found = await change_requests.pending_changes_of(ids)
    return [found.get(i, []) for i in ids]


async def _status_history(ids: list[int]) -> list[list[dict[str, Any]]]:
    found = await recipients.status_changes_of(ids)
    return [found.get(i, []) for i in ids]


@dataclass
class AnswerTally:
    """What the executor counted of this request's answer: its list items (nodes, the actual
    cost) and, when a budget ran out, the one error the request answers with."""

    nodes: int = 0
    spent: GraphQLError | None = None


@dataclass
class Context:
    settings: Settings
    # The API key the request came with (set by the authentication middleware). Without one,
    # every permission check refuses.
    principal: Principal | None = None
    taxonomy: Taxonomy = field(default_factory=default_taxonomy)
    loaders: Loaders = field(default_factory=lambda: Loaders(clock.today()))
    request_id: str = ""
    # Set when a permission refused something in this request: the access log says `forbidden`.
    forbidden: bool = False
    # The codes of every userError a mutation of this request answered with, for the access
    # log (`user_errors`), whether or not the client selected them.
    user_error_codes: list[str] = field(default_factory=list)
    tally: AnswerTally = field(default_factory=AnswerTally)

    @property
    def terms(self) -> TermObjects:
        """The taxonomy's terms as schema objects, built once per taxonomy."""
        return term_objects(self.taxonomy)

    @property
    def actor(self) -> str:
        """The audit log's actor: the key's name."""
        return self.principal.name if self.principal else "anonymous"

    @property
    def role(self) -> Role:
        """The key's role, for the services' argument-dependent checks. Only reached behind a
        permission class, which refuses a request without a key first."""
        if self.principal is None:
            raise PermissionError("no API key in this request")
        return self.principal.role
