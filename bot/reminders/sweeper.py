"""Reminders are rows; APScheduler is only the clock.

Every process runs one ``AsyncIOScheduler`` job (every 60 s, coalesced, ``max_instances=1``)
that calls ``Sweeper.sweep``. A sweep claims due reminders in batches (one ``UPDATE … RETURNING``
statement each, see ``reminder_repo.claim_due``), delivers each with a time limit well inside
the lease, and records the outcome:

* **sent** only after Slack accepted every message. A reminder that posts several messages saves
  each accepted step in its payload, so a retry never repeats one;
* on any error: pending again after a backoff (at least Slack's ``Retry-After``), unclaimed;
  after ``MAX_ATTEMPTS`` it is **failed**, and ``last_error`` shows in ``/ragft status``;
* a claimer that dies leaves its claim to expire after the lease; another process takes it over.
  One that stops (``stop``, then ``release``: SIGTERM) hands its claims back at once.

Nothing is stored in APScheduler, so replicas never share a job store, and a restart sends what
fell due while the bot was down once (the first run starts at once; one row is one message).
"""

from __future__ import annotations

import asyncio
import copy
import logging
import os
import socket
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.domain.lifecycle import ReminderStatus
from bot.services.workspace_data import erase_expired_outputs
from storage.models import utcnow
from storage.repositories import reminder_repo as reminders
from storage.repositories.reminder_repo import LEASE, Claimed

log = logging.getLogger("ragft.sweep")

BATCH = 100
"""Claims per statement. Few round trips per sweep: its cost is what is due, not the Python."""
DELIVERY_TIMEOUT = timedelta(seconds=45)
"""Per reminder. A batch delivers a claim only while a whole timeout is left of its lease, and
hands the rest back, so no live claim expires."""
MAX_ATTEMPTS = 5
BACKOFF = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=30), timedelta(hours=2))
assert DELIVERY_TIMEOUT < LEASE
ERASE_EVERY = timedelta(hours=1)
"""RAGFT_RETENTION_DAYS: how often a long-running sweeper erases old failing outputs."""


def worker_id() -> str:
    return f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Progress:
    """The steps of one reminder that Slack already accepted, saved as they happen."""

    def __init__(self, save: Callable[[dict[str, Any]], Awaitable[None]], payload: dict) -> None:
        self._save = save
        self.payload: dict[str, Any] = dict(payload)
        self.payload.setdefault("steps", {})
        self._stored = copy.deepcopy(self.payload)

    @property
    def unsaved(self) -> bool:
        """Whether the payload changed since it was last saved."""
        return self.payload != self._stored

    def done(self, name: str) -> Any:
        return self.payload["steps"].get(name)

    async def step(self, name: str, action: Callable[[], Awaitable[Any]]) -> Any:
        """Run ``action`` unless an earlier attempt already did; remember its result."""
        if name in self.payload["steps"]:
            return self.payload["steps"][name]
        result = await action()
        self.payload["steps"][name] = result
        await self._save(self.payload)
        self._stored = copy.deepcopy(self.payload)
        return result


@dataclass
class Outcome:
    status: str = ReminderStatus.SENT
    line: str | None = None
    """What was sent, for ``ragft sweep`` (None when nothing was posted)."""
    after: Callable[[AsyncSession], Awaitable[None]] | None = None
    """Database work committed together with marking the reminder done."""
    then: Callable[[], Awaitable[None]] | None = None
    """Cosmetic follow-up once it's marked done (re-rendering the root message); its errors are
    logged, since the reminder itself was delivered."""


class Deliver(Protocol):
    async def __call__(self, claim: Claimed, progress: Progress, now: datetime) -> Outcome: ...


@dataclass
class SweepReport:
    sent: list[str] = field(default_factory=list)
    done: int = 0
    retrying: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    erased: int = 0
    """Failures whose output and link were erased (``RAGFT_RETENTION_DAYS``)."""


def retry_after(error: BaseException) -> timedelta | None:
    """Slack's ``Retry-After`` on a 429, when the error carries one."""
    response = getattr(error, "response", None)
    headers = getattr(response, "headers", None) or {}
    value = next((v for k, v in headers.items() if k.lower() == "retry-after"), None)
    try:
        return timedelta(seconds=int(value)) if value is not None else None
    except (TypeError, ValueError):
        return None


def describe(error: BaseException) -> str:
    response = getattr(error, "response", None)
    if response is not None and hasattr(response, "get"):
        status = getattr(response, "status_code", None)
        return f"Slack said {response.get('error', 'error')}" + (
            f" (HTTP {status})" if status else ""
        )
    if isinstance(error, TimeoutError):
        return "timed out"
    return f"{type(error).__name__}: {error}"[:300]


