"""The Bolt AsyncApp: listeners, and the one error handler that tells the user what went wrong."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.domain.errors import UserError
from bot.llm.client import build_llm
from bot.settings import Settings
from handlers.coalesce import Coalescer
from handlers.listeners import decision_actions as actions
from handlers.listeners import mentions as events
from handlers.listeners import modal_submissions as views
from handlers.listeners import model_steps as ai
from handlers.listeners import routine_listeners as routine
from handlers.listeners import slash_command as commands
from handlers.runtime import Runtime, build_client
from handlers.thread import render_message

log = logging.getLogger("ragft")

BOLT_ACK_POLL = 0.05
"""Bolt 1.30's async runner resets ``ack.response`` when a listener fails after acking. If that
happens before its 10 ms poll has seen the ack, the HTTP response waits the whole 3 s ack timeout
and Slack shows the user a timeout. The error handler waits this long first, so the ack is seen."""

GENERIC_ERROR = (
    "Sorry, something went wrong on my side and I couldn't finish that. Please try again in a "
    "minute; if it keeps happening, tell whoever runs ragft (error: {kind})."
)


def error_text(error: Exception) -> str:
    if isinstance(error, UserError):
        return str(error)
    if isinstance(error, SlackApiError):
        return GENERIC_ERROR.format(kind=f"Slack said {error.response.get('error', 'error')}")
    return GENERIC_ERROR.format(kind=type(error).__name__)


def _where(body: dict[str, Any]) -> tuple[str | None, str | None, str | None]:
    """(channel, user, thread_ts) of the request, where it has them."""
    event = body.get("event") or {}
    channel = (
        body.get("channel_id")
        or (body.get("channel") or {}).get("id")
        or (body.get("container") or {}).get("channel_id")
        or event.get("channel")
    )
    user = body.get("user_id") or (body.get("user") or {}).get("id") or event.get("user")
    thread = (body.get("container") or {}).get("thread_ts") or event.get("thread_ts")
    return channel, user, thread


async def tell_user(
    error: Exception, body: dict[str, Any], client: AsyncWebClient, respond: AsyncRespond | None
) -> None:
    text = error_text(error)
    if respond is not None and respond.response_url:
        await respond(text=text, response_type="ephemeral", replace_original=False)
        return
    channel, user, thread = _where(body)
    if channel and user:
        await client.chat_postEphemeral(channel=channel, user=user, thread_ts=thread, text=text)
    elif user:
        await client.chat_postMessage(channel=user, text=text)


def create_app(
    *,
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    client: AsyncWebClient | None = None,
) -> tuple[AsyncApp, Runtime]:
    client = client or build_client(settings)
    secret = settings.slack_signing_secret
    app = AsyncApp(
        client=client,
        signing_secret=secret.get_secret_value() if secret else None,
        request_verification_enabled=secret is not None,
        logger=log,
    )
    runtime = Runtime(sessions=sessions, client=client, settings=settings)
    runtime.llm = build_llm(settings)  # one model client for the process, or None without a key
    runtime.refresher = Coalescer(lambda key: render_message(runtime, key))

    commands.register(app, runtime, extra=routine.SUBCOMMANDS)
    actions.register(app, runtime)
    views.register(app, runtime)
    events.register(app, runtime)
    ai.register(app, runtime)
    routine.register(app, runtime)

    @app.error
    async def on_error(
        error: Exception, body: dict[str, Any], client: AsyncWebClient, respond: AsyncRespond
    ) -> None:
        await asyncio.sleep(BOLT_ACK_POLL)
        if isinstance(error, UserError):
            log.info("user error: %s", error)
        else:
            log.error("listener failed", exc_info=error)
        await tell_user(error, body, client, respond)

    return app, runtime
