"""The routine after a decision, as a Slack-free service: scheduling reviews, cadence, marking a
review done, snoozing, re-running the diagnostic, and gathering the evidence a review shows.

Callers own the transaction. Times are passed in (``now``), so tests control the clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.domain.errors import NotAllowed
from bot.domain.review_schedule import SNOOZE_DAYS, Tally, next_slot, per_quarter, review_due
from bot.services.state import get_decision
from storage.models import Decision, DecisionStatus, FailureExample, ReminderKind
from storage.repositories import decision_repo as repo
from storage.repositories import reminder_repo as reminders


def _require_decided(decision: Decision, action: str) -> None:
    if decision.status != DecisionStatus.DECIDED:
        raise NotAllowed(
            f"Decision #{decision.id} is {decision.status}, so it has no reviews to {action}."
        )


async def _schedule_review(
    session: AsyncSession, decision: Decision, due: datetime, replace: bool = True
) -> datetime:
    assert decision.id is not None
    await reminders.schedule(
        session=session,
        team_id=decision.team_id,
        decision_id=decision.id,
        kind=ReminderKind.QUARTERLY_REVIEW,
        due_at=due,
        replace=replace,
    )
    decision.next_review_at = due
    session.add(decision)
    await session.flush()
    return due


async def schedule_first_review(
    *, session: AsyncSession, team_id: str, decision_id: int, tz: str | None
) -> datetime:
    """The decision's first review: decided_at plus its cadence, 10:00 on a weekday in ``tz``."""
    decision = await get_decision(session=session, team_id=team_id, decision_id=decision_id)
    _require_decided(decision, "schedule")
    assert decision.decided_at is not None
    due = review_due(decision.decided_at, decision.review_cadence_days, tz)
    return await _schedule_review(session, decision, due)


async def schedule_next_review(
    *, session: AsyncSession, decision: Decision, now: datetime, tz: str | None
) -> datetime:
    """After a review went out: the next one, a cadence later. A pending one (say, a snooze
    someone set meanwhile) is kept."""
    return await _schedule_review(
        session, decision, review_due(now, decision.review_cadence_days, tz), replace=False
    )


async def set_cadence(
    *,
    session: AsyncSession,
    team_id: str,
    decision_id: int,
    days: int,
    now: datetime,
    tz: str | None,
) -> Decision:
    """Change how often the decision is reviewed. A decided one gets its pending review moved:
    a cadence after the last review (or the decision), or the next 10:00 if that has passed."""
    decision = await get_decision(session=session, team_id=team_id, decision_id=decision_id)
    if decision.status in (DecisionStatus.SUPERSEDED, DecisionStatus.ARCHIVED):
        raise NotAllowed(
            f"Decision #{decision_id} is {decision.status}; it isn't reviewed any more."
        )
    decision.review_cadence_days = days
    session.add(decision)
    if decision.status == DecisionStatus.DECIDED:
        base = decision.last_reviewed_at or decision.decided_at or now
        due = review_due(base, days, tz)
        await _schedule_review(session, decision, due if due >= now else next_slot(now, tz))
    await session.flush()
    return decision


async def mark_reviewed(
    *,
    session: AsyncSession,
    team_id: str,
    decision_id: int,
    user_id: str,
    now: datetime,
    tz: str | None,
) -> Decision:
    decision = await get_decision(session=session, team_id=team_id, decision_id=decision_id)
    _require_decided(decision, "mark reviewed")
    decision.last_reviewed_at = now
    decision.last_reviewed_by = user_id
    await _schedule_review(session, decision, review_due(now, decision.review_cadence_days, tz))
    return decision


async def snooze(
    *, session: AsyncSession, team_id: str, decision_id: int, now: datetime, tz: str | None
) -> Decision:
    decision = await get_decision(session=session, team_id=team_id, decision_id=decision_id)
    _require_decided(decision, "snooze")
    await _schedule_review(session, decision, review_due(now, SNOOZE_DAYS, tz))
    return decision


async def note_failures(
    *, session: AsyncSession, team_id: str, decision_id: int, now: datetime
) -> bool:
    """Failures were logged: ask the next sweep to check the revisit rules. Only for decided
    decisions, and at most one check waits at a time. True when a check is (now) pending."""
    decision = await get_decision(session=session, team_id=team_id, decision_id=decision_id)
    if decision.status != DecisionStatus.DECIDED:
        return False
    await reminders.schedule(
        session=session,
        team_id=team_id,
        decision_id=decision_id,
        kind=ReminderKind.REVISIT,
        due_at=now,
        replace=False,
    )
    return True


