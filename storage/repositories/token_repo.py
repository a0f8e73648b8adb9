"""Workspace API tokens, stored as sha256 hashes only.

Keyword-only and scoped by ``team_id``, except ``find_by_hash``: a token is how a request
finds its workspace. Callers own the transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import ApiToken, utcnow


async def add_token(
    *, session: AsyncSession, team_id: str, label: str, token_hash: str, created_by: str
) -> ApiToken:
    token = ApiToken(team_id=team_id, label=label, token_hash=token_hash, created_by=created_by)
    session.add(token)
    await session.flush()
    return token


async def list_tokens(
    *, session: AsyncSession, team_id: str, include_revoked: bool = False
) -> Sequence[ApiToken]:
    query = select(ApiToken).where(ApiToken.team_id == team_id)
    if not include_revoked:
        query = query.where(col(ApiToken.revoked_at).is_(None))
    return (await session.exec(query.order_by(col(ApiToken.created_at), col(ApiToken.id)))).all()


async def active_by_label(*, session: AsyncSession, team_id: str, label: str) -> ApiToken | None:
    query = select(ApiToken).where(
        ApiToken.team_id == team_id, ApiToken.label == label, col(ApiToken.revoked_at).is_(None)
    )
    return (await session.exec(query)).first()


async def count_tokens(*, session: AsyncSession, team_id: str) -> int:
    return len(await list_tokens(session=session, team_id=team_id, include_revoked=True))


async def find_by_hash(*, session: AsyncSession, token_hash: str) -> ApiToken | None:
    """The active token with this hash, of whichever workspace owns it."""
    query = select(ApiToken).where(
        ApiToken.token_hash == token_hash, col(ApiToken.revoked_at).is_(None)
    )
    return (await session.exec(query)).first()


async def revoke(
    *, session: AsyncSession, team_id: str, token_id: int, at: datetime | None = None
) -> None:
    token = (
        await session.exec(
            select(ApiToken).where(ApiToken.team_id == team_id, ApiToken.id == token_id)
        )
    ).first()
    if token is not None:
        token.revoked_at = at or utcnow()
        session.add(token)
        await session.flush()


async def touch(
    *, session: AsyncSession, team_id: str, token_id: int, at: datetime | None = None
) -> None:
    token = (
        await session.exec(
            select(ApiToken).where(ApiToken.team_id == team_id, ApiToken.id == token_id)
        )
    ).first()
    if token is not None:
        token.last_used_at = at or utcnow()
        session.add(token)
        await session.flush()
