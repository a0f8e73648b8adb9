"""Message renders: which decision version each posted message last showed, and the lease of
the one process updating it. Keyword-only, scoped by ``team_id`` (but ``abandoned``, the bot's
own recovery across workspaces); callers own the transaction.

Each step is one or two Core statements (this runs after every click). Rows are passed as
executemany parameters, never as a multi-row ``.values([...])``: SQLAlchemy can't cache the
compiled form of that, so it would be compiled again on every call. A claim is one
``UPDATE … WHERE`` the lease is free ``… RETURNING``: on PostgreSQL a concurrent claim waits
for the row and re-checks the condition, so two processes never both hold a message.
"""

from __future__ import annotations

import functools
from collections.abc import Collection, Mapping
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.db import dialect_insert, insert_for
from storage.models import Decision, MessageRender

_TABLE = MessageRender.__table__  # type: ignore[attr-defined]
"""The statements here are on the table, not the class: an ORM-enabled INSERT with parameters
takes the ORM's bulk path, and an ORM UPDATE its session bookkeeping, on every call."""
_key = col(MessageRender.message_key)
_sent = col(MessageRender.sent_version)
_by = col(MessageRender.leased_by)
_until = col(MessageRender.leased_until)


_OF = sa.and_(
    col(MessageRender.team_id) == sa.bindparam("of_team"),
    col(MessageRender.decision_id) == sa.bindparam("of_decision"),
    _key.in_(sa.bindparam("of_keys", expanding=True)),
)
"""These messages of this decision; the parameters from ``_of``. The statements every round
of updates runs are built once (here, and ``_release`` once per number of messages): building
them per call cost as much CPU as running them."""


def _of(team_id: str, decision_id: int, keys: Collection[str]) -> dict[str, object]:
    return {"of_team": team_id, "of_decision": decision_id, "of_keys": sorted(keys)}


_VERSION = select(Decision.version).where(
    Decision.team_id == sa.bindparam("of_team"), Decision.id == sa.bindparam("of_decision")
)
_TAKE = (
    sa.update(_TABLE)
    .where(
        _OF,
        sa.or_(
            _by.is_(None),
            _by == sa.bindparam("holder"),
            _until.is_(None),
            _until < sa.bindparam("now"),
        ),
    )
    .values(leased_by=sa.bindparam("holder"), leased_until=sa.bindparam("until"))
    .returning(_key, _sent)
)
_RECORDED = sa.select(_key).where(_OF)
_KEEP = _VERSION.with_for_update(read=True, key_share=True)  # FOR KEY SHARE: a delete waits


async def decision_version(*, session: AsyncSession, team_id: str, decision_id: int) -> int | None:
    params = {"of_team": team_id, "of_decision": decision_id}
    return (await session.exec(_VERSION, params=params)).first()  # type: ignore[call-overload]


async def claim(
    *,
    session: AsyncSession,
    team_id: str,
    decision_id: int,
    keys: Collection[str],
    holder: str,
    now: datetime,
    lease: timedelta,
) -> tuple[dict[str, int], set[str]]:
    """Lease these messages to ``holder`` where nobody else holds them: ``{key: the version
    it last showed}`` of the ones claimed, and the keys another process holds."""
    claimed = await _take(session, team_id, decision_id, keys, holder, now, lease)
    rest = set(keys) - claimed.keys()
    if not rest:
        return claimed, set()
    recorded = set(
        (
            await session.exec(  # type: ignore[call-overload]
                _RECORDED, params=_of(team_id, decision_id, rest)
            )
        )
        .scalars()
        .all()
    )
    missing = rest - recorded
    if missing:  # never recorded (a message posted before versions were kept): a fresh row
        # for a decision that still exists, held until the commit: a delete committed since
        # the caller read it would fail the rows' foreign key (PostgreSQL; SQLite's write
        # lock already keeps deletes out).
        params = {"of_team": team_id, "of_decision": decision_id}
        if (await session.exec(_KEEP, params=params)).first() is None:  # type: ignore[call-overload]
            return claimed, set()
        await session.exec(  # type: ignore[call-overload]
            insert_for(session, _TABLE).on_conflict_do_nothing(),
            params=[
                {"team_id": team_id, "decision_id": decision_id, "message_key": key}
                for key in sorted(missing)
            ],
        )
        claimed |= await _take(session, team_id, decision_id, missing, holder, now, lease)
    return claimed, rest - claimed.keys()


