"""Failures, however they arrive (the Q3 modal, a thread mention, the shortcut, ``/ragft log``):
categorising them, saving them, and correcting a category. Saving a failure against a decided
decision also asks the next sweep to check the revisit-nudge rules."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.domain.classifier import classify
from bot.domain.errors import NotFound, UserError
from bot.domain.failure_dedup import FailureSource
from bot.domain.failure_lines import ParsedFailure
from bot.domain.questions import CategorySource, FailureCategory
from bot.llm.client import LLM, LLMError
from bot.llm.tasks import BATCH_SIZE, categorise_batch
from bot.services import guards
from bot.services.review_routine import queue_revisit_check
from storage.models import Decision, FailureExample, utcnow
from storage.repositories import decision_repo, event_repo, failure_repo
from storage.repositories.usage_repo import add_usage

log = logging.getLogger("ragft")


@dataclass(frozen=True)
class Categorised:
    failure: ParsedFailure
    category: FailureCategory
    source: CategorySource
    rationale: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    """Tokens the model spent on this item's batch, carried by the batch's first item only, so
    ``log_failures`` can add them up without counting a request twice."""
    external_id: str | None = None


@dataclass(frozen=True)
class Logged:
    decision: Decision
    stored: list[Categorised]
    """The failures stored; the others were duplicates of failures already logged."""
    duplicates: int


def categorise_offline(failures: Iterable[ParsedFailure]) -> list[Categorised]:
    results = []
    for failure in failures:
        verdict = classify(failure.explanation)
        results.append(
            Categorised(
                failure, verdict.category, CategorySource(verdict.source), verdict.rationale
            )
        )
    return results


async def categorise(failures: Iterable[ParsedFailure], llm: LLM | None) -> list[Categorised]:
    """Categorise with the model when one is configured, BATCH_SIZE explanations per request.

    A batch the model can't answer usably (API error after retries, timeout, malformed or
    off-schema reply) falls back to the offline classifier; the fallback is logged. Without a
    model this is ``categorise_offline``.
    """
    items = list(failures)
    if llm is None:
        return categorise_offline(items)
    results: list[Categorised] = []
    for start in range(0, len(items), BATCH_SIZE):
        batch = items[start : start + BATCH_SIZE]
        try:
            parsed = await categorise_batch(llm, [f.explanation for f in batch])
        except LLMError:
            log.warning("categorised %d failures offline instead", len(batch))
            results.extend(categorise_offline(batch))
            continue
        usage = parsed.usage
        for i, (failure, item) in enumerate(zip(batch, parsed.value, strict=True)):
            results.append(
                Categorised(
                    failure,
                    FailureCategory(item.category),
                    CategorySource.LLM,
                    item.rationale,
                    prompt_tokens=usage.prompt_tokens if i == 0 else 0,
                    completion_tokens=usage.completion_tokens if i == 0 else 0,
                )
            )
    return results


async def log_failures(
    *,
    session: AsyncSession,
    team_id: str,
    channel_id: str | None,
    decision_id: int,
    user_id: str,
    failures: list[Categorised],
    at: datetime | None = None,
) -> Decision:
    """``save_failures``, for callers that only need the decision."""
    logged = await save_failures(
        session=session,
        team_id=team_id,
        channel_id=channel_id,
        decision_id=decision_id,
        user_id=user_id,
        failures=failures,
        at=at,
    )
    return logged.decision


async def save_failures(
    *,
    session: AsyncSession,
    team_id: str,
    channel_id: str | None,
    decision_id: int,
    user_id: str,
    failures: list[Categorised],
    source: FailureSource = FailureSource.SLACK,
    at: datetime | None = None,
) -> Logged:
    """Save categorised failures to a decision (of this channel, when ``channel_id`` is given),
    skipping duplicates: the same normalised explanation and output or link, or the same
    ``external_id``, as a failure the decision already has (see ``failure_repo.add_failures``)."""
    async with session.begin():
        if channel_id is None:
            decision = await guards.decision_in_team(
                session=session, team_id=team_id, decision_id=decision_id
            )
        else:
            decision = await guards.in_channel(session, team_id, channel_id, decision_id)
        return await _save_in(session, decision, user_id, failures, source, at)


async def save_thread_mention(
    *,
    session: AsyncSession,
    team_id: str,
    event_id: str,
    channel_id: str,
    thread_ts: str,
    user_id: str,
    failures: list[Categorised],
) -> tuple[bool, Logged | None]:
    """A failure mentioned in a thread, in one transaction: claim the Slack event id (False
    for a retry or replay: nothing saved), find the decision whose thread it is (None: not a
    decision's thread), and save. A save that fails leaves the event unclaimed, so Slack's
    retry of it is not dropped."""
    async with session.begin():
        if not await event_repo.claim_event(session=session, team_id=team_id, event_id=event_id):
            return False, None
        decision = await decision_repo.get_decision_by_thread(
            session=session, team_id=team_id, channel_id=channel_id, thread_ts=thread_ts
        )
        if decision is None:
            return True, None
        guards.require_loggable(decision)
        return True, await _save_in(session, decision, user_id, failures)


async def _save_in(
    session: AsyncSession,
    decision: Decision,
    user_id: str,
    failures: list[Categorised],
    source: FailureSource = FailureSource.SLACK,
    at: datetime | None = None,
) -> Logged:
    assert decision.id is not None
    scope = {"session": session, "team_id": decision.team_id, "decision_id": decision.id}
    await add_usage(
        **scope,
        prompt_tokens=sum(item.prompt_tokens for item in failures),
        completion_tokens=sum(item.completion_tokens for item in failures),
    )
    stored = await failure_repo.add_failures(
        **scope,
        logged_by=user_id,
        at=at,
        failures=[
            failure_repo.NewFailure(
                explanation=item.failure.explanation,
                output=item.failure.output,
                permalink=item.failure.permalink,
                category=item.category,
                category_source=item.source,
                rationale=item.rationale,
                source=source,
                external_id=item.external_id,
            )
            for item in failures
        ],
    )
    if stored.added:
        await queue_revisit_check(session=session, decision=decision, now=at or utcnow())
    kept = [item for i, item in enumerate(failures) if i in stored.indexes]
    return Logged(decision=decision, stored=kept, duplicates=stored.duplicates)


async def correct_failure(
    *,
    session: AsyncSession,
    team_id: str,
    channel_id: str,
    decision_id: int,
    failure_id: int,
    category: str,
    user_id: str,
) -> FailureExample:
    async with session.begin():
        await guards.in_channel(session, team_id, channel_id, decision_id)
        return await correct_failure_in(
            session, team_id, decision_id, failure_id, category, user_id
        )


async def correct_failure_in(
    session: AsyncSession,
    team_id: str,
    decision_id: int,
    failure_id: int,
    category: str,
    user_id: str,
) -> FailureExample:
    """A person sets a failure's category (Review & correct, the error analysis), inside the
    caller's transaction, after the caller checked the decision: it counts as human-set."""
    if category not in set(FailureCategory):
        raise UserError(f"`{category}` isn't a failure category.")
    existing = await failure_repo.get_failure(
        session=session, team_id=team_id, failure_id=failure_id
    )
    if existing is None or existing.decision_id != decision_id:
        raise NotFound("That failure no longer exists.")
    failure = await failure_repo.correct_failure_category(
        session=session,
        team_id=team_id,
        failure_id=failure_id,
        category=category,
        corrected_by=user_id,
    )
    if failure is None:
        raise NotFound("That failure no longer exists.")
    return failure
