"""The clock: one APScheduler interval job per process that runs a sweep. Nothing is stored in
APScheduler, so replicas never share a job store."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.reminders.sweeper import Sweeper

log = logging.getLogger("ragft.sweep")

INTERVAL_SECONDS = 60
RELEASE_TIMEOUT = 1.5
"""Seconds to hand back claims when stopping; past it they are taken over after the lease."""


class ReminderScheduler:
    """The clock: one interval job per process. Its first run starts at once, so reminders
    that fell due while the process was down go out on start (once: coalesced)."""

    def __init__(self, sweeper: Sweeper, interval: float = INTERVAL_SECONDS) -> None:
        self.sweeper = sweeper
        self.interval = interval
        self.scheduler = AsyncIOScheduler(timezone=UTC)
        self._running: set[asyncio.Task[Any]] = set()

    def start(self) -> None:
        self.scheduler.add_job(
            self._tick,
            "interval",
            seconds=self.interval,
            id="ragft-sweep",
            coalesce=True,
            max_instances=1,
            next_run_time=datetime.now(UTC),
            misfire_grace_time=int(self.interval),
        )
        self.scheduler.start()

    async def _tick(self) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._running.add(task)
        try:
            report = await self.sweeper.sweep()
        except asyncio.CancelledError:
            if not self.sweeper.stopping:
                raise
            log.info("the sweep in progress was cut short: the process is stopping")
            return
        finally:
            self._running.discard(task)
        for line in report.sent:
            log.info("sent %s", line)

    def stop_taking_work(self) -> None:
        """No new sweep, and the one in progress claims nothing more (see ``stop``)."""
        self.sweeper.stop()
        if self.scheduler.running:
            self.scheduler.pause()

    def cut_short(self) -> None:
        """Cancel the sweep in progress now; ``stop`` still hands its claims back."""
        self.stop_taking_work()
        for task in self._running:
            task.cancel()

    async def stop(self, grace: float = 30.0) -> None:
        """Stop the clock. A sweep in progress may finish the reminder in hand for up to
        ``grace`` seconds (APScheduler's shutdown would cancel it between posting and marking
        sent); then it is cancelled, and every claim this process still holds is handed back,
        so another replica sends those reminders at once instead of after the lease."""
        self.stop_taking_work()
        if self._running:
            _, late = await asyncio.wait(set(self._running), timeout=max(grace, 0))
            for task in late:
                task.cancel()
            if late:
                await asyncio.wait(late, timeout=1)
        try:
            async with asyncio.timeout(RELEASE_TIMEOUT):
                released = await self.sweeper.release()
        except Exception as exc:  # they are still taken over once the lease expires
            log.warning(
                "could not hand back this process's reminders (%s); another process takes "
                "them over when their lease expires",
                type(exc).__name__,
            )
        else:
            if released:
                log.info("handed back %d reminder(s) for another process to send", released)
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
            await asyncio.sleep(0)  # AsyncIOScheduler finishes shutting down on the loop
