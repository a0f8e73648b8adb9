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
        finally:
            self._running.discard(task)
        for line in report.sent:
            log.info("sent %s", line)

    async def stop(self, grace: float = 30.0) -> None:
        """Stop the clock, and let a sweep in progress finish first: it holds claims, and
        APScheduler's shutdown would cancel it between posting and marking sent."""
        if self.scheduler.running:
            self.scheduler.pause()
        if self._running:
            await asyncio.wait(set(self._running), timeout=grace)
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
            await asyncio.sleep(0)  # AsyncIOScheduler finishes shutting down on the loop
