"""Keeping a decision's posted messages up to date, on one replica or many.

Clicks on one decision are batched (``Batcher``): a run claims the messages asked for
(``bot.services.render_claims``), loads the state once, updates every claimed message that shows
an older version, hands the claims back with the version each now shows, and goes round again
if the decision changed meanwhile. Messages another process holds are left to it; in case that
process died, they are asked for again when its lease ends.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from collections.abc import Iterable
from datetime import timedelta
from typing import TYPE_CHECKING

from slack_sdk.errors import SlackApiError

from bot.domain.questions import MessageKey
from bot.services import decision_records, render_claims
from bot.services.state import DecisionState
from handlers.coalesce import Batcher
from handlers.slack_calls import post_message, slack_error
from handlers.ui.blocks import Message
from handlers.ui.question_messages import question_message
from handlers.ui.root_message import root_message
from handlers.ui.verdict_message import verdict_message
from handlers.workspace_clients import NotInstalled

if TYPE_CHECKING:
    from handlers.runtime import Runtime

log = logging.getLogger("ragft")

MESSAGE_DELETED = "message_not_found"
"""The only error that retires a posted message: it is then posted again in the thread."""
CHANNEL_UNAVAILABLE = frozenset({"channel_not_found", "is_archived"})
"""The channel can't be updated now; the message is kept, and later refreshes try again."""
SEND_TIMEOUT = 30.0
"""Seconds one round of ``chat.update`` calls may take; well inside the lease."""
LEASE = timedelta(seconds=60)
"""How long a claim on a message lasts if its process never hands it back (it died). Taken
when the claim's transaction runs, so a send (at most ``SEND_TIMEOUT``) always ends within it."""
RETRY = 1.0
"""Seconds before asking again for messages another process held."""
RETRY_FAILED = 10.0
"""Seconds before trying again messages whose update failed (Slack's error, a timeout)."""
RECOVER_EVERY = 30.0
"""Seconds between looks for messages whose lease ended without being handed back."""

TRANSIENT = frozenset(
    {
        "ratelimited",
        "internal_error",
        "fatal_error",
        "service_unavailable",
        "request_timeout",
        "token_expired",
    }
)
"""Slack errors an update is tried again after (``RETRY_FAILED``). Any other (say
``invalid_auth``, ``not_in_channel`` or ``cant_update_message``) would be refused the same way
every 10 s, for as long as the decision exists: such a message waits for its next change."""

DecisionRef = tuple[str, int]
"""(team_id, decision_id)."""


def build_message(state: DecisionState, key: MessageKey) -> Message:
    if key == MessageKey.ROOT:
        return root_message(state)
    if key == MessageKey.VERDICT:
        return verdict_message(state)
    return question_message(state, key)


