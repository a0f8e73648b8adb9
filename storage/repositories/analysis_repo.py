"""Error-analysis sessions, the team's readings of failures, and their history.

Keyword-only; every query is scoped by Slack ``team_id``. Callers own the transaction:
functions flush but never commit.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.db import insert_for
from storage.models import (
    AnalysisReading,
    AnalysisReadingHistory,
    AnalysisSession,
    FailureExample,
    utcnow,
)

KEEP = object()
"""``record_reading``: leave this field as it is."""


async def get_session(
    *, session: AsyncSession, team_id: str, analysis_id: int, for_update: bool = False
) -> AnalysisSession | None:
    query = select(AnalysisSession).where(
        AnalysisSession.team_id == team_id, AnalysisSession.id == analysis_id
    )
    if for_update:
        query = query.with_for_update()
    return (await session.exec(query.execution_options(populate_existing=True))).first()


async def session_for_period(
    *, session: AsyncSession, team_id: str, decision_id: int, period_end: datetime
) -> AnalysisSession | None:
    query = select(AnalysisSession).where(
        AnalysisSession.team_id == team_id,
        AnalysisSession.decision_id == decision_id,
        AnalysisSession.period_end == period_end,
    )
    return (await session.exec(query)).first()


async def list_sessions(
    *, session: AsyncSession, team_id: str, decision_id: int
) -> Sequence[AnalysisSession]:
    query = (
        select(AnalysisSession)
        .where(AnalysisSession.team_id == team_id, AnalysisSession.decision_id == decision_id)
        .order_by(col(AnalysisSession.period_end), col(AnalysisSession.id))
    )
    return (await session.exec(query)).all()


async def create_session(
    *,
    session: AsyncSession,
    team_id: str,
    decision_id: int,
    period_start: datetime,
    period_end: datetime,
    seed: int,
    failure_ids: list[int],
    created_by: str,
) -> AnalysisSession:
    row = AnalysisSession(
        team_id=team_id,
        decision_id=decision_id,
        period_start=period_start,
        period_end=period_end,
        seed=seed,
        failure_ids=failure_ids,
        created_by=created_by,
    )
    session.add(row)
    await session.flush()
    return row


async def failures_by_id(
    *, session: AsyncSession, team_id: str, failure_ids: Iterable[int], fresh: bool = False
) -> dict[int, FailureExample]:
    ids = list(failure_ids)
    if not ids:
        return {}
    query = select(FailureExample).where(
        FailureExample.team_id == team_id, col(FailureExample.id).in_(ids)
    )
    if fresh:
        query = query.execution_options(populate_existing=True)
    return {f.id: f for f in (await session.exec(query)).all() if f.id is not None}


async def list_readings(
    *, session: AsyncSession, team_id: str, analysis_id: int
) -> Sequence[AnalysisReading]:
    query = (
        select(AnalysisReading)
        .where(AnalysisReading.team_id == team_id, AnalysisReading.analysis_id == analysis_id)
        .order_by(col(AnalysisReading.read_at), col(AnalysisReading.id))
        .execution_options(populate_existing=True)
    )
    return (await session.exec(query)).all()


async def list_history(
    *, session: AsyncSession, team_id: str, analysis_id: int
) -> Sequence[AnalysisReadingHistory]:
    query = (
        select(AnalysisReadingHistory)
        .where(
            AnalysisReadingHistory.team_id == team_id,
            AnalysisReadingHistory.analysis_id == analysis_id,
        )
        .order_by(col(AnalysisReadingHistory.id))
    )
    return (await session.exec(query)).all()


async def record_reading(
    *,
    session: AsyncSession,
    team_id: str,
    analysis_id: int,
    failure_id: int,
    read_by: str,
    category: str | object | None = KEEP,
    note: str | object | None = KEEP,
) -> tuple[AnalysisReading, AnalysisReadingHistory]:
    """The one reading of a failure in an analysis, created or updated (the last reader wins,
    and becomes its ``read_by``), plus a history row (the caller fills in ``old_category``).
    The reading's row is locked first, so two readers at once queue here."""
    now = utcnow()
    await session.exec(
        insert_for(session, AnalysisReading)
        .values(
            team_id=team_id,
            analysis_id=analysis_id,
            failure_id=failure_id,
            read_by=read_by,
            read_at=now,
        )
        .on_conflict_do_nothing(index_elements=["analysis_id", "failure_id"])
    )
    reading = (
        await session.exec(
            select(AnalysisReading)
            .where(
                AnalysisReading.team_id == team_id,
                AnalysisReading.analysis_id == analysis_id,
                AnalysisReading.failure_id == failure_id,
            )
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    ).one()
    if category is not KEEP:
        reading.category = category  # type: ignore[assignment]
    if note is not KEEP:
        reading.note = note  # type: ignore[assignment]
    reading.read_by, reading.read_at = read_by, now
    session.add(reading)
    history = AnalysisReadingHistory(
        team_id=team_id,
        analysis_id=analysis_id,
        failure_id=failure_id,
        read_by=read_by,
        category=None if category is KEEP else category,  # type: ignore[arg-type]
        note=None if note is KEEP else note,  # type: ignore[arg-type]
        changed_at=now,
    )
    session.add(history)
    await session.flush()
    return reading, history
