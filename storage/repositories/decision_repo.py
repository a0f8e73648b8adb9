"""Decisions.

Keyword-only; every query is scoped by Slack ``team_id``. Callers own the transaction:
functions flush but never commit.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy import func
from sqlalchemy.orm import make_transient_to_detached
from sqlmodel import SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.domain.lifecycle import DecisionStatus
from storage.models import (
    Answer,
    Decision,
    FailureExample,
    OwnerAssignment,
    utcnow,
)

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
    # One prebuilt INSERT … RETURNING id instead of a unit-of-work flush (about 1 ms of CPU a
    # decision); then the session holds the row as if it had loaded it, so later changes to
    # the entity are UPDATEs as before.
    values = {column: getattr(decision, column) for column in _INSERTED}
    decision.id = (await session.exec(_CREATE, params=values)).scalar_one()  # type: ignore[call-overload]
    make_transient_to_detached(decision)
    session.add(decision)
    return decision


_TABLE = Decision.__table__  # type: ignore[attr-defined]
_INSERTED = tuple(column.key for column in _TABLE.columns if column.key != "id")
_CREATE = sa.insert(_TABLE).returning(_TABLE.c.id)


async def get_decision(
    *,
    session: AsyncSession,
    team_id: str,
    decision_id: int,
    for_update: bool = False,
    for_share: bool = False,
) -> Decision | None:
    """``for_update`` locks the row against other writers until the transaction ends;
    ``for_share`` only against a concurrent ``for_update``: ``FOR KEY SHARE``, which the
    version bump of a write (a trigger's ``UPDATE``) doesn't conflict with, so two answers
    can't deadlock (PostgreSQL; SQLite's write lock already serialises writers)."""
    query = _BY_ID_FOR_UPDATE if for_update else _BY_ID_FOR_SHARE if for_share else _BY_ID
    params = {"team_id": team_id, "decision_id": decision_id}
    return (await session.exec(query, params=params)).first()  # type: ignore[call-overload]


# Built once: these run on every click and mention, and building one cost a third of running it.
_BY_ID = (
    select(Decision)
    .where(Decision.team_id == sa.bindparam("team_id"), Decision.id == sa.bindparam("decision_id"))
    .execution_options(populate_existing=True)
)
_BY_ID_FOR_UPDATE = _BY_ID.with_for_update()
_BY_ID_FOR_SHARE = _BY_ID.with_for_update(read=True, key_share=True)
_BY_THREAD = select(Decision).where(
    Decision.team_id == sa.bindparam("team_id"),
    Decision.channel_id == sa.bindparam("channel_id"),
    Decision.thread_ts == sa.bindparam("thread_ts"),
)


async def get_decision_by_thread(
    *, session: AsyncSession, team_id: str, channel_id: str, thread_ts: str
) -> Decision | None:
    params = {"team_id": team_id, "channel_id": channel_id, "thread_ts": thread_ts}
    return (await session.exec(_BY_THREAD, params=params)).first()  # type: ignore[call-overload]


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


async def facilitates_any(*, session: AsyncSession, team_id: str, user_id: str) -> bool:
    query = select(Decision.id).where(
        Decision.team_id == team_id, Decision.facilitator_id == user_id
    )
    return (await session.exec(query.limit(1))).first() is not None


async def teams_of(*, session: AsyncSession, decision_ids: Iterable[int]) -> dict[int, str]:
    """Which workspace each of these decisions belongs to, and nothing else about them: how the
    API tells "another workspace's decision" (403) from "no such decision" (404)."""
    ids = sorted(set(decision_ids))
    if not ids:
        return {}
    query = select(Decision.id, Decision.team_id).where(col(Decision.id).in_(ids))
    return {decision_id: team for decision_id, team in (await session.exec(query)).all()}


async def team_ids(*, session: AsyncSession) -> list[str]:
    """Every workspace with a decision: for the command line, which serves one database."""
    query = select(Decision.team_id).distinct().order_by(col(Decision.team_id))
    return list((await session.exec(query)).all())


def _aware(at: datetime) -> datetime:
    """SQLite hands datetimes back without their timezone; every stored time is UTC."""
    return at if at.tzinfo else at.replace(tzinfo=UTC)


ACTIVITY = ((Answer, Answer.updated_at), (FailureExample, FailureExample.logged_at))
ACTIVITY += ((OwnerAssignment, OwnerAssignment.assigned_at),)
"""What counts as activity on a decision, besides its creation: an answer, a failure, an owner."""


async def last_activity(
    *, session: AsyncSession, team_id: str, decisions: Sequence[Decision]
) -> dict[int, datetime]:
    """When each decision last saw activity: its creation, or its latest answer, failure or
    owner."""
    latest = {d.id: _aware(d.created_at) for d in decisions if d.id is not None}
    if not latest:
        return {}
    for table, column in ACTIVITY:
        query = (
            select(table.decision_id, func.max(column))  # type: ignore[attr-defined]
            .where(table.team_id == team_id, col(table.decision_id).in_(list(latest)))  # type: ignore[attr-defined]
            .group_by(table.decision_id)  # type: ignore[attr-defined]
        )
        for decision_id, at in (await session.exec(query)).all():
            if at is not None:
                latest[decision_id] = max(latest[decision_id], _aware(at))
    return latest


async def latest_decided(
    *, session: AsyncSession, team_id: str, channel_id: str
) -> Decision | None:
    query = (
        select(Decision)
        .where(
            Decision.team_id == team_id,
            Decision.channel_id == channel_id,
            Decision.status == DecisionStatus.DECIDED,
        )
        .order_by(col(Decision.decided_at).desc(), col(Decision.id).desc())
        .limit(1)
    )
    return (await session.exec(query)).first()


def tables_of_a_decision() -> list[tuple[sa.Table, list[sa.ForeignKey]]]:
    """Every table (but the decision's own) whose rows reference a decision, directly or through
    other tables' rows, with the foreign keys that lead there; dependents first: what erasing a
    decision must empty, in order, including tables added later."""
    reached = {Decision.__tablename__}
    found: list[tuple[sa.Table, list[sa.ForeignKey]]] = []
    for table in SQLModel.metadata.sorted_tables:  # parents before the tables naming them
        if table.name in reached:
            continue
        leads = [fk for fk in table.foreign_keys if fk.column.table.name in reached]
        if leads:
            reached.add(table.name)
            found.append((table, leads))
    return list(reversed(found))


def rows_of_a_decision(
    *, team_id: str, decision_id: int
) -> list[tuple[sa.Table, sa.ColumnElement[bool]]]:
    """For each table of ``tables_of_a_decision``, which of its rows belong to this decision
    (they reference its row, or rows that do)."""
    decision = Decision.__table__  # type: ignore[attr-defined]
    where: dict[str, sa.ColumnElement[bool]] = {
        decision.name: sa.and_(decision.c.id == decision_id, decision.c.team_id == team_id)
    }
    ordered = list(reversed(tables_of_a_decision()))  # parents first, to build on them
    for table, leads in ordered:
        chosen = [
            fk.parent.in_(sa.select(fk.column).where(where[fk.column.table.name])) for fk in leads
        ]
        clause = sa.or_(*chosen)
        if "team_id" in table.c:
            clause = sa.and_(clause, table.c.team_id == team_id)
        where[table.name] = clause
    return [(table, where[table.name]) for table, _ in reversed(ordered)]


async def erase_decision(*, session: AsyncSession, decision: Decision) -> None:
    """Delete the decision and every row that references it, directly or through other rows
    (dependents first). A re-run that pointed at it keeps its own rows and loses only the
    pointer."""
    assert decision.id is not None
    team_id = decision.team_id
    for table, clause in rows_of_a_decision(team_id=team_id, decision_id=decision.id):
        await session.exec(sa.delete(table).where(clause))  # type: ignore[call-overload]
    await session.exec(
        sa.update(Decision)  # type: ignore[call-overload]
        .where(col(Decision.team_id) == team_id, col(Decision.supersedes_id) == decision.id)
        .values(supersedes_id=None)
    )
    await session.delete(decision)
    await session.flush()
