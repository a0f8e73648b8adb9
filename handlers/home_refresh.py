"""Publishing the App Home, per person: when they open it, and shortly after a change to a
decision they're involved in, if they opened it lately.

Cheap by design: a change only schedules work when someone in that workspace opened their Home
in the last ``VIEWER_TTL`` seconds; changes to one decision within ``delay`` share one run; and
publishes for one person are coalesced (callers arriving during a publish share the next one).
"""

from __future__ import annotations

import asyncio
import logging

from slack_sdk.errors import SlackApiError

from bot.services import home_dashboard
from bot.services.state import DecisionState
from handlers.channel_membership import Memberships, TtlCache
from handlers.coalesce import Coalescer
from handlers.runtime import Runtime
from handlers.slack_calls import slack_error
from handlers.ui.home_view import cant_list_view, home_view
from storage.models import utcnow

log = logging.getLogger("ragft")

SETTLE_DELAY = 2.0
"""Seconds a change waits, so a burst of clicks becomes one publish per person."""
VIEWER_TTL = 30 * 60.0
"""A person who opened their Home this recently gets it republished after changes."""
MAX_VIEWERS = 5000
WORKSPACE_URL_TTL = 3600.0

CANT_LIST = frozenset({"missing_scope", "not_allowed_token_type", "no_permission"})
"""users.conversations refused: e.g. an install from before the Home tab, without its scopes."""

HomeKey = tuple[str, str]
"""(team_id, user_id)."""


def thread_link(workspace_url: str | None, state: DecisionState) -> str | None:
    """``https://team.slack.com/archives/C…/p…``, the permalink of the decision's root message."""
    d = state.decision
    if not workspace_url or not d.thread_ts:
        return None
    return f"{workspace_url.rstrip('/')}/archives/{d.channel_id}/p{d.thread_ts.replace('.', '')}"


class HomeRefresher:
    def __init__(self, runtime: Runtime, delay: float = SETTLE_DELAY) -> None:
        self.runtime = runtime
        self.delay = delay
        self.memberships = Memberships()
        self.viewers: TtlCache[HomeKey, bool] = TtlCache(ttl=VIEWER_TTL, max_size=MAX_VIEWERS)
        self.publisher: Coalescer[HomeKey] = Coalescer(self._publish)
        self._urls: TtlCache[str, str] = TtlCache(ttl=WORKSPACE_URL_TTL, max_size=1000)
        self._scheduled: set[tuple[str, int]] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    async def opened(self, team_id: str, user_id: str) -> None:
        self.viewers.put((team_id, user_id), True)
        await self.publisher.run((team_id, user_id))

    def changed(self, team_id: str, decision_id: int) -> None:
        """A decision changed: republish, soon, the Home of whoever it involves and looks."""
        if not any(team == team_id for team, _ in self.viewers.live_keys()):
            return
        key = (team_id, decision_id)
        if key in self._scheduled:
            return
        self._scheduled.add(key)
        task = asyncio.create_task(self._after_changes(key))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _after_changes(self, key: tuple[str, int]) -> None:
        team_id, decision_id = key
        try:
            await asyncio.sleep(self.delay)
        finally:
            self._scheduled.discard(key)  # a change from now on schedules another run
        try:
            people = await self.runtime.call(
                home_dashboard.people_involved, team_id=team_id, decision_id=decision_id
            )
            looking = [p for p in people if self.viewers.get((team_id, p))]
            await asyncio.gather(*(self.publisher.run((team_id, p)) for p in looking))
        except Exception as exc:  # a background refresh: the change itself was saved
            log.warning("App Home refresh after #%s failed: %s", decision_id, _why(exc))

    async def _workspace_url(self, team_id: str) -> str | None:
        url = self._urls.get(team_id)
        if url is None:
            try:
                url = str((await self.runtime.client.auth_test()).get("url") or "")
            except SlackApiError as exc:
                log.warning("auth.test failed (%s); the Home has no thread links", _why(exc))
                return None
            self._urls.put(team_id, url)
        return url or None

    async def _publish(self, key: HomeKey) -> None:
        team_id, user_id = key
        rt = self.runtime
        try:
            channels = await self.memberships.channels(rt.client, team_id, user_id)
        except SlackApiError as exc:
            if slack_error(exc) not in CANT_LIST:
                raise
            await rt.client.views_publish(user_id=user_id, view=cant_list_view(slack_error(exc)))
            return
        now = utcnow()
        board = await rt.call(
            home_dashboard.dashboard,
            team_id=team_id,
            user_id=user_id,
            channel_ids=channels,
            now=now,
        )
        url = await self._workspace_url(team_id)
        view = home_view(board, lambda state: thread_link(url, state), now)
        await rt.client.views_publish(user_id=user_id, view=view)


def _why(exc: Exception) -> str:
    return slack_error(exc) if isinstance(exc, SlackApiError) else type(exc).__name__
