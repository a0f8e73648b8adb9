"""What every listener needs: sessions, the Slack client, settings, and the message refresher."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

import aiohttp
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.llm.client import LLM
from bot.settings import Settings
from handlers.coalesce import Coalescer
from handlers.slack_calls import is_admin, user_tz

if TYPE_CHECKING:
    from handlers.home_refresh import HomeRefresher

T = TypeVar("T")

RATE_LIMIT_RETRIES = 3

MessageRef = tuple[str, int, str]
"""(team_id, decision_id, which message)."""


def build_client(settings: Settings) -> AsyncWebClient:
    """One Web API client; on a 429 it waits for Retry-After and tries again.

    It keeps one HTTP session (and its connections) for the process: without one, slack_sdk
    opens a new session and TCP connection for every call. Build it inside the event loop.
    """
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
    return AsyncWebClient(
        token=token,
        base_url=settings.slack_api_url,
        session=aiohttp.ClientSession(),
        retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=RATE_LIMIT_RETRIES)],
    )


async def close_client(client: AsyncWebClient) -> None:
    if client.session is not None and not client.session.closed:
        await client.session.close()


@dataclass
class Runtime:
    sessions: async_sessionmaker[AsyncSession]
    client: AsyncWebClient
    settings: Settings
    refresher: Coalescer[MessageRef] = field(init=False)
    llm: LLM | None = None
    """The process's one model client; None without OPENAI_API_KEY (see build_llm)."""
    home: HomeRefresher | None = None
    """Publishes App Home tabs (set by handlers.listeners.app_home)."""

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
