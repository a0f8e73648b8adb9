"""New decisions, started and posted after the ack, a burst in turn.

``/ragft <title>`` is acknowledged at once; creating the decision and posting its thread (five
messages) then waits here as a small job: the command's fields and where to report a failure,
instead of a whole Bolt request with its session waiting for a pooled connection. At most
``THREAD_POSTS`` jobs run at once; workers start as jobs come and stop when none is left.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from dataclasses import dataclass

from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.services import decision_records
from bot.services.state import DecisionState
from handlers.error_reply import TRUSTED, report
from handlers.payloads import Where
from handlers.runtime import THREAD_POSTS, Runtime
from handlers.thread import post_thread
from handlers.ui.mrkdwn import safe
from handlers.workspace_clients import CURRENT

log = logging.getLogger("ragft")

NOT_STARTED = (
    "ragft was restarting and didn't get to start *{title}*. Nothing was posted: run the same "
    "`/ragft` again."
)
TELL_TIMEOUT = 1.0
"""Seconds, while stopping, for telling the people whose ``/ragft`` never started."""


@dataclass(slots=True, frozen=True)
class NewDecision:
    team_id: str
    channel_id: str
    facilitator_id: str
    title: str


@dataclass(slots=True, frozen=True)
class _Job:
    what: NewDecision | DecisionState
    """A decision to start, then post; or one already started, to post."""
    client: AsyncWebClient
    """The workspace's client, as bound for the request that asked."""
    place: Where
    respond: AsyncRespond | None
    trusted: bool
    """Whether a failure may be told to the user (see handlers/error_reply.py)."""


class ThreadPoster:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self._jobs: deque[_Job] = deque()
        self._workers: set[asyncio.Task[None]] = set()
        self._stopping = False

    def post(
        self,
        what: NewDecision | DecisionState,
        *,
        place: Where,
        respond: AsyncRespond | None = None,
    ) -> None:
        """Queue it. If starting or posting fails, the user is told (``respond``, or at
        ``place``) as Bolt's error handler would tell them, and a decision whose thread could
        not be posted is archived (see ``post_thread``)."""
        self._jobs.append(_Job(what, self.runtime.client, place, respond, TRUSTED.get()))
        if not self._stopping and len(self._workers) < THREAD_POSTS:
            worker = asyncio.ensure_future(self._work())
            self._workers.add(worker)

    def stop_taking_work(self) -> None:
        """Stopping: threads being posted finish; no queued one starts."""
        self._stopping = True

    async def stop(self) -> None:
        """After the drain: cut short what still runs, archive what was started but not
        posted, and tell whoever is still waiting to run their ``/ragft`` again."""
        self._stopping = True
        workers = list(self._workers)
        for worker in workers:
            worker.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
        await self._abandon()

    async def _work(self) -> None:
        try:
            while self._jobs and not self._stopping:
                job = self._jobs.popleft()
                bound = CURRENT.set(job.client)
                try:
                    await post_thread(self.runtime, await self._started(job.what))
                except Exception as exc:
                    await self._failed(job, exc)
                finally:
                    CURRENT.reset(bound)
        finally:
            self._workers.discard(asyncio.current_task())  # type: ignore[arg-type]

    async def _failed(self, job: _Job, exc: Exception) -> None:
        if not job.trusted:  # never answer on the word of an unsigned body
            log.warning("ignored %s for an unverified request", type(exc).__name__)
            return
        try:
            await report(exc, job.place, job.client, job.respond)
        except Exception as unreachable:  # Slack out of reach: the next job still runs
            log.warning("couldn't tell the user that a thread failed: %s", unreachable)

    async def _started(self, what: NewDecision | DecisionState) -> DecisionState:
        if isinstance(what, DecisionState):
            return what
        starting = asyncio.ensure_future(
            self.runtime.call(
                decision_records.start_decision,
                team_id=what.team_id,
                channel_id=what.channel_id,
                title=what.title,
                facilitator_id=what.facilitator_id,
            )
        )
        try:
            return await asyncio.shield(starting)
        except asyncio.CancelledError:  # stopping: let the transaction end, then archive
            with contextlib.suppress(BaseException):
                await self._archive(await asyncio.shield(starting))
            raise

    async def _abandon(self) -> None:
        """A decision already started is archived, like one whose post failed; one not started
        yet never will be; whoever asked is told to ask again."""
        told: list[asyncio.Task[None]] = []
        unstarted = 0
        while self._jobs:
            job = self._jobs.popleft()
            if isinstance(job.what, DecisionState):
                await self._archive(job.what)
                title = job.what.decision.title
            else:
                unstarted += 1
                title = job.what.title
            if job.trusted and job.respond is not None:
                told.append(asyncio.ensure_future(self._tell_again(title, job.respond)))
        if told:
            await asyncio.wait(told, timeout=TELL_TIMEOUT)
            for task in told:
                task.cancel()
        if unstarted:
            log.warning("stopping: %d /ragft acknowledged but not started", unstarted)

    async def _tell_again(self, title: str, respond: AsyncRespond) -> None:
        with contextlib.suppress(Exception):
            await respond(
                text=NOT_STARTED.format(title=safe(title, 200)),
                response_type="ephemeral",
                replace_original=False,
            )

    async def _archive(self, state: DecisionState) -> None:
        try:
            async with self.runtime.sessions() as session:
                await decision_records.archive_orphan(
                    session=session, team_id=state.decision.team_id, decision_id=state.id
                )
        except Exception as exc:
            log.warning("decision #%s: not posted, and not archived: %s", state.id, exc)
