"""Which Slack client a piece of work uses: the token of the workspace it belongs to.

``Runtime.client`` reads ``CURRENT``. In distribution mode a middleware sets it for every
request, to the client Bolt authorised (``context.client``); background tasks a listener starts
copy the context when they are created, so they keep that workspace's client after the ack.
The sweep binds a reminder's workspace with ``Runtime.for_team``, which finds the installation
(an org-wide one through the org recorded for the workspace), refreshes an expiring token and
keeps the client briefly. Without a binding (single-workspace mode) it is the process's client.
"""

from __future__ import annotations

import time
from contextvars import ContextVar

from slack_sdk.oauth.installation_store.models.installation import Installation
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.domain.errors import UserError
from bot.services import workspace_data
from handlers.oauth_setup import Distribution

CURRENT: ContextVar[AsyncWebClient | None] = ContextVar("ragft_workspace_client", default=None)
CACHE_SECONDS = 30.0
NOTE_AGAIN_SECONDS = 600.0
"""How often a workspace's org is written again: a workspace purged and reinstalled while
another replica remembered it is recorded again within this long."""


class NotInstalled(UserError):
    def __init__(self, team_id: str) -> None:
        super().__init__(f"ragft is not installed in workspace {team_id} (no installation found)")


class WorkspaceClients:
    """Clients per workspace, from the installation store (distribution mode only)."""

    def __init__(
        self,
        *,
        distribution: Distribution,
        base: AsyncWebClient,
        sessions: async_sessionmaker[AsyncSession],
    ) -> None:
        self.distribution = distribution
        self.base = base
        self.sessions = sessions
        self._cache: dict[str, tuple[float, AsyncWebClient]] = {}
        self._seen: dict[tuple[str, str | None], float] = {}

    def client_with(self, token: str) -> AsyncWebClient:
        """A client like the process's one (base URL, HTTP session, retries) with ``token``."""
        base = self.base
        return AsyncWebClient(
            token=token,
            base_url=base.base_url,
            timeout=base.timeout,
            session=base.session,
            retry_handlers=list(base.retry_handlers) if base.retry_handlers else None,
        )

    async def installation(self, team_id: str, enterprise_id: str | None) -> Installation | None:
        store = self.distribution.installation_store
        if enterprise_id is None:
            async with self.sessions() as session:
                enterprise_id = await workspace_data.enterprise_of(session=session, team_id=team_id)
        found = await store.async_find_installation(enterprise_id=enterprise_id, team_id=team_id)
        if (found is None or found.bot_token is None) and enterprise_id is not None:
            found = await store.async_find_installation(
                enterprise_id=enterprise_id, team_id=None, is_enterprise_install=True
            )
        return found if found is not None and found.bot_token else None

    async def client_for(self, team_id: str, enterprise_id: str | None = None) -> AsyncWebClient:
        cached = self._cache.get(team_id)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        found = await self.installation(team_id, enterprise_id)
        if found is None:
            raise NotInstalled(team_id)
        found = await self.distribution.authorize.current(found)
        assert found.bot_token is not None
        client = self.client_with(found.bot_token)
        self._cache[team_id] = (time.monotonic() + CACHE_SECONDS, client)
        return client

    def forget(self, *team_ids: str) -> None:
        """Drop cached clients (their workspace uninstalled or its tokens were revoked)."""
        for team_id in team_ids:
            self._cache.pop(team_id, None)
        self._seen = {seen: at for seen, at in self._seen.items() if seen[0] not in team_ids}

    async def note(self, team_id: str | None, enterprise_id: str | None) -> None:
        """Remember which org a workspace is in (once in a while), for ``client_for``."""
        key = (team_id or "", enterprise_id)
        if team_id is None or self._seen.get(key, 0.0) > time.monotonic():
            return
        async with self.sessions() as session:
            await workspace_data.note_workspace(
                session=session, team_id=team_id, enterprise_id=enterprise_id
            )
        self._seen[key] = time.monotonic() + NOTE_AGAIN_SECONDS
