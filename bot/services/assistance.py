"""The model-assisted steps, Slack-free: the perfect-context test and the Context paragraph.

The model calls themselves live in ``bot.llm.client``; this module records their results.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.domain.errors import NotAllowed, NotFound, UserError
from bot.domain.lifecycle import ContextTestStatus
from bot.domain.markup import to_plain
from bot.domain.questions import AnswerKey
from bot.llm.client import Usage
from bot.services import guards
from bot.services.answering import open_decision, save_choice
from storage.models import ContextTest, Decision
from storage.repositories import context_test_repo
from storage.repositories.usage_repo import add_usage

JUDGEMENTS = {"knowledge": "right with context", "behavior": "still wrong"}
"""The team's judgement of a perfect-context test, as Q1 answers, and how the buttons say it."""

TEST_FIELD_LIMIT = 3000
SAVED_CONTEXT_LIMIT = 3000
"""What the facilitator may keep (the model's own draft is capped lower, in bot.llm.tasks)."""
THREAD_MESSAGE_LIMIT = 1000
THREAD_TEXT_BUDGET = 12_000
"""Characters of the thread's discussion sent to the model at most (the latest messages win)."""

SETUP_HINT = (
    "set `OPENAI_API_KEY` (and, for a compatible server such as Azure OpenAI, vLLM, Ollama or "
    "LiteLLM, `OPENAI_BASE_URL` and `OPENAI_MODEL`) where ragft runs, then restart it. Ask "
    "whoever runs ragft."
)


async def _decision(
    session: AsyncSession, team_id: str, channel_id: str, decision_id: int
) -> Decision:
    return await guards.in_channel(session, team_id, channel_id, decision_id)


async def check_context_test(
    *, session: AsyncSession, team_id: str, channel_id: str, decision_id: int
) -> Decision:
    """Before the test's modal opens: the decision must still be open."""
    async with session.begin():
        decision = await _decision(session, team_id, channel_id, decision_id)
        guards.require_open(decision)
        return decision


async def start_context_test(
    *,
    session: AsyncSession,
    team_id: str,
    channel_id: str,
    decision_id: int,
    user_id: str,
    question: str,
    context: str,
    expected: str,
) -> ContextTest:
    async with session.begin():
        decision = await _decision(session, team_id, channel_id, decision_id)
        guards.require_open(decision)
        return await context_test_repo.create_test(
            session=session,
            team_id=team_id,
            decision_id=decision_id,
            requested_by=user_id,
            question=question[:TEST_FIELD_LIMIT],
            context=context[:TEST_FIELD_LIMIT],
            expected=expected[:TEST_FIELD_LIMIT],
        )


async def running_test(
    *, session: AsyncSession, team_id: str, test_id: int, message_ts: str
) -> tuple[ContextTest, Decision]:
    """The test the bot is about to run, with the ts of its "working…" message saved."""
    async with session.begin():
        await context_test_repo.set_message_ts(
            session=session, team_id=team_id, test_id=test_id, message_ts=message_ts
        )
        test = await context_test_repo.get_test(session=session, team_id=team_id, test_id=test_id)
        if test is None:
            raise NotFound("That perfect-context test no longer exists.")
        decision = await guards.decision_in_team(
            session=session, team_id=team_id, decision_id=test.decision_id
        )
        return test, decision


async def fail_context_test(
    *, session: AsyncSession, team_id: str, test_id: int, error: str
) -> None:
    async with session.begin():
        await context_test_repo.fail_test(
            session=session, team_id=team_id, test_id=test_id, error=error
        )


async def finish_context_test(
    *,
    session: AsyncSession,
    team_id: str,
    test: ContextTest,
    answer_without: str,
    answer_with: str,
    model_judgement: str | None,
    model_rationale: str | None,
    usage: Usage,
) -> ContextTest:
    assert test.id is not None
    async with session.begin():
        await add_usage(
            session=session,
            team_id=team_id,
            decision_id=test.decision_id,
            prompt_tokens=usage.prompt_tokens,
            completion_tokens=usage.completion_tokens,
        )
        done = await context_test_repo.complete_test(
            session=session,
            team_id=team_id,
            test_id=test.id,
            answer_without=answer_without,
            answer_with=answer_with,
            model_judgement=model_judgement,
            model_rationale=model_rationale,
        )
        if done is None:
            raise NotFound("That perfect-context test no longer exists.")
        return done


