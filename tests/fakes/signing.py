"""Signed Slack requests, built from real payload shapes.

``sign()`` makes the two signature headers. The other builders return either a signed HTTP
request ``(body: bytes, headers: dict)`` ready to POST to ``/slack/events`` (``slash_command``,
``interactive``, ``event``, ``url_verification``) or a payload/event ``dict`` to pass to one of
those (``block_action``, ``view_submission``, ``message_shortcut``, ``thread_reply``,
``app_mention``, ``app_home_opened``)::

    body, headers = interactive(block_action(action_id="ragft_helpful", value="q:42:up"))
    body, headers = event(thread_reply(text="follow-up?"), event_id="Ev1", retry_num=1)

The templates at the bottom of this module are copies of ``tests/data/slack/payloads/*.json``
(``tests/test_fakes.py`` checks they still match). Every builder that signs takes ``secret=`` and
``timestamp=`` to produce bad or stale signatures on purpose.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import re
import threading
import time
import uuid
from typing import Any
from urllib.parse import quote, urlencode

__all__ = [
    "API_APP_ID",
    "SIGNING_SECRET",
    "app_home_opened",
    "app_mention",
    "block_action",
    "event",
    "interactive",
    "message_shortcut",
    "new_ts",
    "select_value",
    "sign",
    "slash_command",
    "text_value",
    "thread_reply",
    "url_verification",
    "user_value",
    "view_submission",
]

SIGNING_SECRET = "test-signing-secret"
API_APP_ID = "A0RAGFT001"
DEFAULT_USER = "U0USER0001"
DEFAULT_CHANNEL = "C0CHAN0001"
DEFAULT_TEAM = "T0ABCDEF12"
DEFAULT_THREAD_TS = "1717000000.000100"
FORM = "application/x-www-form-urlencoded"

Signed = tuple[bytes, dict[str, str]]


# ------------------------------------------------------------------------------- signing


def sign(
    body: bytes | str, *, secret: str = SIGNING_SECRET, timestamp: int | None = None
) -> dict[str, str]:
    """``X-Slack-Request-Timestamp`` and ``X-Slack-Signature`` for ``body`` (now by default)."""
    raw = body.encode() if isinstance(body, str) else body
    ts = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"v0:{ts}:".encode() + raw, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": str(ts), "X-Slack-Signature": f"v0={digest}"}


def _signed(body: str, content_type: str, secret: str, timestamp: int | None) -> Signed:
    raw = body.encode()
    return raw, {"Content-Type": content_type, **sign(raw, secret=secret, timestamp=timestamp)}


# ------------------------------------------------------------------------------- helpers

_ts_lock = threading.Lock()
_last_us = 0


def new_ts() -> str:
    """A unique, increasing Slack timestamp (``"1717000000.000100"`` shape) based on now."""
    global _last_us
    with _ts_lock:
        _last_us = max(time.time_ns() // 1000, _last_us + 1)
        return f"{_last_us // 1_000_000}.{_last_us % 1_000_000:06d}"


def _trigger_id() -> str:
    return f"1234567890123.1234567890.{uuid.uuid4().hex}"


def _user(user_id: str, team_id: str) -> dict[str, str]:
    name = "jdoe" if user_id == DEFAULT_USER else user_id.lower()
    return {"id": user_id, "username": name, "name": name, "team_id": team_id}


def _team(team_id: str) -> dict[str, str]:
    return {"id": team_id, "domain": "example-team"}


def _rich_text(text: str) -> list[dict[str, Any]]:
    """The ``rich_text`` block Slack attaches to a typed message, with ``<@U…>`` as user
    elements."""
    elements: list[dict[str, Any]] = []
    for i, part in enumerate(re.split(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>", text)):
        if i % 2:
            elements.append({"type": "user", "user_id": part})
        elif part:
            elements.append({"type": "text", "text": part})
    section = {"type": "rich_text_section", "elements": elements}
    return [{"type": "rich_text", "block_id": uuid.uuid4().hex[:4], "elements": [section]}]


def text_value(value: str | None) -> dict[str, Any]:
    """A ``plain_text_input`` entry for ``view_submission(values=...)``."""
    return {"type": "plain_text_input", "value": value}


def select_value(
    value: str | None, text: str | None = None, *, type: str = "static_select"
) -> dict[str, Any]:
    """A select entry (``selected_option`` or ``None``) for ``view_submission(values=...)``."""
    option = None if value is None else _option(value, text)
    return {"type": type, "selected_option": option}


def user_value(user_id: str | None) -> dict[str, Any]:
    """A ``users_select`` entry for ``view_submission(values=...)``."""
    return {"type": "users_select", "selected_user": user_id}


def _option(value: str, text: str | None = None) -> dict[str, Any]:
    return {"text": {"type": "plain_text", "text": text or value, "emoji": True}, "value": value}


# ----------------------------------------------------------------- HTTP request builders


def slash_command(
    *,
    text: str,
    user_id: str = DEFAULT_USER,
    channel_id: str = DEFAULT_CHANNEL,
    team_id: str = DEFAULT_TEAM,
    command: str = "/ragft",
    user_name: str = "jdoe",
    channel_name: str = "rag-help",
    trigger_id: str | None = None,
    response_url: str | None = None,
    secret: str = SIGNING_SECRET,
    timestamp: int | None = None,
) -> Signed:
    """A signed slash-command request: form fields in the order Slack sends them."""
    fields = {
        **SLASH_COMMAND,
        "team_id": team_id,
        "channel_id": channel_id,
        "channel_name": channel_name,
        "user_id": user_id,
        "user_name": user_name,
        "command": command,
        "text": text,
        "response_url": response_url or SLASH_COMMAND["response_url"],
        "trigger_id": trigger_id or _trigger_id(),
    }
    return _signed(urlencode(fields), FORM, secret, timestamp)


def interactive(
    payload: dict[str, Any], *, secret: str = SIGNING_SECRET, timestamp: int | None = None
) -> Signed:
    """A signed interactivity request: ``payload=<url-encoded compact JSON>``."""
    body = "payload=" + quote(json.dumps(payload, separators=(",", ":")))
    return _signed(body, FORM, secret, timestamp)


def event(
    event: dict[str, Any],
    *,
    event_id: str,
    team_id: str = DEFAULT_TEAM,
    bot_user_id: str = "U0BOT00001",
    retry_num: int | None = None,
    retry_reason: str = "http_timeout",
    secret: str = SIGNING_SECRET,
    timestamp: int | None = None,
) -> Signed:
    """A signed Events API ``event_callback`` request (JSON). ``retry_num`` adds the
    ``X-Slack-Retry-Num`` / ``X-Slack-Retry-Reason`` headers of a redelivery."""
    envelope = copy.deepcopy(EVENT_ENVELOPE)
    if event.get("type") not in ("message", "app_mention"):
        envelope.pop("event_context")
    event_ts = event.get("event_ts") or event.get("ts")
    envelope.update(
        {
            "team_id": team_id,
            "context_team_id": team_id,
            "event": event,
            "event_id": event_id,
            "event_time": int(float(event_ts)) if event_ts else int(time.time()),
        }
    )
    envelope["authorizations"][0].update({"team_id": team_id, "user_id": bot_user_id})
    body, headers = _signed(json.dumps(envelope), "application/json", secret, timestamp)
    if retry_num is not None:
        headers["X-Slack-Retry-Num"] = str(retry_num)
        headers["X-Slack-Retry-Reason"] = retry_reason
    return body, headers


def url_verification(
    challenge: str = "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P",
    *,
    secret: str = SIGNING_SECRET,
    timestamp: int | None = None,
) -> Signed:
    """The signed ``url_verification`` request Slack sends when the Request URL is saved."""
    body = {
        "token": "verification_token_deprecated",
        "challenge": challenge,
        "type": "url_verification",
    }
    return _signed(json.dumps(body), "application/json", secret, timestamp)


# ------------------------------------------------------------------ interactive payloads


def block_action(
    *,
    action_id: str,
    value: str | None = None,
    block_id: str = "b",
    user_id: str = DEFAULT_USER,
    team_id: str = DEFAULT_TEAM,
    channel_id: str = DEFAULT_CHANNEL,
    message_ts: str = "1717000005.000200",
    thread_ts: str | None = DEFAULT_THREAD_TS,
    selected_option: dict[str, Any] | None = None,
    selected_user: str | None = None,
    element_type: str = "button",
    state_values: dict[str, Any] | None = None,
    message: dict[str, Any] | None = None,
    trigger_id: str | None = None,
    response_url: str | None = None,
    view: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A ``block_actions`` payload for one element clicked in a bot message (in a thread unless
    ``thread_ts=None``), or inside ``view`` (a modal or Home tab) when given."""
    payload = copy.deepcopy(BLOCK_ACTIONS)
    payload.update(
        {
            "user": _user(user_id, team_id),
            "team": _team(team_id),
            "trigger_id": trigger_id or _trigger_id(),
            "state": {"values": state_values or {}},
            "actions": [
                _action(action_id, block_id, element_type, value, selected_option, selected_user)
            ],
        }
    )
    if view is not None:
        for key in ("container", "channel", "message", "response_url"):
            payload.pop(key)
        payload["container"] = {"type": "view", "view_id": view.get("id", "V0MODAL0001")}
        payload["view"] = view
        return payload
    payload["container"].update({"message_ts": message_ts, "channel_id": channel_id})
    payload["channel"]["id"] = channel_id
    if message is None:
        message = payload["message"]
        message["ts"] = message_ts
        if thread_ts is None:
            for key in ("thread_ts", "parent_user_id"):
                message.pop(key)
        else:
            message["thread_ts"] = thread_ts
    payload["message"] = message
    if thread_ts is None:
        payload["container"].pop("thread_ts")
    else:
        payload["container"]["thread_ts"] = thread_ts
    payload["response_url"] = response_url or BLOCK_ACTIONS["response_url"]
    return payload


