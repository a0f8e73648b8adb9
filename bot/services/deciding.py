"""Deciding: the facilitator (or an admin) presses Decide and confirms, then accepts the verdict
or records a different choice with a reason. A later change of the outcome is an amendment.

Deciding freezes what the decision was made on (its snapshot). When the rule says "not ready",
nothing is decided: the decision stays open and a follow-up is scheduled for the facilitator."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.domain.decision_snapshot import DecisionSnapshot
from bot.domain.errors import UserError
from bot.domain.lifecycle import ReminderKind
from bot.domain.outcome import FOLLOW_UP_DAYS, outcome_label, outcome_of
from bot.domain.questions import MessageKey, Verdict
from bot.domain.rule import FailureCounts
from bot.services import guards
from bot.services.answering import open_decision
from bot.services.review_routine import (
    TimezoneOf,
    schedule_first_review_in,
    supersede_previous_in,
)
from bot.services.stalled import stop_watching_in
from bot.services.state import DecisionState, at_the_decision, snapshot_now, state_of
from storage.models import Decision, utcnow
from storage.repositories import decision_repo, record_repo, reminder_repo

VERDICT_OUTBOX_DELAY = timedelta(minutes=2)
"""The verdict's outbox row comes due this long after deciding: the sweep posts the verdict
only if the app didn't manage to (a Slack error, a crash) by then."""


@dataclass(frozen=True)
class Decided:
    state: DecisionState
    superseded: Decision | None
    """The decision this one re-ran, now superseded (None when it re-ran nothing)."""


@dataclass(frozen=True)
class Changed:
    """Confirm pressed on a confirmation that no longer shows what the rule sees: nothing is
    decided; ``state`` is what it sees now, for a fresh confirmation."""

    state: DecisionState


def fingerprint(state: DecisionState) -> str:
    """What a confirmation shows, in short: the rule's verdict, the failure counts and the
    answers. Confirm decides only if it is unchanged."""
    shown = repr((state.recommendation.verdict, state.failures, state.answers))
    return hashlib.sha256(shown.encode()).hexdigest()[:FINGERPRINT_LENGTH]


FINGERPRINT_LENGTH = 16


@dataclass(frozen=True)
class NotReady:
    """Decide on "not ready": the decision stays open; the facilitator is reminded later."""

    state: DecisionState
    follow_up_at: datetime


async def _may_decide(
    session: AsyncSession,
    team_id: str,
    channel_id: str,
    decision_id: int,
    user_id: str,
    is_admin: guards.AdminCheck,
) -> str:
    """The decision is open here and ``user_id`` may decide it; its facilitator. The admin check
    asks Slack, so it runs outside any transaction."""
    async with session.begin():
        decision = await open_decision(
            session=session, team_id=team_id, channel_id=channel_id, decision_id=decision_id
        )
    if user_id != decision.facilitator_id:
        await guards.require_facilitator_or_admin(decision, user_id, is_admin)
    return decision.facilitator_id


async def preview_decide(
    *,
    session: AsyncSession,
    team_id: str,
    channel_id: str,
    decision_id: int,
    user_id: str,
    is_admin: guards.AdminCheck,
) -> DecisionState:
    """Before the confirmation: the same checks as deciding, and what the rule would give."""
    await _may_decide(session, team_id, channel_id, decision_id, user_id, is_admin)
    async with session.begin():
        decision = await open_decision(
            session=session, team_id=team_id, channel_id=channel_id, decision_id=decision_id
        )
        return await state_of(session=session, decision=decision)


