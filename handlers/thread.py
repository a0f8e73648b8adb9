"""Posting a decision's thread and keeping its messages up to date."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable

from slack_sdk.errors import SlackApiError

from bot.services.state import DecisionState, load_state
from handlers.runtime import MessageKey, Runtime
from handlers.slack_calls import post_message, slack_error
from handlers.ui.thread_messages import (
    QUESTION_KEYS,
    Message,
    question_message,
    root_message,
    verdict_message,
)
from storage.models import DecisionStatus
from storage.repositories import decision_repo as repo

log = logging.getLogger("ragft")

MESSAGE_GONE = frozenset({"message_not_found", "channel_not_found", "is_archived"})


def build_message(state: DecisionState, key: str) -> Message:
    if key == "root":
        return root_message(state)
    if key == "verdict":
        return verdict_message(state)
    return question_message(state, next(q for q in QUESTION_KEYS if q == key))


async def post_thread(runtime: Runtime, state: DecisionState) -> None:
    """Post the root message and the four questions under it, and remember their ts.

    If the root can't be posted, nobody can ever answer the decision, so it is archived (hidden
    from list and status) before the error goes on to the user.
    """
    try:
        await _post_thread(runtime, state)
    except BaseException:
        async with runtime.sessions() as session, session.begin():
            orphan = await repo.get_decision(
                session=session, team_id=state.decision.team_id, decision_id=state.id
            )
            if orphan is not None and orphan.thread_ts is None:
                orphan.status = DecisionStatus.ARCHIVED
                session.add(orphan)
        raise


async def _post_thread(runtime: Runtime, state: DecisionState) -> None:
    decision = state.decision
    root = root_message(state)
    root_ts = await post_message(
        runtime.client, channel=decision.channel_id, text=root.text, blocks=root.blocks
    )
    posted = {"root": root_ts}
    for key in QUESTION_KEYS:
        message = question_message(state, key)
        posted[key] = await post_message(
            runtime.client,
            channel=decision.channel_id,
            thread_ts=root_ts,
            text=message.text,
            blocks=message.blocks,
        )
    await save_message_ts(runtime, state, posted, thread_ts=root_ts)


async def save_message_ts(
    runtime: Runtime, state: DecisionState, posted: dict[str, str], thread_ts: str | None = None
) -> None:
    async with runtime.sessions() as session, session.begin():
        decision = await repo.get_decision(
            session=session, team_id=state.decision.team_id, decision_id=state.id, for_update=True
        )
        assert decision is not None
        if thread_ts:
            decision.thread_ts = thread_ts
        decision.message_ts = {**decision.message_ts, **posted}
        session.add(decision)


async def render_message(runtime: Runtime, key: MessageKey) -> None:
    """Re-render one posted message from the database (the refresher's work)."""
    team_id, decision_id, which = key
    async with runtime.sessions() as session:
        state = await load_state(session=session, team_id=team_id, decision_id=decision_id)
    ts = state.decision.message_ts.get(which)
    if ts is None:
        return
    message = build_message(state, which)
    try:
        await runtime.client.chat_update(
            channel=state.decision.channel_id, ts=ts, text=message.text, blocks=message.blocks
        )
    except SlackApiError as exc:
        if slack_error(exc) not in MESSAGE_GONE:
            raise
        # Someone deleted it, or the channel was archived: the click that asked for this refresh
        # was saved, so stop updating the message instead of failing every later click.
        log.warning("decision #%s: %s message is gone (%s)", decision_id, which, slack_error(exc))
        await forget_message(runtime, team_id, decision_id, which)


async def forget_message(runtime: Runtime, team_id: str, decision_id: int, which: str) -> None:
    async with runtime.sessions() as session, session.begin():
        decision = await repo.get_decision(
            session=session, team_id=team_id, decision_id=decision_id, for_update=True
        )
        if decision is not None:
            decision.message_ts = {k: v for k, v in decision.message_ts.items() if k != which}
            session.add(decision)


async def refresh(runtime: Runtime, team_id: str, decision_id: int, keys: Iterable[str]) -> None:
    """Bring these messages up to date; concurrent callers share the work."""
    await asyncio.gather(
        *(runtime.refresher.run((team_id, decision_id, key)) for key in dict.fromkeys(keys))
    )


async def refresh_all(runtime: Runtime, state: DecisionState) -> None:
    await refresh(runtime, state.decision.team_id, state.id, state.decision.message_ts.keys())
