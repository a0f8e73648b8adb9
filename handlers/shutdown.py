"""Stopping ``ragft serve`` cleanly on SIGTERM (what platforms send) or SIGINT (Ctrl+C).

On the first signal the process stops taking new work: HTTP stops accepting connections, Socket
Mode stops taking envelopes, the reminder clock starts no sweep and the sweep in progress claims
nothing more. What is in flight (requests, the listener work that runs after an ack, the
reminder being delivered) may finish for up to ``DRAIN`` seconds. Then whatever is left is
cancelled, the reminders this process still holds are handed back for another replica to send at
once, the database is closed and the process exits 0, within ``GRACE`` seconds of the signal.
A second signal skips the wait.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Callable

log = logging.getLogger("ragft")

GRACE = 10.0
"""Seconds from the signal until the process has exited."""
DRAIN = 8.0
"""Seconds in-flight work may take; the rest of GRACE hands claims back and closes."""
SIGNALS = (signal.SIGTERM, signal.SIGINT)


class Stopping:
    """The one place that knows whether, and by when, the process is stopping."""

    def __init__(self) -> None:
        self.requested = asyncio.Event()
        self.forced = asyncio.Event()
        self._drain_until: float | None = None
        self._on_request: list[Callable[[], None]] = []
        self._on_force: list[Callable[[], None]] = []

    def install(self) -> None:
        """Handle SIGTERM and SIGINT on the running loop (instead of the default handlers)."""
        loop = asyncio.get_running_loop()
        for sig in SIGNALS:
            loop.add_signal_handler(sig, self.request, sig)

    def uninstall(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in SIGNALS:
            loop.remove_signal_handler(sig)

    def on_request(self, callback: Callable[[], None], force: Callable[[], None] | None = None):
        """``callback`` runs on the first signal (stop taking work); ``force`` on a second."""
        self._on_request.append(callback)
        if force is not None:
            self._on_force.append(force)
        if self.requested.is_set():
            callback()
        if force is not None and self.forced.is_set():
            force()

    def request(self, sig: signal.Signals | None = None) -> None:
        loop = asyncio.get_running_loop()
        name = signal.Signals(sig).name if sig is not None else "a stop request"
        if self.requested.is_set():
            if self.forced.is_set():
                return
            log.warning("%s again: stopping now, without waiting for work in flight", name)
            self._drain_until = loop.time()
            self.forced.set()
            for callback in self._on_force:
                callback()
            return
        self._drain_until = loop.time() + DRAIN
        log.info(
            "%s: taking no new work; finishing what is in flight (up to %.0f s), then exiting",
            name,
            DRAIN,
        )
        self.requested.set()
        for callback in self._on_request:
            callback()

    def left_to_drain(self) -> float:
        """Seconds in-flight work may still take (DRAIN from now if no signal came)."""
        loop = asyncio.get_running_loop()
        if self._drain_until is None:
            self._drain_until = loop.time() + DRAIN
        return max(0.0, self._drain_until - loop.time())

    async def wait(self, tasks: set[asyncio.Task]) -> set[asyncio.Task]:
        """Wait for ``tasks`` until they are done, the drain time is up, or a second signal
        came. Returns those still running, for the caller to cancel."""
        pending = {task for task in tasks if not task.done()}
        forced = asyncio.ensure_future(self.forced.wait())
        try:
            while pending and not self.forced.is_set() and (left := self.left_to_drain()) > 0:
                _, pending = await asyncio.wait(
                    pending | {forced}, timeout=left, return_when=asyncio.FIRST_COMPLETED
                )
                pending.discard(forced)
        finally:
            forced.cancel()
        return pending


async def cancel(tasks: set[asyncio.Task], what: str) -> None:
    if tasks:
        log.warning("cancelling %d unfinished %s at shutdown", len(tasks), what)
        for task in tasks:
            task.cancel()
        await asyncio.wait(tasks, timeout=0.5)


async def finish_in_flight(known: set[asyncio.Task], stopping: Stopping) -> None:
    """Let the tasks started since ``known`` was taken finish while ``stopping`` allows (Bolt
    runs each listener as a task that goes on after its ack), then cancel what is left."""
    me = asyncio.current_task()
    started = {t for t in asyncio.all_tasks() if t is not me and t not in known}
    await cancel(await stopping.wait(started), "task(s)")
