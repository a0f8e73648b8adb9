"""The Slack-free half of delivering a reminder: what a review or a nudge shows, and what is
recorded once Slack accepted it (run in the transaction that marks the reminder sent)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.domain.lifecycle import DecisionStatus
from bot.domain.nudges import Nudge, evaluate_nudge, ready_to_decide
from bot.services.review_evidence import Evidence, gather_evidence
from bot.services.review_routine import queue_revisit_check, schedule_next_review_in
from bot.services.state import DecisionState, load_state
from storage.repositories import decision_repo


@dataclass(frozen=True)
class ReviewFacts:
    state: DecisionState
    evidence: Evidence


async def review_facts(
    *, session: AsyncSession, team_id: str, decision_id: int, period_end: datetime
) -> ReviewFacts:
    async with session.begin():
        state = await load_state(session=session, team_id=team_id, decision_id=decision_id)
        evidence = await gather_evidence(session=session, decision=state.decision, now=period_end)
        return ReviewFacts(state=state, evidence=evidence)


async def after_review(
    *,
    session: AsyncSession,
    team_id: str,
    decision_id: int,
    period_end: datetime,
    now: datetime,
    tz: str | None,
) -> None:
    """The review went out: schedule the next one (always after this one), and give failures
    logged by any path a revisit check at least once a period."""
    fresh = await decision_repo.get_decision(
        session=session, team_id=team_id, decision_id=decision_id, for_update=True
    )
    if fresh is not None and fresh.status == DecisionStatus.DECIDED:
        await schedule_next_review_in(session, fresh, max(period_end, now), tz)
        await queue_revisit_check(session=session, decision=fresh, now=now)


async def nudge_due(
    *, session: AsyncSession, team_id: str, decision_id: int, now: datetime
) -> tuple[DecisionState, Nudge] | None:
    """The nudge to post now, or None when the evidence hasn't moved since the last one."""
    async with session.begin():
        state = await load_state(session=session, team_id=team_id, decision_id=decision_id)
        evidence = await gather_evidence(session=session, decision=state.decision, now=now)
    last = state.decision.nudge_evidence
    if state.is_open:
        nudge = ready_to_decide(all_failures=evidence.all_failures, last=last, at=now)
    else:
        nudge = evaluate_nudge(
            since_decision=evidence.since_decision,
            current=evidence.current,
            previous=evidence.previous,
            period_start=evidence.current_start,
            last=last,
            at=now,
            outcome=state.outcome,
        )
    return None if nudge is None else (state, nudge)


async def after_nudge(
    *, session: AsyncSession, team_id: str, decision_id: int, evidence: dict[str, Any]
) -> None:
    fresh = await decision_repo.get_decision(
        session=session, team_id=team_id, decision_id=decision_id, for_update=True
    )
    if fresh is not None:
        fresh.nudge_evidence = evidence
        session.add(fresh)
