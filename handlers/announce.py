"""What Slack sees once a decision is made: the verdict (broadcast to the channel), the review
schedule, a pointer from the decision it superseded, and the drafted Context paragraph."""

from __future__ import annotations

from bot.domain.lifecycle import DecisionStatus
from bot.domain.questions import MessageKey
from bot.services import decision_records
from bot.services.deciding import Decided
from handlers.model_runs import draft_summary
from handlers.runtime import Runtime
from handlers.slack_calls import post_message
from handlers.thread import refresh_all, refresh_root, save_message_ts
from handlers.ui.review_messages import schedule_message
from handlers.ui.verdict_message import verdict_message


async def announce_decided(runtime: Runtime, decided: Decided) -> None:
    state = decided.state
    decision = state.decision
    message = verdict_message(state)
    ts = await post_message(
        runtime.client,
        channel=decision.channel_id,
        thread_ts=decision.thread_ts,
        reply_broadcast=True,
        text=message.text,
        blocks=message.blocks,
    )
    await save_message_ts(runtime, state, {MessageKey.VERDICT.value: ts})
    async with runtime.sessions() as session:
        fresh = await decision_records.current_state(
            session=session, team_id=decision.team_id, decision_id=state.id
        )
    schedule = schedule_message(fresh)
    await post_message(
        runtime.client,
        channel=decision.channel_id,
        thread_ts=decision.thread_ts,
        text=schedule.text,
        blocks=schedule.blocks,
    )
    old = decided.superseded
    if old is not None and old.id is not None and old.status == DecisionStatus.SUPERSEDED:
        await refresh_root(runtime, old.team_id, old.id, bool(old.message_ts))
        if old.thread_ts:
            newer = f"#{state.id}"
            if decision.thread_ts:
                link = await runtime.client.chat_getPermalink(
                    channel=decision.channel_id, message_ts=decision.thread_ts
                )
                newer = f"<{link['permalink']}|decision #{state.id}>"
            await post_message(
                runtime.client,
                channel=old.channel_id,
                thread_ts=old.thread_ts,
                text=f"This decision is superseded by {newer}, decided just now.",
            )
    await refresh_all(runtime, decided.state)
    await draft_summary(runtime, decided.state)  # after the verdict is out: the record's Context
