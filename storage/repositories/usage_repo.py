"""Model token usage, counted per decision. Keyword-only, scoped by Slack ``team_id``."""

from __future__ import annotations

from sqlalchemy import update
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Decision


async def add_usage(
    *,
    session: AsyncSession,
    team_id: str,
    decision_id: int,
    prompt_tokens: int,
    completion_tokens: int,
) -> None:
    """Add tokens in one UPDATE, so concurrent calls never lose each other's counts."""
    if not prompt_tokens and not completion_tokens:
        return
    await session.exec(
        update(Decision)
        .where(Decision.team_id == team_id, Decision.id == decision_id)  # type: ignore[arg-type]
        .values(
            prompt_tokens=Decision.prompt_tokens + prompt_tokens,
            completion_tokens=Decision.completion_tokens + completion_tokens,
        )
    )
    await session.flush()
