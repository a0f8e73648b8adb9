"""Buttons and selects in a decision thread: answering, settling, owners, the Q3 and Q4 modals,
Decide, and accepting or changing the verdict."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext

from bot.domain.questions import ANSWER_MESSAGE, AnswerKey, MessageKey, OwnerRole, Verdict
from bot.services import answering, deciding, decision_records, failure_logging
from handlers import payloads
from handlers.announce import announce_decided
from handlers.runtime import Runtime, runtime_of
from handlers.slack_calls import is_admin, user_tz
from handlers.thread import refresh
from handlers.ui import decision_modals as modals
from handlers.ui.ids import ActionId, matcher
from storage.repositories import failure_repo

REVIEW_LIMIT = 45


def _answer_key(text: str) -> AnswerKey:
    try:
        return AnswerKey(text)
    except ValueError:
        raise payloads.StaleButton() from None


async def answer(ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext) -> None:
    await ack()
    click = payloads.in_channel(payloads.click_of(body))
    decision_id, question, value = payloads.parts(click.value, 3)
    decision_id, key = payloads.number(decision_id), _answer_key(question)
    rt = runtime_of(context)
    async with rt.sessions() as session:
        change = await answering.record_choice(
            session=session,
            team_id=click.team_id,
            channel_id=click.channel_id or "",
            decision_id=decision_id,
            question=key,
            user_id=click.user_id,
            value=value,
        )
    if change.changed:
        await refresh(rt, click.team_id, decision_id, [ANSWER_MESSAGE[key], MessageKey.ROOT])


async def settle(ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext) -> None:
    await ack()
    click = payloads.in_channel(payloads.click_of(body))
    decision_id, question, value = payloads.parts(click.value, 3)
    decision_id, key = payloads.number(decision_id), _answer_key(question)
    rt = runtime_of(context)
    async with rt.sessions() as session:
        await answering.settle(
            session=session,
            team_id=click.team_id,
            channel_id=click.channel_id or "",
            decision_id=decision_id,
            question=key,
            user_id=click.user_id,
            value=value or None,
        )
    await refresh(rt, click.team_id, decision_id, [ANSWER_MESSAGE[key], MessageKey.ROOT])


async def owner(ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext) -> None:
    await ack()
    click = payloads.in_channel(payloads.click_of(body))
    _, decision_id, role = payloads.parts(click.block_id, 3)
    if role not in set(OwnerRole):
        raise payloads.StaleButton()
    rt = runtime_of(context)
    async with rt.sessions() as session:
        await answering.assign_owner(
            session=session,
            team_id=click.team_id,
            channel_id=click.channel_id or "",
            decision_id=payloads.number(decision_id),
            role=OwnerRole(role),
            owner_id=click.selected_user,
            user_id=click.user_id,
        )
    await refresh(rt, click.team_id, int(decision_id), [MessageKey.OWNERS, MessageKey.ROOT])


async def _open(rt: Runtime, click: payloads.Click, view: dict[str, Any]) -> None:
    if not click.trigger_id:
        raise payloads.StaleButton()
    await rt.client.views_open(trigger_id=click.trigger_id, view=view)


async def labeled_examples(ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext) -> None:
    await ack()
    click, decision_id = payloads.decision_click(body)
    rt = runtime_of(context)
    async with rt.sessions() as session:
        state = await decision_records.find_state(
            session=session,
            team_id=click.team_id,
            channel_id=click.channel_id or "",
            decision_id=decision_id,
        )
    view = modals.labeled_examples_modal(
        decision_id, state.labeled_examples, state.decision.channel_id
    )
    await _open(rt, click, view)


async def add_failures(ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext) -> None:
    await ack()
    click, decision_id = payloads.decision_click(body)
    rt = runtime_of(context)
    async with rt.sessions() as session:
        state = await decision_records.find_state(
            session=session,
            team_id=click.team_id,
            channel_id=click.channel_id or "",
            decision_id=decision_id,
        )
    view = modals.add_failures_modal(decision_id, state.decision.title, state.decision.channel_id)
    await _open(rt, click, view)


async def review_failures(ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext) -> None:
    await ack()
    click, decision_id = payloads.decision_click(body)
    rt = runtime_of(context)
    async with rt.sessions() as session:
        state = await decision_records.find_state(
            session=session,
            team_id=click.team_id,
            channel_id=click.channel_id or "",
            decision_id=decision_id,
        )
        failures = await failure_repo.list_failures(
            session=session, team_id=click.team_id, decision_id=decision_id
        )
    latest = list(failures)[-REVIEW_LIMIT:][::-1]
    view = modals.review_failures_modal(
        decision_id, latest, len(failures), state.decision.channel_id
    )
    await _open(rt, click, view)


async def correct_failure(ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext) -> None:
    await ack()
    click, meta = payloads.click_of(body), payloads.view_meta(body)
    failure_id, category = payloads.parts(click.value, 2)
    if meta.decision_id is None:
        raise payloads.StaleButton()
    rt = runtime_of(context)
    async with rt.sessions() as session:
        await failure_logging.correct_failure(
            session=session,
            team_id=click.team_id,
            channel_id=meta.channel_id,
            decision_id=meta.decision_id,
            failure_id=payloads.number(failure_id),
            category=category,
            user_id=click.user_id,
        )
    await refresh(rt, click.team_id, meta.decision_id, [MessageKey.FAILURES, MessageKey.ROOT])


async def decide(ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext) -> None:
    await ack()
    click, decision_id = payloads.decision_click(body)
    rt = runtime_of(context)
    async with rt.sessions() as session:
        decided = await deciding.decide(
            session=session,
            team_id=click.team_id,
            channel_id=click.channel_id or "",
            decision_id=decision_id,
            user_id=click.user_id,
            is_admin=lambda: is_admin(rt.client, click.user_id),
            tz_of=lambda user: user_tz(rt.client, user),
        )
    await announce_decided(rt, decided)


async def accept(ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext) -> None:
    await ack()
    click, decision_id = payloads.decision_click(body)
    rt = runtime_of(context)
    async with rt.sessions() as session:
        await deciding.record_final_choice(
            session=session,
            team_id=click.team_id,
            channel_id=click.channel_id or "",
            decision_id=decision_id,
            user_id=click.user_id,
            choice=None,
            reason=None,
        )
    await refresh(rt, click.team_id, decision_id, [MessageKey.VERDICT, MessageKey.ROOT])


async def override(ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext) -> None:
    await ack()
    click, decision_id = payloads.decision_click(body)
    rt = runtime_of(context)
    async with rt.sessions() as session:
        decision = await deciding.check_override(
            session=session,
            team_id=click.team_id,
            channel_id=click.channel_id or "",
            decision_id=decision_id,
            user_id=click.user_id,
        )
    verdict = Verdict(decision.verdict or Verdict.RAG)
    await _open(rt, click, modals.override_modal(decision_id, verdict, decision.channel_id))


LISTENERS = {
    ActionId.ANSWER: answer,
    ActionId.SETTLE: settle,
    ActionId.OWNER: owner,
    ActionId.LABELED_EXAMPLES: labeled_examples,
    ActionId.ADD_FAILURES: add_failures,
    ActionId.REVIEW_FAILURES: review_failures,
    ActionId.CORRECT_FAILURE: correct_failure,
    ActionId.DECIDE: decide,
    ActionId.ACCEPT: accept,
    ActionId.OVERRIDE: override,
}


def register(app: AsyncApp, runtime: Runtime) -> None:
    for action, listener in LISTENERS.items():
        app.action(matcher(action))(listener)
