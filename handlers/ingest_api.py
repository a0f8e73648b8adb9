"""``POST /api/v1/failures`` and ``GET /api/v1/openapi.json``: failures from production.

Every answer is JSON; an error is ``{"error": "…"}`` and never a traceback. A request is
rate-limited by its bearer token before anything else is done with it, then authenticated, then
its body read (capped), parsed and validated item by item (bot/domain/ingest_schema.py)."""

from __future__ import annotations

import hashlib
import json
import logging
import re
from typing import Any

from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.domain.errors import NotAllowed, NotFound
from bot.domain.failure_dedup import FailureSource
from bot.domain.ingest_schema import (
    FailureIn,
    IngestReply,
    Rejection,
    ShapeError,
    TooMany,
    items_of,
    openapi_document,
    validate_item,
)
from bot.services import api_tokens, failure_ingest
from handlers.failure_intake import FAILURE_KEYS
from handlers.rate_limit import RateLimiter
from handlers.runtime import Runtime
from handlers.thread import refresh

log = logging.getLogger("ragft")

MAX_API_BODY_BYTES = 8 * 1024 * 1024
"""1,000 failures with long outputs fit; a bigger body is refused with 413, unread."""
_BEARER = re.compile(r"Bearer +(\S{1,200})", re.IGNORECASE)
_LENGTH = re.compile(r"[0-9]{1,18}")


def error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=headers)


async def _body(request: Request) -> bytes | None:
    declared = request.headers.get("content-length", "")
    if _LENGTH.fullmatch(declared) and int(declared) > MAX_API_BODY_BYTES:
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_API_BODY_BYTES:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _bearer(request: Request) -> str | None:
    values = request.headers.getlist("authorization")
    if len(values) != 1:
        return None
    match = _BEARER.fullmatch(values[0].strip())
    return match.group(1) if match else None


def _parse(raw: bytes) -> Any:
    try:
        return json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ShapeError("the body is not UTF-8") from None
    except RecursionError:
        raise ShapeError("the body is nested too deeply") from None
    except ValueError as exc:
        raise ShapeError(f"the body is not JSON ({exc})") from None


class IngestApi:
    def __init__(self, runtime: Runtime, limiter: RateLimiter | None = None) -> None:
        self.runtime = runtime
        self.limiter = limiter or RateLimiter()

    async def failures(self, request: Request) -> Response:
        try:
            return await self._failures(request)
        except ClientDisconnect:
            return error(400, "the client went away before sending the whole body")
        except Exception:  # never a traceback to the caller
            log.exception("POST /api/v1/failures failed")
            return error(500, "ragft could not store the failures; try again later")

    async def _failures(self, request: Request) -> Response:
        raw_token = _bearer(request)
        if raw_token is None:
            return error(
                401,
                "missing API token: send Authorization: Bearer <token> "
                "(make one with /ragft token create)",
                {"WWW-Authenticate": "Bearer"},
            )
        wait = self.limiter.take(hashlib.sha256(raw_token.encode()).hexdigest())
        if wait:
            return error(
                429,
                f"too many requests for this token; retry after {wait} s",
                {"Retry-After": str(wait)},
            )
        token = await self.runtime.call(api_tokens.authenticate, raw=raw_token)
        if token is None:
            return error(401, "unknown or revoked API token", {"WWW-Authenticate": "Bearer"})
        raw = await _body(request)
        if raw is None:
            return error(413, f"the body is over {MAX_API_BODY_BYTES} bytes")
        try:
            items = items_of(_parse(raw))
        except TooMany as exc:
            return error(413, str(exc))
        except ShapeError as exc:
            return error(422, str(exc))
        checked_items: list[tuple[int, FailureIn]] = []
        rejected: list[Rejection] = []
        for index, item in enumerate(items):
            checked = validate_item(item)
            if isinstance(checked, str):
                rejected.append(Rejection(index=index, error=checked))
            else:
                checked_items.append((index, checked))
        refused = await self.runtime.call(
            failure_ingest.refusals,
            team_id=token.team_id,
            decision_ids={item.decision for _, item in checked_items},
        )
        if refused and not rejected and all(item.decision in refused for _, item in checked_items):
            # Nothing in the request could be stored, and only because of its decisions.
            problems = list(refused.values())
            denied = [p for p in problems if isinstance(p, NotAllowed)]
            return error(403, str(denied[0])) if denied else error(404, str(problems[0]))
        valid: list[FailureIn] = []
        for index, item in checked_items:
            if item.decision in refused:
                rejected.append(Rejection(index=index, error=str(refused[item.decision])))
            else:
                valid.append(item)
        rejected.sort(key=lambda r: r.index)
        result = failure_ingest.Ingested()
        if valid:
            try:
                result = await self.runtime.call(
                    failure_ingest.ingest_failures,
                    team_id=token.team_id,
                    failures=valid,
                    source=FailureSource.API,
                    logged_by=f"api:{token.label}",
                    llm=self.runtime.llm,
                )
            except NotFound as exc:
                return error(404, str(exc))
            except NotAllowed as exc:
                return error(403, str(exc))
        for decision_id in sorted(result.decisions):
            await self._refresh(token.team_id, decision_id)
        reply = IngestReply(
            accepted=result.accepted, duplicates=result.duplicates, rejected=rejected
        )
        return JSONResponse(reply.model_dump())

    async def _refresh(self, team_id: str, decision_id: int) -> None:
        """The decision's thread shows the new tally (with that workspace's token in
        distribution mode); Slack being down doesn't fail the API."""
        try:
            async with self.runtime.for_team(team_id):
                await refresh(self.runtime, team_id, decision_id, FAILURE_KEYS)
        except Exception as exc:
            log.warning("could not refresh decision #%d after the API: %s", decision_id, exc)

    async def openapi(self, request: Request) -> Response:
        return JSONResponse(openapi_document())

    async def other(self, request: Request) -> Response:
        path = request.url.path
        if path in ("/api/v1/failures", "/api/v1/openapi.json"):
            allowed = "POST" if path.endswith("failures") else "GET"
            return error(405, f"use {allowed} {path}", {"Allow": allowed})
        return error(404, f"no such endpoint: {path} (see /api/v1/openapi.json)")


ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


def api_routes(runtime: Runtime) -> list[Route]:
    api = IngestApi(runtime)
    return [
        Route("/api/v1/failures", api.failures, methods=["POST"]),
        Route("/api/v1/openapi.json", api.openapi, methods=["GET"]),
        Route("/api/v1/{rest:path}", api.other, methods=ALL_METHODS),
    ]
