"""The app manifests validate against Slack's schema and ask for exactly the scopes ragft uses."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from jsonschema import Draft7Validator

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = ROOT / "tests" / "data" / "slack" / "manifest.schema.1.0.0.json"  # see its README
MANIFESTS = ["manifest.json", "manifest.socket.json"]

# Web API methods the code calls, and the bot scopes each needs (None: no scope needed).
METHOD_SCOPES: dict[str, set[str]] = {
    "chat_postMessage": {"chat:write"},
    "chat_update": {"chat:write"},
    "chat_postEphemeral": {"chat:write"},
    "chat_delete": {"chat:write"},
    "chat_getPermalink": set(),
    "conversations_join": {"channels:join"},
    "conversations_replies": {"channels:history", "groups:history"},
    "users_info": {"users:read"},
    "files_upload_v2": {"files:write"},
    "reactions_add": {"reactions:write"},
    "views_open": set(),
    "views_update": set(),
    "views_push": set(),
    "views_publish": set(),
    "auth_test": set(),
    "users_conversations": {"channels:read", "groups:read", "im:read", "mpim:read"},
    "conversations_info": {"channels:read", "groups:read", "im:read", "mpim:read"},
}
LISTENER_SCOPES = {"/ragft": {"commands"}, "app_mention": {"app_mentions:read"}}
_CALL = re.compile(r"\b(?:client|runtime\.client)\.([a-z]+_[A-Za-z0-9_]+)\(")


def _manifest(name: str) -> dict:
    return json.loads((ROOT / name).read_text())


def _schema() -> dict:
    return json.loads(SCHEMA.read_text())


@pytest.mark.parametrize("name", MANIFESTS)
def test_manifest_validates_against_slacks_schema(name: str):
    errors = sorted(Draft7Validator(_schema()).iter_errors(_manifest(name)), key=str)
    assert not errors, "\n".join(e.message for e in errors)


def _methods_called() -> set[str]:
    called: set[str] = set()
    for path in [*ROOT.glob("bot/**/*.py"), *ROOT.glob("handlers/**/*.py")]:
        called |= set(_CALL.findall(path.read_text()))
    return called


def test_manifest_asks_for_exactly_the_scopes_the_code_uses():
    called = _methods_called()
    unknown = called - METHOD_SCOPES.keys()
    assert not unknown, f"add the scopes of {unknown} to METHOD_SCOPES"
    needed = set().union(*(METHOD_SCOPES[m] for m in called), *LISTENER_SCOPES.values())
    for name in MANIFESTS:
        assert set(_manifest(name)["oauth_config"]["scopes"]["bot"]) == needed, name


@pytest.mark.parametrize("name", MANIFESTS)
def test_manifest_declares_the_command_events_and_interactivity(name: str):
    manifest = _manifest(name)
    [command] = manifest["features"]["slash_commands"]
    assert command["command"] == "/ragft"
    events = set(manifest["settings"]["event_subscriptions"]["bot_events"])
    assert {"app_mention", "app_home_opened", "app_uninstalled", "tokens_revoked"} <= events
    if manifest["settings"].get("org_deploy_enabled"):  # removed from one org workspace
        assert "team_access_revoked" in events
    assert manifest["features"]["app_home"]["home_tab_enabled"] is True
    assert manifest["settings"]["interactivity"]["is_enabled"] is True
    socket = manifest["settings"]["socket_mode_enabled"]
    assert socket is (name == "manifest.socket.json")
    if not socket:
        assert command["url"].endswith("/slack/events")
        assert manifest["settings"]["interactivity"]["request_url"].endswith("/slack/events")


@pytest.mark.parametrize("name", MANIFESTS)
def test_manifest_shortcut_is_the_one_the_app_listens_for(name: str):
    from handlers.ui.ids import CallbackId

    [shortcut] = _manifest(name)["features"]["shortcuts"]
    assert shortcut["type"] == "message"
    assert shortcut["callback_id"] == CallbackId.LOG_FAILURE
    assert len(shortcut["name"]) <= 24


def _requests() -> list[tuple[str, dict]]:
    """A body for each kind of request ragft listens for (handlers/app.py's listeners)."""
    from handlers.ui.ids import ActionId, CallbackId, action_id

    actions = [
        (f"action {a}", {"type": "block_actions", "actions": [{"action_id": action_id(a, 7)}]})
        for a in ActionId
    ]
    views = [
        (
            f"{kind} {c}",
            {"type": kind, "callback_id": c, "view": {"type": "modal", "callback_id": c}},
        )
        for c in CallbackId
        for kind in ("view_submission", "shortcut", "message_action")
    ]
    events = [
        (f"event {e}", {"type": "event_callback", "event": {"type": e, "user": "U0OTHER"}})
        for e in (
            "app_mention",
            "app_home_opened",
            "app_uninstalled",
            "tokens_revoked",
            "team_access_revoked",
        )
    ]
    command = [("/ragft", {"command": "/ragft", "text": ""})]
    return actions + views + events + command


async def test_no_two_listeners_take_the_same_request(slack):
    """Bolt runs the first listener that matches, and ragft registers the benchmark's hot ones
    first (handlers/app.py): that is only safe while no request matches two."""
    from slack_bolt.request.async_request import AsyncBoltRequest
    from slack_bolt.response import BoltResponse

    taken: dict[str, list[str]] = {}
    for name, body in _requests():
        body = {"team_id": "T0TEAM0001", **body}
        request = AsyncBoltRequest(
            body=json.dumps(body), headers={"content-type": ["application/json"]}
        )
        response = BoltResponse(status=200, body="")
        taken[name] = [
            listener.ack_function.__qualname__
            for listener in slack.app._async_listeners
            if await listener.async_matches(req=request, resp=response)
        ]
    assert {n: ls for n, ls in taken.items() if len(ls) > 1} == {}
    # Every button and select, every event: exactly one (a body no listener takes here would
    # be a broken body, and the check above would pass on it).
    exactly_one = [n for n in taken if n.startswith(("action ", "event ", "/ragft"))]
    exactly_one += ["shortcut log_failure", "message_action log_failure"]
    assert {n: taken[n] for n in exactly_one if len(taken[n]) != 1} == {}
    assert taken["/ragft"] == ["ragft"]
    assert taken["event app_mention"] == ["app_mention"]
    assert taken["action answer"] == ["answer"]
