"""The inventory's counts behind a query's requested cost, read at most once a while.

Reading them costs tens of milliseconds on a large inventory (server/db/statistics.py), too
much for every request. The first request waits for them; after that a request uses the counts
it finds and, when they are older than `max_age` seconds, starts one read in the background.
So the requested cost may lag the inventory by up to `max_age` (COST_STATISTICS_SECONDS); the
actual nodes a request returns are also counted as it runs, and bounded (server/graphql/cost.py).
A `max_age` of 0 reads them for every request that needs them (tests)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping

from server.db.statistics import inventory_counts

log = logging.getLogger("server.statistics")


class InventoryStatistics:
    def __init__(self, max_age: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.max_age = max_age
        self.clock = clock
        self._counts: Mapping[str, int] | None = None
        self._read_at = 0.0
        self._refreshing: asyncio.Task[None] | None = None

    async def counts(self) -> Mapping[str, int]:
        if self._counts is None or self.max_age <= 0:
            await self.refresh()
        elif self.clock() - self._read_at > self.max_age and self._refreshing is None:
            # Kept in an attribute: the event loop holds tasks only weakly.
            self._refreshing = asyncio.create_task(self._refresh_in_background())
        assert self._counts is not None
        return self._counts

    async def refresh(self) -> None:
        started = self.clock()
        self._counts = await inventory_counts()
        self._read_at = started

    async def _refresh_in_background(self) -> None:
        try:
            await self.refresh()
        except Exception:
            # The counts in hand stay; the next request past max_age tries again.
            log.warning("could not refresh the inventory's counts", exc_info=True)
            self._read_at = self.clock()
        finally:
            self._refreshing = None
