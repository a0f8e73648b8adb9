"""Who updates a decision's posted messages, and from which version.

Every write bumps the decision's ``version`` (the database's triggers). A process about to
update messages first claims them (a lease, so that across replicas one process at a time
updates a message and Slack gets its updates in order), then loads the state once for all of
them. After the updates it hands the claims back with the version each message now shows, and
reads the version again: if a write came in meanwhile, it goes round once more. A writer whose
claim fails because another process holds the message is covered by that re-read, which
happens after the hand-back, so after the writer's commit.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.domain.errors import NotFound
from bot.services import guards
from bot.services.state import DecisionState, state_of
from storage.repositories import render_repo


@dataclass(frozen=True)
class RenderClaim:
    shown: dict[str, int]
    """The messages claimed, each with the version it shows now."""
    busy: set[str]
    """The messages asked for that another process holds."""
    state: DecisionState | None
    """The state to render from, loaded only when a claimed message is behind it."""
    redraw: frozenset[str] = frozenset()
    """Claimed messages to update even if they show the latest version."""

    @property
    def version(self) -> int | None:
        return None if self.state is None else self.state.decision.version

    def behind(self) -> list[str]:
        """The claimed messages showing an older version than ``state``."""
        version = self.version
        if version is None:
            return []
        return [key for key, shown in self.shown.items() if shown < version or key in self.redraw]


async def claim_renders(
    *,
    session: AsyncSession,
    team_id: str,
    decision_id: int,
    keys: Collection[str],
    holder: str,
    lease: timedelta,
    redraw: Collection[str] = (),
) -> RenderClaim | None:
    """None when the decision is gone (deleted, or its workspace purged)."""
    scope = {"session": session, "team_id": team_id, "decision_id": decision_id}
    async with session.begin():
        try:  # read first, so the version is never newer than the rows the state is built from
            decision = await guards.decision_in_team(**scope)
        except NotFound:
            return None
        # The lease starts now, in the transaction (after any wait for a connection, or for
        # SQLite's write lock), so its holder has all of it for the updates.
        now = datetime.now(UTC)
        shown, busy = await render_repo.claim(
            **scope, keys=keys, holder=holder, now=now, lease=lease
        )
        redrawn = frozenset(redraw) & shown.keys()
        state = None
        if redrawn or any(seen < decision.version for seen in shown.values()):
            state = await state_of(session=session, decision=decision)
        return RenderClaim(shown=shown, busy=busy, state=state, redraw=redrawn)


async def release_renders(
    *,
    session: AsyncSession,
    team_id: str,
    decision_id: int,
    holder: str,
    keys: Collection[str],
    shown: Mapping[str, int],
) -> int | None:
    """Hand the claims back, recording what each message shows; the decision's version now
    (None if it is gone)."""
    scope = {"session": session, "team_id": team_id, "decision_id": decision_id}
    async with session.begin():
        await render_repo.release(**scope, holder=holder, keys=keys, shown=shown)
        # Read after the hand-back (READ COMMITTED: a fresh snapshot per statement on
        # PostgreSQL; SQLite's transactions don't overlap): a writer that found our lease held
        # had committed before it looked, so its write is seen here.
        return await render_repo.decision_version(**scope)


async def abandoned_renders(
    *, session: AsyncSession, limit: int = 500
) -> dict[tuple[str, int], set[str]]:
    """Messages left held by a process that died, by ``(team_id, decision_id)``: whatever
    they show, a write may have come after it that nobody else will render."""
    async with session.begin():
        rows = await render_repo.abandoned(session=session, now=datetime.now(UTC), limit=limit)
    found: dict[tuple[str, int], set[str]] = {}
    for team_id, decision_id, key in rows:
        found.setdefault((team_id, decision_id), set()).add(key)
    return found


async def drop_abandoned(
    *, session: AsyncSession, team_id: str, decision_id: int, keys: Collection[str]
) -> None:
    """Let go of leases that ended on messages nobody can update now (the workspace has no
    installation); what they show is left as it is."""
    async with session.begin():
        await render_repo.drop_ended(
            session=session,
            team_id=team_id,
            decision_id=decision_id,
            keys=keys,
            now=datetime.now(UTC),
        )