async def judge_context_test(
    *,
    session: AsyncSession,
    team_id: str,
    channel_id: str,
    test_id: int,
    user_id: str,
    judgement: str,
) -> tuple[ContextTest, Decision]:
    """Record a teammate's judgement on the test, and count it as their answer to Q1."""
    if judgement not in JUDGEMENTS:
        raise UserError(f"`{judgement}` isn't a judgement of the test.")
    async with session.begin():
        test = await context_test_repo.get_test(session=session, team_id=team_id, test_id=test_id)
        if test is None:
            raise NotFound("That perfect-context test no longer exists.")
        decision = await open_decision(
            session=session, team_id=team_id, channel_id=channel_id, decision_id=test.decision_id
        )
        if test.status != ContextTestStatus.DONE:
            raise NotAllowed("That test has no answers to judge.")
        await save_choice(
            session=session,
            decision=decision,
            question=AnswerKey.PROBLEM_TYPE,
            user_id=user_id,
            value=judgement,
        )
        judged = await context_test_repo.judge_test(
            session=session,
            team_id=team_id,
            test_id=test_id,
            judgement=judgement,
            judged_by=user_id,
        )
        assert judged is not None
        return judged, decision


SUMMARY_ACTION = "set the record's Context paragraph"


async def check_summary_editor(
    *, session: AsyncSession, team_id: str, channel_id: str, decision_id: int, user_id: str
) -> Decision:
    async with session.begin():
        decision = await _decision(session, team_id, channel_id, decision_id)
        guards.require_facilitator(decision, user_id, SUMMARY_ACTION)
        return decision


async def save_context_summary(
    *,
    session: AsyncSession,
    team_id: str,
    channel_id: str,
    decision_id: int,
    user_id: str,
    text: str,
) -> Decision:
    """The facilitator keeps or edits the record's Context paragraph."""
    async with session.begin():
        decision = await _decision(session, team_id, channel_id, decision_id)
        guards.require_facilitator(decision, user_id, SUMMARY_ACTION)
        decision.context_summary = text.strip()[:SAVED_CONTEXT_LIMIT] or None
        session.add(decision)
        await session.flush()
        return decision


async def record_usage(
    *, session: AsyncSession, team_id: str, decision_id: int, usage: Usage
) -> None:
    async with session.begin():
        await add_usage(
            session=session,
            team_id=team_id,
            decision_id=decision_id,
            prompt_tokens=usage.prompt_tokens,
            completion_tokens=usage.completion_tokens,
        )


# What the team typed in the thread ---------------------------------------------------------------

HUMAN_SUBTYPES = frozenset({"thread_broadcast"})
"""Subtypes that are still a person's own words (a reply also sent to the channel)."""


def scrub(text: str) -> str:
    """A message's words without Slack ids: mentions become "@someone", channels "#channel"."""
    return " ".join(to_plain(text, keep_urls=False).split())


def human_messages(messages: Iterable[Mapping[str, Any]]) -> list[str]:
    """The text of people's messages in a thread, oldest first, scrubbed of Slack ids and cut to
    THREAD_TEXT_BUDGET characters (keeping the latest). Bot messages, joins and other subtypes
    are skipped."""
    texts: list[str] = []
    for message in messages:
        if message.get("bot_id") or message.get("bot_profile"):
            continue
        if message.get("subtype") and message.get("subtype") not in HUMAN_SUBTYPES:
            continue
        text = scrub(str(message.get("text") or ""))
        if text:
            texts.append(text[:THREAD_MESSAGE_LIMIT])
    kept: list[str] = []
    budget = THREAD_TEXT_BUDGET
    for text in reversed(texts):
        if len(text) > budget:
            break
        kept.append(text)
        budget -= len(text)
    return kept[::-1]