def _action(
    action_id: str,
    block_id: str,
    element_type: str,
    value: str | None,
    selected_option: dict[str, Any] | None,
    selected_user: str | None,
) -> dict[str, Any]:
    action: dict[str, Any] = {"type": element_type, "action_id": action_id, "block_id": block_id}
    if element_type == "button":
        action["text"] = {"type": "plain_text", "text": "Button", "emoji": True}
        if value is not None:
            action["value"] = value
    elif element_type.endswith("_select") and element_type != "users_select":
        if selected_option is None and value is not None:
            selected_option = _option(value)
        action["selected_option"] = selected_option
    elif element_type == "users_select":
        action["selected_user"] = selected_user
    elif value is not None:
        action["value"] = value
    action["action_ts"] = new_ts()
    return action


def view_submission(
    *,
    callback_id: str,
    values: dict[str, Any],
    private_metadata: str = "",
    user_id: str = DEFAULT_USER,
    team_id: str = DEFAULT_TEAM,
    view_id: str = "V0MODAL0001",
    blocks: list[dict[str, Any]] | None = None,
    title: str = "Ask RAGFT",
    trigger_id: str | None = None,
) -> dict[str, Any]:
    """A ``view_submission`` payload. ``values`` is ``view.state.values``:
    ``{block_id: {action_id: text_value("…") | select_value("…") | user_value("U…")}}``."""
    payload = copy.deepcopy(VIEW_SUBMISSION)
    payload.update(
        {
            "user": _user(user_id, team_id),
            "team": _team(team_id),
            "trigger_id": trigger_id or _trigger_id(),
        }
    )
    payload["view"].update(
        {
            "id": view_id,
            "root_view_id": view_id,
            "team_id": team_id,
            "app_installed_team_id": team_id,
            "callback_id": callback_id,
            "private_metadata": private_metadata,
            "state": {"values": values},
            "blocks": blocks or [],
        }
    )
    payload["view"]["title"]["text"] = title
    return payload


