"""Mentions in a decision thread: ``@ragft fail: why it failed | the output or a link``."""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.failures import parse_failure_line
from bot.questions import FAILURE_CATEGORY_LABELS
from bot.slack_text import to_plain
from handlers.ai import categorise_in_thread
from handlers.failure_log import save_failures
from handlers.runtime import Runtime
from handlers.ui.text import safe
from storage import repository as repo

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


def register(app: AsyncApp, runtime: Runtime) -> None:
    @app.event("app_mention")
    async def mention(body: dict[str, Any], event: dict[str, Any], client: AsyncWebClient) -> None:
        if event.get("bot_id") or "user" not in event:
            return
        team_id = body.get("team_id") or event.get("team")
        async with runtime.sessions() as session, session.begin():
            first_time = await repo.claim_event(
                session=session, team_id=team_id, event_id=body["event_id"]
            )
            decision = None
            if first_time and event.get("thread_ts"):
                decision = await repo.get_decision_by_thread(
                    session=session,
                    team_id=team_id,
                    channel_id=event["channel"],
                    thread_ts=event["thread_ts"],
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
        if parsed.permalink is None:
            try:
                link = await client.chat_getPermalink(
                    channel=event["channel"], message_ts=event["ts"]
                )
            except SlackApiError:  # the event is already claimed: log it without the link
                log.warning("no permalink for a mention in %s", event["channel"])
            else:
                parsed = type(parsed)(parsed.explanation, parsed.output, link.get("permalink"))
        [item] = await categorise_in_thread(
            runtime,
            team_id=team_id,
            decision_id=decision.id,
            user_id=event["user"],
            failures=[parsed],
        )
        await save_failures(runtime, team_id, decision.id, event["user"], [item])
        await client.reactions_add(channel=event["channel"], timestamp=event["ts"], name="memo")
        await _tell(
            client,
            event,
            f"Logged as *{FAILURE_CATEGORY_LABELS[item.category].lower()}*: "
            f"{safe(item.rationale, 500)}",
        )
