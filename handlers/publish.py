"""Posting a decision's thread and keeping its messages up to date."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

from bot.decisions import DecisionState, load_state
from handlers.runtime import MessageKey, Runtime
from handlers.slack_io import post_message
from handlers.ui.decision import (
    QUESTION_KEYS,
    Message,
    question_message,
    root_message,
    verdict_message,
)
from storage import repository as repo


def build_message(state: DecisionState, key: str) -> Message:
    if key == "root":
        return root_message(state)
    if key == "verdict":
        return verdict_message(state)
    return question_message(state, next(q for q in QUESTION_KEYS if q == key))


async def post_thread(runtime: Runtime, state: DecisionState) -> None:
    """Post the root message and the four questions under it, and remember their ts."""
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
    await runtime.client.chat_update(
        channel=state.decision.channel_id, ts=ts, text=message.text, blocks=message.blocks
    )


async def refresh(runtime: Runtime, team_id: str, decision_id: int, keys: Iterable[str]) -> None:
    """Bring these messages up to date; concurrent callers share the work."""
    await asyncio.gather(
        *(runtime.refresher.run((team_id, decision_id, key)) for key in dict.fromkeys(keys))
    )


async def refresh_all(runtime: Runtime, state: DecisionState) -> None:
    await refresh(runtime, state.decision.team_id, state.id, state.decision.message_ts.keys())
