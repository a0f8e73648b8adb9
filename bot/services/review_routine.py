"""The routine after a decision: scheduling reviews, the cadence, marking a review done,
snoozing, queueing revisit checks, re-running the diagnostic and superseding.

Public calls own their transaction; the ``*_in`` helpers run inside a caller's. Times are passed
in (``now``), so tests control the clock. The facilitator's timezone comes from Slack, through
``tz_of``, and is asked for outside any transaction.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.domain.errors import UserError
from bot.domain.lifecycle import DecisionStatus, ReminderKind, ReminderStatus
from bot.domain.review_schedule import SNOOZE_DAYS, cadence_days, next_review, next_slot, review_due
from bot.services import guards
from bot.services.stalled import stop_watching_in, watch_new_decision_in
from storage.models import Decision, Reminder
from storage.repositories import answer_repo, decision_repo, failure_repo, reminder_repo

TimezoneOf = Callable[[str], Awaitable[str | None]]
"""A user's timezone (Slack's users.info ``tz``), or None."""


async def _remind(
    session: AsyncSession, decision: Decision, kind: ReminderKind, due: datetime, replace: bool
) -> None:
    assert decision.id is not None
    await reminder_repo.schedule(
        session=session,
        team_id=decision.team_id,
        decision_id=decision.id,
        kind=kind,
        due_at=due,
        replace=replace,
    )


async def schedule_review_in(
    session: AsyncSession, decision: Decision, due: datetime, replace: bool = True
) -> datetime:
    await _remind(session, decision, ReminderKind.QUARTERLY_REVIEW, due, replace)
    decision.next_review_at = due
    session.add(decision)
    await session.flush()
    return due


async def schedule_first_review_in(
    session: AsyncSession, decision: Decision, tz: str | None
) -> datetime:
    """The decision's first review: decided_at plus its cadence, 10:00 on a weekday in ``tz``."""
    guards.require_decided(decision, "schedule")
    assert decision.decided_at is not None
    await stop_watching_in(session, decision)
    return await schedule_review_in(
        session, decision, next_review(decision.decided_at, decision.review_cadence_days, tz)
    )


async def schedule_next_review_in(
    session: AsyncSession, decision: Decision, now: datetime, tz: str | None
) -> datetime:
    """After a review went out at ``now``: the next one, a cadence later and always after
    ``now``. A pending one (say, a snooze someone set meanwhile) is kept."""
    due = next_review(now, decision.review_cadence_days, tz)
    return await schedule_review_in(session, decision, due, replace=False)


async def _facilitator_tz(
    session: AsyncSession, team_id: str, channel_id: str, decision_id: int, tz_of: TimezoneOf
) -> str | None:
    async with session.begin():
        decision = await guards.in_channel(session, team_id, channel_id, decision_id)
        facilitator = decision.facilitator_id
    return await tz_of(facilitator)


async def set_cadence(
    *,
    session: AsyncSession,
    team_id: str,
    channel_id: str,
    decision_id: int,
    days: int,
    now: datetime,
    tz_of: TimezoneOf,
) -> Decision:
    """Change how often the decision is reviewed. A decided one gets its pending review moved:
    a cadence after the last review (or the decision), or the next 10:00 if that has passed."""
    days = cadence_days(days)
    tz = await _facilitator_tz(session, team_id, channel_id, decision_id, tz_of)
    async with session.begin():
        decision = await guards.in_channel(session, team_id, channel_id, decision_id, lock=True)
        guards.require_reviewed_still(decision)
        decision.review_cadence_days = days
        session.add(decision)
        if decision.status == DecisionStatus.DECIDED:
            base = decision.last_reviewed_at or decision.decided_at or now
            due = review_due(base, days, tz)
            await schedule_review_in(session, decision, due if due >= now else next_slot(now, tz))
        await session.flush()
        return decision


