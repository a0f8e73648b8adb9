"""Posting a decision's thread, and asking for its messages to be brought up to date."""

from __future__ import annotations

from collections.abc import Iterable

from bot.domain.questions import QUESTION_MESSAGES, MessageKey
from bot.services import decision_records
from bot.services.state import DecisionState
from handlers.runtime import Runtime
from handlers.slack_calls import post_message
from handlers.ui.question_messages import question_message
from handlers.ui.root_message import root_message


async def post_thread(runtime: Runtime, state: DecisionState) -> None:
    """Post the root message and the four questions under it, and remember their ts.

    If the root can't be posted, nobody can ever answer the decision, so it is archived (hidden
    from list and status) before the error goes on to the user. At most ``THREAD_POSTS`` threads
    are posted at once (``Runtime.thread_posts``), queued ones and re-runs together, so a burst
    of ``/ragft`` (handlers/thread_queue.py) can't crowd out the clicks' refreshes.
    """
    try:
        async with runtime.thread_posts:
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
    posted = {MessageKey.ROOT.value: root_ts}
    for key in QUESTION_MESSAGES:
        message = question_message(state, key)
        posted[key.value] = await post_message(
            runtime.client,
            channel=decision.channel_id,
            thread_ts=root_ts,
            text=message.text,
            blocks=message.blocks,
        )
    # One save for the five, with the version they were posted from (until it, a failure
    # leaves no thread_ts, so the decision is archived). A click that came while they were
    # posted was stored, and bumped the version; its refresh found no ts to update. If one
    # did, refreshing them all updates exactly the messages it overtook.
    version = await save_message_ts(runtime, state, posted, thread_ts=root_ts)
    overtaken = [MessageKey.ROOT, *QUESTION_MESSAGES] if version != decision.version else []
    await refresh(runtime, decision.team_id, state.id, overtaken)  # the Home tabs, at least


async def save_message_ts(
    runtime: Runtime, state: DecisionState, posted: dict[str, str], thread_ts: str | None = None
) -> int | None:
    async with runtime.sessions() as session:
        return await decision_records.save_message_ts(
            session=session,
            team_id=state.decision.team_id,
            decision_id=state.id,
            posted=posted,
            thread_ts=thread_ts,
            shown_version=state.decision.version,
        )


async def refresh(
    runtime: Runtime,
    team_id: str,
    decision_id: int,
    keys: Iterable[MessageKey | str],
    *,
    redraw: bool = False,
) -> None:
    """Bring these messages up to date; concurrent callers share the work. ``redraw``: even
    those that show the latest version (to undo a refused selection Slack shows)."""
    if runtime.home is not None:  # and, a little later, the Home tabs of who's involved
        runtime.home.changed(team_id, decision_id)
    if asked := dict.fromkeys(map(str, keys)):
        await runtime.renderer.run(team_id, decision_id, asked, redraw=redraw)


async def refresh_all(runtime: Runtime, state: DecisionState) -> None:
    await refresh(runtime, state.decision.team_id, state.id, state.decision.message_ts.keys())


async def refresh_root(runtime: Runtime, team_id: str, decision_id: int, posted: bool) -> None:
    if posted:
        await refresh(runtime, team_id, decision_id, [MessageKey.ROOT])
