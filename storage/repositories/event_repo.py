"""Slack event ids already handled, so a retried delivery is processed once.

Keyword-only; every query is scoped by Slack ``team_id``. Callers own the transaction:
functions flush but never commit.
"""

from __future__ import annotations

import functools
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from storage.db import dialect_insert
from storage.models import (
    ProcessedEvent,
    utcnow,
)

# Events ------------------------------------------------------------------------------------------


async def claim_event(*, session: AsyncSession, team_id: str, event_id: str) -> bool:
    """Record an event id. False when it was already processed (a retry or a replay)."""
    result = await session.exec(  # type: ignore[call-overload]
        _claim(session.get_bind().dialect.name),
        params={"team_id": team_id, "event_id": event_id, "received_at": utcnow()},
    )
    return result.first() is not None


@functools.cache
def _claim(dialect: str) -> Any:
    """``claim_event``'s INSERT, built once per dialect: it runs on every mention."""
    table = ProcessedEvent.__table__  # type: ignore[attr-defined]
    return (  # on the table: a mapped class with parameters would take the ORM's bulk path
        dialect_insert(dialect, table)
        .on_conflict_do_nothing(index_elements=["team_id", "event_id"])
        .returning(table.c.event_id)
    )
