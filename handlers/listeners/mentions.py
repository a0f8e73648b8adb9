"""Mentions in a decision thread: ``@ragft fail: why it failed | the output or a link``."""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt.async_app import AsyncApp, AsyncBoltContext
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.domain.failure_lines import ParsedFailure, parse_failure_line
from bot.domain.markup import to_plain
from bot.domain.questions import FAILURE_CATEGORY_LABELS
from bot.services import decision_records
from bot.services.failure_logging import Categorised
from handlers import payloads
from handlers.failure_intake import log_from_slack, log_thread_mention, skipped_text
from handlers.runtime import Runtime, runtime_of
from handlers.ui.mrkdwn import safe

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


async def _tell(client: AsyncWebClient, mention: payloads.Mention, text: str) -> None:
    await client.chat_postEphemeral(
        channel=mention.channel, user=mention.user, thread_ts=mention.thread_ts, text=text
    )


async def _with_permalink(
    client: AsyncWebClient, mention: payloads.Mention, parsed: ParsedFailure
) -> ParsedFailure:
    """The mention itself is the evidence when no link was given."""
    if parsed.permalink is not None:
        return parsed
    try:
        link = await client.chat_getPermalink(channel=mention.channel, message_ts=mention.ts)
    except SlackApiError:  # the event is already claimed: log it without the link
        log.warning("no permalink for a mention in %s", mention.channel)
        return parsed
    return ParsedFailure(parsed.explanation, parsed.output, link.get("permalink"))


async def app_mention(body: dict[str, Any], context: AsyncBoltContext) -> None:
    mention = payloads.mention_of(body)
    if mention is None:
        return
    rt = runtime_of(context)
    why = failure_text(mention.text)
    parsed = parse_failure_line(why) if why else None
    if parsed is not None and mention.thread_ts and rt.llm is None:
        # Categorised at once: claimed, found and saved in one transaction.
        first_time, logged = await log_thread_mention(
            rt,
            team_id=mention.team_id,
            event_id=mention.event_id,
            channel_id=mention.channel,
            thread_ts=mention.thread_ts,
            user_id=mention.user,
            failure=await _with_permalink(rt.client, mention, parsed),
        )
        if first_time and logged is None:
            await _tell(rt.client, mention, NOT_A_DECISION)
        elif logged is not None:
            await _confirm(rt.client, mention, logged.stored, logged.duplicates)
        return
    # Otherwise claim the event first: a model's categorising shows in the thread, so only once.
    async with rt.sessions() as session:
        first_time, decision = await decision_records.claim_thread_event(
            session=session,
            team_id=mention.team_id,
            event_id=mention.event_id,
            channel_id=mention.channel,
            thread_ts=mention.thread_ts,
        )
    if not first_time:
        return
    if decision is None or decision.id is None:
        await _tell(rt.client, mention, NOT_A_DECISION)
        return
    if parsed is None:
        await _tell(rt.client, mention, HINT)
        return
    parsed = await _with_permalink(rt.client, mention, parsed)
    _, stored, duplicates = await log_from_slack(
        rt,
        team_id=mention.team_id,
        channel_id=mention.channel,
        decision_id=decision.id,
        user_id=mention.user,
        failures=[parsed],
        found=decision,
    )
    await _confirm(rt.client, mention, stored, duplicates)


async def _confirm(
    client: AsyncWebClient, mention: payloads.Mention, stored: list[Categorised], duplicates: int
) -> None:
    """Mark the mention logged and tell its author the category, or that it was logged before."""
    if not stored:
        await _tell(client, mention, f"Already logged: {skipped_text(duplicates)}")
        return
    [item] = stored
    await client.reactions_add(channel=mention.channel, timestamp=mention.ts, name="memo")
    label = FAILURE_CATEGORY_LABELS[item.category].lower()
    await _tell(client, mention, f"Logged as *{label}*: {safe(item.rationale, 500)}")


def register(app: AsyncApp, runtime: Runtime) -> None:
    app.event("app_mention")(app_mention)
