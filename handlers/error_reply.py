"""Telling the user what went wrong, in private, and logging it as its kind deserves. Bolt's
error handler comes here, and so does work that runs after its request is done (a thread
posted from a queue)."""

from __future__ import annotations

import logging
from contextvars import ContextVar

from slack_bolt.async_app import AsyncBoltRequest
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.domain.errors import UserError
from handlers.payloads import Where

log = logging.getLogger("ragft")

VERIFIED = "ragft_verified"
"""Set in Bolt's context by ragft's first global middleware. Bolt runs global middleware in
order, its own first, and its RequestVerification answers 401 without calling the rest, so the
flag means the signature checked out. An error raised before it (in verification itself, say)
has no flag."""


def trusted(request: AsyncBoltRequest) -> bool:
    """Whether the error handler may act on ``request``: it came over Socket Mode (an
    authenticated connection) or through Bolt's signature check (see VERIFIED)."""
    return request.mode == "socket_mode" or request.context.get(VERIFIED) is True


TRUSTED: ContextVar[bool] = ContextVar("ragft_trusted", default=False)
"""``trusted`` for the request this work belongs to, for work that outlives it (a queued thread
post); set by a global middleware, so the listener's task and the tasks it starts see it."""

GENERIC_ERROR = (
    "Sorry, something went wrong on my side and I couldn't finish that. Please try again in a "
    "minute; if it keeps happening, tell whoever runs ragft (error: {kind})."
)


def slack_said(error: SlackApiError) -> str:
    try:
        return str(error.response.get("error") or "error")
    except Exception:  # a response that isn't Slack's JSON (a proxy's HTML page, say)
        return "error"


def error_text(error: Exception) -> str:
    if isinstance(error, UserError):
        return str(error)
    if isinstance(error, SlackApiError):
        return GENERIC_ERROR.format(kind=f"Slack said {slack_said(error)}")
    return GENERIC_ERROR.format(kind=type(error).__name__)


async def tell_user(
    error: Exception, place: Where, client: AsyncWebClient, respond: AsyncRespond | None
) -> None:
    text = error_text(error)
    if respond is not None and respond.response_url:
        await respond(text=text, response_type="ephemeral", replace_original=False)
        return
    if place.channel and place.user:
        await client.chat_postEphemeral(
            channel=place.channel, user=place.user, thread_ts=place.thread, text=text
        )
    elif place.user:
        await client.chat_postMessage(channel=place.user, text=text)


async def report(
    error: Exception, place: Where, client: AsyncWebClient, respond: AsyncRespond | None
) -> None:
    if isinstance(error, UserError):
        log.info("user error: %s", error)
    elif isinstance(error, SlackApiError):  # Slack refused a call: its answer says why
        log.warning("a Slack call failed: %s", slack_said(error))
    else:
        log.error("listener failed", exc_info=error)
    try:
        await tell_user(error, place, client, respond)
    except SlackApiError as exc:  # the user can't be reached there: nothing more to do
        log.warning("couldn't tell the user (Slack said %s)", slack_said(exc))
