"""Buttons of the lifecycle: confirming a start, a withdraw or a delete (or cancelling), a
teammate withdrawing their own answer, and clearing an owner from *Review & correct*."""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext, AsyncRespond
from slack_sdk.errors import SlackApiError

from bot.domain.command_parser import parse_command
from bot.domain.questions import ANSWER_MESSAGE, AnswerKey, MessageKey, OwnerRole
from bot.services import corrections, decision_records, guards, lifecycle_actions
from handlers import payloads
from handlers.runtime import Runtime, runtime_of
from handlers.slack_calls import post_message, slack_error
from handlers.thread import refresh
from handlers.ui import confirm_messages as confirm
from handlers.ui import decision_modals as modals
from handlers.ui.ids import SEPARATOR, ActionId, matcher

log = logging.getLogger("ragft")

REVIEW_LIMIT = 45
_NONCE = re.compile(f"[0-9a-f]{{{2 * confirm.START_NONCE_BYTES}}}")


async def _done(respond: AsyncRespond, text: str | None = None) -> None:
    """Replace the ephemeral confirmation with what happened (or remove it)."""
    if text is None:
        await respond(delete_original=True)
    else:
        await respond(text=text, replace_original=True, response_type="ephemeral")


async def start_confirmed(
    ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond, context: AsyncBoltContext
) -> None:
    await ack()
    rt, click = runtime_of(context), payloads.in_channel(payloads.click_of(body))
    nonce, _, value = click.value.partition(SEPARATOR)
    if not _NONCE.fullmatch(nonce):  # a preview from before Start carried a nonce
        nonce, value = "", click.value
    title = parse_command(f"start {value}").title or ""
    assert click.channel_id is not None
    state = await rt.call(
        lifecycle_actions.start_once,
        team_id=click.team_id,
        channel_id=click.channel_id,
        title=title,
        facilitator_id=click.user_id,
        nonce=nonce or None,
    )
    await _done(respond)
    place = payloads.Where(channel=click.channel_id, user=click.user_id)
    rt.threads.post(state, place=place, respond=respond)


async def cancel(ack: AsyncAck, respond: AsyncRespond) -> None:
    await ack()
    await _done(respond)


async def note_in_thread(rt: Runtime, channel: str, thread_ts: str | None, text: str) -> None:
    if thread_ts:
        await post_message(rt.client, channel=channel, thread_ts=thread_ts, text=text)


async def withdraw_confirmed(
    ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond, context: AsyncBoltContext
) -> None:
    await ack()
    rt, (click, decision_id) = runtime_of(context), payloads.decision_click(body)
    decision = await rt.call(
        lifecycle_actions.withdraw,
        **click.at(decision_id),
        user_id=click.user_id,
        is_admin=rt.admin_check(click.user_id),
    )
    await _done(respond, f"Withdrew decision #{decision_id}. Its record is kept.")
    await refresh(rt, click.team_id, decision_id, decision.message_ts.keys())
    note = confirm.withdrawn_note(decision, click.user_id)
    await note_in_thread(rt, decision.channel_id, decision.thread_ts, note)


async def _bot_replies(rt: Runtime, channel: str, thread_ts: str, bot_user: str | None) -> list:
    """The bot's messages in the thread, where ragft may read it (else none)."""
    try:
        found = (await rt.client.conversations_replies(channel=channel, ts=thread_ts, limit=200))[
            "messages"
        ]
    except SlackApiError as exc:
        log.info("conversations.replies failed: %s", slack_error(exc))
        return []
    return [m["ts"] for m in found if bot_user and m.get("user") == bot_user and m.get("ts")]


