"""Queries every repository builds the same way: one decision's rows, scoped by team."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, TypeVar

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

Row = TypeVar("Row")


def of_decision(table: type[Row], team_id: str, decision_id: int) -> SelectOfScalar[Row]:
    return select(table).where(table.team_id == team_id, table.decision_id == decision_id)  # type: ignore[attr-defined]


def in_period(query: Any, column: Any, since: datetime | None, until: datetime | None) -> Any:
    """``since`` included, ``until`` excluded; either may be open."""
    if since is not None:
        query = query.where(column >= since)
    if until is not None:
        query = query.where(column < until)
    return query


async def decision_rows(
    session: AsyncSession,
    table: type[Row],
    *,
    team_id: str,
    decision_id: int,
    oldest_first_by: Any,
    fresh: bool = False,
) -> Sequence[Row]:
    """One decision's rows, oldest first (ties by id). ``fresh`` re-reads rows the session
    already holds."""
    query = of_decision(table, team_id, decision_id).order_by(
        col(oldest_first_by),
        col(table.id),  # type: ignore[attr-defined]
    )
    if fresh:
        query = query.execution_options(populate_existing=True)
    return (await session.exec(query)).all()
