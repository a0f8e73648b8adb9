"""The HTTP app: Bolt's Starlette adapter at POST /slack/events, and GET /healthz; in
distribution mode also Bolt's OAuth flow at GET /slack/install and GET /slack/oauth_redirect.

Every POST is checked here before Bolt sees it: signature headers, a capped body, the signature,
then whether Bolt can parse the body. A request that fails is answered with a short plain-text
401, 413 or 400 and reaches no listener, no error handler and no Slack API call. The one unsigned
request answered 200 is Slack's ``ssl_check`` probe, and it too stops here.
"""

from __future__ import annotations

import contextlib
import logging
import re
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from urllib.parse import parse_qs

from slack_bolt.adapter.starlette.async_handler import (
    AsyncSlackRequestHandler,
    to_starlette_response,
)
from slack_bolt.async_app import AsyncApp
from slack_bolt.request import payload_utils
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.signature import SignatureVerifier
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette
from starlette.datastructures import Headers
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from handlers.ingest_api import api_routes
from handlers.runtime import Runtime
from handlers.workspace_clients import CURRENT
from storage.health import write_check

log = logging.getLogger("ragft")

Lifecycle = Callable[[], AbstractAsyncContextManager[None]]

MAX_BODY_BYTES = 1024 * 1024
"""Slack's requests are a few KiB; a modal submission carrying its whole view (at most 100 blocks)
still fits, URL-encoded."""
MAX_CLOCK_SKEW = 5 * 60
"""Seconds a request's timestamp may be from now: Slack's replay window."""
SSL_CHECK_BYTES = 1024
"""The most of an unsigned body read, to see whether it is Slack's ``ssl_check`` probe."""
BODY_TYPES = frozenset({"application/json", "application/x-www-form-urlencoded"})

TIMESTAMP_HEADER = "x-slack-request-timestamp"
SIGNATURE_HEADER = "x-slack-signature"
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_SIGNATURE = re.compile(r"v0=[0-9a-f]{64}")
_LENGTH = re.compile(r"[0-9]{1,18}")

_ANSWERS = {
    400: "malformed request body",
    401: "invalid request signature",
    413: "request body too large",
}


PAYLOAD_EXTRACTORS = (
    payload_utils.to_options,
    payload_utils.to_shortcut,
    payload_utils.to_action,
    payload_utils.to_view,
    payload_utils.to_command,
    payload_utils.to_event,
    payload_utils.to_message,
    payload_utils.to_step,
)
"""What Bolt's argument injection computes eagerly from a body; a body it can't compute them
from (``actions: []``, an ``event`` that isn't an object) would fail inside Bolt."""


def refuse(status: int, reason: str) -> Response:
    log.info("refused a request to /slack/events (%d): %s", status, reason)
    return PlainTextResponse(_ANSWERS[status], status_code=status)


def header_problem(headers: Headers, now: float) -> str | None:
    """Why the signature headers cannot be those of a fresh Slack request, or None if they can."""
    timestamps, signatures = headers.getlist(TIMESTAMP_HEADER), headers.getlist(SIGNATURE_HEADER)
    if len(timestamps) != 1 or len(signatures) != 1:
        return "missing or repeated signature headers"
    if not _TIMESTAMP.fullmatch(timestamps[0]):
        return "the timestamp is not a number"
    if abs(now - int(timestamps[0])) > MAX_CLOCK_SKEW:
        return "the timestamp is more than five minutes from now"
    if not _SIGNATURE.fullmatch(signatures[0]):
        return "the signature is not v0=<sha256 hex>"
    return None


async def read_body(request: Request, limit: int) -> bytes | None:
    """The body, or None as soon as it is longer than ``limit`` (the rest is never read)."""
    declared = request.headers.get("content-length", "")
    if _LENGTH.fullmatch(declared) and int(declared) > limit:
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def media_type(headers: Headers) -> str:
    return headers.get("content-type", "").split(";")[0].strip().lower()


async def is_ssl_check(request: Request) -> bool:
    """Whether this unsigned request is Slack's certificate probe of a slash command's URL,
    ``ssl_check=1&token=…``, which Slack sends without signature headers and wants a 200 for."""
    headers = request.headers
    if TIMESTAMP_HEADER in headers or SIGNATURE_HEADER in headers:
        return False
    if media_type(headers) != "application/x-www-form-urlencoded":
        return False
    raw = await read_body(request, SSL_CHECK_BYTES)
    if raw is None or not raw.isascii():
        return False
    return parse_qs(raw.decode("ascii")).get("ssl_check") == ["1"]


def parse_body(request: Request, body: str) -> AsyncBoltRequest | str:
    """The request Bolt will dispatch for this (verified) body, or why Bolt could not take it:
    Bolt's own parser is the judge, and parses it once."""
    content_type = media_type(request.headers)
    if content_type not in BODY_TYPES:
        return f"unsupported content type {content_type or '(none)'!r}"
    try:  # exactly what AsyncSlackRequestHandler would build from it
        parsed = AsyncBoltRequest(
            body=body,
            query=request.query_params,  # type: ignore[arg-type]
            headers=request.headers,  # type: ignore[arg-type]
        )
    except Exception as exc:  # a malformed body: answered 400, not with a traceback
        return f"Bolt cannot parse it ({type(exc).__name__})"
    if not isinstance(parsed.body, dict):
        return "it is not a JSON object"
    if problem := routing_problem(parsed.body):
        return problem
    try:  # Bolt extracts these for every listener and middleware, before any of ours runs
        for extract in PAYLOAD_EXTRACTORS:
            extract(parsed.body)
    except (KeyError, IndexError, TypeError, AttributeError) as exc:
        return f"Bolt cannot route it ({type(exc).__name__})"
    return parsed


