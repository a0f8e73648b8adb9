"""Renaming, withdrawing and deleting a decision: the facilitator or a workspace admin, each
checked through ``guards``; withdrawing and deleting only after the user confirmed a preview.

Whether the user is an admin is asked of Slack outside any transaction; the decision is then
locked, and its state checked again, before anything changes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.domain.errors import UserError
from bot.domain.lifecycle import DecisionStatus, ReminderStatus
from bot.domain.review_schedule import next_slot, review_due
from bot.services import guards, review_routine
from bot.services.decision_records import start_in
from bot.services.default_decision import named_or_default
from bot.services.state import DecisionState
from storage.models import Answer, Decision, FailureExample, Reminder
from storage.repositories import decision_repo, event_repo, reminder_repo

_TS = re.compile(r"^\d{6,12}\.\d{1,9}$")

RENAME, WITHDRAW, DELETE = "rename", "withdraw", "delete"
_DONE = {RENAME: "renamed", WITHDRAW: "withdrawn"}
"""The actions that need a live (open or decided) decision; any decision can be deleted."""


@dataclass(frozen=True)
class Renamed:
    decision: Decision
    old_title: str


@dataclass(frozen=True)
class Removal:
    """What deleting a decision removes, for the confirmation."""

    decision: Decision
    answers: int
    failures: int
    reminders: int
    restores: Decision | None = None
    """The decision this decided re-run superseded: deleting it puts that one back in force."""


@dataclass(frozen=True)
class Erased:
    decision_id: int
    title: str
    channel_id: str
    thread_ts: str | None
    message_ts: list[str]
    """The bot's messages known for it, root last: what to delete in Slack."""
    restored: Decision | None = None
    """The decision it re-ran and had superseded, decided again now that it is gone."""


async def _authorised(
    session: AsyncSession,
    where: dict[str, Any],
    user_id: str,
    is_admin: guards.AdminCheck,
    action: str,
) -> Decision:
    """The decision (named, or the channel's default), once the user may ``action`` it."""
    async with session.begin():
        decision = await named_or_default(session, **where)
        if action in _DONE:
            guards.require_live(decision, _DONE[action])
    await guards.require_manager(decision, user_id, is_admin, action)
    return decision


async def _locked(session: AsyncSession, team_id: str, channel_id: str, decision_id: int):
    return await guards.in_channel(session, team_id, channel_id, decision_id, lock=True)


async def rename(
    *,
    session: AsyncSession,
    team_id: str,
    channel_id: str,
    decision_id: int | None,
    user_id: str,
    title: str,
    is_admin: guards.AdminCheck,
) -> Renamed:
    where = {"team_id": team_id, "channel_id": channel_id, "decision_id": decision_id}
    found = await _authorised(session, where, user_id, is_admin, RENAME)
    assert found.id is not None
    async with session.begin():
        decision = await _locked(session, team_id, channel_id, found.id)
        guards.require_live(decision, "renamed")
        old = decision.title
        decision.title = title
        session.add(decision)
        await session.flush()
        return Renamed(decision=decision, old_title=old)


async def check_withdraw(
    *,
    session: AsyncSession,
    team_id: str,
    channel_id: str,
    decision_id: int | None,
    user_id: str,
    is_admin: guards.AdminCheck,
) -> Decision:
    """Before the confirmation: the decision meant, if this user may withdraw it."""
    where = {"team_id": team_id, "channel_id": channel_id, "decision_id": decision_id}
    return await _authorised(session, where, user_id, is_admin, WITHDRAW)


async def withdraw(
    *,
    session: AsyncSession,
    team_id: str,
    channel_id: str,
    decision_id: int,
    user_id: str,
    is_admin: guards.AdminCheck,
) -> Decision:
    """Close an open or decided decision: no more answers, reviews or reminders. The record
    stays, marked withdrawn."""
    where = {"team_id": team_id, "channel_id": channel_id, "decision_id": decision_id}
    await _authorised(session, where, user_id, is_admin, WITHDRAW)
    async with session.begin():
        decision = await _locked(session, team_id, channel_id, decision_id)
        guards.require_live(decision, "withdrawn")
        decision.status = DecisionStatus.WITHDRAWN
        decision.next_review_at = None
        session.add(decision)
        await reminder_repo.cancel_pending(
            session=session, team_id=team_id, decision_id=decision_id
        )
        await session.flush()
        return decision


async def _count(session: AsyncSession, table: Any, team_id: str, decision_id: int, *extra) -> int:
    query = select(func.count()).where(
        table.team_id == team_id, table.decision_id == decision_id, *extra
    )
    return int((await session.exec(query)).one())