async def decide(
    *,
    session: AsyncSession,
    team_id: str,
    channel_id: str,
    decision_id: int,
    user_id: str,
    is_admin: guards.AdminCheck,
    tz_of: TimezoneOf,
    now: datetime | None = None,
    shown: str | None = None,
) -> Decided | NotReady | Changed:
    """Record the rule's verdict with the snapshot it was made on, schedule the first review,
    queue the verdict message (an outbox row) and retire the decision this one re-ran, all in
    one transaction: a crash after it can't leave a decision without a review or a verdict.
    ``shown`` is the ``fingerprint`` of what the confirmation showed: if the state has changed
    since, nothing is decided (``Changed``)."""
    now = now or utcnow()
    facilitator = await _may_decide(session, team_id, channel_id, decision_id, user_id, is_admin)
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
        if shown is not None and shown != fingerprint(state):
            return Changed(state=state)
        if state.recommendation.verdict == Verdict.NOT_READY:
            follow_up = now + timedelta(days=FOLLOW_UP_DAYS)
            await reminder_repo.schedule(
                session=session,
                team_id=team_id,
                decision_id=decision_id,
                kind=ReminderKind.NOT_READY_FOLLOW_UP,
                due_at=follow_up,
                payload={"asked_by": user_id, "asked_at": now.isoformat()},
            )
            # The follow-up is the one reminder until it is due; stalled checks resume after it.
            await stop_watching_in(session, decision)
            return NotReady(state=state, follow_up_at=follow_up)
        snapshot = snapshot_now(state, decided_by=user_id, decided_at=now)
        await decision_repo.mark_decided(
            session=session,
            decision=decision,
            verdict=state.recommendation.verdict,
            decided_by=user_id,
            at=now,
        )
        await record_repo.save_snapshot(
            session=session,
            team_id=team_id,
            decision_id=decision_id,
            snapshot=snapshot.model_dump(mode="json"),
        )
        await reminder_repo.schedule(
            session=session,
            team_id=team_id,
            decision_id=decision_id,
            kind=ReminderKind.VERDICT,
            due_at=now + VERDICT_OUTBOX_DELAY,
        )
        await schedule_first_review_in(session, decision, tz)
        old = await supersede_previous_in(session, decision)
        # Shown as state_of would read it back (the snapshot through its JSON), without the
        # reads: nothing was logged or amended since a decision made just now.
        frozen = DecisionSnapshot.model_validate(snapshot.model_dump(mode="json"))
        since = FailureCounts(knowledge=0, behavior=0, unclear=0)
        return Decided(state=at_the_decision(state, frozen, since=since), superseded=old)


async def verdict_posted(*, session: AsyncSession, team_id: str, decision_id: int, ts: str) -> bool:
    """The verdict message is out: remember its ts and settle its outbox row. False when a
    verdict was already posted (by the app or the sweep): then ``ts`` is a duplicate."""
    async with session.begin():
        decision = await guards.decision_in_team(
            session=session, team_id=team_id, decision_id=decision_id, for_update=True
        )
        first = MessageKey.VERDICT not in decision.message_ts
        if first:
            decision.message_ts = {**decision.message_ts, MessageKey.VERDICT.value: ts}
            session.add(decision)
        row = await reminder_repo.pending(
            session=session, team_id=team_id, decision_id=decision_id, kind=ReminderKind.VERDICT
        )
        if row is not None and row.claimed_by is None:
            await reminder_repo.discard(session=session, reminder=row)  # delivered: no outbox
        return first


async def verdict_pending(*, session: AsyncSession, team_id: str, decision_id: int) -> bool:
    """Whether the verdict message still has to be posted (for the outbox's deliverer)."""
    async with session.begin():
        decision = await guards.decision_in_team(
            session=session, team_id=team_id, decision_id=decision_id
        )
        return MessageKey.VERDICT not in decision.message_ts


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
    now: datetime | None = None,
) -> Decision:
    """Accept the verdict (``choice`` None) or record a different choice with its reason. Once
    the team has chosen, a different choice is an amendment, kept in the record's history."""
    async with session.begin():
        decision = await guards.in_channel(session, team_id, channel_id, decision_id, lock=True)
        guards.require_verdict(decision)
        guards.require_facilitator(decision, user_id, "accept or change the verdict")
        outcome = outcome_of(decision.verdict if choice is None else choice)
        reason = (reason or "").strip() or None
        current = decision.final_choice
        if current is not None and outcome == current:
            if choice is None:
                return decision  # a second press of Accept
            raise UserError(f"The outcome is already {outcome_label(outcome)}.")
        if (current is not None or outcome != decision.verdict) and not reason:
            raise UserError(
                "Say why the outcome changes: the record keeps who changed it, when, and why."
                if current is not None
                else "Say why you're choosing differently from the verdict."
            )
        if current is not None:
            await record_repo.add_amendment(
                session=session,
                team_id=team_id,
                decision_id=decision_id,
                amended_by=user_id,
                amended_at=now or utcnow(),
                from_outcome=current,
                to_outcome=outcome,
                reason=reason or "",
            )
        decision.final_choice = outcome
        decision.final_choice_reason = reason if outcome != decision.verdict else None
        session.add(decision)
        await session.flush()
        return decision