async def _reschedule(
    session: AsyncSession,
    scope: tuple[str, str, int],
    tz_of: TimezoneOf,
    action: str,
    due: Callable[[Decision, str | None], datetime],
    check: Callable[[Decision], Awaitable[None]] | None = None,
) -> Decision:
    """Move the pending review of a decided decision, (team, channel, decision) in ``scope``,
    to ``due(decision, tz)``; ``check`` runs first, with the decision locked."""
    tz = await _facilitator_tz(session, *scope, tz_of)
    async with session.begin():
        decision = await guards.in_channel(session, *scope, lock=True)
        guards.require_decided(decision, action)
        if check is not None:
            await check(decision)
        await schedule_review_in(session, decision, due(decision, tz))
        return decision


async def posted_review(
    session: AsyncSession, decision: Decision, message_ts: str | None
) -> Reminder | None:
    """The sent review whose message is ``message_ts``, if it is one."""
    if not message_ts or decision.id is None:
        return None
    for row in await reminder_repo.list_for_decision(
        session=session,
        team_id=decision.team_id,
        decision_id=decision.id,
        statuses=[ReminderStatus.SENT],
    ):
        steps = row.payload.get("steps") or {}
        if row.kind == ReminderKind.QUARTERLY_REVIEW and steps.get("review") == message_ts:
            return row
    return None


@dataclass(frozen=True)
class ReviewClosed:
    decision: Decision
    review: dict[str, Any] | None
    """The review message's reminder payload (period, steps, who reviewed it), when the press
    came from a posted review."""


async def mark_reviewed(
    *,
    session: AsyncSession,
    team_id: str,
    channel_id: str,
    decision_id: int,
    user_id: str,
    now: datetime,
    tz_of: TimezoneOf,
    message_ts: str | None = None,
) -> ReviewClosed:
    """Someone reviewed it: record who and when (on the decision and on the review message's
    row, which then takes no Snooze), and schedule the next review a cadence from now."""
    closed: dict[str, Any] = {}

    async def check(decision: Decision) -> None:
        row = await posted_review(session, decision, message_ts)
        if row is None:
            return
        if row.payload.get("reviewed_by"):
            raise UserError(already_reviewed(row.payload))
        row.payload = {**row.payload, "reviewed_by": user_id, "reviewed_at": now.isoformat()}
        session.add(row)
        closed.update(row.payload)

    def due(decision: Decision, tz: str | None) -> datetime:
        decision.last_reviewed_at = now
        decision.last_reviewed_by = user_id
        return next_review(now, decision.review_cadence_days, tz)

    scope = (team_id, channel_id, decision_id)
    decision = await _reschedule(session, scope, tz_of, "mark reviewed", due, check)
    return ReviewClosed(decision=decision, review=closed or None)


def already_reviewed(payload: dict[str, Any]) -> str:
    when = datetime.fromisoformat(payload["reviewed_at"])
    return (
        f"This review was already marked reviewed on {when:%b %-d, %Y}, so it's closed and "
        "nothing changed. The next review is scheduled: `/ragft status` shows when."
    )


async def snooze(
    *,
    session: AsyncSession,
    team_id: str,
    channel_id: str,
    decision_id: int,
    now: datetime,
    tz_of: TimezoneOf,
    message_ts: str | None = None,
) -> Decision:
    """Snooze the pending review a week, unless the review pressed was already reviewed."""

    async def check(decision: Decision) -> None:
        row = await posted_review(session, decision, message_ts)
        if row is not None and row.payload.get("reviewed_by"):
            raise UserError(already_reviewed(row.payload))

    scope = (team_id, channel_id, decision_id)
    return await _reschedule(
        session, scope, tz_of, "snooze", lambda _, tz: review_due(now, SNOOZE_DAYS, tz), check
    )