def message_shortcut(
    *,
    callback_id: str,
    message: dict[str, Any],
    user_id: str = DEFAULT_USER,
    team_id: str = DEFAULT_TEAM,
    channel_id: str = DEFAULT_CHANNEL,
    message_ts: str | None = None,
    trigger_id: str | None = None,
    response_url: str | None = None,
) -> dict[str, Any]:
    """A ``message_action`` (message shortcut) payload; ``message_ts`` defaults to the
    message's ``ts``."""
    payload = copy.deepcopy(MESSAGE_ACTION)
    payload.update(
        {
            "callback_id": callback_id,
            "message": message,
            "message_ts": message_ts or message.get("ts") or new_ts(),
            "user": _user(user_id, team_id),
            "team": _team(team_id),
            "trigger_id": trigger_id or _trigger_id(),
            "response_url": response_url or MESSAGE_ACTION["response_url"],
            "action_ts": new_ts(),
        }
    )
    payload["channel"]["id"] = channel_id
    return payload


# ------------------------------------------------------------------------------- events


def thread_reply(
    *,
    text: str,
    user_id: str = DEFAULT_USER,
    channel_id: str = DEFAULT_CHANNEL,
    thread_ts: str | None = DEFAULT_THREAD_TS,
    ts: str | None = None,
    team_id: str = DEFAULT_TEAM,
) -> dict[str, Any]:
    """A user's ``message`` event in a thread (top-level when ``thread_ts=None``)."""
    ev = copy.deepcopy(THREAD_REPLY_EVENT)
    ts = ts or new_ts()
    ev.update(
        {
            "user": user_id,
            "ts": ts,
            "event_ts": ts,
            "client_msg_id": str(uuid.uuid4()),
            "text": text,
            "team": team_id,
            "blocks": _rich_text(text),
            "channel": channel_id,
            "channel_type": {"D": "im", "G": "group"}.get(channel_id[:1], "channel"),
        }
    )
    if thread_ts is None:
        for key in ("thread_ts", "parent_user_id"):
            ev.pop(key)
    else:
        ev["thread_ts"] = thread_ts
    return ev


