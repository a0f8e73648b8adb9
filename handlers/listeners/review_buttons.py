"""The review's buttons (Reviewed, Snooze a week, Re-run the diagnostic) and the cadence
select under the verdict and on each review."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext, AsyncRespond

from bot.domain.questions import OwnerRole
from bot.services import reminder_work, review_routine
from handlers import payloads
from handlers.rerun import rerun_diagnostic
from handlers.runtime import Runtime, runtime_of
from handlers.slack_calls import post_message
from handlers.thread import refresh_root
from handlers.ui.command_replies import cadence_text
from handlers.ui.ids import ActionId, matcher
from handlers.ui.review_messages import review_message, reviewed_note, snoozed_note
from storage.models import Decision, utcnow


async def _in_thread(rt: Runtime, decision: Decision, text: str) -> None:
    await post_message(
        rt.client, channel=decision.channel_id, thread_ts=decision.thread_ts, text=text
    )


async def reviewed(ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext) -> None:
    await ack()
    rt, (click, decision_id) = runtime_of(context), payloads.decision_click(body)
    message_ts = payloads.message_ts_of(body)
    closed = await rt.call(
        review_routine.mark_reviewed,
        **click.at(decision_id),
        user_id=click.user_id,
        now=utcnow(),
        tz_of=rt.tz_of,
        message_ts=message_ts,
    )
    decision = closed.decision
    if closed.review is not None and message_ts:
        await _close_review_message(rt, decision, closed.review, message_ts)
    await _in_thread(rt, decision, reviewed_note(decision, click.user_id))
    await refresh_root(rt, click.team_id, decision_id, bool(decision.message_ts))


async def _close_review_message(
    rt: Runtime, decision: Decision, review: dict[str, Any], message_ts: str
) -> None:
    """The review as it was posted, its buttons replaced by who reviewed it and when."""
    assert decision.id is not None
    period_end = datetime.fromisoformat(review["period_end"])
    facts = await rt.call(
        reminder_work.review_facts,
        team_id=decision.team_id,
        decision_id=decision.id,
        period_end=period_end,
    )
    steps = review.get("steps") or {}
    departed = [(OwnerRole(role), user) for role, user in steps.get("departed", [])]
    message = review_message(
        facts.state,
        facts.evidence,
        now=period_end,
        departed=departed,
        chart_attached=bool(steps.get("chart")),
        reviewed=(review["reviewed_by"], datetime.fromisoformat(review["reviewed_at"])),
    )
    await rt.client.chat_update(
        channel=decision.channel_id, ts=message_ts, text=message.text, blocks=message.blocks
    )


async def snooze(ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext) -> None:
    await ack()
    rt, (click, decision_id) = runtime_of(context), payloads.decision_click(body)
    where = click.at(decision_id)
    decision = await rt.call(
        review_routine.snooze,
        **where,
        now=utcnow(),
        tz_of=rt.tz_of,
        message_ts=payloads.message_ts_of(body),
    )
    await _in_thread(rt, decision, snoozed_note(decision, click.user_id))
    await refresh_root(rt, click.team_id, decision_id, bool(decision.message_ts))


async def rerun(ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext) -> None:
    await ack()
    rt, (click, decision_id) = runtime_of(context), payloads.decision_click(body)
    await rerun_diagnostic(rt, **click.at(decision_id), user_id=click.user_id)


async def cadence_selected(
    ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond, context: AsyncBoltContext
) -> None:
    await ack()
    rt, click = runtime_of(context), payloads.click_of(body)
    decision_id, days = payloads.parts(click.value, 2)
    decision = await rt.call(
        review_routine.set_cadence,
        **click.at(payloads.number(decision_id)),
        days=payloads.integer(days),
        now=utcnow(),
        tz_of=rt.tz_of,
    )
    assert decision.id is not None
    await refresh_root(rt, click.team_id, decision.id, bool(decision.message_ts))
    await respond(text=cadence_text(decision), response_type="ephemeral", replace_original=False)


def register(app: AsyncApp, runtime: Runtime) -> None:
    app.action(matcher(ActionId.REVIEWED))(reviewed)
    app.action(matcher(ActionId.SNOOZE))(snooze)
    app.action(matcher(ActionId.RERUN))(rerun)
    app.action(matcher(ActionId.CADENCE))(cadence_selected)
