"""A fake Slack Web API: a real HTTP server that records every call and keeps a little state.

Point ``AsyncWebClient(token=..., base_url=fake.url)`` (or ``SLACK_API_URL``) at it::

    with FakeSlack() as slack:
        client = AsyncWebClient(token="xoxb-test", base_url=slack.url)
        await client.chat_postMessage(channel="C0CHAN0001", text="hi")
        assert slack.calls_to("chat.postMessage")[0].args["text"] == "hi"

State it keeps: posted messages (``messages()``), ephemeral messages, views (modals and Home
tabs), finished file uploads, users, channel membership and thread replies. Methods it does not
know answer ``{"ok": true}`` and are still recorded. Call ``clear()`` to forget recorded traffic
(calls, uploads, ephemerals) while keeping that state.

Defaults worth knowing:

- users ``U0BOT00001`` (the bot, ``is_bot``) and ``U0USER0001`` (``jdoe``) exist; others need
  ``add_user`` or get ``user_not_found``;
- a channel never passed to ``set_channel`` is public with the bot as a member; ``U…`` channel
  ids are posted into the DM ``D…`` with that user;
- a call is recorded once its response is decided (after ``delay``), so anything a test sees in
  ``calls`` is already reflected in ``messages()`` and friends. ``Call.at`` is the arrival time;
- channel membership: ``set_channel(..., members=[...])`` names who is in a channel (default:
  everybody); ``users.conversations`` and ``conversations.members`` page through it with
  ``limit`` and ``cursor``, and a private channel shows only when the bot is in it too;
- ``views.publish`` takes only ``home`` views; it, ``views.open``/``push``/``update`` and the
  ``chat.*`` methods that take blocks check every block with slack_sdk's models;
- ``trigger_id`` values are single-use (``exchanged_trigger_id`` on reuse), as in Slack; message
  blocks are capped at 50, view blocks at 100, modal titles at 24 characters;
- ``slow(method, seconds)`` delays one method only, and ``arrived(method)`` counts the requests
  that reached it, answered or still waiting (``calls`` only has the answered ones);
- Socket Mode: ``apps.connections.open`` (with an ``xapp-`` token) hands out a WebSocket URL on
  this server. It says ``hello``, answers pings, and ``open_sockets()`` counts the connections;
  ``send_envelope(envelope)`` pushes an envelope to every one and ``acks`` keeps what came back;
- OAuth (distribution mode): ``GET /oauth/v2/authorize`` (``authorize_url``) stands for the
  person approving the install into the workspace set with ``install_into``; it redirects to
  ``redirect_uri`` (default ``oauth_redirect_url``) with a code. ``oauth.v2.access`` (client id
  and secret ``OAUTH_CLIENT_ID`` / ``OAUTH_CLIENT_SECRET``) exchanges a code, once, for a bot
  token of that workspace, or with ``grant_type=refresh_token`` a refresh token, once, for a
  new token (the old one stops working; the new one lives ``refreshed_expires_in`` seconds).
  ``auth.test`` answers for the token's workspace; ``revoke(token)`` and expired tokens get
  ``invalid_auth`` / ``token_expired``.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import json
import mimetypes
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode

from aiohttp import web
from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from . import BackgroundServer

__all__ = ["Call", "FakeSlack"]

# Fields that clients send as JSON strings inside form or query data.
_JSON_FIELDS = frozenset(
    {"blocks", "view", "files", "attachments", "metadata", "unfurls", "outputs", "user_auth_blocks"}
)
MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_PRIVATE_METADATA = 3000
MAX_MODAL_TITLE = 24
OAUTH_CLIENT_ID = "1111111111.2222222222"
OAUTH_CLIENT_SECRET = "fake-client-secret"


@dataclass
class Call:
    """One recorded HTTP request. ``at`` is ``time.time()`` when it arrived."""

    method: str
    args: dict[str, Any]
    headers: dict[str, str]
    at: float
    http_method: str = "POST"
    status: int = 200
    response: Any = None
    path: str = ""

    @property
    def token(self) -> str | None:
        """The token the client sent: the bearer token, else a ``token`` argument."""
        for name, value in self.headers.items():
            if name.lower() == "authorization" and value.startswith("Bearer "):
                return value.removeprefix("Bearer ")
        token = self.args.get("token")
        return token if isinstance(token, str) else None


@dataclass
class _Failure:
    error: str | None
    status: int
    retry_after: int | None
    remaining: int

    def render(self) -> tuple[int, dict[str, Any], dict[str, str]]:
        default = {429: "ratelimited"}.get(
            self.status, "internal_error" if self.status >= 500 else ""
        )
        body = {"ok": False, "error": self.error or default}
        headers = {}
        if self.status == 429 or self.retry_after is not None:
            headers["Retry-After"] = str(1 if self.retry_after is None else self.retry_after)
        return self.status, body, headers


def _error(error: str, **extra: Any) -> dict[str, Any]:
    return {"ok": False, "error": error, **extra}


def _check_block_models(blocks: list[Any]) -> dict[str, Any] | None:
    """What Slack would refuse in these blocks, checked with slack_sdk's models."""
    try:
        for block in blocks:
            parsed = Block.parse(block)
            if parsed is None:
                raise SlackObjectFormationError(f"unknown block {block!r}")
            parsed.to_dict()
    except (SlackObjectFormationError, TypeError, ValueError, KeyError, AttributeError) as exc:
        return _error("invalid_blocks", response_metadata={"messages": [f"[ERROR] {exc}"]})
    return None


