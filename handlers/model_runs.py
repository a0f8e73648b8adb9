"""Model calls seen in Slack: the perfect-context test and drafting the record's Context
paragraph. Every call runs after the ack, behind a "working…" message that is then replaced by
the result or by a clear error."""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk.errors import SlackApiError

from bot.domain.questions import VERDICT_LABELS, MessageKey, Verdict
from bot.llm.client import LLMError
from bot.llm.tasks import run_context_test, summarise_thread
from bot.services import assistance
from bot.services.state import DecisionState
from handlers.runtime import Runtime
from handlers.slack_calls import post_message
from handlers.thread import refresh
from handlers.ui import assistance_messages as ui
from handlers.ui.blocks import Message
from storage.models import ContextTest, Decision

log = logging.getLogger("ragft")

THREAD_PAGES = 5
"""conversations.replies pages read at most (200 messages each)."""


async def post_working(runtime: Runtime, decision: Decision, message: Message) -> str:
    return await post_message(
        runtime.client,
        channel=decision.channel_id,
        thread_ts=decision.thread_ts,
        text=message.text,
        blocks=message.blocks,
    )


async def replace(runtime: Runtime, channel: str, ts: str, message: Message) -> None:
    await runtime.client.chat_update(
        channel=channel, ts=ts, text=message.text, blocks=message.blocks
    )


async def ephemeral(
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


async def run_test(runtime: Runtime, *, decision: Decision, test: ContextTest) -> None:
    """Ask the model (after the ack), then replace the working message with the result."""
    assert runtime.llm is not None and test.id is not None
    team_id = decision.team_id
    ts = await post_working(runtime, decision, ui.context_test_running(test))
    async with runtime.sessions() as session:
        test, decision = await assistance.running_test(
            session=session, team_id=team_id, test_id=test.id, message_ts=ts
        )
    assert test.id is not None
    await refresh(runtime, team_id, test.decision_id, [MessageKey.PROBLEM_TYPE])
    try:
        result = await run_context_test(
            runtime.llm, question=test.question, context=test.context, expected=test.expected
        )
    except LLMError as exc:
        async with runtime.sessions() as session:
            await assistance.fail_context_test(
                session=session, team_id=team_id, test_id=test.id, error=str(exc)
            )
        await replace(runtime, decision.channel_id, ts, ui.context_test_failed(test, str(exc)))
        await refresh(runtime, team_id, test.decision_id, [MessageKey.PROBLEM_TYPE])
        return
    async with runtime.sessions() as session:
        done = await assistance.finish_context_test(
            session=session,
            team_id=team_id,
            test=test,
            answer_without=result.answer_without,
            answer_with=result.answer_with,
            model_judgement=result.judgement,
            model_rationale=result.rationale,
            usage=result.usage,
        )
    await replace(runtime, decision.channel_id, ts, ui.context_test_result(done, True))
    await refresh(runtime, team_id, test.decision_id, [MessageKey.PROBLEM_TYPE])


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

    async def write_yourself(note: str) -> None:
        await ephemeral(runtime, decision, facilitator, ui.summary_write_yourself(state.id, note))

    if runtime.llm is None:
        await write_yourself(ui.NO_KEY_SUMMARY)
        return
    try:
        thread = await _thread_messages(runtime, decision)
    except SlackApiError as exc:
        log.warning("couldn't read decision #%s's thread: %s", state.id, exc.response.get("error"))
        await write_yourself(
            "I couldn't read this thread to draft the record's *Context* paragraph (Slack said "
            f"`{exc.response.get('error')}`). You can write it yourself."
        )
        return
    texts = assistance.human_messages(thread)
    if not texts:
        await write_yourself(
            "Nobody has written in this thread yet, so there's no discussion to summarise for "
            "the record's *Context* paragraph. You can write it yourself."
        )
        return
    ts = await post_working(runtime, decision, ui.summary_working())
    verdict = VERDICT_LABELS[Verdict(decision.verdict or state.recommendation.verdict)]
    try:
        draft = await summarise_thread(
            runtime.llm, title=decision.title, verdict=verdict, messages=texts
        )
    except LLMError as exc:
        await replace(runtime, decision.channel_id, ts, ui.summary_failed(facilitator, str(exc)))
        await write_yourself(f"I couldn't draft the record's *Context* paragraph: {exc}.")
        return
    async with runtime.sessions() as session:
        await assistance.record_usage(
            session=session, team_id=decision.team_id, decision_id=state.id, usage=draft.usage
        )
    await replace(runtime, decision.channel_id, ts, ui.summary_drafted(facilitator))
    await ephemeral(runtime, decision, facilitator, ui.summary_draft(state.id, draft.value))
