"""What Slack sees once a decision is made: the verdict (broadcast to the channel), the review
schedule, a pointer from the decision it superseded, and the drafted Context paragraph.

The verdict is delivered reliably: deciding queued an outbox row for it (``ReminderKind.VERDICT``)
in the same transaction. Posting it here settles that row; if Slack fails, the sweep posts it
(``deliver_verdict``), once, and the root already shows the outcome."""

from __future__ import annotations

import logging

from slack_sdk.errors import SlackApiError

from bot.domain.errors import UserError
from bot.domain.lifecycle import DecisionStatus
from bot.domain.questions import MessageKey
from bot.services import deciding, decision_records
from bot.services.deciding import Decided, NotReady
from bot.services.state import DecisionState
from handlers.model_runs import draft_summary
from handlers.runtime import Runtime
from handlers.slack_calls import post_message, slack_error
from handlers.thread import refresh, refresh_all, refresh_root
from handlers.ui.decide_confirm import not_ready_message
from handlers.ui.review_messages import schedule_message
from handlers.ui.verdict_message import verdict_message

log = logging.getLogger("ragft")


class VerdictDelayed(UserError):
    """Slack refused the verdict; the sweep will post it. ``str()`` is for the facilitator."""


async def deliver_verdict(
    runtime: Runtime, team_id: str, decision_id: int, state: DecisionState | None = None
) -> str | None:
    """Post the verdict and the review schedule unless a verdict is already out; returns its ts
    (None when there was nothing to do). ``state``: the decision as just decided, if known."""
    async with runtime.sessions() as session:
        if not await deciding.verdict_pending(
            session=session, team_id=team_id, decision_id=decision_id
        ):
            return None
        if state is None:
            state = await decision_records.current_state(
                session=session, team_id=team_id, decision_id=decision_id
            )
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
    async with runtime.sessions() as session:
        first = await deciding.verdict_posted(
            session=session, team_id=team_id, decision_id=decision_id, ts=ts
        )
    if not first:
        return None
    schedule = schedule_message(state)
    await post_message(
        runtime.client,
        channel=decision.channel_id,
        thread_ts=decision.thread_ts,
        text=schedule.text,
        blocks=schedule.blocks,
    )
    return ts


async def announce_decided(runtime: Runtime, decided: Decided) -> None:
    state = decided.state
    decision = state.decision
    delayed: SlackApiError | None = None
    try:
        await deliver_verdict(runtime, decision.team_id, state.id, state)
    except SlackApiError as exc:
        # Decided and committed, with the verdict's outbox row: the root shows the outcome now,
        # and the sweep posts the verdict in a minute or two.
        log.warning("decision #%s: verdict not posted (%s); queued", state.id, slack_error(exc))
        delayed = exc
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
    if delayed is not None:
        raise VerdictDelayed(
            f"Decision #{state.id} is decided, but Slack said {slack_error(delayed)} while I "
            "posted the verdict. I'll post it in this thread again in a few minutes; the root "
            "message already shows the outcome."
        ) from delayed
    await draft_summary(runtime, decided.state)  # after the verdict is out: the record's Context


async def announce_not_ready(runtime: Runtime, result: NotReady) -> None:
    """Decide met "not ready": say in the thread what's missing; the decision stays open."""
    state = result.state
    decision = state.decision
    message = not_ready_message(state, result.follow_up_at)
    await post_message(
        runtime.client,
        channel=decision.channel_id,
        thread_ts=decision.thread_ts,
        text=message.text,
        blocks=message.blocks,
    )
    await refresh(runtime, decision.team_id, state.id, [MessageKey.ROOT])