def app_mention(
    *,
    text: str,
    user_id: str = DEFAULT_USER,
    channel_id: str = DEFAULT_CHANNEL,
    thread_ts: str | None = None,
    ts: str | None = None,
    team_id: str = DEFAULT_TEAM,
) -> dict[str, Any]:
    """An ``app_mention`` event. ``text`` is the raw text, mention included, e.g.
    ``"<@U0BOT00001> what is our retry policy?"``."""
    ev = copy.deepcopy(APP_MENTION_EVENT)
    ts = ts or new_ts()
    ev.update(
        {
            "client_msg_id": str(uuid.uuid4()),
            "text": text,
            "user": user_id,
            "ts": ts,
            "event_ts": ts,
            "blocks": _rich_text(text),
            "team": team_id,
            "channel": channel_id,
        }
    )
    if thread_ts is None:
        ev.pop("thread_ts")
    else:
        ev["thread_ts"] = thread_ts
    return ev


def app_home_opened(
    *, user_id: str = DEFAULT_USER, view: dict[str, Any] | None = None, tab: str = "home"
) -> dict[str, Any]:
    """An ``app_home_opened`` event; ``view`` is the currently published Home view, if any
    (Slack omits it the first time a user opens the tab)."""
    ev = copy.deepcopy(APP_HOME_OPENED_EVENT)
    ts = new_ts()
    ev.update({"user": user_id, "tab": tab, "event_ts": ts})
    if view is not None:
        ev["view"] = view
    return ev


# ----------------------------------------------------------------------------- templates
# Copies of tests/data/slack/payloads/*.json (EVENT_ENVELOPE is event_app_mention_in_thread.json
# without its "event"); tests/test_fakes.py compares them with the files.

BLOCK_ACTIONS: dict[str, Any] = {
    "type": "block_actions",
    "user": {"id": "U0USER0001", "username": "jdoe", "name": "jdoe", "team_id": "T0ABCDEF12"},
    "api_app_id": "A0RAGFT001",
    "token": "verification_token_deprecated",
    "container": {
        "type": "message",
        "message_ts": "1717000005.000200",
        "channel_id": "C0CHAN0001",
        "is_ephemeral": False,
        "thread_ts": "1717000000.000100",
    },
    "trigger_id": "1234567890123.1234567890.fedcba9876543210fedcba9876543210",
    "team": {"id": "T0ABCDEF12", "domain": "example-team"},
    "enterprise": None,
    "is_enterprise_install": False,
    "channel": {"id": "C0CHAN0001", "name": "rag-help"},
    "message": {
        "type": "message",
        "subtype": "bot_message",
        "text": "Here is what I found …",
        "ts": "1717000005.000200",
        "bot_id": "B0BOT00001",
        "thread_ts": "1717000000.000100",
        "parent_user_id": "U0USER0001",
        "blocks": [
            {
                "type": "section",
                "block_id": "ans",
                "text": {"type": "mrkdwn", "text": "Here is what I found …", "verbatim": False},
            },
            {
                "type": "actions",
                "block_id": "fb",
                "elements": [
                    {
                        "type": "button",
                        "action_id": "ragft_helpful",
                        "text": {"type": "plain_text", "text": "Helpful", "emoji": True},
                        "value": "q:42:up",
                        "style": "primary",
                    },
                    {
                        "type": "static_select",
                        "action_id": "ragft_pick_source",
                        "placeholder": {
                            "type": "plain_text",
                            "text": "Pick a source",
                            "emoji": True,
                        },
                        "options": [
                            {
                                "text": {"type": "plain_text", "text": "Runbook", "emoji": True},
                                "value": "src_runbook",
                            },
                            {
                                "text": {"type": "plain_text", "text": "Wiki", "emoji": True},
                                "value": "src_wiki",
                            },
                        ],
                    },
                ],
            },
        ],
    },
    "response_url": "https://hooks.slack.com/actions/T0ABCDEF12/1234567890123/ZyXwVuTsRqPoNmLkJiHgFeDc",
    "state": {
        "values": {"fb": {"ragft_pick_source": {"type": "static_select", "selected_option": None}}}
    },
    "actions": [
        {
            "action_id": "ragft_helpful",
            "block_id": "fb",
            "text": {"type": "plain_text", "text": "Helpful", "emoji": True},
            "value": "q:42:up",
            "style": "primary",
            "type": "button",
            "action_ts": "1717000042.123456",
        }
    ],
}

