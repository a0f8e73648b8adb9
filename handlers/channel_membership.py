"""Which conversations a person is in, asked of Slack (``users.conversations``) and cached
briefly: the App Home shows and acts on only the decisions of channels the person can see.

A record built from join events can't know who was already in a channel, so Slack is asked.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

from slack_sdk.web.async_client import AsyncWebClient

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

MEMBERSHIP_TTL = 60.0
"""Seconds a person's channel list is trusted; after that Slack is asked again."""
MEMBERSHIP_MAX_USERS = 2000
CONVERSATION_TYPES = "public_channel,private_channel,mpim,im"
PAGE = 200
MAX_PAGES = 25
"""5,000 conversations: beyond that the Home shows what the first pages hold."""


class TtlCache(Generic[K, V]):
    """A bounded cache whose entries expire ``ttl`` seconds after they were stored; expired
    (idle) entries are dropped as others are stored, and the oldest go when it is full."""

    def __init__(
        self, *, ttl: float, max_size: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.ttl = ttl
        self.max_size = max_size
        self._clock = clock
        self._items: OrderedDict[K, tuple[float, V]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._items)

    def get(self, key: K) -> V | None:
        item = self._items.get(key)
        if item is None:
            return None
        if item[0] <= self._clock():
            del self._items[key]
            return None
        return item[1]

    def put(self, key: K, value: V) -> None:
        now = self._clock()
        self._items.pop(key, None)
        self._items[key] = (now + self.ttl, value)
        while self._items:  # oldest first: drop the expired ones at the front
            oldest_key, (expires, _) = next(iter(self._items.items()))
            if expires > now and len(self._items) <= self.max_size:
                break
            del self._items[oldest_key]

    def discard(self, key: K) -> None:
        self._items.pop(key, None)

    def live_keys(self) -> list[K]:
        now = self._clock()
        return [k for k, (expires, _) in self._items.items() if expires > now]


class Memberships:
    """``channels(client, team, user)``: the ids of the conversations the user is in."""

    def __init__(self, ttl: float = MEMBERSHIP_TTL, max_users: int = MEMBERSHIP_MAX_USERS) -> None:
        self.cache: TtlCache[tuple[str, str], frozenset[str]] = TtlCache(
            ttl=ttl, max_size=max_users
        )

    async def channels(self, client: AsyncWebClient, team_id: str, user_id: str) -> frozenset[str]:
        key = (team_id, user_id)
        cached = self.cache.get(key)
        if cached is not None:
            return cached
        found: set[str] = set()
        cursor: str | None = None
        for _ in range(MAX_PAGES):
            response = await client.users_conversations(
                user=user_id,
                types=CONVERSATION_TYPES,
                exclude_archived=True,
                limit=PAGE,
                cursor=cursor,
            )
            found.update(
                c["id"]
                for c in response.get("channels") or []
                if isinstance(c, dict) and isinstance(c.get("id"), str)
            )
            cursor = (response.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                break
        channels = frozenset(found)
        self.cache.put(key, channels)
        return channels