async def queue_revisit_check(*, session: AsyncSession, decision: Decision, now: datetime) -> bool:
    """Failures were logged: ask the next sweep to check the revisit rules. Only for decided
    decisions (and open ones the rule called not ready: 20 explained failures mean it's time to
    decide), and at most one check waits at a time. True when a check is (now) pending."""
    if decision.status != DecisionStatus.DECIDED and not await called_not_ready(
        session=session, decision=decision
    ):
        return False
    await _remind(session, decision, ReminderKind.REVISIT, now, replace=False)
    return True


async def called_not_ready(*, session: AsyncSession, decision: Decision) -> bool:
    """An open decision whose Decide the rule answered with "not ready" (it then got a
    follow-up reminder, whatever has become of it since)."""
    if decision.status != DecisionStatus.OPEN:
        return False
    assert decision.id is not None
    return await reminder_repo.has_kind(
        session=session,
        team_id=decision.team_id,
        decision_id=decision.id,
        kind=ReminderKind.NOT_READY_FOLLOW_UP,
    )


async def _open_rerun(session: AsyncSession, team_id: str, decision_id: int) -> Decision | None:
    """A re-run of this decision that is still open, if someone already started one."""
    for candidate in await decision_repo.list_decisions(
        session=session, team_id=team_id, statuses=[DecisionStatus.OPEN], limit=200
    ):
        if candidate.supersedes_id == decision_id:
            return candidate
    return None


async def rerun(
    *, session: AsyncSession, team_id: str, channel_id: str, decision_id: int, user_id: str
) -> Decision:
    """A new, open decision prefilled from this one: everyone's answers, the settled answers,
    owners, labeled examples and the failures logged so far. It supersedes this one once decided.
    """
    async with session.begin():
        # Lock the old decision first, so two clicks on Re-run can't both start one.
        old = await guards.in_channel(session, team_id, channel_id, decision_id, lock=True)
        guards.require_rerunnable(old)
        existing = await _open_rerun(session, team_id, decision_id)
        if existing is not None:
            raise UserError(
                f"Decision #{decision_id} is already being re-run as #{existing.id}: answer "
                "there, and decide it to replace this one."
            )
        return await _copy(session, old, user_id)


async def _copy(session: AsyncSession, old: Decision, user_id: str) -> Decision:
    assert old.id is not None
    team_id = old.team_id
    new = await decision_repo.create_decision(
        session=session,
        team_id=team_id,
        channel_id=old.channel_id,
        title=old.title,
        facilitator_id=user_id,
        supersedes_id=old.id,
    )
    assert new.id is not None
    new.settled_problem_type = old.settled_problem_type
    new.settled_knowledge_change = old.settled_knowledge_change
    new.review_cadence_days = old.review_cadence_days
    session.add(new)
    scope = {"session": session, "team_id": team_id, "decision_id": old.id}
    for answer in await answer_repo.list_answers(**scope):
        await answer_repo.record_answer(
            session=session,
            team_id=team_id,
            decision_id=new.id,
            question=answer.question,
            user_id=answer.user_id,
            value=answer.value,
        )
    await watch_new_decision_in(session, new)
    copied = [*await answer_repo.list_owners(**scope), *await failure_repo.list_failures(**scope)]
    for row in copied:  # owners and failures as they are, on the new decision
        session.add(type(row)(**row.model_dump(exclude={"id", "decision_id"}), decision_id=new.id))
    await session.flush()
    return new


async def supersede_previous_in(session: AsyncSession, decision: Decision) -> Decision | None:
    """Once a re-run is decided, the decision it re-ran is superseded and stops reminding."""
    if decision.supersedes_id is None:
        return None
    old = await decision_repo.get_decision(
        session=session, team_id=decision.team_id, decision_id=decision.supersedes_id
    )
    if old is None or old.status != DecisionStatus.DECIDED:
        return old
    old.status = DecisionStatus.SUPERSEDED
    old.next_review_at = None
    session.add(old)
    assert old.id is not None
    await reminder_repo.cancel_pending(session=session, team_id=old.team_id, decision_id=old.id)
    await session.flush()
    return old
