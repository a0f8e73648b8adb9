"""Stalled decisions: an open decision with no activity for a week gets one reminder to its
facilitator, at most weekly, until it is decided or withdrawn.

One pending ``stalled`` reminder per open decision, scheduled when it starts. When it comes due,
the sweep checks the last activity (an answer, a change of answer, an owner, a failure, a
perfect-context test): if there was some in the past week, the row is closed unsent and a new
one is scheduled a week after that activity; otherwise the reminder is posted and the next one
is scheduled a week later. Rows are claimed like every reminder, so two sweepers never post it
twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.domain.lifecycle import DecisionStatus, ReminderKind
from bot.services.state import DecisionState, state_of
from storage.models import Decision
from storage.repositories import (
    answer_repo,
    context_test_repo,
    decision_repo,
    failure_repo,
    reminder_repo,
)

STALLED_AFTER = timedelta(days=7)
"""No activity for this long: the facilitator hears about it, again at most this often."""


async def schedule_stalled_in(session: AsyncSession, decision: Decision, due: datetime) -> None:
    """Inside a caller's transaction: the decision's pending stalled check, at ``due``."""
    assert decision.id is not None
    await reminder_repo.schedule(
        session=session,
        team_id=decision.team_id,
        decision_id=decision.id,
        kind=ReminderKind.STALLED,
        due_at=due,
    )


async def watch_new_decision_in(session: AsyncSession, decision: Decision) -> None:
    """A decision just started: check on it a week from now."""
    await session.flush()
    await schedule_stalled_in(session, decision, decision.created_at + STALLED_AFTER)


async def stop_watching_in(session: AsyncSession, decision: Decision) -> None:
    """The decision is decided: no stalled check waits for it any more."""
    assert decision.id is not None
    await reminder_repo.drop_pending(
        session=session,
        team_id=decision.team_id,
        decision_id=decision.id,
        kind=ReminderKind.STALLED,
    )


async def last_activity_in(session: AsyncSession, decision: Decision) -> datetime:
    assert decision.id is not None
    scope = {"session": session, "team_id": decision.team_id, "decision_id": decision.id}
    moments = [decision.created_at]
    moments += [a.updated_at for a in await answer_repo.list_answers(**scope)]
    moments += [a.changed_at for a in await answer_repo.list_answer_audit(**scope)]
    moments += [o.assigned_at for o in await answer_repo.list_owners(**scope)]
    moments += [f.logged_at for f in await failure_repo.list_failures(**scope)]
    for test in await context_test_repo.list_tests(**scope):
        moments += [m for m in (test.created_at, test.completed_at) if m is not None]
    return max(moments)


@dataclass(frozen=True)
class StalledCheck:
    state: DecisionState | None
    """The decision to remind about; None when there was activity in the past week."""
    last_activity: datetime
    next_due: datetime
    """When to look again."""
    idle_days: int = 0


async def stalled_check(
    *, session: AsyncSession, team_id: str, decision_id: int, now: datetime
) -> StalledCheck | None:
    """Whether to post the stalled reminder now. None when the decision isn't open any more."""
    async with session.begin():
        decision = await decision_repo.get_decision(
            session=session, team_id=team_id, decision_id=decision_id
        )
        if decision is None or decision.status != DecisionStatus.OPEN:
            return None
        last = await last_activity_in(session, decision)
        if now - last < STALLED_AFTER:
            return StalledCheck(state=None, last_activity=last, next_due=last + STALLED_AFTER)
        state = await state_of(session=session, decision=decision)
        return StalledCheck(
            state=state,
            last_activity=last,
            next_due=now + STALLED_AFTER,
            idle_days=round((now - last) / timedelta(days=1)),
        )


async def reschedule_stalled_in(
    session: AsyncSession, team_id: str, decision_id: int, due: datetime
) -> None:
    """In the transaction that closes the due row: the next check, while the decision is open."""
    decision = await decision_repo.get_decision(
        session=session, team_id=team_id, decision_id=decision_id, for_update=True
    )
    if decision is not None and decision.status == DecisionStatus.OPEN:
        await schedule_stalled_in(session, decision, due)


async def resume_watching(
    *, session: AsyncSession, team_id: str, decision_id: int, now: datetime
) -> None:
    """A not-ready follow-up went out: from now on the decision is watched for stalling again."""
    async with session.begin():
        await reschedule_stalled_in(session, team_id, decision_id, now + STALLED_AFTER)
