"""Reminder rows: scheduling, the claim that hands each due reminder to exactly one sweeper, and
recording what happened. Keyword-only; callers own the transaction (functions never commit).

Every function that starts from a decision is scoped by ``team_id``. The claim is the one
deliberate exception: a sweeper serves every workspace installed on this database, so it asks
"what is due anywhere?". What it gets back carries each row's ``team_id``, and every follow-up
(progress, sent, retry) is keyed by ``(team_id, id, claimed_by)``: a sweeper can only touch the
rows it holds. ``release``, which a stopping sweeper calls, is keyed by ``claimed_by`` alone for
the same reason as the claim.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy import delete, or_, text, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.domain.lifecycle import ReminderStatus
from storage.db import dialect_insert
from storage.models import Decision, Reminder

LEASE = timedelta(minutes=10)
"""A claim older than this is abandoned (its sweeper died) and may be claimed again."""

_PENDING = Reminder.status == ReminderStatus.PENDING  # type: ignore[arg-type]


@dataclass(frozen=True)
class Claimed:
    id: int
    team_id: str
    decision_id: int
    kind: str
    due_at: datetime
    attempts: int
    claimed_at: datetime
    payload: dict[str, Any]


async def schedule(
    *,
    session: AsyncSession,
    team_id: str,
    decision_id: int,
    kind: str,
    due_at: datetime,
    payload: dict[str, Any] | None = None,
    replace: bool = True,
) -> None:
    """Make sure one pending reminder of this kind exists for the decision.

    ``replace``: an existing pending one is moved to ``due_at`` (and its retry state reset);
    otherwise an existing one is left as it is.
    """
    await session.exec(  # type: ignore[call-overload]
        _schedule(session.get_bind().dialect.name, replace),
        params={
            "team_id": team_id,
            "decision_id": decision_id,
            "kind": kind,
            "due_at": due_at,
            "status": ReminderStatus.PENDING,
            "attempts": 0,
            "payload": payload or {},
        },
    )


@functools.cache
def _schedule(dialect: str, replace: bool) -> Any:
    """``schedule``'s INSERT, built once per dialect (it runs for every new decision)."""
    insert = dialect_insert(dialect, Reminder.__table__)  # type: ignore[attr-defined]
    target = {
        "index_elements": ["decision_id", "kind"],
        # A literal, not a parameter: PostgreSQL must match it to the partial index's predicate
        # even in a prepared (generic) plan.
        "index_where": text("status = 'pending'"),
    }
    if not replace:
        return insert.on_conflict_do_nothing(**target)
    return insert.on_conflict_do_update(
        **target,
        set_={
            "due_at": insert.excluded.due_at,
            "payload": insert.excluded.payload,
            "attempts": 0,
            "last_error": None,
            "claimed_by": None,
            "claimed_at": None,
        },
    )


async def pending(
    *, session: AsyncSession, team_id: str, decision_id: int, kind: str
) -> Reminder | None:
    query = select(Reminder).where(
        Reminder.team_id == team_id,
        Reminder.decision_id == decision_id,
        Reminder.kind == kind,
        _PENDING,
    )
    return (await session.exec(query.execution_options(populate_existing=True))).first()


async def list_for_decision(
    *, session: AsyncSession, team_id: str, decision_id: int, statuses: Sequence[str] = ()
) -> Sequence[Reminder]:
    query = select(Reminder).where(Reminder.team_id == team_id, Reminder.decision_id == decision_id)
    if statuses:
        query = query.where(col(Reminder.status).in_(list(statuses)))
    query = query.order_by(col(Reminder.due_at), col(Reminder.id))
    return (await session.exec(query.execution_options(populate_existing=True))).all()


async def has_kind(*, session: AsyncSession, team_id: str, decision_id: int, kind: str) -> bool:
    """Whether the decision has ever had a reminder of this kind, whatever its status."""
    params = {"team_id": team_id, "decision_id": decision_id, "kind": kind}
    return bool((await session.exec(_HAS_KIND, params=params)).scalar())  # type: ignore[call-overload]


