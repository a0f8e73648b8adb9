"""The quarterly error analysis: *Start error analysis* on a review, the category buttons and
the note form of each failure, and *Next 10*. Each batch's message is re-rendered from storage
after every click, one render at a time per batch, so parallel readers all end up seeing the
last state."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext

from bot.domain.questions import MessageKey
from bot.services import error_analysis
from bot.services.analysis_views import BatchView, Changed
from handlers import analysis_payloads, payloads
from handlers.coalesce import Coalescer
from handlers.modal_acks import submitted
from handlers.runtime import Runtime, runtime_of
from handlers.slack_calls import post_message, tell
from handlers.thread import refresh
from handlers.ui.analysis_messages import (
    batch_done_message,
    batch_message,
    intro_message,
    note_modal,
)
from handlers.ui.ids import ActionId, CallbackId, InputId, matcher
from storage.models import utcnow

REPOST_AFTER = timedelta(minutes=1)
"""A batch still unposted this long after the analysis started never reached Slack: a click on
*Start error analysis* posts it. Sooner, another click is probably posting it right now."""

BatchKey = tuple[str, int, int]
"""(team_id, analysis_id, batch)."""

_renderers: dict[int, Coalescer[BatchKey]] = {}
"""One per runtime (keyed by its id): re-renders a batch's message."""


async def render_batch(rt: Runtime, key: BatchKey) -> None:
    team_id, analysis_id, batch = key
    view = await rt.call(
        error_analysis.batch_view, team_id=team_id, analysis_id=analysis_id, batch=batch
    )
    ts = view.analysis.message_ts.get(str(batch))
    if ts is None:
        return
    message = batch_message(view)
    await rt.client.chat_update(
        channel=view.decision.channel_id, ts=ts, text=message.text, blocks=message.blocks
    )


async def _refresh(rt: Runtime, changed: Changed) -> None:
    await _renderers[id(rt)].run((changed.team_id, changed.analysis_id, changed.batch))


async def _post_batch(rt: Runtime, view: BatchView) -> None:
    message = batch_message(view)
    decision = view.decision
    ts = await post_message(
        rt.client,
        channel=decision.channel_id,
        thread_ts=decision.thread_ts,
        text=message.text,
        blocks=message.blocks,
    )
    await rt.call(
        error_analysis.save_batch_ts,
        team_id=decision.team_id,
        analysis_id=view.id,
        batch=view.batch,
        ts=ts,
    )


async def start(ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext) -> None:
    await ack()
    rt, click = runtime_of(context), payloads.in_channel(payloads.click_of(body))
    decision_id, period = payloads.parts(click.value, 2)
    started = await rt.call(
        error_analysis.start_analysis,
        **click.at(payloads.number(decision_id)),
        period_end=analysis_payloads.period_end(period),
        user_id=click.user_id,
    )
    view, decision = started.view, started.view.decision
    ts = view.analysis.message_ts.get(str(view.batch))
    stuck = utcnow() - view.analysis.created_at > REPOST_AFTER
    if not started.started and ts is None and view.items and stuck:
        await _post_batch(rt, view)  # its batch never reached Slack (Slack refused it, say)
        return
    if not started.started:
        where = ""
        if ts:
            link = await rt.client.chat_getPermalink(channel=decision.channel_id, message_ts=ts)
            where = f": <{link['permalink']}|batch {view.batch + 1}> is the one to read now"
        text = f"The error analysis of this review is already under way{where}."
        await tell(rt.client, decision.channel_id, click.user_id, text, decision.thread_ts)
        return
    intro = intro_message(view, click.user_id)
    await post_message(
        rt.client,
        channel=decision.channel_id,
        thread_ts=decision.thread_ts,
        text=intro.text,
        blocks=intro.blocks,
    )
    await _post_batch(rt, view)


async def category(ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext) -> None:
    await ack()
    rt, click = runtime_of(context), payloads.in_channel(payloads.click_of(body))
    analysis_id, failure_id, chosen = payloads.parts(click.value, 3)
    assert click.channel_id is not None
    changed = await rt.call(
        error_analysis.read_failure,
        team_id=click.team_id,
        channel_id=click.channel_id,
        analysis_id=payloads.number(analysis_id),
        failure_id=payloads.number(failure_id),
        category=chosen,
        user_id=click.user_id,
        now=utcnow(),
    )
    await _refresh(rt, changed)
    # Like Review & correct: the thread's failure counts and conditions follow.
    keys = [MessageKey.FAILURES, MessageKey.ROOT]
    await refresh(rt, changed.team_id, changed.decision_id, keys)


async def open_note(ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext) -> None:
    await ack()
    rt, click = runtime_of(context), payloads.in_channel(payloads.click_of(body))
    analysis_id, failure_id = analysis_payloads.analysis_and_failure(click.value)
    assert click.channel_id is not None
    failure, note = await rt.call(
        error_analysis.note_of,
        team_id=click.team_id,
        channel_id=click.channel_id,
        analysis_id=analysis_id,
        failure_id=failure_id,
    )
    if not click.trigger_id:
        raise payloads.StaleButton()
    view = note_modal(analysis_id, failure_id, click.channel_id, failure.explanation, note)
    await rt.client.views_open(trigger_id=click.trigger_id, view=view)


async def save_note(ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext) -> None:
    submission = await submitted(ack, body, of_a_decision=False)
    assert submission is not None
    try:
        meta = analysis_payloads.note_meta(body)
    except payloads.StaleForm:
        await ack()
        raise
    await ack()
    rt = runtime_of(context)
    changed = await rt.call(
        error_analysis.note_failure,
        team_id=submission.team_id,
        channel_id=meta.channel_id,
        analysis_id=meta.analysis_id,
        failure_id=meta.failure_id,
        note=submission.text(InputId.NOTE),
        user_id=submission.user_id,
    )
    await _refresh(rt, changed)


async def next_batch(ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext) -> None:
    await ack()
    rt, click = runtime_of(context), payloads.in_channel(payloads.click_of(body))
    analysis_id, batch = analysis_payloads.analysis_and_batch(click.value)
    assert click.channel_id is not None
    done = await rt.call(
        error_analysis.next_batch,
        team_id=click.team_id,
        channel_id=click.channel_id,
        analysis_id=analysis_id,
        batch=batch,
        user_id=click.user_id,
    )
    await _refresh(rt, Changed(click.team_id, analysis_id, batch, done.decision.id or 0))
    summary = batch_done_message(done, click.user_id)
    channel, thread = done.decision.channel_id, done.decision.thread_ts
    await post_message(
        rt.client, channel=channel, thread_ts=thread, text=summary.text, blocks=summary.blocks
    )
    if done.next is not None:
        await _post_batch(rt, done.next)


def register(app: AsyncApp, runtime: Runtime) -> None:
    _renderers[id(runtime)] = Coalescer(lambda key: render_batch(runtime, key))
    app.action(matcher(ActionId.START_ANALYSIS))(start)
    app.action(matcher(ActionId.ANALYSIS_CATEGORY))(category)
    app.action(matcher(ActionId.ANALYSIS_NOTE))(open_note)
    app.action(matcher(ActionId.ANALYSIS_NEXT))(next_batch)
    app.view(CallbackId.ANALYSIS_NOTE)(save_note)
