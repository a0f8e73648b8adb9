"""The ts of the messages the bot posted for a decision (``Decision.message_ts``, and the
thread's root ``thread_ts``). Keyword-only, scoped by Slack ``team_id``. Callers own the
transaction.

Posting a thread saves a ts five times in a row, so this is one ``UPDATE`` that merges the new
ts into the stored JSON in the database (SQLite's ``json_patch``, PostgreSQL's ``jsonb ||``),
instead of loading, locking and flushing the whole ``Decision``. The merge happens under the
row's write lock, so concurrent saves never lose each other's ts."""

from __future__ import annotations

import functools
import json

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Decision

_TABLE = Decision.__table__  # type: ignore[attr-defined]


@functools.cache
def _save(dialect: str) -> sa.Update:
    """Built once per dialect, on the table: building it cost as much CPU as running it, and an
    UPDATE on the mapped class takes the ORM's session bookkeeping too."""
    patch = sa.bindparam("patch", type_=sa.String)
    stored = _TABLE.c.message_ts
    if dialect == "postgresql":
        merged = sa.cast(sa.cast(stored, JSONB).op("||")(sa.cast(patch, JSONB)), sa.JSON)
    else:  # json_patch is RFC 7396 merge-patch: for a flat {message: ts} object, {**a, **b}
        merged = sa.func.json_patch(stored, patch)
    thread_ts = sa.func.coalesce(sa.bindparam("thread_ts", type_=sa.String), _TABLE.c.thread_ts)
    return (
        sa.update(_TABLE)
        .where(_TABLE.c.team_id == sa.bindparam("team"), _TABLE.c.id == sa.bindparam("decision"))
        .values(message_ts=merged, thread_ts=thread_ts)
        .returning(_TABLE.c.version)
    )


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
    params = {
        "patch": json.dumps(posted),
        "thread_ts": thread_ts or None,
        "team": team_id,
        "decision": decision_id,
    }
    statement = _save(session.get_bind().dialect.name)
    return (await session.exec(statement, params=params)).scalar_one_or_none()  # type: ignore[call-overload]
