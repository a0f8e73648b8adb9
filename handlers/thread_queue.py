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
from handlers.workspace_clients import CURRENT

log = logging.getLogger("ragft")


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
        if len(self._workers) < THREAD_POSTS:
            worker = asyncio.ensure_future(self._work())
            self._workers.add(worker)
            worker.add_done_callback(self._workers.discard)

    @property
    def waiting(self) -> int:
        return len(self._jobs)

    async def _work(self) -> None:
        try:
            while self._jobs:
                job = self._jobs.popleft()
                bound = CURRENT.set(job.client)
                try:
                    await post_thread(self.runtime, await self._started(job.what))
                except Exception as exc:
                    if job.trusted:
                        await report(exc, job.place, job.client, job.respond)
                    else:  # never answer on the word of an unsigned body
                        log.warning("ignored %s for an unverified request", type(exc).__name__)
                finally:
                    CURRENT.reset(bound)
        except asyncio.CancelledError:
            await self._abandon()
            raise

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
            with contextlib.suppress(Exception):
                await self._archive(await starting)
            raise

    async def _abandon(self) -> None:
        """Stopping before these started: a decision already started is archived, like one
        whose post failed; one not started yet never will be."""
        unstarted = 0
        while self._jobs:
            what = self._jobs.popleft().what
            if not isinstance(what, DecisionState):
                unstarted += 1
                continue
            await self._archive(what)
        if unstarted:
            log.warning("stopping: %d /ragft acknowledged but not started", unstarted)

    async def _archive(self, state: DecisionState) -> None:
        try:
            async with self.runtime.sessions() as session:
                await decision_records.archive_orphan(
                    session=session, team_id=state.decision.team_id, decision_id=state.id
                )
        except Exception as exc:
            log.warning("decision #%s: not posted, and not archived: %s", state.id, exc)
