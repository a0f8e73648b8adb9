"""What the ADR export reads beyond one decision: the workspaces, a workspace's records, and
the decision that superseded another. Keyword-only; scoped by team_id except ``team_ids``
(the CLI's choice of workspace)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Decision


async def team_ids(*, session: AsyncSession) -> list[str]:
    query = select(Decision.team_id).distinct().order_by(col(Decision.team_id))
    return list((await session.exec(query)).all())


async def decisions_in(
    *, session: AsyncSession, team_id: str, statuses: Iterable[str]
) -> Sequence[Decision]:
    query = (
        select(Decision)
        .where(Decision.team_id == team_id, col(Decision.status).in_(list(statuses)))
        .order_by(col(Decision.id))
    )
    return (await session.exec(query)).all()


async def superseded_by(
    *, session: AsyncSession, team_id: str, decision_id: int, statuses: Iterable[str]
) -> Decision | None:
    """The decided re-run that superseded this decision."""
    query = (
        select(Decision)
        .where(
            Decision.team_id == team_id,
            Decision.supersedes_id == decision_id,
            col(Decision.status).in_(list(statuses)),
        )
        .order_by(col(Decision.id).desc())
    )
    return (await session.exec(query)).first()