async def delete_confirmed(
    ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond, context: AsyncBoltContext
) -> None:
    await ack()
    rt, (click, decision_id) = runtime_of(context), payloads.decision_click(body)
    erased = await rt.call(
        lifecycle_actions.delete,
        **click.at(decision_id),
        user_id=click.user_id,
        is_admin=rt.admin_check(click.user_id),
        tz_of=rt.tz_of,
    )
    posted = list(erased.message_ts)
    if erased.thread_ts:
        found = await _bot_replies(rt, erased.channel_id, erased.thread_ts, context.bot_user_id)
        posted = [ts for ts in dict.fromkeys([*found, *posted]) if ts != erased.thread_ts]
        posted.append(erased.thread_ts)  # the root last, once its replies are gone
    kept = 0
    for ts in posted:
        try:
            await rt.client.chat_delete(channel=erased.channel_id, ts=ts)
        except SlackApiError as exc:
            if slack_error(exc) != "message_not_found":
                kept += 1
                log.info("chat.delete %s failed: %s", ts, slack_error(exc))
    await _done(
        respond, confirm.deleted_text(erased.decision_id, erased.title, kept, erased.restored)
    )


async def withdraw_answer(ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext) -> None:
    await ack()
    rt, click = runtime_of(context), payloads.in_channel(payloads.click_of(body))
    decision_id, question = payloads.parts(click.value, 2)
    if question not in set(AnswerKey):
        raise payloads.StaleButton()
    where = click.at(payloads.number(decision_id))
    await rt.call(corrections.withdraw_answer, **where, question=question, user_id=click.user_id)
    keys = [ANSWER_MESSAGE[AnswerKey(question)], MessageKey.ROOT]
    await refresh(rt, click.team_id, where["decision_id"], keys)


async def owner_changed(rt: Runtime, change: corrections.OwnerChange, user_id: str) -> None:
    """Refresh Q4 and the root; say in the thread who replaced or cleared whom."""
    decision = change.decision
    assert decision.id is not None
    if not change.changed:
        return
    await refresh(rt, decision.team_id, decision.id, [MessageKey.OWNERS, MessageKey.ROOT])
    note = confirm.owner_note(change.role, change.old, change.new, user_id)
    if note:
        await note_in_thread(rt, decision.channel_id, decision.thread_ts, note)


async def update_review_modal(rt: Runtime, body: dict[str, Any], where: dict[str, Any]) -> None:
    """Show *Review & correct* again, as it is now."""
    view_id = payloads.view_id_of(body)
    if view_id is None:
        return
    state, latest, total = await rt.call(
        decision_records.failures_for_review, **where, limit=REVIEW_LIMIT
    )
    view = modals.review_failures_modal(
        state.id, latest, total, state.decision.channel_id, owners=modals.owners_to_clear(state)
    )
    await rt.client.views_update(view_id=view_id, view=view)


async def clear_owner(ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext) -> None:
    await ack()
    rt, click, meta = runtime_of(context), payloads.click_of(body), payloads.view_meta(body)
    decision_id, role = payloads.parts(click.value, 2)
    if role not in set(OwnerRole) or meta.decision_id != payloads.number(decision_id):
        raise payloads.StaleButton()
    where = {
        "team_id": click.team_id,
        "channel_id": meta.channel_id or guards.OPENED_IN_ITS_OWN_CHANNEL,
        "decision_id": meta.decision_id,
    }
    change = await rt.call(
        corrections.change_owner,
        **where,
        role=OwnerRole(role),
        owner_id=None,
        user_id=click.user_id,
        is_admin=rt.admin_check(click.user_id),
    )
    await owner_changed(rt, change, click.user_id)
    await update_review_modal(rt, body, where)


LISTENERS = {
    ActionId.START_CONFIRMED: start_confirmed,
    ActionId.CANCEL: cancel,
    ActionId.WITHDRAW_CONFIRMED: withdraw_confirmed,
    ActionId.DELETE_CONFIRMED: delete_confirmed,
    ActionId.WITHDRAW_ANSWER: withdraw_answer,
    ActionId.CLEAR_OWNER: clear_owner,
}


def register(app: AsyncApp, runtime: Runtime) -> None:
    for action, listener in LISTENERS.items():
        app.action(matcher(action))(listener)
