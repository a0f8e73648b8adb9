"""The ts of the messages the bot posted for a decision (``Decision.message_ts``, and the
thread's root ``thread_ts``). Keyword-only, scoped by Slack ``team_id``. Callers own the
transaction.

Posting a thread saves a ts five times in a row, so this reads and writes the two columns
directly instead of loading (and flushing) the whole ``Decision``."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Decision


async def add_message_ts(
    *,
    session: AsyncSession,
    team_id: str,
    decision_id: int,
    posted: dict[str, str],
    thread_ts: str | None = None,
) -> bool:
    """Merge ``posted`` into the decision's message ts (and set ``thread_ts`` if given), with
    the row locked against concurrent writers. False: no such decision in this team."""
    scoped = sa.and_(Decision.team_id == team_id, Decision.id == decision_id)
    current = (
        await session.exec(sa.select(Decision.message_ts).where(scoped).with_for_update())
    ).first()
    if current is None:
        return False
    values: dict[str, Any] = {"message_ts": {**(current[0] or {}), **posted}}
    if thread_ts:
        values["thread_ts"] = thread_ts
    await session.exec(sa.update(Decision).where(scoped).values(**values))
    return True