_HAS_KIND = sa.select(
    sa.exists().where(
        col(Reminder.team_id) == sa.bindparam("team_id"),
        col(Reminder.decision_id) == sa.bindparam("decision_id"),
        col(Reminder.kind) == sa.bindparam("kind"),
    )
)


async def cancel_pending(*, session: AsyncSession, team_id: str, decision_id: int) -> int:
    result = await session.exec(
        update(Reminder)
        .where(col(Reminder.team_id) == team_id, col(Reminder.decision_id) == decision_id, _PENDING)
        .values(status=ReminderStatus.CANCELLED)
    )
    return result.rowcount  # type: ignore[attr-defined]


async def drop_pending(*, session: AsyncSession, team_id: str, decision_id: int, kind: str) -> int:
    """Remove the pending reminder of this kind, if any (one that no longer means anything)."""
    result = await session.exec(
        delete(Reminder).where(
            col(Reminder.team_id) == team_id,
            col(Reminder.decision_id) == decision_id,
            col(Reminder.kind) == kind,
            _PENDING,
        )
    )
    return result.rowcount  # type: ignore[attr-defined]


async def claim_due(
    *,
    session: AsyncSession,
    now: datetime,
    clock: datetime,
    worker: str,
    limit: int,
    lease: timedelta = LEASE,
) -> list[Claimed]:
    """Claim up to ``limit`` reminders due at ``now``, in one statement, for ``worker``.

    ``UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED) RETURNING …``: on PostgreSQL
    concurrent sweepers skip each other's rows; on SQLite (no FOR UPDATE) the transaction's
    ``BEGIN IMMEDIATE`` write lock serialises them. ``clock`` is the wall-clock time the claim
    and its lease are measured in, kept apart from ``now`` so that ``ragft sweep --now <future>``
    can't steal a claim a live server holds. Deliberately cross-team (see the module doc).
    """
    due = (
        select(Reminder.id)
        .where(
            _PENDING,
            col(Reminder.due_at) <= now,
            or_(col(Reminder.claimed_at).is_(None), col(Reminder.claimed_at) < clock - lease),
        )
        .order_by(col(Reminder.due_at), col(Reminder.id))
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    statement = (
        update(Reminder)
        .where(col(Reminder.id).in_(due))
        .values(claimed_by=worker, claimed_at=clock, attempts=col(Reminder.attempts) + 1)
        .returning(
            col(Reminder.id),
            col(Reminder.team_id),
            col(Reminder.decision_id),
            col(Reminder.kind),
            col(Reminder.due_at),
            col(Reminder.attempts),
            col(Reminder.claimed_at),
            col(Reminder.payload),
        )
    )
    rows = (await session.exec(statement)).all()  # type: ignore[call-overload]
    claimed = [Claimed(*row) for row in rows]
    return sorted(claimed, key=lambda c: (c.due_at, c.id))


@dataclass(frozen=True)
class Subject:
    """What the sweeper checks about a reminder's decision before delivering it."""

    status: str
    thread_ts: str | None


async def subjects_of(
    *, session: AsyncSession, claims: Sequence[Claimed]
) -> dict[tuple[str, int], Subject]:
    """The decisions of these claims, in one query, keyed by ``(team_id, decision_id)``; a
    decision missing (or of another team) is absent."""
    if not claims:
        return {}
    wanted = {(c.team_id, c.decision_id) for c in claims}
    query = select(
        col(Decision.team_id), col(Decision.id), col(Decision.status), col(Decision.thread_ts)
    ).where(
        col(Decision.id).in_({c.decision_id for c in claims}),
        col(Decision.team_id).in_({c.team_id for c in claims}),
    )
    rows = (await session.exec(query)).all()
    return {
        (team_id, decision_id): Subject(status=status, thread_ts=thread_ts)
        for team_id, decision_id, status, thread_ts in rows
        if (team_id, decision_id) in wanted
    }


def _held(claim: Claimed, worker: str):
    return update(Reminder).where(
        col(Reminder.id) == claim.id,
        col(Reminder.team_id) == claim.team_id,
        col(Reminder.claimed_by) == worker,
        _PENDING,
    )


async def save_progress(
    *, session: AsyncSession, claim: Claimed, worker: str, payload: dict[str, Any]
) -> bool:
    """Record a step that Slack accepted, so a retry never repeats it."""
    result = await session.exec(_held(claim, worker).values(payload=payload))
    return result.rowcount == 1  # type: ignore[attr-defined]


async def finish(
    *,
    session: AsyncSession,
    claim: Claimed,
    worker: str,
    at: datetime,
    payload: dict[str, Any],
    status: str = ReminderStatus.SENT,
) -> bool:
    """Mark a held reminder done: ``sent`` once Slack accepted it, ``cancelled`` when there was
    nothing to send. False if the claim was lost (the lease expired and another sweeper took it)."""
    result = await session.exec(
        _held(claim, worker).values(
            status=status, sent_at=at if status == ReminderStatus.SENT else None, payload=payload
        )
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


async def finish_many(
    *, session: AsyncSession, claims: Sequence[Claimed], worker: str, at: datetime, status: str
) -> set[int]:
    """``finish`` for many held reminders at once, in one statement, leaving their payloads as
    saved. Returns the ids still held (the others' claims were lost)."""
    if not claims:
        return set()
    statement = (
        update(Reminder)
        .where(
            col(Reminder.id).in_([c.id for c in claims]),
            # Scoped like ``_held``: each id's team is the one its claim returned.
            col(Reminder.team_id).in_({c.team_id for c in claims}),
            col(Reminder.claimed_by) == worker,
            _PENDING,
        )
        .values(status=status, sent_at=at if status == ReminderStatus.SENT else None)
        .returning(col(Reminder.id))
    )
    return set((await session.exec(statement)).scalars())  # type: ignore[call-overload]


async def retry_or_fail(
    *,
    session: AsyncSession,
    claim: Claimed,
    worker: str,
    error: str,
    retry_at: datetime | None,
    payload: dict[str, Any],
) -> None:
    """After a failed attempt: pending again at ``retry_at`` (unclaimed), or ``failed`` when
    ``retry_at`` is None. The error is kept either way and shown in ``/ragft status``."""
    values: dict[str, Any] = {"last_error": error[:500], "payload": payload}
    if retry_at is None:
        values["status"] = ReminderStatus.FAILED
    else:
        values.update(due_at=retry_at, claimed_by=None, claimed_at=None)
    await session.exec(_held(claim, worker).values(**values))


async def release(
    *, session: AsyncSession, worker: str, claims: Sequence[Claimed] | None = None
) -> int:
    """Hand back every reminder ``worker`` holds and hasn't finished (its process is stopping):
    pending and unclaimed again, so another sweeper takes it at once instead of after the lease.
    The attempt isn't counted (nothing failed), and the steps Slack already accepted stay in
    the payload, so the next sweeper continues where this one stopped. Returns how many.
    ``claims``: only these (the rest of a batch whose lease is running out)."""
    statement = update(Reminder).where(col(Reminder.claimed_by) == worker, _PENDING)
    if claims is not None:
        statement = statement.where(col(Reminder.id).in_([c.id for c in claims]))
    result = await session.exec(
        statement.values(claimed_by=None, claimed_at=None, attempts=col(Reminder.attempts) - 1)
    )
    return result.rowcount  # type: ignore[attr-defined]


async def discard(*, session: AsyncSession, reminder: Reminder) -> None:
    """Remove a reminder that turned out not to be needed (an outbox row the app delivered)."""
    await session.delete(reminder)
    await session.flush()
