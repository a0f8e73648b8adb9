"""Workspace API tokens for the ingestion API: made, listed and revoked from Slack, checked on
every request. A token is shown once; only its sha256 is stored."""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.domain.errors import NotFound, UserError
from bot.services import guards
from bot.services.guards import AdminCheck
from storage.models import ApiToken, utcnow
from storage.repositories import token_repo

TOKEN_PREFIX = "ragft_"
MAX_LABEL = 80
TOUCH_EVERY = timedelta(minutes=1)
"""``last_used_at`` is written at most this often per token, so a busy token isn't a write per
request."""
_LABEL = re.compile(r"[^\s`*_~<>|]{1,80}")


def token_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def _check_label(label: str) -> str:
    if not _LABEL.fullmatch(label):
        raise UserError(
            f"A token's label is one word of at most {MAX_LABEL} characters, without `*_~<>|`: "
            "`/ragft token create zendesk-export`."
        )
    return label


async def create_token(
    *, session: AsyncSession, team_id: str, user_id: str, label: str | None, is_admin: AdminCheck
) -> tuple[ApiToken, str]:
    """The new token's row and the token itself, which is never available again."""
    async with session.begin():
        await guards.require_token_manager(session, team_id, user_id, is_admin)
        if label is None:
            count = await token_repo.count_tokens(session=session, team_id=team_id)
            label = f"token-{count + 1}"
        label = _check_label(label)
        if await token_repo.active_by_label(session=session, team_id=team_id, label=label):
            raise UserError(
                f"There's already a token labelled `{label}`. Pick another label, or revoke it "
                f"first: `/ragft token revoke {label}`."
            )
        raw = new_token()
        token = await token_repo.add_token(
            session=session,
            team_id=team_id,
            label=label,
            token_hash=token_hash(raw),
            created_by=user_id,
        )
        return token, raw


async def list_tokens(
    *, session: AsyncSession, team_id: str, user_id: str, is_admin: AdminCheck
) -> Sequence[ApiToken]:
    async with session.begin():
        await guards.require_token_manager(session, team_id, user_id, is_admin)
        return await token_repo.list_tokens(session=session, team_id=team_id)


async def revoke_token(
    *, session: AsyncSession, team_id: str, user_id: str, label: str, is_admin: AdminCheck
) -> ApiToken:
    async with session.begin():
        await guards.require_token_manager(session, team_id, user_id, is_admin)
        token = await token_repo.active_by_label(session=session, team_id=team_id, label=label)
        if token is None or token.id is None:
            raise NotFound(f"There's no token labelled `{label}`. `/ragft token list` shows them.")
        await token_repo.revoke(session=session, team_id=team_id, token_id=token.id)
        return token


async def authenticate(
    *, session: AsyncSession, raw: str, now: datetime | None = None
) -> ApiToken | None:
    """The active token ``raw`` is, or None; notes when it was last used."""
    if not raw.startswith(TOKEN_PREFIX) or len(raw) > 200:
        return None
    now = now or utcnow()
    async with session.begin():
        token = await token_repo.find_by_hash(session=session, token_hash=token_hash(raw))
        if token is None or token.id is None:
            return None
        last = token.last_used_at
        if last is None or now - last >= TOUCH_EVERY:
            await token_repo.touch(
                session=session, team_id=token.team_id, token_id=token.id, at=now
            )
        return token
