"""The ts of the messages the bot posted for a decision (``Decision.message_ts``, and the
thread's root ``thread_ts``). Keyword-only, scoped by Slack ``team_id``. Callers own the
transaction.

Posting a thread saves a ts five times in a row, so this is one ``UPDATE`` that merges the new
ts into the stored JSON in the database (SQLite's ``json_patch``, PostgreSQL's ``jsonb ||``),
instead of loading, locking and flushing the whole ``Decision``. The merge happens under the
row's write lock, so concurrent saves never lose each other's ts."""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Decision


def _merged(session: AsyncSession, posted: dict[str, str]) -> Any:
    patch = json.dumps(posted)
    if session.get_bind().dialect.name == "postgresql":
        merged = sa.cast(Decision.message_ts, JSONB).op("||")(sa.cast(sa.literal(patch), JSONB))
        return sa.cast(merged, sa.JSON)
    # json_patch is RFC 7396 merge-patch: for a flat {message: ts} object, the same as {**a, **b}
    return sa.func.json_patch(Decision.message_ts, sa.literal(patch))


async def add_message_ts(
    *,
    session: AsyncSession,
    team_id: str,
    decision_id: int,
    posted: dict[str, str],
    thread_ts: str | None = None,
) -> int | None:
    """Merge ``posted`` into the decision's message ts (and set ``thread_ts`` if given); the
    decision's version (this write doesn't bump it), or None: no such decision in this team."""
    values: dict[str, Any] = {"message_ts": _merged(session, posted)}
    if thread_ts:
        values["thread_ts"] = thread_ts
    statement = (
        sa.update(Decision)
        .where(Decision.team_id == team_id, Decision.id == decision_id)  # type: ignore[arg-type]
        .values(**values)
        .returning(Decision.version)
        .execution_options(synchronize_session=False)
    )
    return (await session.exec(statement)).scalar_one_or_none()  # type: ignore[call-overload]
