"""Repository functions. Keyword-only, and every query is scoped by Slack ``team_id``.

Callers own the transaction: functions flush but never commit.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import (
    Answer,
    AnswerAudit,
    Decision,
    DecisionStatus,
    FailureExample,
    OwnerAssignment,
    ProcessedEvent,
    utcnow,
)


def _insert(session: AsyncSession, table: type):
    dialect = session.get_bind().dialect.name
    return (pg_insert if dialect == "postgresql" else sqlite_insert)(table)


# Decisions ---------------------------------------------------------------------------------------


async def create_decision(
    *,
    session: AsyncSession,
    team_id: str,
    channel_id: str,
    title: str,
    facilitator_id: str,
    supersedes_id: int | None = None,
) -> Decision:
    decision = Decision(
        team_id=team_id,
        channel_id=channel_id,
        title=title,
        facilitator_id=facilitator_id,
        supersedes_id=supersedes_id,
    )
    session.add(decision)
    await session.flush()
    return decision


async def get_decision(
    *,
    session: AsyncSession,
    team_id: str,
    decision_id: int,
    for_update: bool = False,
    for_share: bool = False,
) -> Decision | None:
    """``for_update`` locks the row against other writers until the transaction ends;
    ``for_share`` only against a concurrent ``for_update`` (PostgreSQL; SQLite's write lock
    already serialises writers)."""
    query = select(Decision).where(Decision.team_id == team_id, Decision.id == decision_id)
    if for_update or for_share:
        query = query.with_for_update(read=not for_update)
    return (await session.exec(query.execution_options(populate_existing=True))).first()


async def get_decision_by_thread(
    *, session: AsyncSession, team_id: str, channel_id: str, thread_ts: str
) -> Decision | None:
    query = select(Decision).where(
        Decision.team_id == team_id,
        Decision.channel_id == channel_id,
        Decision.thread_ts == thread_ts,
    )
    return (await session.exec(query)).first()


async def list_decisions(
    *,
    session: AsyncSession,
    team_id: str,
    channel_id: str | None = None,
    statuses: Iterable[str] | None = None,
    limit: int = 50,
) -> Sequence[Decision]:
    query = select(Decision).where(Decision.team_id == team_id)
    if channel_id is not None:
        query = query.where(Decision.channel_id == channel_id)
    if statuses is not None:
        query = query.where(col(Decision.status).in_(list(statuses)))
    query = query.order_by(col(Decision.created_at).desc(), col(Decision.id).desc()).limit(limit)
    return (await session.exec(query)).all()


async def latest_decision(
    *,
    session: AsyncSession,
    team_id: str,
    channel_id: str,
    status: str | None = None,
    statuses: Iterable[str] | None = None,
) -> Decision | None:
    statuses = [status] if status else statuses
    found = await list_decisions(
        session=session, team_id=team_id, channel_id=channel_id, statuses=statuses, limit=1
    )
    return found[0] if found else None


async def mark_decided(
    *,
    session: AsyncSession,
    decision: Decision,
    verdict: str,
    decided_by: str,
    at: datetime | None = None,
) -> Decision:
    decision.status = DecisionStatus.DECIDED
    decision.verdict = verdict
    decision.decided_by = decided_by
    decision.decided_at = at or utcnow()
    session.add(decision)
    await session.flush()
    return decision


# Answers -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AnswerChange:
    answer: Answer
    old_value: str | None
    changed: bool


async def record_answer(
    *,
    session: AsyncSession,
    team_id: str,
    decision_id: int,
    question: str,
    user_id: str,
    value: str,
) -> AnswerChange:
    """Set a user's answer. Writes an audit row only when the value actually changes."""
    now = utcnow()
    inserted = await session.exec(
        _insert(session, Answer)
        .values(
            team_id=team_id,
            decision_id=decision_id,
            question=question,
            user_id=user_id,
            value=value,
            updated_at=now,
        )
        .on_conflict_do_nothing(index_elements=["decision_id", "question", "user_id"])
        .returning(Answer.id)  # type: ignore[arg-type]
    )
    old_value: str | None = None
    if inserted.first() is None:
        existing = (
            await session.exec(
                select(Answer)
                .where(
                    Answer.team_id == team_id,
                    Answer.decision_id == decision_id,
                    Answer.question == question,
                    Answer.user_id == user_id,
                )
                .with_for_update()
                .execution_options(populate_existing=True)
            )
        ).one()
        if existing.value == value:
            return AnswerChange(answer=existing, old_value=value, changed=False)
        old_value = existing.value
        existing.value = value
        existing.updated_at = now
        session.add(existing)
    session.add(
        AnswerAudit(
            team_id=team_id,
            decision_id=decision_id,
            question=question,
            user_id=user_id,
            old_value=old_value,
            new_value=value,
            changed_at=now,
        )
    )
    await session.flush()
    answer = (
        await session.exec(
            select(Answer).where(
                Answer.team_id == team_id,
                Answer.decision_id == decision_id,
                Answer.question == question,
                Answer.user_id == user_id,
            )
        )
    ).one()
    return AnswerChange(answer=answer, old_value=old_value, changed=True)


