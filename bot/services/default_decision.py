"""The one rule for the decision a command means when it names none.

``status``, ``export``, ``log``, ``cadence``, ``rename``, ``withdraw``, ``delete`` and the *Log AI
failure* shortcut all default through ``pick_in``: the open decision in the channel, else the
most recently decided one. When two or more are open, none is guessed: ``Ambiguous`` lists them,
most recently active first, so the user can pick.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.domain.errors import NotFound, UserError
from bot.domain.lifecycle import DecisionStatus
from bot.services import guards
from storage.models import Decision
from storage.repositories import decision_repo

NO_DECISION = (
    "There's no open or decided decision in this channel. Name one (`/ragft list` shows them), "
    "or start one with `/ragft <title>`."
)
MAX_CHOICES = 10


@dataclass(frozen=True)
class Choice:
    id: int
    title: str


class Ambiguous(UserError):
    """Several open decisions could be meant; ``choices`` are the most recently active first."""

    def __init__(self, choices: Sequence[Choice]) -> None:
        super().__init__(
            "Several decisions are open in this channel, so say which one: add its number, "
            "e.g. `/ragft status 12`. `/ragft list` shows them."
        )
        self.choices = list(choices)


async def ranked_open(*, session: AsyncSession, team_id: str, channel_id: str) -> list[Decision]:
    """This channel's open decisions, the most recently active first (inside a transaction)."""
    found = await decision_repo.list_decisions(
        session=session,
        team_id=team_id,
        channel_id=channel_id,
        statuses=[DecisionStatus.OPEN],
        limit=200,
    )
    active = await decision_repo.last_activity(session=session, team_id=team_id, decisions=found)
    return sorted(found, key=lambda d: (active[d.id or 0], d.id or 0), reverse=True)


async def pick_in(
    session: AsyncSession, team_id: str, channel_id: str, *, ask: bool = True
) -> Decision | None:
    """The rule, inside the caller's transaction: the most recently active open decision (when
    several are open and ``ask``, raise ``Ambiguous``), else the most recently decided one."""
    open_ = await ranked_open(session=session, team_id=team_id, channel_id=channel_id)
    if len(open_) > 1 and ask:
        raise Ambiguous([Choice(d.id or 0, d.title) for d in open_[:MAX_CHOICES]])
    if open_:
        return open_[0]
    return await decision_repo.latest_decided(
        session=session, team_id=team_id, channel_id=channel_id
    )


async def named_or_default(
    session: AsyncSession, team_id: str, channel_id: str, decision_id: int | None, lock=False
) -> Decision:
    """The decision a person named (this channel's only), or the channel's default."""
    if decision_id is not None:
        return await guards.in_channel(session, team_id, channel_id, decision_id, lock=lock)
    found = await pick_in(session, team_id, channel_id)
    if found is None:
        raise NotFound(NO_DECISION)
    if lock:
        assert found.id is not None
        return await guards.in_channel(session, team_id, channel_id, found.id, lock=True)
    return found


async def resolve(
    *, session: AsyncSession, team_id: str, channel_id: str, decision_id: int | None
) -> Decision:
    async with session.begin():
        return await named_or_default(session, team_id, channel_id, decision_id)
