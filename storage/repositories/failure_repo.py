"""Failure examples.

Keyword-only; every query is scoped by Slack ``team_id``. Callers own the transaction:
functions flush but never commit.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import (
    FailureExample,
    utcnow,
)
from storage.repositories.scoping import in_period, of_decision

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
    query = in_period(
        of_decision(FailureExample, team_id, decision_id), FailureExample.logged_at, since, until
    )
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
    query = in_period(query, FailureExample.logged_at, since, until)
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


async def delete_failure(
    *, session: AsyncSession, team_id: str, decision_id: int, failure_id: int
) -> FailureExample | None:
    failure = await get_failure(session=session, team_id=team_id, failure_id=failure_id)
    if failure is None or failure.decision_id != decision_id:
        return None
    await session.delete(failure)
    await session.flush()
    return failure
