"""The registry of reminder kinds: each kind is delivered by one deliverer, registered by the
layer that can post it (``handlers.reminder_delivery``). A reminder whose decision is no longer
in a state its kind applies to (``KIND_APPLIES_TO``), or of a kind nobody registered, is
cancelled."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.domain.lifecycle import KIND_APPLIES_TO, ReminderKind, ReminderStatus
from bot.reminders.sweeper import Deliver, Outcome, Progress
from storage.repositories import decision_repo
from storage.repositories.reminder_repo import Claimed


class KindRegistry:
    """A ``Deliver`` for the sweeper that hands each claim to its kind's deliverer."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], deliverers: Mapping[ReminderKind, Deliver]
    ) -> None:
        self.sessions = sessions
        self.deliverers = dict(deliverers)

    async def __call__(self, claim: Claimed, progress: Progress, now: datetime) -> Outcome:
        async with self.sessions() as session, session.begin():
            decision = await decision_repo.get_decision(
                session=session, team_id=claim.team_id, decision_id=claim.decision_id
            )
        try:
            kind = ReminderKind(claim.kind)
            deliverer = self.deliverers[kind]
        except (KeyError, ValueError):
            return Outcome(status=ReminderStatus.CANCELLED)
        if (
            decision is None
            or decision.status not in KIND_APPLIES_TO[kind]
            or not decision.thread_ts
        ):
            return Outcome(status=ReminderStatus.CANCELLED)
        return await deliverer(claim, progress, now)