async def list_answers(
    *, session: AsyncSession, team_id: str, decision_id: int, question: str | None = None
) -> Sequence[Answer]:
    query = select(Answer).where(Answer.team_id == team_id, Answer.decision_id == decision_id)
    if question is not None:
        query = query.where(Answer.question == question)
    query = query.order_by(col(Answer.updated_at), col(Answer.id))
    return (await session.exec(query.execution_options(populate_existing=True))).all()


async def list_answer_audit(
    *, session: AsyncSession, team_id: str, decision_id: int
) -> Sequence[AnswerAudit]:
    query = (
        select(AnswerAudit)
        .where(AnswerAudit.team_id == team_id, AnswerAudit.decision_id == decision_id)
        .order_by(col(AnswerAudit.changed_at), col(AnswerAudit.id))
    )
    return (await session.exec(query)).all()


# Owners ------------------------------------------------------------------------------------------


async def assign_owner(
    *,
    session: AsyncSession,
    team_id: str,
    decision_id: int,
    role: str,
    user_id: str | None,
    assigned_by: str,
) -> OwnerAssignment:
    now = utcnow()
    await session.exec(
        _insert(session, OwnerAssignment)
        .values(
            team_id=team_id,
            decision_id=decision_id,
            role=role,
            user_id=user_id,
            assigned_by=assigned_by,
            assigned_at=now,
        )
        .on_conflict_do_update(
            index_elements=["decision_id", "role"],
            set_={"user_id": user_id, "assigned_by": assigned_by, "assigned_at": now},
        )
    )
    query = select(OwnerAssignment).where(
        OwnerAssignment.team_id == team_id,
        OwnerAssignment.decision_id == decision_id,
        OwnerAssignment.role == role,
    )
    return (await session.exec(query.execution_options(populate_existing=True))).one()


async def list_owners(
    *, session: AsyncSession, team_id: str, decision_id: int
) -> Sequence[OwnerAssignment]:
    query = select(OwnerAssignment).where(
        OwnerAssignment.team_id == team_id, OwnerAssignment.decision_id == decision_id
    )
    return (await session.exec(query.execution_options(populate_existing=True))).all()


# Failures ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NewFailure:
    explanation: str
    category: str
    category_source: str
    rationale: str | None = None
    output: str | None = None
    permalink: str | None = None


async def add_failures(
    *,
    session: AsyncSession,
    team_id: str,
    decision_id: int,
    logged_by: str,
    failures: Iterable[NewFailure],
    at: datetime | None = None,
) -> list[FailureExample]:
    now = at or utcnow()
    rows = [
        FailureExample(
            team_id=team_id,
            decision_id=decision_id,
            logged_by=logged_by,
            explanation=item.explanation,
            category=item.category,
            category_source=item.category_source,
            rationale=item.rationale,
            output=item.output,
            permalink=item.permalink,
            logged_at=now,
        )
        for item in failures
    ]
    session.add_all(rows)
    await session.flush()
    return rows


async def list_failures(
    *,
    session: AsyncSession,
    team_id: str,
    decision_id: int,
    since: datetime | None = None,
    until: datetime | None = None,
) -> Sequence[FailureExample]:
    query = select(FailureExample).where(
        FailureExample.team_id == team_id, FailureExample.decision_id == decision_id
    )
    if since is not None:
        query = query.where(FailureExample.logged_at >= since)
    if until is not None:
        query = query.where(FailureExample.logged_at < until)
    query = query.order_by(col(FailureExample.logged_at), col(FailureExample.id))
    return (await session.exec(query)).all()


async def failure_counts(
    *,
    session: AsyncSession,
    team_id: str,
    decision_id: int,
    since: datetime | None = None,
    until: datetime | None = None,
) -> dict[str, int]:
    query = (
        select(FailureExample.category, func.count())
        .where(FailureExample.team_id == team_id, FailureExample.decision_id == decision_id)
        .group_by(FailureExample.category)
    )
    if since is not None:
        query = query.where(FailureExample.logged_at >= since)
    if until is not None:
        query = query.where(FailureExample.logged_at < until)
    return {category: count for category, count in (await session.exec(query)).all()}


async def get_failure(
    *, session: AsyncSession, team_id: str, failure_id: int
) -> FailureExample | None:
    query = select(FailureExample).where(
        FailureExample.team_id == team_id, FailureExample.id == failure_id
    )
    return (await session.exec(query)).first()


async def correct_failure_category(
    *, session: AsyncSession, team_id: str, failure_id: int, category: str, corrected_by: str
) -> FailureExample | None:
    """A human's correction always wins over the classifier, and is kept."""
    failure = await get_failure(session=session, team_id=team_id, failure_id=failure_id)
    if failure is None:
        return None
    failure.category = category
    failure.category_source = "human"
    failure.corrected_by = corrected_by
    session.add(failure)
    await session.flush()
    return failure


# Events ------------------------------------------------------------------------------------------


async def claim_event(*, session: AsyncSession, team_id: str, event_id: str) -> bool:
    """Record an event id. False when it was already processed (a retry or a replay)."""
    result = await session.exec(
        _insert(session, ProcessedEvent)
        .values(team_id=team_id, event_id=event_id, received_at=utcnow())
        .on_conflict_do_nothing(index_elements=["team_id", "event_id"])
        .returning(ProcessedEvent.event_id)  # type: ignore[arg-type]
    )
    return result.first() is not None
