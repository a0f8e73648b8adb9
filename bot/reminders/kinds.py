"""The registry of reminder kinds: each kind is delivered by one deliverer, registered by the
layer that can post it (``handlers.reminder_delivery``). A reminder whose decision is no longer
in a state its kind applies to (``KIND_APPLIES_TO``), or of a kind nobody registered, is
cancelled."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.domain.lifecycle import KIND_APPLIES_TO, ReminderKind, ReminderStatus
from bot.reminders.sweeper import Deliver, Outcome, Progress
from storage.repositories import reminder_repo as reminders
from storage.repositories.reminder_repo import Claimed, Subject

FRESH = 1.0
"""Seconds a batch's decisions, read together, are trusted before they are read again."""


class KindRegistry:
    """A ``Deliver`` for the sweeper that hands each claim to its kind's deliverer.

    ``prepare`` reads the decisions of a whole batch of claims in one query; each claim is then
    checked against that read while it is at most ``FRESH`` seconds old (after a slow delivery
    the rest of the batch is read again, in one query too)."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], deliverers: Mapping[ReminderKind, Deliver]
    ) -> None:
        self.sessions = sessions
        self.deliverers = dict(deliverers)
        self._batch: dict[tuple[str, int], Claimed] = {}
        self._subjects: dict[tuple[str, int], Subject] = {}
        self._read_at = 0.0

    async def prepare(self, claims: Sequence[Claimed]) -> None:
        self._batch = {(c.team_id, c.decision_id): c for c in claims}
        await self._read()

    async def _read(self) -> None:
        async with self.sessions() as session, session.begin():
            self._subjects = await reminders.subjects_of(
                session=session, claims=list(self._batch.values())
            )
        self._read_at = time.monotonic()

    async def _subject(self, claim: Claimed) -> Subject | None:
        key = (claim.team_id, claim.decision_id)
        if key not in self._batch:  # not prepared (or a second reminder of one decision)
            self._batch[key] = claim
            await self._read()
        elif time.monotonic() - self._read_at > FRESH:
            await self._read()
        self._batch.pop(key, None)
        return self._subjects.get(key)

    async def __call__(self, claim: Claimed, progress: Progress, now: datetime) -> Outcome:
        subject = await self._subject(claim)
        try:
            kind = ReminderKind(claim.kind)
            deliverer = self.deliverers[kind]
        except (KeyError, ValueError):
            return Outcome(status=ReminderStatus.CANCELLED)
        if subject is None or subject.status not in KIND_APPLIES_TO[kind] or not subject.thread_ts:
            return Outcome(status=ReminderStatus.CANCELLED)
        return await deliverer(claim, progress, now)