class ThreadRenderer:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        """This process, as its leases name it."""
        self._batches: Batcher[DecisionRef, tuple[str, bool]] = Batcher(self._render)
        self._retries: dict[DecisionRef, tuple[asyncio.TimerHandle, set[str], set[str]]] = {}
        self._recovery: asyncio.Task[None] | None = None

    @property
    def runs(self) -> int:
        return self._batches.runs

    async def run(
        self, team_id: str, decision_id: int, keys: Iterable[str], *, redraw: bool = False
    ) -> None:
        """Bring these messages up to date; returns once a run that started after the call is
        done (concurrent callers share it). ``redraw``: update them even if they show the
        latest version (Slack shows a refused selection the bot never sent)."""
        await self._batches.run((team_id, decision_id), ((key, redraw) for key in keys))

    async def _render(self, ref: DecisionRef, asked: frozenset[tuple[str, bool]]) -> None:
        team_id, decision_id = ref
        pending: set[str] = {key for key, _ in asked}
        redraw = {key for key, forced in asked if forced}
        while pending:
            claim = await self.runtime.call(
                render_claims.claim_renders,
                team_id=team_id,
                decision_id=decision_id,
                keys=pending,
                redraw=redraw & pending,
                holder=self.holder,
                lease=LEASE,
            )
            if claim is None:
                return
            self._retry_soon(ref, claim.busy, redraw & claim.busy, RETRY)
            if not claim.shown:
                return
            shown = dict(claim.shown)
            updated: dict[str, int] = {}
            try:
                updated = await self._send(claim)
                shown.update(updated)
            except Exception as exc:
                if worth_retrying(exc):
                    behind = set(claim.behind())
                    self._retry_soon(ref, behind, redraw & behind, RETRY_FAILED)
                else:  # the same call would fail the same way: the next write tries again
                    log.warning(
                        "decision #%s: Slack refused to update its messages (%s); not retrying "
                        "until they change again",
                        decision_id,
                        slack_error(exc) if isinstance(exc, SlackApiError) else exc,
                    )
                raise
            finally:
                latest = await asyncio.shield(
                    self.runtime.call(
                        render_claims.release_renders,
                        team_id=team_id,
                        decision_id=decision_id,
                        holder=self.holder,
                        keys=claim.shown.keys(),
                        shown=shown,
                    )
                )
            if latest is None:
                return
            # Again for the messages a write overtook; not for ones that could not be updated
            # (unposted, or their channel unavailable): their next refresh tries them again.
            stuck = set(claim.behind()) - updated.keys()
            redraw -= claim.shown.keys()
            pending = {key for key, seen in shown.items() if seen < latest and key not in stuck}

    async def _send(self, claim: render_claims.RenderClaim) -> dict[str, int]:
        """Update each claimed message that is behind; the version each updated one shows."""
        state, version = claim.state, claim.version
        behind = claim.behind()
        if state is None or version is None or not behind:
            return {}
        updated: dict[str, int] = {}
        keys = [key for key in behind if key in state.decision.message_ts]
        async with asyncio.timeout(SEND_TIMEOUT):
            results = await asyncio.gather(
                *(self._update(state, key) for key in keys), return_exceptions=True
            )
        failure: BaseException | None = None
        for key, result in zip(keys, results, strict=True):
            if result is True:
                updated[key] = version
            elif isinstance(result, BaseException):
                failure = failure or result
        if failure is not None:
            raise failure
        return updated

    async def _update(self, state: DecisionState, which: str) -> bool:
        """True once the message shows ``state``; False if its channel is unavailable now."""
        decision = state.decision
        message = build_message(state, MessageKey(which))
        try:
            await self.runtime.client.chat_update(
                channel=decision.channel_id,
                ts=decision.message_ts[which],
                text=message.text,
                blocks=message.blocks,
            )
        except SlackApiError as exc:
            error = slack_error(exc)
            if error in CHANNEL_UNAVAILABLE:
                # The click that asked for this was saved; keep the message, so a refresh after
                # the channel is back (unarchived, the bot re-added) shows it again.
                log.warning(
                    "decision #%s: can't update the %s message (%s)", state.id, which, error
                )
                return False
            if error != MESSAGE_DELETED:
                raise
            log.warning(
                "decision #%s: the %s message was deleted; posting it again", state.id, which
            )
            await post_again(self.runtime, state, which, message)
        return True

    def _retry_soon(self, ref: DecisionRef, keys: set[str], redraw: set[str], delay: float) -> None:
        """Ask for ``keys`` again in ``delay`` seconds: another process holds them (it may have
        died; its lease ends within ``LEASE``), or updating them failed. One timer per decision;
        each ask that is still refused asks again, so a held message is updated within about
        ``RETRY`` of being handed back, and a failing one is tried until it goes through."""
        if not keys:
            return
        previous = self._retries.pop(ref, None)
        if previous is not None:
            previous[0].cancel()
            keys, redraw = keys | previous[1], redraw | previous[2]
        handle = asyncio.get_running_loop().call_later(delay, self._retry, ref)
        self._retries[ref] = (handle, keys, redraw & keys)

    def _retry(self, ref: DecisionRef) -> None:
        _, keys, redraw = self._retries.pop(ref, (None, set(), set()))
        for forced, group in ((True, keys & redraw), (False, keys - redraw)):
            if group:
                task = asyncio.ensure_future(self.run(*ref, group, redraw=forced))
                task.add_done_callback(_log_failure)

    async def recover(self) -> int:
        """Bring up to date the messages a process that died left held (it may have stored a
        write and died before showing it; with no other replica, nothing else would): how many
        decisions had some."""
        found = await self.runtime.call(render_claims.abandoned_renders)
        results = await asyncio.gather(
            *(self._recover(*ref, keys) for ref, keys in found.items()), return_exceptions=True
        )
        for (_, decision_id), result in zip(found, results, strict=True):
            if isinstance(result, Exception):
                log.warning("decision #%s: recovering its messages failed: %s", decision_id, result)
        return len(found)

    async def _recover(self, team_id: str, decision_id: int, keys: set[str]) -> None:
        try:
            # With that workspace's token (distribution mode): a click arriving meanwhile
            # shares this run, and so its client.
            async with self.runtime.for_team(team_id):
                await self.run(team_id, decision_id, keys)
        except NotInstalled:  # nothing can update them: stop finding them
            await self.runtime.call(
                render_claims.drop_abandoned, team_id=team_id, decision_id=decision_id, keys=keys
            )
            raise

    def start_recovery(self, every: float = RECOVER_EVERY) -> None:
        """``recover`` now (what a crash before this start left) and every ``every`` seconds
        (what another replica's crash leaves), until ``stop_recovery``."""
        if self._recovery is None:
            self._recovery = asyncio.create_task(self._recover_every(every))

    async def _recover_every(self, every: float) -> None:
        while True:
            try:
                if recovered := await self.recover():
                    log.info("brought up to date the messages of %d decision(s)", recovered)
            except Exception as exc:  # the database is down, say: look again next time
                log.warning("could not look for messages left behind: %s", exc)
            await asyncio.sleep(every)

    def stop_recovery(self) -> None:
        if self._recovery is not None:
            self._recovery.cancel()
            self._recovery = None

    def close(self) -> None:
        self.stop_recovery()
        for handle, *_ in self._retries.values():
            handle.cancel()
        self._retries.clear()


def worth_retrying(error: BaseException) -> bool:
    """A timeout, a lost connection, Slack's 5xx or 429, or a transient Slack error."""
    if not isinstance(error, SlackApiError):
        return True
    status = getattr(error.response, "status_code", 200)
    return status >= 500 or status == 429 or slack_error(error) in TRANSIENT


def _log_failure(task: asyncio.Future[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.warning("a delayed message refresh failed: %s", task.exception())


async def post_again(runtime: Runtime, state: DecisionState, which: str, message: Message) -> None:
    """Someone deleted a message the decision needs: post it again in the thread, so the
    decision stays answerable, and update that one from now on."""
    decision = state.decision
    ts = await post_message(
        runtime.client,
        channel=decision.channel_id,
        thread_ts=decision.thread_ts,
        text=message.text,
        blocks=message.blocks,
    )
    async with runtime.sessions() as session:
        await decision_records.save_message_ts(
            session=session,
            team_id=decision.team_id,
            decision_id=state.id,
            posted={which: ts},
            shown_version=decision.version,
        )
