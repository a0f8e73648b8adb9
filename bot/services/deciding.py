"""Deciding: the facilitator (or an admin) presses Decide, and then accepts the verdict or
records a different choice with a reason."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.domain.errors import UserError
from bot.domain.questions import Verdict
from bot.services import guards
from bot.services.answering import open_decision
from bot.services.review_routine import (
    TimezoneOf,
    schedule_first_review_in,
    supersede_previous_in,
)
from bot.services.state import DecisionState, state_of
from storage.models import Decision
from storage.repositories import decision_repo


@dataclass(frozen=True)
class Decided:
    state: DecisionState
    superseded: Decision | None
    """The decision this one re-ran, now superseded (None when it re-ran nothing)."""


async def decide(
    *,
    session: AsyncSession,
    team_id: str,
    channel_id: str,
    decision_id: int,
    user_id: str,
    is_admin: guards.AdminCheck,
    tz_of: TimezoneOf,
) -> Decided:
    """Record the rule's verdict, schedule the first review and retire the decision this one
    re-ran, all in one transaction: a crash after it can't leave a decision without a review."""
    async with session.begin():
        decision = await open_decision(
            session=session, team_id=team_id, channel_id=channel_id, decision_id=decision_id
        )
        facilitator = decision.facilitator_id
    if user_id != facilitator:
        await guards.require_facilitator_or_admin(decision, user_id, is_admin)
    tz = await tz_of(facilitator)
    async with session.begin():
        decision = await open_decision(
            session=session,
            team_id=team_id,
            channel_id=channel_id,
            decision_id=decision_id,
            for_update=True,
        )
        state = await state_of(session=session, decision=decision)
        await decision_repo.mark_decided(
            session=session,
            decision=decision,
            verdict=state.recommendation.verdict,
            decided_by=user_id,
        )
        await schedule_first_review_in(session, decision, tz)
        old = await supersede_previous_in(session, decision)
        return Decided(state=await state_of(session=session, decision=decision), superseded=old)


async def check_override(
    *, session: AsyncSession, team_id: str, channel_id: str, decision_id: int, user_id: str
) -> Decision:
    """Before the "different choice" modal opens: only the facilitator, only after Decide."""
    async with session.begin():
        decision = await guards.in_channel(session, team_id, channel_id, decision_id)
        guards.require_verdict(decision)
        guards.require_facilitator(decision, user_id, "record a different choice")
        return decision


async def record_final_choice(
    *,
    session: AsyncSession,
    team_id: str,
    channel_id: str,
    decision_id: int,
    user_id: str,
    choice: str | None,
    reason: str | None = None,
) -> Decision:
    """Accept the verdict (``choice`` None) or record a different choice with its reason."""
    async with session.begin():
        decision = await guards.in_channel(session, team_id, channel_id, decision_id, lock=True)
        guards.require_verdict(decision)
        guards.require_facilitator(decision, user_id, "accept or change the verdict")
        choice = decision.verdict if choice is None else choice
        if choice not in set(Verdict):
            raise UserError(f"`{choice}` isn't a choice.")
        if choice != decision.verdict and not (reason or "").strip():
            raise UserError("Say why you're choosing differently from the verdict.")
        decision.final_choice = choice
        decision.final_choice_reason = (reason or "").strip() or None
        session.add(decision)
        await session.flush()
        return decision
