"""Turning a decision into an ADR file: names, the channel and the thread's permalink asked of
Slack (``users.info``, ``conversations.info``, ``chat.getPermalink``, cached), then the pure
renderer; and ``/ragft export``'s upload to the decision's thread."""

from __future__ import annotations

import logging
import time
from typing import Any
from weakref import WeakKeyDictionary

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.domain.adr_facts import AdrFacts, People, people_of
from bot.domain.adr_formats import FORMAT_LABELS, AdrFormat, render_adr
from bot.services.adr_records import AdrSource
from handlers.channel_membership import TtlCache

log = logging.getLogger("ragft")
UNANSWERED = (SlackApiError, aiohttp.ClientError, OSError, KeyError, TypeError)
"""What a failed or odd Slack answer raises; the export goes on without that name or link."""
UNREACHABLE = (aiohttp.ClientError, OSError)
UNREACHABLE_FOR = 60.0
"""Seconds an export stops asking Slack after it couldn't be reached."""
"""Slack can't be reached: stop asking (``ragft export`` would wait on every name)."""

NAME_TTL = 3600.0
"""Seconds a display name is trusted before Slack is asked again."""
NAME_CACHE_SIZE = 5000


def display_name(user: dict[str, Any]) -> str | None:
    """Slack's display name, else the real name, else the username."""
    profile = user.get("profile") or {}
    for value in (
        profile.get("display_name"),
        profile.get("real_name"),
        user.get("real_name"),
        user.get("name"),
    ):
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


class SlackDirectory:
    """Names and channel labels of one Slack client, cached (bounded, expiring)."""

    def __init__(self, client: AsyncWebClient) -> None:
        self.client = client
        self.names: TtlCache[str, str] = TtlCache(ttl=NAME_TTL, max_size=NAME_CACHE_SIZE)
        self.channels: TtlCache[str, str] = TtlCache(ttl=NAME_TTL, max_size=NAME_CACHE_SIZE)
        self.unreachable_until = 0.0

    @property
    def reachable(self) -> bool:
        """False for a minute after Slack couldn't be reached, so one export doesn't wait on
        every lookup, and a later export asks again."""
        return time.monotonic() >= self.unreachable_until

    def _failed(self, what: str, exc: Exception) -> None:
        log.warning("%s for an export failed: %s", what, type(exc).__name__)
        if isinstance(exc, UNREACHABLE):
            self.unreachable_until = time.monotonic() + UNREACHABLE_FOR

    async def name(self, user_id: str) -> str | None:
        cached = self.names.get(user_id)
        if cached is not None or not self.reachable:
            return cached
        try:
            found = display_name((await self.client.users_info(user=user_id))["user"])
        except UNANSWERED as exc:
            self._failed("users.info", exc)
            return None
        if found:
            self.names.put(user_id, found)
        return found

    async def channel(self, channel_id: str) -> str | None:
        cached = self.channels.get(channel_id)
        if cached is not None or not self.reachable:
            return cached
        try:
            info = (await self.client.conversations_info(channel=channel_id))["channel"]
        except UNANSWERED as exc:
            self._failed("conversations.info", exc)
            return None
        label = "a direct message" if info.get("is_im") else f"#{info.get('name') or 'channel'}"
        self.channels.put(channel_id, label)
        return label

    async def permalink(self, channel_id: str, ts: str | None) -> str | None:
        if not ts or not self.reachable:
            return None
        try:
            found = await self.client.chat_getPermalink(channel=channel_id, message_ts=ts)
        except UNANSWERED as exc:
            self._failed("chat.getPermalink", exc)
            return None
        link = found.get("permalink")
        return link if isinstance(link, str) else None


_DIRECTORIES: WeakKeyDictionary[AsyncWebClient, SlackDirectory] = WeakKeyDictionary()


def directory_of(client: AsyncWebClient) -> SlackDirectory:
    """One directory (and its caches) per client, for as long as the client lives."""
    found = _DIRECTORIES.get(client)
    if found is None:
        found = _DIRECTORIES[client] = SlackDirectory(client)
    return found


async def adr_facts(directory: SlackDirectory | None, source: AdrSource) -> AdrFacts:
    """The renderer's input. Without a directory (no Slack token) nobody can be named."""
    order = people_of(source.record)
    names: dict[str, str] = {}
    channel = permalink = None
    if directory is not None:
        for user_id in order:
            if (found := await directory.name(user_id)) is not None:
                names[user_id] = found
        channel = await directory.channel(source.channel_id)
        permalink = await directory.permalink(source.channel_id, source.thread_ts)
    return AdrFacts(
        record=source.record,
        people=People(names, order),
        channel=channel,
        permalink=permalink,
        review_cadence_days=source.review_cadence_days,
        last_reviewed_at=source.last_reviewed_at,
        supersedes=source.supersedes,
        superseded_by=source.superseded_by,
        chain=source.chain,
    )


async def upload_adr(
    client: AsyncWebClient, source: AdrSource, adr_format: AdrFormat, user_id: str
) -> None:
    """The ADR file, uploaded to the decision's thread."""
    facts = await adr_facts(directory_of(client), source)
    await client.files_upload_v2(
        channel=source.channel_id,
        thread_ts=source.thread_ts,
        content=render_adr(facts, adr_format),
        filename=facts.file_name,
        title=f"ADR {facts.number}: {' '.join(facts.people.humanize(source.record.title).split())}"[
            :250
        ],  # plain text, with names instead of mentions
        initial_comment=(
            f"Decision record for #{source.record.id} as an ADR ({FORMAT_LABELS[adr_format]}), "
            f"exported by <@{user_id}>."
        ),
    )
