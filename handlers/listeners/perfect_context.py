"""The perfect-context test from Q1: the button that opens its modal, the submission that runs
it, and the team's judgement of the result."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext, AsyncRespond

from bot.domain.lifecycle import DecisionStatus
from bot.domain.questions import MessageKey
from bot.services import assistance
from handlers import payloads
from handlers.modal_acks import submitted
from handlers.model_runs import ephemeral, replace, run_test
from handlers.runtime import Runtime, runtime_of
from handlers.thread import refresh
from handlers.ui import assistance_messages as ui
from handlers.ui.ids import ActionId, CallbackId, InputId, matcher

TEST_INPUTS = (InputId.TEST_QUESTION, InputId.TEST_CONTEXT, InputId.TEST_EXPECTED)


async def open_test(
    ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond, context: AsyncBoltContext
) -> None:
    await ack()
    rt, (click, decision_id) = runtime_of(context), payloads.decision_click(body)
    if rt.llm is None:
        await respond(text=ui.NO_KEY_TEST, response_type="ephemeral", replace_original=False)
        return
    decision = await rt.call(assistance.check_context_test, **click.at(decision_id))
    if not click.trigger_id:
        raise payloads.StaleButton()
    view = ui.context_test_modal(decision_id, decision.title, decision.channel_id)
    await rt.client.views_open(trigger_id=click.trigger_id, view=view)


async def submit_test(ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext) -> None:
    submission = await submitted(ack, body, dict.fromkeys(TEST_INPUTS, "Fill this in."))
    if submission is None:
        return
    await ack()
    where = submission.at()
    fields = {input_id: submission.text(input_id) for input_id in TEST_INPUTS}
    rt = runtime_of(context)
    decision = await rt.call(assistance.check_context_test, **where)
    if rt.llm is None:  # the key went away after the modal opened
        await ephemeral(rt, decision, submission.user_id, ui.NO_KEY_TEST)
        return
    test = await rt.call(
        assistance.start_context_test,
        **where,
        user_id=submission.user_id,
        question=fields[InputId.TEST_QUESTION],
        context=fields[InputId.TEST_CONTEXT],
        expected=fields[InputId.TEST_EXPECTED],
    )
    await run_test(rt, decision=decision, test=test)


async def judge(ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext) -> None:
    await ack()
    rt, click = runtime_of(context), payloads.in_channel(payloads.click_of(body))
    test_id, judgement = payloads.parts(click.value, 2)
    test, decision = await rt.call(
        assistance.judge_context_test,
        team_id=click.team_id,
        channel_id=click.channel_id,
        test_id=payloads.number(test_id),
        user_id=click.user_id,
        judgement=judgement,
    )
    if test.message_ts:
        message = ui.context_test_result(test, decision.status == DecisionStatus.OPEN)
        await replace(rt, decision.channel_id, test.message_ts, message)
    keys = [MessageKey.PROBLEM_TYPE, MessageKey.ROOT]
    await refresh(rt, click.team_id, test.decision_id, keys)


def register(app: AsyncApp, runtime: Runtime) -> None:
    app.action(matcher(ActionId.RUN_CONTEXT_TEST))(open_test)
    app.view(CallbackId.CONTEXT_TEST)(submit_test)
    app.action(matcher(ActionId.JUDGE_CONTEXT_TEST))(judge)
