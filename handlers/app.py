"""The Bolt AsyncApp: listeners, and the one error handler that tells the user what went wrong."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncApp, AsyncBoltContext, AsyncBoltRequest
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_bolt.logger.messages import warning_client_prioritized_and_token_skipped
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.llm.client import build_llm
from bot.settings import Settings
from handlers import acks
from handlers.error_reply import TRUSTED, VERIFIED, report, trusted
from handlers.listeners import (
    analysis_buttons,
    app_home,
    context_summary,
    cost_actions,
    decide_buttons,
    decision_actions,
    failure_shortcut,
    lifecycle_buttons,
    mentions,
    modal_submissions,
    perfect_context,
    review_buttons,
    slash_command,
    uninstall,
)
from handlers.oauth_setup import build_distribution, oauth_kwargs
from handlers.payloads import where
from handlers.runtime import Runtime, build_client, runtime_of
from handlers.thread_queue import ThreadPoster
from handlers.thread_renders import ThreadRenderer
from handlers.workspace_clients import WorkspaceClients

log = logging.getLogger("ragft")

# Bolt tries each listener's matchers in the order they were registered (about 20 µs each), so
# the benchmark's mix comes first: a mention, /ragft, an answer click. No two listeners match the
# same request (tests/test_manifest.py), so the order changes nothing else.
LISTENER_MODULES = (
    mentions,
    slash_command,
    decision_actions,
    uninstall,
    decide_buttons,
    modal_submissions,
    perfect_context,
    context_summary,
    review_buttons,
    failure_shortcut,
    cost_actions,
    app_home,
    analysis_buttons,
    lifecycle_buttons,
)


async def mark_verified(context: AsyncBoltContext, next: Callable[[], Awaitable[None]]) -> None:
    context[VERIFIED] = True
    await next()


async def bind_workspace(context: AsyncBoltContext, next: Callable[[], Awaitable[None]]) -> None:
    """Distribution mode: this request's work (and the tasks it starts) uses the client Bolt
    authorised for its workspace; the workspace's org is noted for the sweep."""
    runtime = runtime_of(context)
    runtime.bind(context.client)
    if runtime.workspaces is not None and context.authorize_result is not None:
        await runtime.workspaces.note(context.team_id, context.enterprise_id)
    await next()


class EnvironmentTokenNotice(logging.Filter):
    """Drops Bolt's "As you gave `client` as well, `token` will be unused." and nothing else.

    AsyncApp falls back to ``os.environ["SLACK_BOT_TOKEN"]`` whenever it is given no token, and
    warns that the token loses to ``client=``; its constructor has no way to skip that fallback.
    ragft's client is built from that same setting (Settings reads the environment, then
    ``.env``), so the warning is always a false alarm. Bolt copies its base logger's filters to
    the loggers it creates, so this applies to all of them."""

    MESSAGE = warning_client_prioritized_and_token_skipped()

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != self.MESSAGE


def quiet_bolt_logger() -> logging.Logger:
    """The logger Bolt gets: ragft's, with EnvironmentTokenNotice on it once."""
    if not any(isinstance(f, EnvironmentTokenNotice) for f in log.filters):
        log.addFilter(EnvironmentTokenNotice())
    return log


def create_app(
    *,
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    client: AsyncWebClient | None = None,
) -> tuple[AsyncApp, Runtime]:
    client = client or build_client(settings)
    secret = settings.slack_signing_secret
    distribution = (
        build_distribution(settings, sessions.kw["bind"], client) if settings.distribution else None
    )
    app = AsyncApp(
        client=client,
        signing_secret=secret.get_secret_value() if secret else None,
        request_verification_enabled=secret is not None,
        logger=quiet_bolt_logger(),
        **oauth_kwargs(distribution),
    )
    if secret is not None:  # without one Bolt checks no signature, so nothing HTTP is trusted
        app.middleware(mark_verified)  # before any other: it must run right after Bolt's own
    runtime = Runtime(sessions=sessions, client=client, settings=settings)
    if distribution is not None:
        runtime.workspaces = WorkspaceClients(
            distribution=distribution, base=client, sessions=sessions
        )
    runtime.llm = build_llm(settings)  # one model client for the process, or None without a key
    runtime.renderer = ThreadRenderer(runtime)
    runtime.threads = ThreadPoster(runtime)

    async def provide_runtime(
        context: AsyncBoltContext,
        req: AsyncBoltRequest,
        body: dict[str, Any],
        next: Callable[[], Awaitable[None]],
    ) -> None:
        context["runtime"] = runtime
        TRUSTED.set(trusted(req))
        await acks.prepare(context, body)
        await next()

    app.middleware(provide_runtime)
    if distribution is not None:
        app.middleware(bind_workspace)
    for module in LISTENER_MODULES:
        module.register(app, runtime)

    @app.error
    async def on_error(
        error: Exception,
        request: AsyncBoltRequest,
        body: Any,
        client: AsyncWebClient,
        respond: AsyncRespond,
    ) -> None:
        if not trusted(request):  # never answer, post or DM on the word of an unsigned body
            log.warning("ignored %s raised for an unverified request", type(error).__name__)
            return
        await report(error, where(body), client, respond)

    return app, runtime
