"""Coalesce repeated work per key, e.g. re-rendering a Slack message after many clicks.

Every caller waits for a run that *started after* it called, so it sees its own change; callers
that arrive while a run is in progress share the next run. Errors reach every caller that waited.
A key is dropped as soon as its last run ends, so nothing is kept per key while idle.

``Batcher`` is the same, with items: each caller adds items (which messages of a decision, say)
to the next run of its key, and that run does all of them at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable, Iterable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
T = TypeVar("T", bound=Hashable)


class Batcher(Generic[K, T]):
    def __init__(self, work: Callable[[K, frozenset[T]], Awaitable[None]]) -> None:
        self._work = work
        self._queued: dict[K, tuple[asyncio.Future[None], set[T]]] = {}
        self._running: set[K] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self.runs = 0

    async def run(self, key: K, items: Iterable[T] = ()) -> None:
        queued = self._queued.get(key)
        if queued is None:
            queued = (asyncio.get_running_loop().create_future(), set())
            self._queued[key] = queued
            if key not in self._running:
                self._running.add(key)
                task = asyncio.create_task(self._drain(key))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
        queued[1].update(items)
        await asyncio.shield(queued[0])

    async def _drain(self, key: K) -> None:
        try:
            while key in self._queued:
                future, items = self._queued.pop(key)
                self.runs += 1
                try:
                    await self._work(key, frozenset(items))
                except Exception as exc:  # handed to every waiting caller, not swallowed
                    future.set_exception(exc)
                    future.exception()  # mark retrieved: waiters may have been cancelled
                except BaseException:  # cancelled (shutdown): so are its waiters
                    future.cancel()
                    raise
                else:
                    future.set_result(None)
        finally:
            self._running.discard(key)
            queued = self._queued.pop(key, None)  # only if cancelled: nobody would run it
            if queued is not None:
                queued[0].cancel()


class Coalescer(Batcher[K, None]):
    def __init__(self, work: Callable[[K], Awaitable[None]]) -> None:
        super().__init__(lambda key, _items: work(key))