def _is(value: object, kind: type) -> bool:
    return isinstance(value, kind)


def routing_problem(body: dict) -> str | None:
    """Why Bolt's listener matchers would fail on this body, or None. They read these fields
    as strings (``action_id``, ``callback_id``, ``event.type``…) without checking."""
    kind = body.get("type")
    if kind is not None and not _is(kind, str):
        return "its type is not a string"
    for key in ("command", "callback_id"):
        if key in body and not _is(body[key], str):
            return f"its {key} is not a string"
    if kind == "block_actions":
        actions = body.get("actions")
        if not _is(actions, list) or not actions or not all(_is(a, dict) for a in actions):
            return "its actions are not a list of objects"
        first = actions[0]
        if not _is(first.get("action_id"), str) or not _is(first.get("block_id", ""), str):
            return "its action has no action_id"
    if kind in ("view_submission", "view_closed"):
        view = body.get("view")
        if not _is(view, dict) or not _is(view.get("callback_id"), str):
            return "its view has no callback_id"
    if kind == "event_callback":
        event = body.get("event")
        if not _is(event, dict) or not _is(event.get("type"), str):
            return "its event has no type"
    return None


def create_asgi_app(
    app: AsyncApp,
    engine: AsyncEngine,
    *,
    signing_secret: str | None,
    lifecycle: Lifecycle | None = None,
    runtime: Runtime | None = None,
) -> Starlette:
    """``signing_secret`` is the app's (HTTP mode cannot run without one); ``lifecycle`` runs
    around the server's life: migrations, the scheduler. With ``runtime``, the ingestion API
    (``/api/v1/*``) is served too."""
    if not signing_secret:
        raise ValueError("the HTTP app needs the Slack signing secret to verify requests")
    verifier = SignatureVerifier(signing_secret)
    handler = AsyncSlackRequestHandler(app)

    async def verified_request(request: Request) -> AsyncBoltRequest | Response:
        """A request signed by Slack, parsed for Bolt, or the refusal."""
        problem = header_problem(request.headers, time.time())
        if problem:
            if await is_ssl_check(request):  # answered here, as Bolt would: it does nothing
                return Response(status_code=200)
            return refuse(401, problem)
        raw = await read_body(request, MAX_BODY_BYTES)
        if raw is None:
            return refuse(413, f"the body is over {MAX_BODY_BYTES} bytes")
        try:
            body = raw.decode("utf-8")
        except UnicodeDecodeError:
            return refuse(401, "the body is not UTF-8, so its signature cannot be checked")
        timestamp, signature = request.headers[TIMESTAMP_HEADER], request.headers[SIGNATURE_HEADER]
        if not verifier.is_valid(body, timestamp, signature):
            return refuse(401, "the signature does not match")
        parsed = parse_body(request, body)
        if isinstance(parsed, str):
            return refuse(400, parsed)
        return parsed

    async def slack_events(request: Request) -> Response:
        try:
            verified = await verified_request(request)
        except ClientDisconnect:
            return refuse(400, "the client went away before sending the whole body")
        if isinstance(verified, Response):
            return verified
        unbound = CURRENT.set(None)  # each request binds its own workspace's client
        try:
            return to_starlette_response(await app.async_dispatch(verified))
        finally:
            CURRENT.reset(unbound)

    async def oauth(request: Request) -> Response:
        """Bolt's OAuth flow: GETs a browser makes, unsigned by design. Bolt checks the state
        (cookie and store) and exchanges the code itself; nothing else is reachable here."""
        return await handler.handle(request)

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        if lifecycle is None:
            yield
            return
        async with lifecycle():
            yield

    routes = [
        Route("/slack/events", slack_events, methods=["POST"]),
        healthz_route(engine),
        *(api_routes(runtime) if runtime is not None else []),
    ]
    flow = app.oauth_flow
    if flow is not None:  # distribution mode
        routes.append(Route(flow.install_path, oauth, methods=["GET"]))
        routes.append(Route(flow.redirect_uri_path, oauth, methods=["GET"]))
    return Starlette(routes=routes, lifespan=lifespan)


def healthz_route(engine: AsyncEngine) -> Route:
    """``GET /healthz``: 200 when the database takes a write within 2 s; else 503 with the
    reason (storage/health.py). It never hangs."""

    async def healthz(request: Request) -> Response:
        problem = await write_check(engine)
        if problem is not None:
            log.warning("/healthz: the database failed its write check: %s", problem)
            return JSONResponse({"ok": False, "database": problem}, status_code=503)
        return JSONResponse({"ok": True, "database": "ok"})

    return Route("/healthz", healthz, methods=["GET"])


def create_health_app(engine: AsyncEngine, runtime: Runtime | None = None) -> Starlette:
    """What Socket Mode serves on ``--port``: ``GET /healthz``, and with ``runtime`` the
    ingestion API (``/api/v1/*``)."""
    routes = [healthz_route(engine), *(api_routes(runtime) if runtime is not None else [])]
    return Starlette(routes=routes)