async def _take(
    session: AsyncSession,
    team_id: str,
    decision_id: int,
    keys: Collection[str],
    holder: str,
    now: datetime,
    lease: timedelta,
) -> dict[str, int]:
    params = {**_of(team_id, decision_id, keys), "holder": holder, "now": now}
    taken = await session.exec(  # type: ignore[call-overload]
        _TAKE, params={**params, "until": now + lease}
    )
    return dict(taken.all())


async def release(
    *,
    session: AsyncSession,
    team_id: str,
    decision_id: int,
    holder: str,
    keys: Collection[str],
    shown: Mapping[str, int],
) -> None:
    """Hand back ``holder``'s leases on ``keys`` (not ones its expired lease lost to another
    process); ``shown`` records the version each message now shows, never lowering it."""
    params = {**_of(team_id, decision_id, keys), "holder": holder}
    for i, (key, version) in enumerate(sorted(shown.items())):
        params[f"key_{i}"], params[f"shown_{i}"] = key, version
    await session.exec(_release(len(shown)), params=params)  # type: ignore[call-overload]


@functools.cache
def _release(shown: int) -> sa.Update:
    """``release`` for ``shown`` messages recorded (``key_i`` shows ``shown_i``)."""
    values: dict[str, object] = {"leased_by": None, "leased_until": None}
    if shown:
        whens = [(sa.bindparam(f"key_{i}"), sa.bindparam(f"shown_{i}")) for i in range(shown)]
        new = sa.case(*whens, value=_key, else_=_sent)
        values["sent_version"] = sa.case((new > _sent, new), else_=_sent)
    return sa.update(_TABLE).where(_OF, _by == sa.bindparam("holder")).values(values)


async def record_shown(
    *, session: AsyncSession, team_id: str, decision_id: int, shown: Mapping[str, int]
) -> None:
    """Messages just posted, showing ``shown[key]``."""
    await session.exec(  # type: ignore[call-overload]
        _record_shown(session.get_bind().dialect.name),
        params=[
            {"team_id": team_id, "decision_id": decision_id, "message_key": key, "sent_version": v}
            for key, v in sorted(shown.items())
        ],
    )


@functools.cache
def _record_shown(dialect: str) -> sa.Insert:
    """Built once per dialect: ``excluded`` alone costs a copy of every column each time."""
    insert = dialect_insert(dialect, _TABLE)
    newer = insert.excluded.sent_version
    return insert.on_conflict_do_update(
        index_elements=["decision_id", "message_key"],
        set_={"sent_version": sa.case((newer > _sent, newer), else_=_sent)},
    )


async def abandoned(
    *, session: AsyncSession, now: datetime, limit: int
) -> list[tuple[str, int, str]]:
    """``(team_id, decision_id, message_key)`` of messages whose lease ended without being
    handed back (its process died mid-update), oldest first: every workspace's, for the bot's
    own recovery, like the reminder sweep's claims."""
    rows = await session.exec(  # type: ignore[call-overload]
        sa.select(MessageRender.team_id, MessageRender.decision_id, _key)
        .where(_by.is_not(None), _until < now)
        .order_by(_until)
        .limit(limit)
    )
    return [(team_id, decision_id, key) for team_id, decision_id, key in rows.all()]


async def drop_ended(
    *, session: AsyncSession, team_id: str, decision_id: int, keys: Collection[str], now: datetime
) -> None:
    """Clear the leases on ``keys`` that ended before ``now`` (never a live one)."""
    await session.exec(  # type: ignore[call-overload]
        sa.update(MessageRender)
        .where(_OF, _by.is_not(None), _until < sa.bindparam("now"))
        .values(leased_by=None, leased_until=None)
        .execution_options(synchronize_session=False),
        params={**_of(team_id, decision_id, keys), "now": now},
    )