async def open_rerun(*, session: AsyncSession, team_id: str, decision_id: int) -> Decision | None:
    """A re-run of this decision that is still open, if someone already started one."""
    for candidate in await repo.list_decisions(
        session=session, team_id=team_id, statuses=[DecisionStatus.OPEN], limit=200
    ):
        if candidate.supersedes_id == decision_id:
            return candidate
    return None


async def rerun(*, session: AsyncSession, team_id: str, decision_id: int, user_id: str) -> Decision:
    """A new, open decision prefilled from this one: everyone's answers, the settled answers,
    owners, labeled examples and the failures logged so far. It supersedes this one once decided.
    """
    old = await get_decision(session=session, team_id=team_id, decision_id=decision_id)
    if old.status not in (DecisionStatus.DECIDED, DecisionStatus.OPEN):
        raise NotAllowed(f"Decision #{decision_id} is {old.status}; re-run its successor instead.")
    new = await repo.create_decision(
        session=session,
        team_id=team_id,
        channel_id=old.channel_id,
        title=old.title,
        facilitator_id=user_id,
        supersedes_id=decision_id,
    )
    assert new.id is not None
    new.settled_problem_type = old.settled_problem_type
    new.settled_knowledge_change = old.settled_knowledge_change
    new.review_cadence_days = old.review_cadence_days
    session.add(new)
    scope = {"session": session, "team_id": team_id, "decision_id": decision_id}
    for answer in await repo.list_answers(**scope):
        await repo.record_answer(
            session=session,
            team_id=team_id,
            decision_id=new.id,
            question=answer.question,
            user_id=answer.user_id,
            value=answer.value,
        )
    for owner in await repo.list_owners(**scope):
        await repo.assign_owner(
            session=session,
            team_id=team_id,
            decision_id=new.id,
            role=owner.role,
            user_id=owner.user_id,
            assigned_by=owner.assigned_by,
        )
    for failure in await repo.list_failures(**scope):
        data = failure.model_dump(exclude={"id", "decision_id"})
        session.add(FailureExample(**data, decision_id=new.id))
    await session.flush()
    return new


async def supersede_previous(*, session: AsyncSession, decision: Decision) -> Decision | None:
    """Once a re-run is decided, the decision it re-ran is superseded and stops reminding."""
    if decision.supersedes_id is None:
        return None
    old = await repo.get_decision(
        session=session, team_id=decision.team_id, decision_id=decision.supersedes_id
    )
    if old is None or old.status != DecisionStatus.DECIDED:
        return old
    old.status = DecisionStatus.SUPERSEDED
    old.next_review_at = None
    session.add(old)
    assert old.id is not None
    await reminders.cancel_pending(session=session, team_id=old.team_id, decision_id=old.id)
    await session.flush()
    return old


# Evidence ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Evidence:
    since_decision: Tally
    current: Tally
    """Since the last review (or the decision)."""
    previous: Tally
    """The period before; for the first review, the failures the decision was made on."""
    current_start: datetime
    quarters: list[tuple[str, Tally]]


async def review_periods(
    *, session: AsyncSession, decision: Decision
) -> tuple[datetime, datetime | None]:
    """(start of this period, start of the previous one; None = everything before)."""
    assert decision.id is not None and decision.decided_at is not None
    sent = await reminders.list_for_decision(
        session=session,
        team_id=decision.team_id,
        decision_id=decision.id,
        statuses=["sent"],
    )
    ends = sorted(
        datetime.fromisoformat(r.payload["period_end"])
        for r in sent
        if r.kind == ReminderKind.QUARTERLY_REVIEW and "period_end" in r.payload
    )
    starts: list[datetime | None] = [None, decision.decided_at, *ends]
    return starts[-1] or decision.decided_at, starts[-2]


async def gather_evidence(*, session: AsyncSession, decision: Decision, now: datetime) -> Evidence:
    assert decision.id is not None and decision.decided_at is not None
    failures = [
        f
        for f in await repo.list_failures(
            session=session, team_id=decision.team_id, decision_id=decision.id
        )
        if f.logged_at <= now
    ]
    current_start, previous_start = await review_periods(session=session, decision=decision)

    def between(start: datetime | None, end: datetime | None) -> Tally:
        return Tally.of(
            f.category
            for f in failures
            if (start is None or f.logged_at >= start) and (end is None or f.logged_at < end)
        )

    return Evidence(
        since_decision=between(decision.decided_at, None),
        current=between(current_start, None),
        previous=between(previous_start, current_start),
        current_start=current_start,
        quarters=per_quarter((f.logged_at, f.category) for f in failures),
    )
