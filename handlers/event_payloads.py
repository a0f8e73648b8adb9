"""Workspace-level events parsed once and typed: the App Home opening and its buttons, and the
uninstall events. Untrusted like every payload (see ``handlers.payloads``)."""

from __future__ import annotations

import re
from typing import Any

from pydantic import ValidationError

from handlers.payloads import Click, Payload, SlackId, as_dict, as_text, click_of, number

# App Home -----------------------------------------------------------------------------------


class HomeOpened(Payload):
    team_id: SlackId
    user_id: SlackId
    tab: str


def home_opened_of(body: dict[str, Any]) -> HomeOpened | None:
    """An ``app_home_opened`` event; None for anything unreadable (nothing is published)."""
    event = as_dict(body.get("event"))
    try:
        return HomeOpened(
            team_id=as_text(body.get("team_id")) or as_dict(event.get("view")).get("team_id"),
            user_id=event.get("user"),
            tab=event.get("tab") if isinstance(event.get("tab"), str) else "",
        )
    except ValidationError:
        return None


def home_click(body: dict[str, Any]) -> tuple[Click, int]:
    """A button on the App Home: its value is the decision id; there is no channel."""
    click = click_of(body)
    return click, number(click.value)


class Uninstall(Payload):
    """Who an ``app_uninstalled`` or ``tokens_revoked`` event is about."""

    team_id: SlackId | None = None
    enterprise_id: SlackId | None = None
    is_enterprise_install: bool = False
    revoked_bot: bool = False


def uninstall_of(body: dict[str, Any]) -> Uninstall | None:
    """None when the event names neither a workspace nor an org."""
    first = (
        as_dict((body.get("authorizations") or [{}])[0])
        if isinstance(body.get("authorizations"), list)
        else {}
    )
    tokens = as_dict(as_dict(body.get("event")).get("tokens"))
    try:
        parsed = Uninstall(
            team_id=as_text(body.get("team_id")) or as_text(first.get("team_id")),
            enterprise_id=as_text(body.get("enterprise_id")) or as_text(first.get("enterprise_id")),
            is_enterprise_install=first.get("is_enterprise_install") is True
            or body.get("is_enterprise_install") is True,
            revoked_bot=bool(tokens.get("bot")),
        )
    except ValidationError:
        return None
    if parsed.team_id is None and parsed.enterprise_id is None:
        return None
    return parsed


class TeamAccessRevoked(Payload):
    """``team_access_revoked``: an org app was removed from these workspaces of the org."""

    team_ids: tuple[SlackId, ...] = ()


def team_access_revoked_of(body: dict[str, Any]) -> TeamAccessRevoked:
    """The workspaces named in ``event.team_ids`` (values that aren't Slack ids are dropped)."""
    raw = as_dict(body.get("event")).get("team_ids")
    teams = [t for t in raw if isinstance(t, str)] if isinstance(raw, list) else []
    valid = [t for t in teams if re.match(r"^[A-Z0-9][A-Z0-9_-]{1,31}$", t)]
    return TeamAccessRevoked(team_ids=tuple(dict.fromkeys(valid)))
