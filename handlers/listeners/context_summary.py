"""The record's Context paragraph, drafted after Decide: keep the draft, or edit it in a modal."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext, AsyncRespond

from bot.services import assistance
from handlers import payloads
from handlers.modal_acks import submitted
from handlers.model_runs import ephemeral
from handlers.runtime import Runtime, runtime_of
from handlers.ui import assistance_messages as ui
from handlers.ui.ids import ActionId, CallbackId, InputId, matcher


def _draft(click: payloads.Click) -> tuple[int, str]:
    decision_id, draft = payloads.parts(click.value, 2)
    return payloads.number(decision_id), draft


async def keep(
    ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond, context: AsyncBoltContext
) -> None:
    await ack()
    rt, click = runtime_of(context), payloads.click_of(body)
    decision_id, draft = _draft(click)
    await rt.call(
        assistance.save_context_summary, **click.at(decision_id), user_id=click.user_id, text=draft
    )
    text = ui.summary_saved(decision_id)
    await respond(text=text, response_type="ephemeral", replace_original=True)


async def edit(ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext) -> None:
    await ack()
    rt, click = runtime_of(context), payloads.click_of(body)
    decision_id, draft = _draft(click)
    where = click.at(decision_id)
    decision = await rt.call(assistance.check_summary_editor, **where, user_id=click.user_id)
    if not click.trigger_id or decision.id is None:
        raise payloads.StaleButton()
    view = ui.summary_modal(decision.id, decision.context_summary or draft, decision.channel_id)
    await rt.client.views_open(trigger_id=click.trigger_id, view=view)


async def submit(ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext) -> None:
    submission = await submitted(ack, body, {InputId.SUMMARY: "Write a sentence or two."})
    if submission is None:
        return
    await ack()
    decision_id, text = submission.decision_id, submission.text(InputId.SUMMARY)
    rt = runtime_of(context)
    decision = await rt.call(
        assistance.save_context_summary, **submission.at(), user_id=submission.user_id, text=text
    )
    await ephemeral(rt, decision, submission.user_id, ui.summary_saved(decision_id))


def register(app: AsyncApp, runtime: Runtime) -> None:
    app.action(matcher(ActionId.KEEP_SUMMARY))(keep)
    app.action(matcher(ActionId.EDIT_SUMMARY))(edit)
    app.view(CallbackId.SUMMARY)(submit)
