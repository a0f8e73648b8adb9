"""Message renders: which decision version each posted message last showed, and the lease of
the one process updating it. Keyword-only, scoped by ``team_id``; callers own the transaction.

Rows are locked in ``message_key`` order (``SELECT … ORDER BY … FOR UPDATE``) before they are
changed, so two replicas claiming overlapping sets of messages can't deadlock on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import UTC, datetime, timedelta

from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.db import insert_for
from storage.models import Decision, MessageRender


async def decision_version(*, session: AsyncSession, team_id: str, decision_id: int) -> int | None:
    query = select(Decision.version).where(Decision.team_id == team_id, Decision.id == decision_id)
    return (await session.exec(query)).first()


async def _lock(
    session: AsyncSession, team_id: str, decision_id: int, keys: Collection[str]
) -> dict[str, MessageRender]:
    query = (
        select(MessageRender)
        .where(
            MessageRender.team_id == team_id,
            MessageRender.decision_id == decision_id,
            col(MessageRender.message_key).in_(sorted(keys)),
        )
        .order_by(col(MessageRender.message_key))
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return {row.message_key: row for row in (await session.exec(query)).all()}


async def claim(
    *,
    session: AsyncSession,
    team_id: str,
    decision_id: int,
    keys: Collection[str],
    holder: str,
    now: datetime,
    lease: timedelta,
) -> tuple[dict[str, int], datetime | None]:
    """Lease these messages to ``holder`` where nobody else holds them: ``({key: the version
    it last showed}, None)`` for the ones claimed, and when the earliest lease held by another
    ends (None if every one was free)."""
    await session.exec(  # type: ignore[call-overload]
        insert_for(session, MessageRender)
        .values(
            [
                {"team_id": team_id, "decision_id": decision_id, "message_key": key}
                for key in sorted(keys)
            ]
        )
        .on_conflict_do_nothing()
    )
    rows = await _lock(session, team_id, decision_id, keys)
    claimed: dict[str, int] = {}
    busy_until: datetime | None = None
    for key, row in rows.items():
        held = row.leased_by not in (None, holder) and row.leased_until is not None
        if held and _aware(row.leased_until) > now:  # type: ignore[arg-type]
            ends = _aware(row.leased_until)  # type: ignore[arg-type]
            busy_until = ends if busy_until is None else min(busy_until, ends)
            continue
        claimed[key] = row.sent_version
    if claimed:
        await session.exec(  # type: ignore[call-overload]
            update(MessageRender)
            .where(
                col(MessageRender.team_id) == team_id,
                col(MessageRender.decision_id) == decision_id,
                col(MessageRender.message_key).in_(list(claimed)),
            )
            .values(leased_by=holder, leased_until=now + lease)
        )
    return claimed, busy_until


async def release(
    *,
    session: AsyncSession,
    team_id: str,
    decision_id: int,
    holder: str,
    keys: Collection[str],
    shown: Mapping[str, int],
) -> None:
    """Hand back ``holder``'s leases on ``keys``; ``shown`` records the version each message now
    shows (never lowering it)."""
    rows = await _lock(session, team_id, decision_id, keys)
    for key, row in rows.items():
        if row.leased_by != holder:
            continue  # our lease expired and another process took it: leave it theirs
        version = shown.get(key)
        if version is not None and version > row.sent_version:
            row.sent_version = version
        row.leased_by = None
        row.leased_until = None
        session.add(row)


async def record_shown(
    *, session: AsyncSession, team_id: str, decision_id: int, shown: Mapping[str, int]
) -> None:
    """Messages just posted, showing ``shown[key]``: nobody has updated them yet."""
    await session.exec(  # type: ignore[call-overload]
        insert_for(session, MessageRender)
        .values(
            [
                {
                    "team_id": team_id,
                    "decision_id": decision_id,
                    "message_key": key,
                    "sent_version": version,
                }
                for key, version in sorted(shown.items())
            ]
        )
        .on_conflict_do_nothing()
    )
    rows = await _lock(session, team_id, decision_id, shown)
    for key, row in rows.items():
        if shown[key] > row.sent_version:
            row.sent_version = shown[key]
            session.add(row)


def _aware(moment: datetime) -> datetime:
    """SQLite gives naive datetimes back: they are UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