class Sweeper:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        deliver: Deliver,
        *,
        worker: str | None = None,
        clock: Callable[[], datetime] = utcnow,
        batch: int = BATCH,
        lease: timedelta = LEASE,
        timeout: timedelta = DELIVERY_TIMEOUT,
        retention: timedelta | None = None,
    ) -> None:
        self.sessions = sessions
        self.deliver = deliver
        self.worker = worker or worker_id()
        self.clock = clock
        self.batch = batch
        self.lease = lease
        self.timeout = timeout
        self.retention = retention
        """Erase failing outputs and links older than this, at most hourly (None: keep them)."""
        self._erased_at: datetime | None = None
        self.stopping = False

    def _erase_due(self) -> bool:
        clock = self.clock()
        if self._erased_at is not None and clock - self._erased_at < ERASE_EVERY:
            return False
        self._erased_at = clock
        return True

    def stop(self) -> None:
        """Take no more work: a sweep in progress finishes the reminder in hand and claims
        nothing more; the rest of its batch stays claimed until ``release``."""
        self.stopping = True

    async def release(self) -> int:
        """Hand back every reminder this sweeper still holds, so another process sends them
        now rather than after the lease. Returns how many."""
        async with self.sessions() as session, session.begin():
            return await reminders.release(session=session, worker=self.worker)

    async def sweep(self, now: datetime | None = None) -> SweepReport:
        """Send everything due at ``now`` (default: the clock) that nobody else holds."""
        report = SweepReport()
        if self.retention is not None and self._erase_due():
            async with self.sessions() as session:
                report.erased = await erase_expired_outputs(
                    session=session, before=(now or self.clock()) - self.retention
                )
        while not self.stopping:
            clock = self.clock()
            due_at = now or clock
            async with self.sessions() as session, session.begin():
                claims = await reminders.claim_due(
                    session=session,
                    now=due_at,
                    clock=clock,
                    worker=self.worker,
                    limit=self.batch,
                    lease=self.lease,
                )
            if not claims:
                return report
            prepare = getattr(self.deliver, "prepare", None)
            if prepare is not None:  # e.g. the KindRegistry reads the batch's decisions at once
                await prepare(claims)
            finished: list[tuple[Claimed, Outcome]] = []
            try:
                for index, claim in enumerate(claims):
                    if self.stopping:
                        break
                    if self.clock() - claim.claimed_at + self.timeout >= self.lease:
                        await self._hand_back(claims[index:])
                        break
                    await self._process(claim, due_at, report, finished)
            finally:
                await self._finish_all(finished, report)
        return report

    async def _hand_back(self, claims: list[Claimed]) -> None:
        """Too little of these claims' lease is left to deliver one more: unclaim them, so the
        next batch (or another sweeper) takes them with a fresh lease."""
        async with self.sessions() as session, session.begin():
            await reminders.release(session=session, worker=self.worker, claims=claims)

    async def _finish_all(
        self, finished: list[tuple[Claimed, Outcome]], report: SweepReport
    ) -> None:
        """Mark the batch's plain outcomes done together: one transaction, one statement per
        status. Each one's Slack steps were saved as Slack accepted them, so if this process dies
        first, the claim expires and the retry sends nothing twice."""
        if not finished:
            return
        held: set[int] = set()
        at = self.clock()
        async with self.sessions() as session, session.begin():
            for status in dict.fromkeys(o.status for _, o in finished):
                held |= await reminders.finish_many(
                    session=session,
                    claims=[c for c, o in finished if o.status == status],
                    worker=self.worker,
                    at=at,
                    status=status,
                )
        for claim, outcome in finished:
            await self._done(claim, outcome, claim.id in held, report)

    async def _done(
        self, claim: Claimed, outcome: Outcome, held: bool, report: SweepReport
    ) -> None:
        if not held:
            log.warning("reminder %s: claim lost before it was marked done", claim.id)
            return
        report.done += 1
        if outcome.line:
            report.sent.append(outcome.line)
        if outcome.then is not None:
            try:
                await outcome.then()
            except Exception:  # the reminder was delivered; a stale root message is logged
                log.warning("reminder %s: follow-up failed", claim.id, exc_info=True)

    async def _process(
        self,
        claim: Claimed,
        now: datetime,
        report: SweepReport,
        finished: list[tuple[Claimed, Outcome]],
    ) -> None:
        async def save(payload: dict[str, Any]) -> None:
            async with self.sessions() as session, session.begin():
                await reminders.save_progress(
                    session=session, claim=claim, worker=self.worker, payload=payload
                )

        progress = Progress(save, claim.payload)
        try:
            async with asyncio.timeout(self.timeout.total_seconds()):
                outcome = await self.deliver(claim, progress, now)
        except Exception as error:  # recorded on the row and logged, then retried or failed
            await self._failed(claim, progress, error, now, report)
            return
        if outcome.after is None and not progress.unsaved:
            finished.append((claim, outcome))  # marked done with the rest of the batch
            return
        async with self.sessions() as session, session.begin():
            held = await reminders.finish(
                session=session,
                claim=claim,
                worker=self.worker,
                at=self.clock(),
                payload=progress.payload,
                status=outcome.status,
            )
            if held and outcome.after is not None:
                await outcome.after(session)
        await self._done(claim, outcome, held, report)

    async def _failed(
        self,
        claim: Claimed,
        progress: Progress,
        error: Exception,
        now: datetime,
        report: SweepReport,
    ) -> None:
        message = describe(error)
        label = f"reminder {claim.id} ({claim.kind}, decision #{claim.decision_id})"
        retry_at = None
        if claim.attempts < MAX_ATTEMPTS:
            wait = BACKOFF[min(claim.attempts, len(BACKOFF)) - 1]
            wait = max(wait, retry_after(error) or timedelta(0))
            retry_at = max(now, self.clock()) + wait
            log.warning("%s: attempt %d failed (%s); retrying", label, claim.attempts, message)
            report.retrying.append(f"{label}: {message}; retrying at {retry_at.isoformat()}")
        else:
            log.error("%s: giving up after %d attempts", label, claim.attempts, exc_info=error)
            report.failed.append(f"{label}: {message}; failed after {claim.attempts} attempts")
        async with self.sessions() as session, session.begin():
            await reminders.retry_or_fail(
                session=session,
                claim=claim,
                worker=self.worker,
                error=message,
                retry_at=retry_at,
                payload=progress.payload,
            )