VIEW_SUBMISSION: dict[str, Any] = {
    "type": "view_submission",
    "team": {"id": "T0ABCDEF12", "domain": "example-team"},
    "user": {"id": "U0USER0001", "username": "jdoe", "name": "jdoe", "team_id": "T0ABCDEF12"},
    "api_app_id": "A0RAGFT001",
    "token": "verification_token_deprecated",
    "trigger_id": "1234567890123.1234567890.a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6",
    "view": {
        "id": "V0MODAL0001",
        "team_id": "T0ABCDEF12",
        "type": "modal",
        "blocks": [
            {
                "type": "input",
                "block_id": "q",
                "label": {"type": "plain_text", "text": "Your question", "emoji": True},
                "optional": False,
                "dispatch_action": False,
                "element": {
                    "type": "plain_text_input",
                    "action_id": "q_input",
                    "multiline": True,
                    "dispatch_action_config": {"trigger_actions_on": ["on_enter_pressed"]},
                },
            },
            {
                "type": "input",
                "block_id": "scope",
                "label": {"type": "plain_text", "text": "Search scope", "emoji": True},
                "optional": True,
                "element": {
                    "type": "static_select",
                    "action_id": "scope_select",
                    "options": [
                        {
                            "text": {"type": "plain_text", "text": "This channel", "emoji": True},
                            "value": "channel",
                        },
                        {
                            "text": {"type": "plain_text", "text": "Everything", "emoji": True},
                            "value": "all",
                        },
                    ],
                },
            },
        ],
        "private_metadata": '{"channel_id": "C0CHAN0001", "thread_ts": "1717000000.000100", "message_ts": "1717000100.000300"}',  # noqa: E501
        "callback_id": "ragft_ask_modal",
        "state": {
            "values": {
                "q": {"q_input": {"type": "plain_text_input", "value": "Summarise this thread"}},
                "scope": {
                    "scope_select": {
                        "type": "static_select",
                        "selected_option": {
                            "text": {"type": "plain_text", "text": "This channel", "emoji": True},
                            "value": "channel",
                        },
                    }
                },
            }
        },
        "hash": "1717000500.3wRYuk3R",
        "title": {"type": "plain_text", "text": "Ask RAGFT", "emoji": True},
        "clear_on_close": False,
        "notify_on_close": False,
        "close": {"type": "plain_text", "text": "Cancel", "emoji": True},
        "submit": {"type": "plain_text", "text": "Ask", "emoji": True},
        "previous_view_id": None,
        "root_view_id": "V0MODAL0001",
        "app_id": "A0RAGFT001",
        "external_id": "",
        "app_installed_team_id": "T0ABCDEF12",
        "bot_id": "B0BOT00001",
    },
    "response_urls": [],
    "is_enterprise_install": False,
    "enterprise": None,
}

