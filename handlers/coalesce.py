"""Coalesce repeated work per key, e.g. re-rendering a Slack message after many clicks.

Every caller waits for a run that *started after* it called, so it sees its own change; callers
that arrive while a run is in progress share the next run. Errors reach every caller that waited.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)


class Coalescer(Generic[K]):
    def __init__(self, work: Callable[[K], Awaitable[None]]) -> None:
        self._work = work
        self._queued: dict[K, asyncio.Future[None]] = {}
        self._running: set[K] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self.runs = 0

    async def run(self, key: K) -> None:
        future = self._queued.get(key)
        if future is None:
            future = asyncio.get_running_loop().create_future()
            self._queued[key] = future
            if key not in self._running:
                self._running.add(key)
                task = asyncio.create_task(self._drain(key))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
        await asyncio.shield(future)

    async def _drain(self, key: K) -> None:
        try:
            while key in self._queued:
                future = self._queued.pop(key)
                self.runs += 1
                try:
                    await self._work(key)
                except Exception as exc:  # handed to every waiting caller, not swallowed
                    future.set_exception(exc)
                    future.exception()  # mark retrieved: waiters may have been cancelled
                else:
                    future.set_result(None)
        finally:
            self._running.discard(key)
