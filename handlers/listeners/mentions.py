"""Mentions in a decision thread: ``@ragft fail: why it failed | the output or a link``."""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.domain.failure_lines import ParsedFailure, parse_failure_line
from bot.domain.markup import to_plain
from bot.domain.questions import FAILURE_CATEGORY_LABELS
from handlers.failure_intake import save_failures
from handlers.listeners.model_steps import categorise_in_thread
from handlers.runtime import Runtime
from handlers.ui.mrkdwn import safe
from storage.models import Decision
from storage.repositories import decision_repo as repo

log = logging.getLogger("ragft")

_LEADING_MENTIONS = re.compile(r"^\s*(?:<@[UW][A-Z0-9]+(?:\|[^>]*)?>\s*)+")
_FAILURE = re.compile(r"^\s*(?:fail(?:ure|ed)?|log)\s*[:\-–]?\s*(?P<rest>.+)$", re.I | re.S)

HINT = (
    "To log a failing output here, mention me with `fail:` and say why it failed, e.g. "
    "`@ragft fail: quoted last year's prices | https://link-to-the-output`."
)
NOT_A_DECISION = (
    "I only collect failures in a decision's thread. Start one with `/ragft <title>`, "
    "or log to the latest decision here with `/ragft log <why it failed>`."
)


def failure_text(text: str) -> str | None:
    """What follows ``fail:`` in a mention, as the person typed it (the bot's mention removed)."""
    match = _FAILURE.match(to_plain(_LEADING_MENTIONS.sub("", text)).strip())
    return match.group("rest").strip() if match else None


async def _tell(client: AsyncWebClient, event: dict[str, Any], text: str) -> None:
    await client.chat_postEphemeral(
        channel=event["channel"], user=event["user"], thread_ts=event.get("thread_ts"), text=text
    )


async def _first_delivery_thread(
    runtime: Runtime, team_id: str, event_id: str, event: dict[str, Any]
) -> tuple[bool, Decision | None]:
    """Claim the event id (False for a retry or replay) and find the decision it's threaded in."""
    async with runtime.sessions() as session, session.begin():
        if not await repo.claim_event(session=session, team_id=team_id, event_id=event_id):
            return False, None
        if not event.get("thread_ts"):
            return True, None
        return True, await repo.get_decision_by_thread(
            session=session,
            team_id=team_id,
            channel_id=event["channel"],
            thread_ts=event["thread_ts"],
        )


async def _with_permalink(
    client: AsyncWebClient, event: dict[str, Any], parsed: ParsedFailure
) -> ParsedFailure:
    """The mention itself is the evidence when no link was given."""
    if parsed.permalink is not None:
        return parsed
    try:
        link = await client.chat_getPermalink(channel=event["channel"], message_ts=event["ts"])
    except SlackApiError:  # the event is already claimed: log it without the link
        log.warning("no permalink for a mention in %s", event["channel"])
        return parsed
    return ParsedFailure(parsed.explanation, parsed.output, link.get("permalink"))


def register(app: AsyncApp, runtime: Runtime) -> None:
    @app.event("app_mention")
    async def mention(body: dict[str, Any], event: dict[str, Any], client: AsyncWebClient) -> None:
        if event.get("bot_id") or "user" not in event:
            return
        team_id = body.get("team_id") or event.get("team")
        first_time, decision = await _first_delivery_thread(
            runtime, team_id, body["event_id"], event
        )
        if not first_time:
            return
        if decision is None or decision.id is None:
            await _tell(client, event, NOT_A_DECISION)
            return
        why = failure_text(event.get("text", ""))
        parsed = parse_failure_line(why) if why else None
        if parsed is None:
            await _tell(client, event, HINT)
            return
        parsed = await _with_permalink(client, event, parsed)
        user = event["user"]
        [item] = await categorise_in_thread(
            runtime, team_id=team_id, decision_id=decision.id, user_id=user, failures=[parsed]
        )
        await save_failures(runtime, team_id, decision.id, user, [item])
        await client.reactions_add(channel=event["channel"], timestamp=event["ts"], name="memo")
        label = FAILURE_CATEGORY_LABELS[item.category].lower()
        await _tell(client, event, f"Logged as *{label}*: {safe(item.rationale, 500)}")
