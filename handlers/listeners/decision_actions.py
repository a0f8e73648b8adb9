"""Buttons and selects in a decision thread: answering, settling, owners, the Q3 and Q4 modals,
and accepting or changing the verdict (Decide is in ``decide_buttons``)."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext

from bot.domain.errors import NotAllowed
from bot.domain.questions import ANSWER_MESSAGE, AnswerKey, MessageKey, OwnerRole, Verdict
from bot.services import (
    answering,
    corrections,
    deciding,
    decision_records,
    failure_logging,
    guards,
)
from handlers import payloads
from handlers.listeners.lifecycle_buttons import owner_changed, update_review_modal
from handlers.runtime import Runtime, runtime_of
from handlers.thread import refresh
from handlers.ui import decision_modals as modals
from handlers.ui.ids import ActionId, BlockId, matcher

REVIEW_LIMIT = 45


def _answer(click: payloads.Click) -> tuple[int, AnswerKey, str]:
    """(decision id, question, value) of an answer button or a settle option."""
    decision_id, question, value = payloads.parts(click.value, 3)
    try:
        return payloads.number(decision_id), AnswerKey(question), value
    except ValueError:
        raise payloads.StaleButton() from None


async def answer(ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext) -> None:
    await ack()
    rt, click = runtime_of(context), payloads.click_of(body)
    decision_id, key, value = _answer(click)
    change = await rt.call(
        answering.record_choice,
        **click.at(decision_id),
        question=key,
        user_id=click.user_id,
        value=value,
    )
    if change.changed:
        await refresh(rt, click.team_id, decision_id, [ANSWER_MESSAGE[key], MessageKey.ROOT])


async def settle(ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext) -> None:
    await ack()
    rt, click = runtime_of(context), payloads.click_of(body)
    decision_id, key, value = _answer(click)
    await rt.call(
        answering.settle,
        **click.at(decision_id),
        question=key,
        user_id=click.user_id,
        value=value or None,
    )
    await refresh(rt, click.team_id, decision_id, [ANSWER_MESSAGE[key], MessageKey.ROOT])


async def owner(ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext) -> None:
    await ack()
    rt, click = runtime_of(context), payloads.click_of(body)
    prefix, decision_id, role = payloads.parts(click.block_id, 3)
    if prefix != BlockId.OWNER or role not in set(OwnerRole):
        raise payloads.StaleButton()
    where = click.at(payloads.number(decision_id))
    try:
        change = await rt.call(
            corrections.change_owner,
            **where,
            role=OwnerRole(role),
            owner_id=click.selected_user,
            user_id=click.user_id,
            is_admin=rt.admin_check(click.user_id),
        )
    except NotAllowed:  # the picker shows the refused pick: show the owner who stays
        await refresh(rt, click.team_id, where["decision_id"], [MessageKey.OWNERS], redraw=True)
        raise
    await owner_changed(rt, change, click.user_id)


async def _open(rt: Runtime, click: payloads.Click, view: dict[str, Any]) -> None:
    if not click.trigger_id:
        raise payloads.StaleButton()
    await rt.client.views_open(trigger_id=click.trigger_id, view=view)


async def labeled_examples(ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext) -> None:
    await ack()
    rt, (click, decision_id) = runtime_of(context), payloads.decision_click(body)
    state = await rt.call(decision_records.find_state, **click.at(decision_id))
    channel = state.decision.channel_id
    await _open(rt, click, modals.labeled_examples_modal(state.id, state.labeled_examples, channel))


async def add_failures(ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext) -> None:
    await ack()
    rt, (click, decision_id) = runtime_of(context), payloads.decision_click(body)
    state = await rt.call(decision_records.find_state, **click.at(decision_id))
    channel = state.decision.channel_id
    await _open(rt, click, modals.add_failures_modal(state.id, state.decision.title, channel))


async def review_failures(ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext) -> None:
    await ack()
    rt, (click, decision_id) = runtime_of(context), payloads.decision_click(body)
    state, latest, total = await rt.call(
        decision_records.failures_for_review, **click.at(decision_id), limit=REVIEW_LIMIT
    )
    owners = modals.owners_to_clear(state)
    view = modals.review_failures_modal(
        state.id, latest, total, state.decision.channel_id, owners=owners
    )
    await _open(rt, click, view)


async def correct_failure(ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext) -> None:
    await ack()
    rt, click, meta = runtime_of(context), payloads.click_of(body), payloads.view_meta(body)
    failure_id, category = payloads.parts(click.value, 2)
    if meta.decision_id is None:
        raise payloads.StaleButton()
    if category == modals.DELETE_FAILURE:
        await delete_failure(rt, body, click, meta, payloads.number(failure_id))
        return
    await rt.call(
        failure_logging.correct_failure,
        team_id=click.team_id,
        channel_id=meta.channel_id or guards.OPENED_IN_ITS_OWN_CHANNEL,
        decision_id=meta.decision_id,
        failure_id=payloads.number(failure_id),
        category=category,
        user_id=click.user_id,
    )
    await refresh(rt, click.team_id, meta.decision_id, [MessageKey.FAILURES, MessageKey.ROOT])


async def delete_failure(
    rt: Runtime,
    body: dict[str, Any],
    click: payloads.Click,
    meta: payloads.ModalMeta,
    failure_id: int,
) -> None:
    assert meta.decision_id is not None
    where = {
        "team_id": click.team_id,
        "channel_id": meta.channel_id or guards.OPENED_IN_ITS_OWN_CHANNEL,
        "decision_id": meta.decision_id,
    }
    await rt.call(
        corrections.delete_failure,
        **where,
        failure_id=failure_id,
        user_id=click.user_id,
        is_admin=rt.admin_check(click.user_id),
    )
    await refresh(rt, click.team_id, meta.decision_id, [MessageKey.FAILURES, MessageKey.ROOT])
    await update_review_modal(rt, body, where)


async def accept(ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext) -> None:
    await ack()
    rt, (click, decision_id) = runtime_of(context), payloads.decision_click(body)
    where = click.at(decision_id)
    await rt.call(deciding.record_final_choice, **where, user_id=click.user_id, choice=None)
    await refresh(rt, click.team_id, decision_id, [MessageKey.VERDICT, MessageKey.ROOT])


async def override(ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext) -> None:
    await ack()
    rt, (click, decision_id) = runtime_of(context), payloads.decision_click(body)
    decision = await rt.call(
        deciding.check_override, **click.at(decision_id), user_id=click.user_id
    )
    verdict = Verdict(decision.verdict or Verdict.RAG)
    outcome = Verdict(decision.final_choice) if decision.final_choice else None
    view = modals.override_modal(decision_id, verdict, decision.channel_id, outcome)
    await _open(rt, click, view)


LISTENERS = {
    ActionId.ANSWER: answer,
    ActionId.SETTLE: settle,
    ActionId.OWNER: owner,
    ActionId.LABELED_EXAMPLES: labeled_examples,
    ActionId.ADD_FAILURES: add_failures,
    ActionId.REVIEW_FAILURES: review_failures,
    ActionId.CORRECT_FAILURE: correct_failure,
    ActionId.ACCEPT: accept,
    ActionId.OVERRIDE: override,
}


def register(app: AsyncApp, runtime: Runtime) -> None:
    for action, listener in LISTENERS.items():
        app.action(matcher(action))(listener)