MESSAGE_ACTION: dict[str, Any] = {
    "type": "message_action",
    "token": "verification_token_deprecated",
    "action_ts": "1717000300.111111",
    "team": {"id": "T0ABCDEF12", "domain": "example-team"},
    "user": {"id": "U0USER0001", "username": "jdoe", "name": "jdoe", "team_id": "T0ABCDEF12"},
    "channel": {"id": "C0CHAN0001", "name": "rag-help"},
    "is_enterprise_install": False,
    "enterprise": None,
    "callback_id": "ragft_ask_about_message",
    "trigger_id": "1234567890123.1234567890.00112233445566778899aabbccddeeff",
    "response_url": "https://hooks.slack.com/app/T0ABCDEF12/1234567890123/QwErTyUiOpAsDfGhJkLzXcVb",
    "message_ts": "1717000100.000300",
    "message": {
        "client_msg_id": "0f7d2c1e-1111-2222-3333-444455556666",
        "type": "message",
        "text": "follow-up: does that also apply to socket mode?",
        "user": "U0USER0001",
        "ts": "1717000100.000300",
        "team": "T0ABCDEF12",
        "thread_ts": "1717000000.000100",
        "parent_user_id": "U0USER0001",
        "blocks": [
            {
                "type": "rich_text",
                "block_id": "Ab1",
                "elements": [
                    {
                        "type": "rich_text_section",
                        "elements": [
                            {
                                "type": "text",
                                "text": "follow-up: does that also apply to socket mode?",
                            }
                        ],
                    }
                ],
            }
        ],
    },
}

EVENT_ENVELOPE: dict[str, Any] = {
    "token": "verification_token_deprecated",
    "team_id": "T0ABCDEF12",
    "context_team_id": "T0ABCDEF12",
    "context_enterprise_id": None,
    "api_app_id": "A0RAGFT001",
    "type": "event_callback",
    "event_id": "Ev0MENTION2",
    "event_time": 1717000200,
    "authorizations": [
        {
            "enterprise_id": None,
            "team_id": "T0ABCDEF12",
            "user_id": "U0BOT00001",
            "is_bot": True,
            "is_enterprise_install": False,
        }
    ],
    "is_ext_shared_channel": False,
    "event_context": "4-eyJldCI6Im1lc3NhZ2UiLCJ0aWQiOiJUMEFCQ0RFRjEyIn0",
}

APP_MENTION_EVENT: dict[str, Any] = {
    "client_msg_id": "1a2b3c4d-aaaa-bbbb-cccc-ddddeeeeffff",
    "type": "app_mention",
    "text": "<@U0BOT00001> and for GovSlack?",
    "user": "U0USER0001",
    "ts": "1717000200.000400",
    "blocks": [
        {
            "type": "rich_text",
            "block_id": "Qw3",
            "elements": [
                {
                    "type": "rich_text_section",
                    "elements": [
                        {"type": "user", "user_id": "U0BOT00001"},
                        {"type": "text", "text": " and for GovSlack?"},
                    ],
                }
            ],
        }
    ],
    "team": "T0ABCDEF12",
    "channel": "C0CHAN0001",
    "event_ts": "1717000200.000400",
    "thread_ts": "1717000000.000100",
}

THREAD_REPLY_EVENT: dict[str, Any] = {
    "user": "U0USER0001",
    "type": "message",
    "ts": "1717000100.000300",
    "client_msg_id": "0f7d2c1e-1111-2222-3333-444455556666",
    "text": "follow-up: does that also apply to socket mode?",
    "team": "T0ABCDEF12",
    "blocks": [
        {
            "type": "rich_text",
            "block_id": "Ab1",
            "elements": [
                {
                    "type": "rich_text_section",
                    "elements": [
                        {"type": "text", "text": "follow-up: does that also apply to socket mode?"}
                    ],
                }
            ],
        }
    ],
    "thread_ts": "1717000000.000100",
    "parent_user_id": "U0USER0001",
    "channel": "C0CHAN0001",
    "event_ts": "1717000100.000300",
    "channel_type": "channel",
}

APP_HOME_OPENED_EVENT: dict[str, Any] = {
    "type": "app_home_opened",
    "user": "U0USER0001",
    "channel": "D0DMCHAN01",
    "tab": "home",
    "event_ts": "1717000400.556817",
}

SLASH_COMMAND: dict[str, Any] = {
    "token": "verification_token_deprecated",
    "team_id": "T0ABCDEF12",
    "team_domain": "example-team",
    "channel_id": "C0CHAN0001",
    "channel_name": "rag-help",
    "user_id": "U0USER0001",
    "user_name": "jdoe",
    "command": "/ragft",
    "text": "how do I rotate the signing secret?",
    "api_app_id": "A0RAGFT001",
    "is_enterprise_install": "false",
    "response_url": "https://hooks.slack.com/commands/T0ABCDEF12/1234567890123/AbCdEfGhIjKlMnOpQrStUvWx",
    "trigger_id": "1234567890123.1234567890.0123456789abcdef0123456789abcdef",
}
