"""The model-assisted steps in Slack: categorising with a visible working state, the
perfect-context test, and drafting the record's Context paragraph.

Every model call happens after the ack (Bolt runs the rest of a listener in the background), and
while it runs the thread shows a "working…" message that is then replaced by the result or by a
clear error. Without ``OPENAI_API_KEY`` categorising falls back to the offline classifier and the
other steps explain how to turn them on.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.domain.errors import NotAllowed
from bot.domain.failure_lines import ParsedFailure
from bot.domain.questions import VERDICT_LABELS, CategorySource, QuestionKey, Verdict
from bot.llm.client import LLMError, run_context_test, summarise_thread
from bot.services import assistance as assist
from bot.services import state as decisions
from bot.services.state import Categorised, DecisionState
from handlers.runtime import Runtime
from handlers.slack_calls import post_message, team_id_of
from handlers.thread import refresh
from handlers.ui import assistance_messages as ui
from handlers.ui.ids import ActionId, CallbackId, InputId, matcher, unpack
from handlers.ui.thread_messages import Message
from storage.models import Decision, DecisionStatus
from storage.repositories import context_test_repo as context_tests

log = logging.getLogger("ragft")

THREAD_PAGES = 5
"""conversations.replies pages read at most (200 messages each)."""


async def _post_working(runtime: Runtime, decision: Decision, message: Message) -> str:
    return await post_message(
        runtime.client,
        channel=decision.channel_id,
        thread_ts=decision.thread_ts,
        text=message.text,
        blocks=message.blocks,
    )


async def _replace(runtime: Runtime, channel: str, ts: str, message: Message) -> None:
    await runtime.client.chat_update(
        channel=channel, ts=ts, text=message.text, blocks=message.blocks
    )


async def _ephemeral(
    runtime: Runtime, decision: Decision, user_id: str, message: Message | str
) -> None:
    if isinstance(message, str):
        message = Message(text=message, blocks=[])
    await runtime.client.chat_postEphemeral(
        channel=decision.channel_id,
        user=user_id,
        thread_ts=decision.thread_ts,
        text=message.text,
        blocks=message.blocks or None,
    )


# Categorising ------------------------------------------------------------------------------------


async def categorise_in_thread(
    runtime: Runtime,
    *,
    team_id: str,
    decision_id: int,
    user_id: str,
    failures: Sequence[ParsedFailure],
) -> list[Categorised]:
    """Categorise (see ``decisions.categorise``); with a model, the thread shows it working."""
    if runtime.llm is None:
        return decisions.categorise_offline(failures)
    async with runtime.sessions() as session:
        decision = await decisions.get_decision(
            session=session, team_id=team_id, decision_id=decision_id
        )
    working = Message(text=ui.categorising_text(len(failures), user_id), blocks=[])
    ts = await _post_working(runtime, decision, working)
    categorised = await decisions.categorise(failures, runtime.llm)
    offline = sum(1 for item in categorised if item.source != CategorySource.LLM)
    text = ui.categorised_text([item.category for item in categorised], offline, user_id)
    await _replace(runtime, decision.channel_id, ts, Message(text=text, blocks=[]))
    return categorised


# The perfect-context test ------------------------------------------------------------------------


def _value(values: dict[str, Any], input_id: InputId) -> str:
    return ((values.get(input_id, {}).get(input_id) or {}).get("value") or "").strip()


async def run_test(runtime: Runtime, *, team_id: str, test_id: int) -> None:
    """Ask the model (after the ack), then replace the working message with the result."""
    assert runtime.llm is not None
    async with runtime.sessions() as session:
        test = await context_tests.get_test(session=session, team_id=team_id, test_id=test_id)
        assert test is not None
        decision = await decisions.get_decision(
            session=session, team_id=team_id, decision_id=test.decision_id
        )
    ts = await _post_working(runtime, decision, ui.context_test_running(test))
    async with runtime.sessions() as session, session.begin():
        await context_tests.set_message_ts(
            session=session, team_id=team_id, test_id=test_id, message_ts=ts
        )
    await refresh(runtime, team_id, test.decision_id, [QuestionKey.PROBLEM_TYPE])
    try:
        result = await run_context_test(
            runtime.llm, question=test.question, context=test.context, expected=test.expected
        )
    except LLMError as exc:
        async with runtime.sessions() as session, session.begin():
            await context_tests.fail_test(
                session=session, team_id=team_id, test_id=test_id, error=str(exc)
            )
        await _replace(runtime, decision.channel_id, ts, ui.context_test_failed(test, str(exc)))
        await refresh(runtime, team_id, test.decision_id, [QuestionKey.PROBLEM_TYPE])
        return
    async with runtime.sessions() as session, session.begin():
        done = await assist.finish_context_test(
            session=session,
            team_id=team_id,
            test=test,
            answer_without=result.answer_without,
            answer_with=result.answer_with,
            model_judgement=result.judgement,
            model_rationale=result.rationale,
            usage=result.usage,
        )
    await _replace(runtime, decision.channel_id, ts, ui.context_test_result(done, True))
    await refresh(runtime, team_id, test.decision_id, [QuestionKey.PROBLEM_TYPE])


# The record's Context paragraph ------------------------------------------------------------------


async def _thread_messages(runtime: Runtime, decision: Decision) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    cursor = None
    for _ in range(THREAD_PAGES):
        response = await runtime.client.conversations_replies(
            channel=decision.channel_id, ts=decision.thread_ts or "", limit=200, cursor=cursor
        )
        messages.extend(response.get("messages") or [])
        cursor = (response.get("response_metadata") or {}).get("next_cursor")
        if not response.get("has_more") or not cursor:
            break
    return messages


async def draft_summary(runtime: Runtime, state: DecisionState) -> None:
    """After the verdict: draft the Context paragraph and show it to the facilitator."""
    decision = state.decision
    facilitator = decision.facilitator_id
    if runtime.llm is None:
        await _ephemeral(
            runtime, decision, facilitator, ui.summary_write_yourself(state.id, ui.NO_KEY_SUMMARY)
        )
        return
    try:
        thread = await _thread_messages(runtime, decision)
    except SlackApiError as exc:
        log.warning("couldn't read decision #%s's thread: %s", state.id, exc.response.get("error"))
        note = (
            "I couldn't read this thread to draft the record's *Context* paragraph (Slack said "
            f"`{exc.response.get('error')}`). You can write it yourself."
        )
        await _ephemeral(runtime, decision, facilitator, ui.summary_write_yourself(state.id, note))
        return
    texts = assist.human_messages(thread)
    if not texts:
        note = (
            "Nobody has written in this thread yet, so there's no discussion to summarise for "
            "the record's *Context* paragraph. You can write it yourself."
        )
        await _ephemeral(runtime, decision, facilitator, ui.summary_write_yourself(state.id, note))
        return
    ts = await _post_working(runtime, decision, ui.summary_working())
    verdict = VERDICT_LABELS[Verdict(decision.verdict or state.recommendation.verdict)]
    try:
        draft = await summarise_thread(
            runtime.llm, title=decision.title, verdict=verdict, messages=texts
        )
    except LLMError as exc:
        await _replace(runtime, decision.channel_id, ts, ui.summary_failed(facilitator, str(exc)))
        note = f"I couldn't draft the record's *Context* paragraph: {exc}."
        await _ephemeral(runtime, decision, facilitator, ui.summary_write_yourself(state.id, note))
        return
    async with runtime.sessions() as session, session.begin():
        await assist.record_usage(
            session=session, team_id=decision.team_id, decision_id=state.id, usage=draft.usage
        )
    await _replace(runtime, decision.channel_id, ts, ui.summary_drafted(facilitator))
    await _ephemeral(runtime, decision, facilitator, ui.summary_draft(state.id, draft.value))


# Listeners ---------------------------------------------------------------------------------------


def register(app: AsyncApp, runtime: Runtime) -> None:
    @app.action(matcher(ActionId.RUN_CONTEXT_TEST))
    async def open_context_test(
        ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, respond: AsyncRespond
    ) -> None:
        await ack()
        decision_id = int(body["actions"][0]["value"])
        if runtime.llm is None:
            await respond(text=ui.NO_KEY_TEST, response_type="ephemeral", replace_original=False)
            return
        async with runtime.sessions() as session:
            decision = await decisions.get_decision(
                session=session, team_id=team_id_of(body), decision_id=decision_id
            )
        if decision.status != DecisionStatus.OPEN:
            raise NotAllowed(f"Decision #{decision_id} is already {decision.status}.")
        await client.views_open(
            trigger_id=body["trigger_id"],
            view=ui.context_test_modal(decision_id, decision.title),
        )

    @app.view(CallbackId.CONTEXT_TEST)
    async def submit_context_test(
        ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]
    ) -> None:
        values = view["state"]["values"]
        fields = {
            input_id: _value(values, input_id)
            for input_id in (InputId.TEST_QUESTION, InputId.TEST_CONTEXT, InputId.TEST_EXPECTED)
        }
        missing = {input_id: "Fill this in." for input_id, text in fields.items() if not text}
        if missing:
            await ack(response_action="errors", errors=missing)
            return
        await ack()
        team_id, user_id = body["team"]["id"], body["user"]["id"]
        decision_id = int(json.loads(view["private_metadata"])["decision_id"])
        async with runtime.sessions() as session, session.begin():
            if runtime.llm is None:  # the key went away after the modal opened
                decision = await decisions.get_decision(
                    session=session, team_id=team_id, decision_id=decision_id
                )
                test_id = None
            else:
                test = await assist.start_context_test(
                    session=session,
                    team_id=team_id,
                    decision_id=decision_id,
                    user_id=user_id,
                    question=fields[InputId.TEST_QUESTION],
                    context=fields[InputId.TEST_CONTEXT],
                    expected=fields[InputId.TEST_EXPECTED],
                )
                test_id = test.id
        if test_id is None:
            await _ephemeral(runtime, decision, user_id, ui.NO_KEY_TEST)
            return
        await run_test(runtime, team_id=team_id, test_id=test_id)

    @app.action(matcher(ActionId.JUDGE_CONTEXT_TEST))
    async def judge(ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        test_id, judgement = unpack(body["actions"][0]["value"], 2)
        team_id = team_id_of(body)
        async with runtime.sessions() as session, session.begin():
            test = await assist.judge_context_test(
                session=session,
                team_id=team_id,
                test_id=int(test_id),
                user_id=body["user"]["id"],
                judgement=judgement,
            )
            decision = await decisions.get_decision(
                session=session, team_id=team_id, decision_id=test.decision_id
            )
        if test.message_ts:
            message = ui.context_test_result(test, decision.status == DecisionStatus.OPEN)
            await _replace(runtime, decision.channel_id, test.message_ts, message)
        await refresh(runtime, team_id, test.decision_id, [QuestionKey.PROBLEM_TYPE, "root"])

    async def _save_summary(body: dict[str, Any], decision_id: int, text: str) -> Decision:
        async with runtime.sessions() as session, session.begin():
            return await assist.save_context_summary(
                session=session,
                team_id=team_id_of(body),
                decision_id=decision_id,
                user_id=body["user"]["id"],
                text=text,
            )

    @app.action(matcher(ActionId.KEEP_SUMMARY))
    async def keep_summary(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        decision_id, draft = unpack(body["actions"][0]["value"], 2)
        await _save_summary(body, int(decision_id), draft)
        await respond(
            text=ui.summary_saved(int(decision_id)),
            response_type="ephemeral",
            replace_original=True,
        )

    @app.action(matcher(ActionId.EDIT_SUMMARY))
    async def edit_summary(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        decision_id, draft = unpack(body["actions"][0]["value"], 2)
        async with runtime.sessions() as session:
            decision = await decisions.get_decision(
                session=session, team_id=team_id_of(body), decision_id=int(decision_id)
            )
        if body["user"]["id"] != decision.facilitator_id:
            raise NotAllowed(
                f"Only the facilitator, <@{decision.facilitator_id}>, can set the record's "
                "Context paragraph."
            )
        await client.views_open(
            trigger_id=body["trigger_id"],
            view=ui.summary_modal(int(decision_id), decision.context_summary or draft),
        )

    @app.view(CallbackId.SUMMARY)
    async def submit_summary(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
        text = _value(view["state"]["values"], InputId.SUMMARY)
        if not text:
            await ack(
                response_action="errors", errors={InputId.SUMMARY: "Write a sentence or two."}
            )
            return
        await ack()
        decision_id = int(json.loads(view["private_metadata"])["decision_id"])
        decision = await _save_summary(body, decision_id, text)
        await _ephemeral(runtime, decision, body["user"]["id"], ui.summary_saved(decision_id))


__all__ = ["categorise_in_thread", "draft_summary", "register"]