def _decode_json_fields(args: dict[str, Any]) -> dict[str, Any]:
    for key, value in args.items():
        if key in _JSON_FIELDS and isinstance(value, str) and value.strip()[:1] in ("[", "{"):
            with contextlib.suppress(ValueError):  # else left as sent, for the handler to reject
                args[key] = json.loads(value)
    return args


async def _parse_args(request: web.Request) -> dict[str, Any]:
    """Merge query-string, form (urlencoded or multipart) and JSON body arguments."""
    args: dict[str, Any] = dict(request.query)
    if request.can_read_body:
        ctype = request.content_type
        if ctype == "application/json":
            body = await request.json()
            if isinstance(body, dict):
                args.update(body)
        elif ctype in ("application/x-www-form-urlencoded", "multipart/form-data"):
            for key, value in (await request.post()).items():
                if isinstance(value, web.FileField):
                    args[key] = {"filename": value.filename, "content": value.file.read()}
                else:
                    args[key] = value
        else:
            raw = await request.read()
            args.update(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))
    return _decode_json_fields(args)


class FakeSlack(BackgroundServer):
    """Recording fake of ``https://slack.com/api/`` plus the file-upload and response_url hosts."""

    thread_name = "fake-slack"

    def __init__(
        self,
        *,
        bot_user_id: str = "U0BOT00001",
        team_id: str = "T0ABCDEF12",
        delay: float = 0.0,
    ) -> None:
        super().__init__()
        self.bot_user_id = bot_user_id
        self.team_id = team_id
        self.bot_id = "B0BOT00001"
        self.app_id = "A0RAGFT001"
        self.team_domain = "example-team"
        self.delay = delay  # seconds added to every response; may be changed while running
        self.delays: dict[str, float] = {}  # per method, instead of ``delay``; see slow()
        self._jitter: dict[str, tuple[float, random.Random]] = {}  # see jitter()
        self.token_delays: dict[str, float] = {}  # bot token -> seconds more for its calls
        self._arrived: dict[str, int] = {}
        self._answered = 0
        self._sockets: set[web.WebSocketResponse] = set()
        self.acks: list[dict[str, Any]] = []

        self._lock = threading.RLock()
        self.calls: list[Call] = []
        self.uploads: list[dict[str, Any]] = []
        self.ephemerals: list[dict[str, Any]] = []
        self.views: dict[str, dict[str, Any]] = {}  # view id -> view (modals and Home tabs)
        self.home_views: dict[str, dict[str, Any]] = {}  # user id -> published Home tab
        self._messages: dict[tuple[str, str], dict[str, Any]] = {}
        self._users: dict[str, dict[str, Any]] = {}
        self._channels: dict[str, dict[str, Any]] = {}
        self._replies: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self._failures: dict[str, list[_Failure]] = {}
        self._pending_files: dict[str, dict[str, Any]] = {}
        self._used_triggers: set[str] = set()
        self._last_us = 0
        self._ids = itertools.count(1)
        self.oauth_redirect_url = "http://ragft.test/slack/oauth_redirect"
        self.refreshed_expires_in = 12 * 3600  # what Slack gives a refreshed token
        self._next_install: dict[str, Any] | None = None
        self._codes: dict[str, dict[str, Any]] = {}
        self._issued: dict[str, dict[str, Any]] = {}  # bot token -> its workspace and expiry
        self._refresh: dict[str, dict[str, Any]] = {}  # unused refresh token -> workspace
        self._dead_tokens: dict[str, str] = {}  # token -> the error it now gets

        self._methods: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
            "auth.test": self._auth_test,
            "chat.postMessage": self._chat_post_message,
            "chat.update": self._chat_update,
            "chat.postEphemeral": self._chat_post_ephemeral,
            "chat.delete": self._chat_delete,
            "chat.getPermalink": self._chat_get_permalink,
            "views.open": self._views_open,
            "views.push": self._views_open,
            "views.update": self._views_update,
            "views.publish": self._views_publish,
            "users.info": self._users_info,
            "conversations.join": self._conversations_join,
            "conversations.info": self._conversations_info,
            "conversations.replies": self._conversations_replies,
            "conversations.open": self._conversations_open,
            "conversations.members": self._conversations_members,
            "users.conversations": self._users_conversations,
            "files.getUploadURLExternal": self._files_get_upload_url,
            "files.completeUploadExternal": self._files_complete_upload,
        }
        self._users[bot_user_id] = self._user_object(
            bot_user_id, name="ragft", real_name="RAGFT", is_bot=True
        )
        self.add_user("U0USER0001", name="jdoe", real_name="Jane Doe")

    # ----------------------------------------------------------------- public API

    @property
    def url(self) -> str:
        """Web API base URL, ending in ``/api/``: use as ``AsyncWebClient(base_url=...)``."""
        return f"{self.origin}/api/"

    def response_url(self, key: str = "default") -> str:
        """A ``response_url`` on this server; POSTs to it are recorded as ``response_url`` calls
        (``Call.path`` is the key, ``Call.args`` the JSON body)."""
        return f"{self.origin}/hooks/{key}"

    @property
    def authorize_url(self) -> str:
        """``SLACK_AUTHORIZE_URL`` for this fake."""
        return f"{self.origin}/oauth/v2/authorize"

    def install_into(
        self,
        team_id: str | None,
        *,
        enterprise_id: str | None = None,
        is_enterprise_install: bool = False,
        installer: str = "U0USER0001",
        expires_in: int | None = None,
    ) -> None:
        """Where the next approval at ``authorize_url`` installs the app. ``expires_in``
        (seconds) turns on token rotation: tokens expire and come with a refresh token."""
        with self._lock:
            self._next_install = {
                "team_id": None if is_enterprise_install else team_id,
                "enterprise_id": enterprise_id,
                "is_enterprise_install": is_enterprise_install,
                "installer": installer,
                "expires_in": expires_in,
            }

    def tokens_of(self, team_id: str | None, enterprise_id: str | None = None) -> list[str]:
        """Every bot token issued for that workspace (or org-wide install), oldest first."""
        with self._lock:
            return [
                token
                for token, grant in self._issued.items()
                if grant["team_id"] == team_id and grant["enterprise_id"] == enterprise_id
            ]

    def revoke(self, token: str) -> None:
        with self._lock:
            self._dead_tokens[token] = "invalid_auth"

    def calls_to(self, method: str) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == method]

    def clear(self) -> None:
        """Forget recorded traffic (calls, uploads, ephemerals). Messages, views, users,
        channels, replies and pending failures are kept."""
        with self._lock:
            self.calls.clear()
            self.uploads.clear()
            self.ephemerals.clear()

    def add_user(
        self,
        user_id: str,
        *,
        name: str | None = None,
        real_name: str | None = None,
        tz: str = "America/New_York",
        tz_offset: int = -18000,
        is_admin: bool = False,
        is_owner: bool = False,
        deleted: bool = False,
    ) -> None:
        user = self._user_object(
            user_id,
            name=name,
            real_name=real_name,
            tz=tz,
            tz_offset=tz_offset,
            is_admin=is_admin,
            is_owner=is_owner,
            deleted=deleted,
        )
        with self._lock:
            self._users[user_id] = user

    def slow(self, method: str, seconds: float) -> None:
        """Answer ``method`` after ``seconds`` (instead of ``delay``); 0 makes it prompt again.
        A request still waiting is dropped, unanswered and unrecorded, if its client goes away."""
        with self._lock:
            self.delays[method] = seconds

    def jitter(self, method: str, up_to: float, seed: int = 0) -> None:
        """Answer ``method`` after a random 0..``up_to`` seconds more (seeded), so concurrent
        calls complete, and are applied, out of the order they were sent in."""
        with self._lock:
            self._jitter[method] = (up_to, random.Random(seed))

    def in_flight(self) -> int:
        """Requests that arrived and are not answered yet."""
        with self._lock:
            return sum(self._arrived.values()) - self._answered

    def arrived(self, method: str) -> int:
        """How many requests to ``method`` arrived, including those not answered yet."""
        with self._lock:
            return self._arrived.get(method, 0)

    def open_sockets(self) -> int:
        """Socket Mode connections open now."""
        with self._lock:
            return sum(not ws.closed for ws in self._sockets)

    def send_envelope(self, envelope: dict[str, Any]) -> None:
        """Push a Socket Mode envelope to every open connection (from any thread)."""
        assert self._loop is not None

        async def send() -> None:
            for ws in list(self._sockets):
                if not ws.closed:
                    await ws.send_json(envelope)

        asyncio.run_coroutine_threadsafe(send(), self._loop).result(5)

    def fail_next(
        self,
        method: str,
        *,
        error: str | None = None,
        status: int = 200,
        retry_after: int | None = None,
        times: int = 1,
    ) -> None:
        """Make the next ``times`` calls to ``method`` fail (the calls are still recorded).

        ``error`` alone → HTTP 200 ``{"ok": false, "error": error}``; ``status=429`` → HTTP 429
        with ``Retry-After`` (default 1); ``status>=500`` → that HTTP status.
        """
        if status == 200 and not error:
            raise ValueError("fail_next needs error=... or a non-200 status")
        with self._lock:
            self._failures.setdefault(method, []).append(
                _Failure(error=error, status=status, retry_after=retry_after, remaining=times)
            )

    def set_channel(
        self,
        channel_id: str,
        *,
        is_private: bool = False,
        is_member: bool = True,
        name: str | None = None,
        members: list[str] | None = None,
    ) -> None:
        """Configure a channel. Unconfigured channels are public and the bot is a member.
        ``members`` are the people in it (for ``users.conversations`` and
        ``conversations.members``); None: everybody."""
        with self._lock:
            self._channels[channel_id] = {
                "is_private": is_private,
                "is_member": is_member,
                "name": name or f"channel-{channel_id.lower()}",
                "members": None if members is None else list(members),
            }

    def set_replies(self, channel: str, thread_ts: str, messages: list[dict[str, Any]]) -> None:
        """Seed a thread for ``conversations.replies`` (bot messages posted into the thread
        are merged in, ordered by ts)."""
        with self._lock:
            self._replies[(channel, thread_ts)] = [dict(m) for m in messages]

    async def wait_for(
        self,
        method: str,
        count: int = 1,
        timeout: float = 5.0,  # noqa: ASYNC109 - a polling budget, not an I/O timeout
        predicate: Callable[[Call], bool] | None = None,
    ) -> list[Call]:
        """Poll (with ``asyncio.sleep``) until ``count`` matching calls exist; return them all."""
        deadline = time.monotonic() + timeout
        while True:
            found = self._matching(method, predicate)
            if len(found) >= count:
                return found
            if time.monotonic() >= deadline:
                raise AssertionError(self._timeout_message(method, count, timeout, found))
            await asyncio.sleep(0.01)

    def wait_for_sync(
        self,
        method: str,
        count: int = 1,
        timeout: float = 5.0,
        predicate: Callable[[Call], bool] | None = None,
    ) -> list[Call]:
        """``wait_for`` for sync tests (blocks with ``time.sleep``)."""
        deadline = time.monotonic() + timeout
        while True:
            found = self._matching(method, predicate)
            if len(found) >= count:
                return found
            if time.monotonic() >= deadline:
                raise AssertionError(self._timeout_message(method, count, timeout, found))
            time.sleep(0.01)

    def messages(
        self, channel: str | None = None, *, thread_ts: str | None = None
    ) -> list[dict[str, Any]]:
        """Current messages (after updates and deletes), oldest first; optionally one channel
        and/or one thread (``thread_ts`` matches replies and the parent)."""
        with self._lock:
            found = [
                dict(m)
                for m in self._messages.values()
                if (channel is None or m["channel"] == channel)
                and (thread_ts is None or thread_ts in (m["thread_ts"], m["ts"]))
            ]
        return sorted(found, key=lambda m: m["ts"])

    def message(self, channel: str, ts: str) -> dict[str, Any]:
        with self._lock:
            return dict(self._messages[(channel, ts)])

    # --------------------------------------------------------------- HTTP plumbing

    def _make_app(self) -> web.Application:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/api/{method}", self._handle_api)
        app.router.add_post("/upload/v1/{file_id}", self._handle_upload)
        app.router.add_post("/hooks/{key:.*}", self._handle_hook)
        app.router.add_get("/link/", self._handle_socket)
        app.router.add_get("/oauth/v2/authorize", self._handle_authorize)
        return app

    async def _handle_socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        with self._lock:
            self._sockets.add(ws)
        await ws.send_json({"type": "hello", "num_connections": 1, "debug_info": {}})
        async for message in ws:
            if message.type == web.WSMsgType.TEXT:
                with contextlib.suppress(ValueError), self._lock:
                    self.acks.append(json.loads(message.data))
        return ws

    async def _handle_api(self, request: web.Request) -> web.Response:
        at = time.time()
        method = request.match_info["method"]
        with self._lock:
            self._arrived[method] = self._arrived.get(method, 0) + 1
            delay = self.delays.get(method, self.delay)
            if method in self._jitter:
                up_to, rng = self._jitter[method]
                delay += rng.uniform(0, up_to)
            bearer = request.headers.get("Authorization", "").removeprefix("Bearer ")
            delay += self.token_delays.get(bearer, 0.0)
        args = await _parse_args(request)
        if delay:
            await asyncio.sleep(delay)
        headers: dict[str, str] = {}
        with self._lock:
            failure = self._take_failure(method)
            if failure is not None:
                status, body, headers = failure.render()
            else:
                status, body = 200, self._dispatch(method, args, request)
            self.calls.append(
                Call(method, args, dict(request.headers), at, request.method, status, body)
            )
            self._answered += 1
        return web.json_response(body, status=status, headers=headers)

    async def _handle_authorize(self, request: web.Request) -> web.Response:
        """The installer approves in Slack: back to the app's redirect URL with a code."""
        args = dict(request.query)
        with self._lock:
            install, self._next_install = self._next_install, None
            if args.get("client_id") != OAUTH_CLIENT_ID or install is None:
                status, body = 400, _error("invalid_client_id" if install else "no_install")
            else:
                code = f"code-{next(self._ids)}"
                self._codes[code] = {**install, "scope": args.get("scope", "")}
                status, body = 302, {"code": code}
            self.calls.append(
                Call("oauth.authorize", args, dict(request.headers), time.time(), "GET", status)
            )
        if status != 302:
            return web.json_response(body, status=status)
        target = args.get("redirect_uri") or self.oauth_redirect_url
        query = urlencode({"code": body["code"], "state": args.get("state", "")})
        return web.Response(status=302, headers={"Location": f"{target}?{query}"})

    def _grant(self, grant: dict[str, Any]) -> dict[str, Any]:
        """A new bot token (and refresh token, with rotation) for ``grant``'s workspace."""
        n = next(self._ids)
        where = grant["team_id"] or grant["enterprise_id"]
        rotating = grant.get("expires_in") is not None
        token = f"xoxe.xoxb-1-{where}-{n}" if rotating else f"xoxb-{where}-{n}"
        issued = {**grant, "token": token}
        if rotating:
            issued["expires_at"] = time.time() + grant["expires_in"]
            issued["refresh_token"] = f"xoxe-1-{where}-{n}"
            self._refresh[issued["refresh_token"]] = issued
        self._issued[token] = issued
        enterprise = grant["enterprise_id"]
        response: dict[str, Any] = {
            "ok": True,
            "app_id": self.app_id,
            "authed_user": {"id": grant["installer"]},
            "scope": grant["scope"],
            "token_type": "bot",
            "access_token": token,
            "bot_user_id": self.bot_user_id,
            "team": {"id": grant["team_id"], "name": f"Team {grant['team_id']}"}
            if grant["team_id"]
            else None,
            "enterprise": {"id": enterprise, "name": f"Org {enterprise}"} if enterprise else None,
            "is_enterprise_install": grant["is_enterprise_install"],
        }
        if rotating:
            response["refresh_token"] = issued["refresh_token"]
            response["expires_in"] = grant["expires_in"]
        return response

    def _oauth_v2_access(self, args: dict[str, Any], request: web.Request) -> dict[str, Any]:
        auth = request.headers.get("Authorization", "")
        client_id, secret = args.get("client_id"), args.get("client_secret")
        if auth.startswith("Basic "):
            decoded = base64.b64decode(auth.removeprefix("Basic ")).decode()
            client_id, _, secret = decoded.partition(":")
        if client_id != OAUTH_CLIENT_ID or secret != OAUTH_CLIENT_SECRET:
            return _error("invalid_client")
        if args.get("grant_type") == "refresh_token":
            old = self._refresh.pop(str(args.get("refresh_token")), None)
            if old is None:
                return _error("invalid_refresh_token")
            self._dead_tokens[old["token"]] = "token_expired"
            return self._grant({**old, "expires_in": self.refreshed_expires_in})
        grant = self._codes.pop(str(args.get("code")), None)
        if grant is None:
            return _error("invalid_code")
        return self._grant(grant)

    def _token_problem(self, token: str) -> str | None:
        if token in self._dead_tokens:
            return self._dead_tokens[token]
        issued = self._issued.get(token)
        if issued is not None and issued.get("expires_at", float("inf")) < time.time():
            return "token_expired"
        return None

    def _auth_test_issued(self, issued: dict[str, Any]) -> dict[str, Any]:
        return {
            "ok": True,
            "url": f"https://{(issued['team_id'] or issued['enterprise_id']).lower()}.slack.com/",
            "team": f"Team {issued['team_id']}",
            "user": "ragft",
            "team_id": issued["team_id"] or issued["enterprise_id"],
            "enterprise_id": issued["enterprise_id"],
            "user_id": self.bot_user_id,
            "bot_id": self.bot_id,
            "is_enterprise_install": issued["is_enterprise_install"],
        }

    def _dispatch(self, method: str, args: dict[str, Any], request: web.Request) -> dict[str, Any]:
        if method == "oauth.v2.access":  # authenticated by the app's client id and secret
            return self._oauth_v2_access(args, request)
        auth = request.headers.get("Authorization", "")
        token = auth.removeprefix("Bearer ") if auth.startswith("Bearer ") else args.get("token")
        if not token:
            return _error("not_authed")
        if problem := self._token_problem(str(token)):
            return _error(problem)
        if method == "auth.test" and str(token) in self._issued:
            return self._auth_test_issued(self._issued[str(token)])
        if method == "apps.connections.open":  # the one method that takes the app-level token
            return (
                self._apps_connections_open(args)
                if str(token).startswith("xapp-")
                else (_error("invalid_auth"))
            )
        if not str(token).startswith("xox"):
            return _error("invalid_auth")
        handler = self._methods.get(method)
        return handler(args) if handler else {"ok": True}

    async def _handle_upload(self, request: web.Request) -> web.Response:
        at = time.time()
        file_id = request.match_info["file_id"]
        if request.content_type == "multipart/form-data":
            form = await request.post()
            field_value = next(iter(form.values()), b"")
            data = (
                field_value.file.read()
                if isinstance(field_value, web.FileField)
                else str(field_value).encode()
            )
        else:
            data = await request.read()
        if self.delay:
            await asyncio.sleep(self.delay)
        with self._lock:
            pending = self._pending_files.get(file_id)
            if pending is not None:
                pending["data"] = data
            status = 200 if pending is not None else 404
            args = {"file_id": file_id, "size": len(data)}
            path = request.path
            self.calls.append(
                Call("upload", args, dict(request.headers), at, "POST", status, path=path)
            )
        text = f"OK - {len(data)}" if status == 200 else "file not found"
        return web.Response(text=text, status=status, content_type="text/plain")

    async def _handle_hook(self, request: web.Request) -> web.Response:
        at = time.time()
        args = await _parse_args(request)
        if self.delay:
            await asyncio.sleep(self.delay)
        with self._lock:
            key = request.match_info["key"]
            headers = dict(request.headers)
            self.calls.append(Call("response_url", args, headers, at, "POST", 200, "ok", key))
        return web.Response(text="ok", content_type="text/plain")

    def _take_failure(self, method: str) -> _Failure | None:
        queue = self._failures.get(method)
        if not queue:
            return None
        failure = queue[0]
        failure.remaining -= 1
        if failure.remaining <= 0:
            queue.pop(0)
        return failure

    def _matching(self, method: str, predicate: Callable[[Call], bool] | None) -> list[Call]:
        return [c for c in self.calls_to(method) if predicate is None or predicate(c)]

    def _timeout_message(self, method: str, count: int, timeout: float, found: list[Call]) -> str:
        with self._lock:
            seen = [c.method for c in self.calls]
        return (
            f"expected {count} matching {method} call(s) within {timeout}s, got {len(found)}; "
            f"all recorded calls: {seen}"
        )

    # ------------------------------------------------------------------- helpers

    def _next_ts(self) -> str:
        self._last_us = max(time.time_ns() // 1000, self._last_us + 1)
        return f"{self._last_us // 1_000_000}.{self._last_us % 1_000_000:06d}"

    def _next_id(self, prefix: str) -> str:
        return f"{prefix}0FAKE{next(self._ids):05d}"

    def _user_object(
        self,
        user_id: str,
        *,
        name: str | None = None,
        real_name: str | None = None,
        tz: str = "America/New_York",
        tz_offset: int = -18000,
        is_admin: bool = False,
        is_owner: bool = False,
        deleted: bool = False,
        is_bot: bool = False,
    ) -> dict[str, Any]:
        name = name or user_id.lower()
        real_name = real_name or name
        return {
            "id": user_id,
            "team_id": self.team_id,
            "name": name,
            "deleted": deleted,
            "color": "9f69e7",
            "real_name": real_name,
            "tz": tz,
            "tz_label": tz,
            "tz_offset": tz_offset,
            "profile": {
                "real_name": real_name,
                "real_name_normalized": real_name,
                "display_name": name,
                "display_name_normalized": name,
                "team": self.team_id,
            },
            "is_admin": is_admin,
            "is_owner": is_owner,
            "is_primary_owner": is_owner,
            "is_restricted": False,
            "is_ultra_restricted": False,
            "is_bot": is_bot,
            "is_app_user": False,
            "updated": 1717000000,
        }

    def _resolve_channel(self, channel: str) -> str:
        # Posting to a user id posts into the app's DM with that user.
        return f"D{channel[1:]}" if channel[:1] in ("U", "W") else channel

    def _channel_config(self, channel: str) -> dict[str, Any]:
        return self._channels.get(
            channel, {"is_private": False, "is_member": True, "name": f"channel-{channel.lower()}"}
        )

    def _channel_info(self, channel: str) -> dict[str, Any]:
        cfg = self._channel_config(channel)
        is_im = channel.startswith("D")
        return {
            "id": channel,
            "name": cfg["name"],
            "name_normalized": cfg["name"],
            "is_channel": not is_im,
            "is_group": False,
            "is_im": is_im,
            "is_mpim": False,
            "is_private": cfg["is_private"] or is_im,
            "is_member": cfg["is_member"],
            "is_archived": False,
            "is_general": False,
            "created": 1700000000,
            "creator": "U0USER0001",
            "context_team_id": self.team_id,
        }

    def _not_member(self, channel: str) -> bool:
        if channel.startswith("D"):  # the app's own DMs; one between people is configured so
            return channel in self._channels and not self._channels[channel]["is_member"]
        return not self._channel_config(channel)["is_member"]

    def _public_message(self, msg: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in msg.items() if k != "channel" and v is not None}

    def _check_blocks(self, blocks: Any) -> dict[str, Any] | None:
        if blocks is None:
            return None
        if not isinstance(blocks, list):
            return _error("invalid_blocks_format")
        if len(blocks) > MAX_MESSAGE_BLOCKS:
            pointer = f"no more than {MAX_MESSAGE_BLOCKS} items allowed [json-pointer:/blocks]"
            return _error("invalid_blocks", response_metadata={"messages": [f"[ERROR] {pointer}"]})
        return _check_block_models(blocks)

    # ------------------------------------------------------------ method handlers

    def _apps_connections_open(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "url": f"ws://127.0.0.1:{self.port}/link/"}

    def _auth_test(self, args: dict[str, Any]) -> dict[str, Any]:
        return {
            "ok": True,
            "url": f"https://{self.team_domain}.slack.com/",
            "team": "Example Team",
            "user": "ragft",
            "team_id": self.team_id,
            "user_id": self.bot_user_id,
            "bot_id": self.bot_id,
            "is_enterprise_install": False,
        }

    def _chat_post_message(self, args: dict[str, Any]) -> dict[str, Any]:
        if not args.get("channel"):
            return _error("channel_not_found")
        channel = self._resolve_channel(args["channel"])
        if self._not_member(channel):
            return _error("not_in_channel")
        if not (args.get("text") or args.get("blocks") or args.get("attachments")):
            return _error("no_text")
        if problem := self._check_blocks(args.get("blocks")):
            return problem
        ts = self._next_ts()
        msg = {
            "type": "message",
            "channel": channel,
            "ts": ts,
            "thread_ts": args.get("thread_ts") or None,
            "text": args.get("text", ""),
            "blocks": args.get("blocks") or [],
            "attachments": args.get("attachments"),
            "metadata": args.get("metadata"),
            "user": self.bot_user_id,
            "bot_id": self.bot_id,
            "app_id": self.app_id,
            "team": self.team_id,
        }
        self._messages[(channel, ts)] = msg
        return {"ok": True, "channel": channel, "ts": ts, "message": self._public_message(msg)}

    def _chat_update(self, args: dict[str, Any]) -> dict[str, Any]:
        channel, ts = args.get("channel"), args.get("ts")
        if not channel:
            return _error("channel_not_found")
        msg = self._messages.get((channel, ts or ""))
        if msg is None:
            return _error("message_not_found")
        if problem := self._check_blocks(args.get("blocks")):
            return problem
        for key in ("text", "blocks", "attachments", "metadata"):
            if key in args:
                msg[key] = args[key]
        msg["edited"] = {"user": self.bot_user_id, "ts": self._next_ts()}
        return {
            "ok": True,
            "channel": channel,
            "ts": ts,
            "text": msg["text"],
            "message": self._public_message(msg),
        }

    def _chat_post_ephemeral(self, args: dict[str, Any]) -> dict[str, Any]:
        if not args.get("channel"):
            return _error("channel_not_found")
        if not args.get("user"):
            return _error("user_not_found")
        channel = self._resolve_channel(args["channel"])
        if self._not_member(channel):
            return _error("not_in_channel")
        if problem := self._check_blocks(args.get("blocks")):
            return problem
        ts = self._next_ts()
        self.ephemerals.append(
            {
                "channel": channel,
                "user": args["user"],
                "message_ts": ts,
                "thread_ts": args.get("thread_ts") or None,
                "text": args.get("text", ""),
                "blocks": args.get("blocks") or [],
            }
        )
        return {"ok": True, "message_ts": ts}

    def _chat_delete(self, args: dict[str, Any]) -> dict[str, Any]:
        channel, ts = args.get("channel", ""), args.get("ts", "")
        if self._messages.pop((channel, ts), None) is None:
            return _error("message_not_found")
        return {"ok": True, "channel": channel, "ts": ts}

    def _chat_get_permalink(self, args: dict[str, Any]) -> dict[str, Any]:
        channel, ts = args.get("channel"), args.get("message_ts")
        if not channel or not ts:
            return _error("invalid_arguments")
        link = f"https://{self.team_domain}.slack.com/archives/{channel}/p{ts.replace('.', '')}"
        msg = self._messages.get((channel, ts))
        if msg and msg["thread_ts"] and msg["thread_ts"] != ts:
            link += f"?thread_ts={msg['thread_ts']}&cid={channel}"
        return {"ok": True, "channel": channel, "permalink": link}

    def _build_view(self, view: Any, *, view_id: str | None = None) -> dict[str, Any]:
        """Validate a submitted view and return the stored view, or an error response."""
        if not isinstance(view, dict):
            return _error("invalid_arguments")
        messages = []
        if len(view.get("blocks") or []) > MAX_VIEW_BLOCKS:
            messages.append(
                f"[ERROR] no more than {MAX_VIEW_BLOCKS} items allowed [json-pointer:/view/blocks]"
            )
        if len(view.get("private_metadata") or "") > MAX_PRIVATE_METADATA:
            messages.append(
                "[ERROR] must be less than 3001 characters [json-pointer:/view/private_metadata]"
            )
        title = (view.get("title") or {}).get("text") or ""
        if view.get("type") == "modal" and len(title) > MAX_MODAL_TITLE:
            messages.append(
                "[ERROR] must be less than 25 characters [json-pointer:/view/title/text]"
            )
        if messages:
            return _error("invalid_arguments", response_metadata={"messages": messages})
        view_id = view_id or self._next_id("V")
        stored = {
            "id": view_id,
            "team_id": self.team_id,
            "type": view.get("type", "modal"),
            "blocks": [],
            "private_metadata": "",
            "callback_id": "",
            "state": {"values": {}},
            "hash": f"{int(time.time())}.{view_id[-8:]}{next(self._ids)}",
            "title": None,
            "clear_on_close": False,
            "notify_on_close": False,
            "close": None,
            "submit": None,
            "previous_view_id": None,
            "root_view_id": view_id,
            "app_id": self.app_id,
            "external_id": "",
            "app_installed_team_id": self.team_id,
            "bot_id": self.bot_id,
        }
        stored.update({k: v for k, v in view.items() if k not in ("id", "hash", "state")})
        self.views[view_id] = stored
        return {"ok": True, "view": stored}

    def _views_open(self, args: dict[str, Any]) -> dict[str, Any]:
        trigger = args.get("trigger_id") or args.get("interactivity_pointer")
        if not trigger:
            return _error("invalid_arguments")
        if trigger in self._used_triggers:
            return _error("exchanged_trigger_id")
        self._used_triggers.add(trigger)
        if problem := self._check_view_models(args.get("view")):
            return problem
        return self._build_view(args.get("view"))

    def _views_update(self, args: dict[str, Any]) -> dict[str, Any]:
        view_id = args.get("view_id")
        if not view_id and args.get("external_id"):
            view_id = next(
                (v["id"] for v in self.views.values() if v["external_id"] == args["external_id"]),
                None,
            )
        current = self.views.get(view_id or "")
        if current is None:
            return _error("not_found")
        if args.get("hash") and args["hash"] != current["hash"]:
            return _error("hash_conflict")
        if problem := self._check_view_models(args.get("view")):
            return problem
        return self._build_view(args.get("view"), view_id=current["id"])

    def _check_view_models(self, view: Any) -> dict[str, Any] | None:
        """What Slack would refuse in a view's blocks, checked with slack_sdk's models."""
        if not isinstance(view, dict):
            return None
        try:
            View(**{k: v for k, v in view.items() if k != "blocks"}, blocks=view.get("blocks"))
        except (SlackObjectFormationError, TypeError, ValueError, KeyError) as exc:
            return _error("invalid_blocks", response_metadata={"messages": [f"[ERROR] {exc}"]})
        return _check_block_models(view.get("blocks") or [])

    def _views_publish(self, args: dict[str, Any]) -> dict[str, Any]:
        user_id = args.get("user_id")
        if not user_id:
            return _error("invalid_arguments")
        view = args.get("view")
        if isinstance(view, dict) and view.get("type") != "home":
            return _error("invalid_arguments")
        if problem := self._check_view_models(view):
            return problem
        existing = self.home_views.get(user_id)
        result = self._build_view(args.get("view"), view_id=existing["id"] if existing else None)
        if result["ok"]:
            self.home_views[user_id] = result["view"]
        return result

    def _known_channels(self) -> list[str]:
        seen = {channel for channel, _ in self._messages} | set(self._channels)
        return sorted(c for c in seen if not c.startswith("D"))

    def _in_channel(self, channel: str, user: str) -> bool:
        members = self._channel_config(channel).get("members")
        return members is None or user in members

    def _page(self, items: list[Any], args: dict[str, Any]) -> tuple[list[Any], str]:
        """Cursor pagination as Slack does it: ``limit`` (default 100), ``cursor``."""
        try:
            limit = max(1, min(int(args.get("limit") or 100), 999))
            start = int(args.get("cursor") or 0)
        except ValueError:
            return [], "invalid"
        end = start + limit
        return items[start:end], (str(end) if end < len(items) else "")

    def _users_conversations(self, args: dict[str, Any]) -> dict[str, Any]:
        """The channels ``user`` is in. As with a bot token, a private one is listed only when
        the bot is in it too."""
        user = args.get("user") or self.bot_user_id
        types = set(str(args.get("types") or "public_channel").split(","))
        found = []
        for channel in self._known_channels():
            cfg = self._channel_config(channel)
            kind = "private_channel" if cfg["is_private"] else "public_channel"
            if kind not in types or not self._in_channel(channel, user):
                continue
            if cfg["is_private"] and not cfg["is_member"]:
                continue
            info = self._channel_info(channel)
            info.pop("is_member")  # users.conversations omits is_member and num_members
            found.append(info)
        page, cursor = self._page(found, args)
        if cursor == "invalid":
            return _error("invalid_cursor")
        return {"ok": True, "channels": page, "response_metadata": {"next_cursor": cursor}}

    def _conversations_members(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = args.get("channel")
        if not channel:
            return _error("channel_not_found")
        cfg = self._channel_config(channel)
        if cfg["is_private"] and not cfg["is_member"]:
            return _error("channel_not_found")
        members = cfg.get("members")
        everyone = sorted(self._users) if members is None else list(members)
        page, cursor = self._page(everyone, args)
        if cursor == "invalid":
            return _error("invalid_cursor")
        return {"ok": True, "members": page, "response_metadata": {"next_cursor": cursor}}

    def _users_info(self, args: dict[str, Any]) -> dict[str, Any]:
        user = self._users.get(args.get("user", ""))
        if user is None:
            return _error("user_not_found")
        return {"ok": True, "user": json.loads(json.dumps(user))}

    def _conversations_join(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = args.get("channel")
        if not channel:
            return _error("channel_not_found")
        cfg = self._channel_config(channel)
        if cfg["is_member"]:
            return {
                "ok": True,
                "channel": self._channel_info(channel),
                "warning": "already_in_channel",
                "response_metadata": {"warnings": ["already_in_channel"]},
            }
        if cfg["is_private"]:
            return _error("method_not_supported_for_channel_type")
        self._channels[channel] = {**cfg, "is_member": True}
        return {"ok": True, "channel": self._channel_info(channel)}

    def _conversations_info(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = args.get("channel")
        if not channel:
            return _error("channel_not_found")
        cfg = self._channel_config(channel)
        if cfg["is_private"] and not cfg["is_member"]:
            return _error("channel_not_found")
        return {"ok": True, "channel": self._channel_info(channel)}

    def _conversations_replies(self, args: dict[str, Any]) -> dict[str, Any]:
        channel, ts = args.get("channel"), args.get("ts")
        if not channel:
            return _error("channel_not_found")
        if not ts:
            return _error("thread_not_found")
        merged = {m.get("ts"): dict(m) for m in self._replies.get((channel, ts), [])}
        for (ch, msg_ts), msg in self._messages.items():
            if ch == channel and ts in (msg["thread_ts"], msg_ts):
                merged.setdefault(msg_ts, self._public_message(msg))
        messages = sorted(merged.values(), key=lambda m: m.get("ts") or "")
        return {
            "ok": True,
            "messages": messages,
            "has_more": False,
            "response_metadata": {"next_cursor": ""},
        }

    def _conversations_open(self, args: dict[str, Any]) -> dict[str, Any]:
        users = [u for u in str(args.get("users", "")).split(",") if u]
        if not users:
            return _error("users_list_not_supplied")
        channel = self._resolve_channel(users[0]) if len(users) == 1 else self._next_id("G")
        return {"ok": True, "no_op": True, "already_open": True, "channel": {"id": channel}}

    def _files_get_upload_url(self, args: dict[str, Any]) -> dict[str, Any]:
        filename, length = args.get("filename"), args.get("length")
        if not filename or length in (None, ""):
            return _error("invalid_arguments")
        file_id = self._next_id("F")
        self._pending_files[file_id] = {
            "filename": filename,
            "length": int(length),
            "alt_txt": args.get("alt_txt"),
            "snippet_type": args.get("snippet_type"),
            "data": None,
        }
        return {"ok": True, "upload_url": f"{self.origin}/upload/v1/{file_id}", "file_id": file_id}

    def _files_complete_upload(self, args: dict[str, Any]) -> dict[str, Any]:
        files = args.get("files")
        if not isinstance(files, list) or not files:
            return _error("invalid_arguments")
        channel = args.get("channel_id") or (str(args.get("channels", "")).split(",")[0] or None)
        if channel and self._not_member(channel):
            return _error("not_in_channel")
        for item in files:
            pending = self._pending_files.get(item.get("id", ""))
            if pending is None or pending["data"] is None:
                return _error("file_not_found")
        thread_ts = args.get("thread_ts") or None
        completed = []
        for item in files:
            pending = self._pending_files.pop(item["id"])
            data: bytes = pending["data"]
            title = item.get("title") or pending["filename"]
            mimetype = mimetypes.guess_type(pending["filename"])[0] or "text/plain"
            self.uploads.append(
                {
                    "file_id": item["id"],
                    "filename": pending["filename"],
                    "title": title,
                    "content": data.decode("utf-8", "replace"),
                    "data": data,
                    "size": len(data),
                    "length": pending["length"],
                    "channel_id": channel,
                    "thread_ts": thread_ts,
                    "initial_comment": args.get("initial_comment"),
                }
            )
            completed.append(
                {
                    "id": item["id"],
                    "created": int(time.time()),
                    "name": pending["filename"],
                    "title": title,
                    "mimetype": mimetype,
                    "filetype": pending["filename"].rsplit(".", 1)[-1],
                    "user": self.bot_user_id,
                    "size": len(data),
                    "url_private": f"https://files.slack.com/files-pri/{self.team_id}-{item['id']}/{pending['filename']}",
                    "permalink": f"https://{self.team_domain}.slack.com/files/{self.bot_user_id}/{item['id']}/{pending['filename']}",
                }
            )
        if channel:
            ts = self._next_ts()
            self._messages[(channel, ts)] = {
                "type": "message",
                "channel": channel,
                "ts": ts,
                "thread_ts": thread_ts,
                "text": args.get("initial_comment") or "",
                "blocks": [],
                "files": completed,
                "upload": True,
                "user": self.bot_user_id,
                "bot_id": self.bot_id,
                "app_id": self.app_id,
                "team": self.team_id,
            }
        return {"ok": True, "files": completed}
