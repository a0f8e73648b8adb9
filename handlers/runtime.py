"""What every listener needs: sessions, the Slack client, settings, and the message refresher."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

import aiohttp
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.llm.client import LLM
from bot.settings import Settings
from handlers.slack_calls import is_admin, user_tz
from handlers.workspace_clients import CURRENT, WorkspaceClients

if TYPE_CHECKING:
    from handlers.home_refresh import HomeRefresher
    from handlers.thread_queue import ThreadPoster
    from handlers.thread_renders import ThreadRenderer

T = TypeVar("T")

RATE_LIMIT_RETRIES = 3
THREAD_POSTS = 16
"""Threads one process starts and posts at once (handlers/thread_queue.py). Unbounded, 1,000
``/ragft`` in a burst were all being posted at once, and every click's refresh queued behind
them for a pooled connection. Bounded inside each listener, the burst waited as 1,000 Bolt
requests with their sessions: +37/+34 MiB of resident memory (SQLite/PostgreSQL). Queued as
small jobs: +4.1/+3.5 MiB (the benchmark's memory section)."""


def build_client(settings: Settings) -> AsyncWebClient:
    """One Web API client; on a 429 it waits for Retry-After and tries again.

    It keeps one HTTP session (and its connections) for the process: without one, slack_sdk
    opens a new session and TCP connection for every call. Build it inside the event loop.
    """
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
    if settings.distribution:  # every workspace brings its own token (its installation)
        token = None
    return AsyncWebClient(
        token=token,
        base_url=settings.slack_api_url,
        session=aiohttp.ClientSession(),
        retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=RATE_LIMIT_RETRIES)],
    )


async def close_client(client: AsyncWebClient) -> None:
    if client.session is not None and not client.session.closed:
        await client.session.close()


class Runtime:
    renderer: ThreadRenderer
    """Keeps the decisions' posted messages up to date (handlers/thread_renders.py)."""
    threads: ThreadPoster
    """Starts and posts new decisions after the ack, a burst in turn (handlers/thread_queue.py)."""
    llm: LLM | None
    """The process's one model client; None without OPENAI_API_KEY (see build_llm)."""
    home: HomeRefresher | None
    """Publishes App Home tabs (set by handlers.listeners.app_home)."""
    workspaces: WorkspaceClients | None
    """Distribution mode: each workspace's client, from its installation (else None)."""

    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        client: AsyncWebClient,
        settings: Settings,
        llm: LLM | None = None,
    ) -> None:
        self.sessions = sessions
        self.default_client = client
        self.settings = settings
        self.llm = llm
        self.workspaces = None
        self.home = None
        self.thread_posts = asyncio.Semaphore(THREAD_POSTS)
        """Threads being posted at once (five messages each); the rest of a burst waits."""

    @property
    def client(self) -> AsyncWebClient:
        """The Slack client of the workspace this work belongs to (see
        handlers/workspace_clients.py); the process's own client when none is bound."""
        return CURRENT.get() or self.default_client

    def bind(self, client: AsyncWebClient) -> None:
        """From here on in this context (and tasks it creates), ``client`` is the client."""
        CURRENT.set(client)

    @contextlib.asynccontextmanager
    async def for_team(
        self, team_id: str, enterprise_id: str | None = None
    ) -> AsyncIterator[AsyncWebClient]:
        """Work for ``team_id`` outside a request (the sweep): inside, ``client`` carries that
        workspace's bot token. In single-workspace mode it is the process's client."""
        if self.workspaces is None:
            yield self.client
            return
        client = await self.workspaces.client_for(team_id, enterprise_id)
        token = CURRENT.set(client)
        try:
            yield client
        finally:
            CURRENT.reset(token)

    async def call(self, service: Callable[..., Awaitable[T]], /, **kwargs: Any) -> T:
        """One service call in a session of its own (the service owns the transaction)."""
        async with self.sessions() as session:
            return await service(session=session, **kwargs)

    async def tz_of(self, user_id: str) -> str | None:
        return await user_tz(self.client, user_id)

    def admin_check(self, user_id: str) -> Callable[[], Awaitable[bool]]:
        return lambda: is_admin(self.client, user_id)


def runtime_of(context: Mapping[str, Any]) -> Runtime:
    """The runtime a middleware put in every request's Bolt context."""
    return context["runtime"]
