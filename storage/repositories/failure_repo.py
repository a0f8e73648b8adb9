"""Failure examples.

Keyword-only; every query is scoped by Slack ``team_id``. Callers own the transaction:
functions flush but never commit.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import func, or_
from sqlmodel import SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.domain.failure_dedup import FailureSource, dedup_key
from storage.db import dialect_insert
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
    source: str = FailureSource.SLACK
    external_id: str | None = None


@dataclass(frozen=True)
class Stored:
    added: int
    duplicates: int
    indexes: frozenset[int]
    """The positions, in what was offered, of the failures stored."""


SMALL_LOOKUP = 100
"""Up to this many keys are looked up by value; more, by reading the decision's keys."""


async def add_failures(
    *,
    session: AsyncSession,
    team_id: str,
    decision_id: int,
    logged_by: str,
    failures: Iterable[NewFailure],
    at: datetime | None = None,
) -> Stored:
    """Store the failures not already stored for this decision: the same normalised text (see
    ``failure_dedup``), or the same ``external_id``, is a duplicate, skipped. Safe when two
    writers race: the unique indexes decide, and a conflicting row is simply not inserted."""
    now = at or utcnow()
    rows: list[dict[str, Any]] = []
    keys: set[str] = set()
    external_ids: set[str] = set()
    offered = 0
    position: dict[str, int] = {}
    for index, item in enumerate(failures):
        offered += 1
        key = dedup_key(item.explanation, item.output, item.permalink)
        if key in keys or (item.external_id is not None and item.external_id in external_ids):
            continue
        keys.add(key)
        position[key] = index
        if item.external_id is not None:
            external_ids.add(item.external_id)
        rows.append(
            {
                "team_id": team_id,
                "decision_id": decision_id,
                "logged_by": logged_by,
                "explanation": item.explanation,
                "category": item.category,
                "category_source": item.category_source,
                "rationale": item.rationale,
                "output": item.output,
                "permalink": item.permalink,
                "logged_at": now,
                "source": item.source,
                "external_id": item.external_id,
                "dedup_key": key,
            }
        )
    stored: set[int] = set()
    if rows:
        # One statement, built once per dialect, sent in batches ("insertmanyvalues").
        statement = _add(session.get_bind().dialect.name)
        result = await session.exec(statement, params=rows)  # type: ignore[call-overload]
        stored.update(position[key] for key in result.scalars())
    return Stored(added=len(stored), duplicates=offered - len(stored), indexes=frozenset(stored))


@functools.cache
def _add(dialect: str) -> Any:
    table = FailureExample.__table__  # type: ignore[attr-defined]
    return dialect_insert(dialect, table).on_conflict_do_nothing().returning(table.c.dedup_key)


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


async def arrivals(
    *,
    session: AsyncSession,
    team_id: str,
    decision_id: int,
    since: datetime | None = None,
    until: datetime | None = None,
) -> tuple[dict[str, int], datetime | None]:
    """How many failures came from each source, and when the last one arrived."""
    query = (
        select(FailureExample.source, func.count(), func.max(FailureExample.logged_at))
        .where(FailureExample.team_id == team_id, FailureExample.decision_id == decision_id)
        .group_by(FailureExample.source)
    )
    query = in_period(query, FailureExample.logged_at, since, until)
    counts: dict[str, int] = {}
    last: datetime | None = None
    for source, count, latest in (await session.exec(query)).all():
        counts[source] = count
        if latest is not None:
            if isinstance(latest, str):  # SQLite may hand back text for an aggregate
                latest = datetime.fromisoformat(latest)
            if latest.tzinfo is None:
                latest = latest.replace(tzinfo=UTC)
            last = latest if last is None or latest > last else last
    return counts, last


async def already_stored(
    *,
    session: AsyncSession,
    team_id: str,
    decision_id: int,
    keys: Iterable[str],
    external_ids: Iterable[str],
) -> tuple[set[str], set[str]]:
    """Which of these dedup keys and external ids the decision already has."""
    wanted_keys, wanted_ids = set(keys), set(external_ids)
    if not wanted_keys and not wanted_ids:
        return set(), set()
    query = select(FailureExample.dedup_key, FailureExample.external_id).where(
        FailureExample.team_id == team_id, FailureExample.decision_id == decision_id
    )
    if len(wanted_keys) + len(wanted_ids) <= SMALL_LOOKUP:
        query = query.where(
            or_(
                col(FailureExample.dedup_key).in_(sorted(wanted_keys)),
                col(FailureExample.external_id).in_(sorted(wanted_ids)),
            )
        )
    found_keys: set[str] = set()
    found_ids: set[str] = set()
    for key, external_id in (await session.exec(query)).all():
        if key in wanted_keys:
            found_keys.add(key)
        if external_id is not None and external_id in wanted_ids:
            found_ids.add(external_id)
    return found_keys, found_ids


async def delete_failure(
    *, session: AsyncSession, team_id: str, decision_id: int, failure_id: int
) -> FailureExample | None:
    failure = await get_failure(session=session, team_id=team_id, failure_id=failure_id)
    if failure is None or failure.decision_id != decision_id:
        return None
    for table in SQLModel.metadata.sorted_tables:  # its readings in an error analysis, …
        for fk in table.foreign_keys:
            if fk.column.table.name == FailureExample.__tablename__:
                statement = sa.delete(table).where(fk.parent == failure_id)
                if "team_id" in table.c:
                    statement = statement.where(table.c.team_id == team_id)
                await session.exec(statement)  # type: ignore[call-overload]
    await session.delete(failure)
    await session.flush()
    return failure
