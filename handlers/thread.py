"""Posting a decision's thread and keeping its messages up to date."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable

from slack_sdk.errors import SlackApiError

from bot.domain.questions import QUESTION_MESSAGES, MessageKey
from bot.services import decision_records
from bot.services.state import DecisionState
from handlers.runtime import MessageRef, Runtime
from handlers.slack_calls import post_message, slack_error
from handlers.ui.blocks import Message
from handlers.ui.question_messages import question_message
from handlers.ui.root_message import root_message
from handlers.ui.verdict_message import verdict_message

log = logging.getLogger("ragft")

MESSAGE_DELETED = "message_not_found"
"""The only error that retires a posted message: it is then posted again in the thread."""
CHANNEL_UNAVAILABLE = frozenset({"channel_not_found", "is_archived"})
"""The channel can't be updated now; the message is kept, and later refreshes try again."""


def build_message(state: DecisionState, key: MessageKey) -> Message:
    if key == MessageKey.ROOT:
        return root_message(state)
    if key == MessageKey.VERDICT:
        return verdict_message(state)
    return question_message(state, key)


async def post_thread(runtime: Runtime, state: DecisionState) -> None:
    """Post the root message and the four questions under it, and remember their ts.

    If the root can't be posted, nobody can ever answer the decision, so it is archived (hidden
    from list and status) before the error goes on to the user.
    """
    try:
        await _post_thread(runtime, state)
    except BaseException:
        async with runtime.sessions() as session:
            await decision_records.archive_orphan(
                session=session, team_id=state.decision.team_id, decision_id=state.id
            )
        raise


async def _post_thread(runtime: Runtime, state: DecisionState) -> None:
    decision = state.decision
    root = root_message(state)
    root_ts = await post_message(
        runtime.client, channel=decision.channel_id, text=root.text, blocks=root.blocks
    )
    posted = {MessageKey.ROOT: root}
    # Each ts is saved as soon as its message is up, so clicks on it show from then on; the
    # thread_ts only with the last, so that until then a failure archives the decision.
    await save_message_ts(runtime, state, {MessageKey.ROOT.value: root_ts})
    for index, key in enumerate(QUESTION_MESSAGES):
        posted[key] = message = question_message(state, key)
        ts = await post_message(
            runtime.client,
            channel=decision.channel_id,
            thread_ts=root_ts,
            text=message.text,
            blocks=message.blocks,
        )
        last = index == len(QUESTION_MESSAGES) - 1
        await save_message_ts(runtime, state, {key.value: ts}, thread_ts=root_ts if last else None)
    await _catch_up(runtime, state, posted)


async def _catch_up(
    runtime: Runtime, state: DecisionState, posted: dict[MessageKey, Message]
) -> None:
    """Show the clicks that came while the thread was being posted.

    A click whose refresh ran before its message's ts was saved was stored but shown nowhere.
    Every ts is committed now, so one more read sees every such click (it committed before its
    refresh looked for the ts): update each message that no longer matches what was posted.
    """
    async with runtime.sessions() as session:
        now = await decision_records.current_state(
            session=session, team_id=state.decision.team_id, decision_id=state.id
        )
    stale = [key for key, message in posted.items() if build_message(now, key) != message]
    if stale:
        await refresh(runtime, state.decision.team_id, state.id, stale)


async def save_message_ts(
    runtime: Runtime, state: DecisionState, posted: dict[str, str], thread_ts: str | None = None
) -> None:
    async with runtime.sessions() as session:
        await decision_records.save_message_ts(
            session=session,
            team_id=state.decision.team_id,
            decision_id=state.id,
            posted=posted,
            thread_ts=thread_ts,
        )


async def render_message(runtime: Runtime, key: MessageRef) -> None:
    """Re-render one posted message from the database (the refresher's work)."""
    team_id, decision_id, which = key
    async with runtime.sessions() as session:
        state = await decision_records.current_state(
            session=session, team_id=team_id, decision_id=decision_id
        )
    ts = state.decision.message_ts.get(which)
    if ts is None:
        return
    message = build_message(state, MessageKey(which))
    try:
        await runtime.client.chat_update(
            channel=state.decision.channel_id, ts=ts, text=message.text, blocks=message.blocks
        )
    except SlackApiError as exc:
        error = slack_error(exc)
        if error in CHANNEL_UNAVAILABLE:
            # The click that asked for this refresh was saved; keep the message, so a refresh
            # after the channel is back (unarchived, the bot re-added) shows it again.
            log.warning("decision #%s: can't update the %s message (%s)", decision_id, which, error)
            return
        if error != MESSAGE_DELETED:
            raise
        log.warning(
            "decision #%s: the %s message was deleted; posting it again", decision_id, which
        )
        await _post_again(runtime, state, which, message)


async def _post_again(runtime: Runtime, state: DecisionState, which: str, message: Message) -> None:
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
    await save_message_ts(runtime, state, {which: ts})


async def refresh(
    runtime: Runtime, team_id: str, decision_id: int, keys: Iterable[MessageKey | str]
) -> None:
    """Bring these messages up to date; concurrent callers share the work."""
    if runtime.home is not None:  # and, a little later, the Home tabs of who's involved
        runtime.home.changed(team_id, decision_id)
    await asyncio.gather(
        *(
            runtime.refresher.run((team_id, decision_id, str(key)))
            for key in dict.fromkeys(map(str, keys))
        )
    )


async def refresh_all(runtime: Runtime, state: DecisionState) -> None:
    await refresh(runtime, state.decision.team_id, state.id, state.decision.message_ts.keys())


async def refresh_root(runtime: Runtime, team_id: str, decision_id: int, posted: bool) -> None:
    if posted:
        await refresh(runtime, team_id, decision_id, [MessageKey.ROOT])