async def removal_preview(
    *,
    session: AsyncSession,
    team_id: str,
    channel_id: str,
    decision_id: int | None,
    user_id: str,
    is_admin: guards.AdminCheck,
) -> Removal:
    """Before the confirmation: what deleting the decision meant would remove."""
    where = {"team_id": team_id, "channel_id": channel_id, "decision_id": decision_id}
    decision = await _authorised(session, where, user_id, is_admin, DELETE)
    assert decision.id is not None
    async with session.begin():
        pending = Reminder.status == ReminderStatus.PENDING  # type: ignore[arg-type]
        return Removal(
            decision=decision,
            answers=await _count(session, Answer, team_id, decision.id),
            failures=await _count(session, FailureExample, team_id, decision.id),
            reminders=await _count(session, Reminder, team_id, decision.id, pending),
            restores=await _restorable(session, decision, lock=False),
        )


def _ts_in(value: Any) -> list[str]:
    """Message ts a reminder recorded as it posted (a review, its pointer, a nudge)."""
    if isinstance(value, str):
        return [value] if _TS.match(value) else []
    if isinstance(value, dict):
        return [ts for item in value.values() for ts in _ts_in(item)]
    if isinstance(value, list):
        return [ts for item in value for ts in _ts_in(item)]
    return []


async def delete(
    *,
    session: AsyncSession,
    team_id: str,
    channel_id: str,
    decision_id: int,
    user_id: str,
    is_admin: guards.AdminCheck,
    tz_of: review_routine.TimezoneOf | None = None,
) -> Erased:
    """Erase the decision and every row that references it (``decision_repo.erase_decision``).
    Returns what Slack still shows of it, for the caller to delete there. A decided re-run's
    predecessor, superseded by it, is decided again and its review rescheduled (in the
    facilitator's ``tz_of``)."""
    where = {"team_id": team_id, "channel_id": channel_id, "decision_id": decision_id}
    found = await _authorised(session, where, user_id, is_admin, DELETE)
    tz = await tz_of(found.facilitator_id) if tz_of and found.supersedes_id else None
    async with session.begin():
        decision = await _locked(session, team_id, channel_id, decision_id)
        reminders = await reminder_repo.list_for_decision(
            session=session, team_id=team_id, decision_id=decision_id
        )
        posted = [ts for r in reminders for ts in _ts_in(r.payload)]
        posted += [ts for ts in decision.message_ts.values() if ts != decision.thread_ts]
        if decision.thread_ts:
            posted.append(decision.thread_ts)
        shown = {"decision_id": decision_id, "title": decision.title}
        shown |= {"channel_id": decision.channel_id, "thread_ts": decision.thread_ts}
        restored = await _restorable(session, decision)
        await decision_repo.erase_decision(session=session, decision=decision)
        if restored is not None:
            restored = await _restore(session, restored, tz)
        return Erased(**shown, message_ts=list(dict.fromkeys(posted)), restored=restored)


async def _restorable(
    session: AsyncSession, decision: Decision, *, lock: bool = True
) -> Decision | None:
    """The decision this decided re-run superseded, if it still is."""
    if decision.supersedes_id is None or decision.status != DecisionStatus.DECIDED:
        return None
    old = await decision_repo.get_decision(
        session=session,
        team_id=decision.team_id,
        decision_id=decision.supersedes_id,
        for_update=lock,
    )
    return old if old is not None and old.status == DecisionStatus.SUPERSEDED else None


async def _restore(session: AsyncSession, old: Decision, tz: str | None) -> Decision:
    """Put a superseded decision back in force, its review a cadence after its last one (or
    its decision), or the next 10:00 if that has passed."""
    old.status = DecisionStatus.DECIDED
    session.add(old)
    now = datetime.now(UTC)
    base = old.last_reviewed_at or old.decided_at or now
    due = review_due(base, old.review_cadence_days, tz)
    await review_routine.schedule_review_in(session, old, due if due >= now else next_slot(now, tz))
    return old


async def start_once(
    *,
    session: AsyncSession,
    team_id: str,
    channel_id: str,
    title: str,
    facilitator_id: str,
    nonce: str | None,
) -> DecisionState:
    """Start a decision from a preview's *Start*, once: a second press of the same button
    (``nonce``, claimed like a Slack event id in the same transaction) is refused."""
    async with session.begin():
        event_id = f"start:{nonce}"
        if nonce and not await event_repo.claim_event(
            session=session, team_id=team_id, event_id=event_id
        ):
            raise UserError("That decision was already started: see its thread in the channel.")
        return await start_in(session, team_id, channel_id, title, facilitator_id)
