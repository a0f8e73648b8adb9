"""The App Home's reads: a workspace's decisions in a set of channels, and their answers,
owners and failure counts for many decisions at once (one query each, not one per decision).

Keyword-only; every query is scoped by Slack ``team_id``. Read-only.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Answer, Decision, FailureExample, OwnerAssignment


async def decisions_in_channels(
    *,
    session: AsyncSession,
    team_id: str,
    channel_ids: Iterable[str],
    statuses: Iterable[str],
    limit: int,
) -> Sequence[Decision]:
    """Newest first."""
    channels = list(channel_ids)
    if not channels:
        return []
    query = (
        select(Decision)
        .where(
            Decision.team_id == team_id,
            col(Decision.channel_id).in_(channels),
            col(Decision.status).in_(list(statuses)),
        )
        .order_by(col(Decision.created_at).desc(), col(Decision.id).desc())
        .limit(limit)
    )
    return (await session.exec(query.execution_options(populate_existing=True))).all()


async def answers_of(
    *, session: AsyncSession, team_id: str, decision_ids: Sequence[int]
) -> Sequence[Answer]:
    """Oldest first, as ``answer_repo.list_answers`` gives one decision's."""
    if not decision_ids:
        return []
    query = (
        select(Answer)
        .where(Answer.team_id == team_id, col(Answer.decision_id).in_(list(decision_ids)))
        .order_by(col(Answer.updated_at), col(Answer.id))
    )
    return (await session.exec(query)).all()


async def owners_of(
    *, session: AsyncSession, team_id: str, decision_ids: Sequence[int]
) -> Sequence[OwnerAssignment]:
    if not decision_ids:
        return []
    query = select(OwnerAssignment).where(
        OwnerAssignment.team_id == team_id,
        col(OwnerAssignment.decision_id).in_(list(decision_ids)),
    )
    return (await session.exec(query)).all()


async def failure_counts_of(
    *, session: AsyncSession, team_id: str, decision_ids: Sequence[int], since_decided: bool
) -> dict[int, dict[str, int]]:
    """{decision id: {category: count}}; ``since_decided`` counts only failures logged at or
    after each decision's ``decided_at``."""
    if not decision_ids:
        return {}
    query = select(FailureExample.decision_id, FailureExample.category, func.count()).where(
        FailureExample.team_id == team_id,
        col(FailureExample.decision_id).in_(list(decision_ids)),
    )
    if since_decided:
        query = query.join(Decision, col(Decision.id) == col(FailureExample.decision_id)).where(
            Decision.team_id == team_id,
            col(Decision.decided_at).is_not(None),
            col(FailureExample.logged_at) >= col(Decision.decided_at),
        )
    query = query.group_by(FailureExample.decision_id, FailureExample.category)
    counts: dict[int, dict[str, int]] = {}
    for decision_id, category, count in (await session.exec(query)).all():
        counts.setdefault(decision_id, {})[category] = count
    return counts
