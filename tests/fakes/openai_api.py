"""A fake OpenAI-compatible server for ``POST /v1/chat/completions`` (and ``GET /v1/models``).

Script it with a handler (called with each request's JSON body) and/or one-shot replies::

    with FakeOpenAI() as llm:
        llm.respond_with(lambda req: {"category": "knowledge"})  # JSON content object
        llm.queue(Reply(status=429, headers={"retry-after-ms": "10"}))  # first call only
        client = AsyncOpenAI(base_url=llm.base_url, api_key="test")
        result = await client.chat.completions.parse(..., response_format=Model)

A reply is one of:

- ``dict``/``list``: the assistant content, serialised as JSON (what structured outputs return);
- ``str``: the raw assistant content (e.g. malformed JSON);
- ``Reply(...)``: full control: HTTP status, raw body, headers, delay, content, finish_reason.

With no handler and an empty queue the server answers 400 (``BadRequestError``, not retried),
and an exception inside a handler answers 500 with ``x-should-retry: false``; both land in
``errors``. Handlers run in the server's thread.
"""

from __future__ import annotations

import asyncio
import inspect
import itertools
import json
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from . import BackgroundServer

__all__ = ["FakeOpenAI", "Reply"]

_ERROR_KINDS = {
    400: ("invalid_request_error", None),
    401: ("invalid_request_error", "invalid_api_key"),
    404: ("invalid_request_error", "model_not_found"),
    429: ("requests", "rate_limit_exceeded"),
}


@dataclass
class Reply:
    """A scripted HTTP reply.

    With ``body=None`` a 200 becomes a chat completion whose message content is ``content``
    (dict/list → JSON string) and any other status becomes an OpenAI-style error body.
    ``body`` (dict/list → JSON, str/bytes → raw) replaces the whole HTTP body.
    """

    status: int = 200
    body: dict[str, Any] | list[Any] | str | bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    content: dict[str, Any] | list[Any] | str | None = None
    finish_reason: str = "stop"
    refusal: str | None = None


ReplyLike = dict[str, Any] | list[Any] | str | Reply
Handler = Callable[[dict[str, Any]], Any]  # returns a ReplyLike (or an awaitable of one)


def _as_reply(value: Any) -> Reply:
    if isinstance(value, Reply):
        return value
    if isinstance(value, dict | list | str):
        return Reply(content=value)
    raise TypeError(f"a FakeOpenAI reply must be dict, list, str or Reply, not {type(value)!r}")


def _error_body(status: int, message: str) -> dict[str, Any]:
    kind, code = _ERROR_KINDS.get(status, ("server_error" if status >= 500 else "error", None))
    return {"error": {"message": message, "type": kind, "param": None, "code": code}}


class FakeOpenAI(BackgroundServer):
    """Scriptable OpenAI-compatible server; ``requests`` records every chat-completions body."""

    thread_name = "fake-openai"

    def __init__(self, handler: Handler | ReplyLike | None = None, *, model: str = "gpt-fake"):
        super().__init__()
        self.model = model
        self._lock = threading.Lock()
        self._handler: Handler | ReplyLike | None = handler
        self._queue: deque[Handler | ReplyLike] = deque()
        self._ids = itertools.count(1)
        self.requests: list[dict[str, Any]] = []  # JSON bodies of POST /v1/chat/completions
        self.request_headers: list[dict[str, str]] = []  # headers, parallel to ``requests``
        self.errors: list[str] = []  # why a request got an unscripted error

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT/v1``: use as ``AsyncOpenAI(base_url=...)``."""
        return f"{self.origin}/v1"

    def respond_with(self, handler: Handler | ReplyLike | None) -> None:
        """Set the fallback: a callable ``handler(request_json) -> reply`` (sync or async) or a
        fixed reply."""
        with self._lock:
            self._handler = handler

    def queue(self, *replies: Handler | ReplyLike) -> None:
        """Add one-shot replies (or callables), used in order before the fallback handler."""
        with self._lock:
            self._queue.extend(replies)

    def clear(self) -> None:
        """Forget recorded requests and errors (the handler and queue are kept)."""
        with self._lock:
            self.requests.clear()
            self.request_headers.clear()
            self.errors.clear()

    # --------------------------------------------------------------- HTTP plumbing

    def _make_app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._handle_completions)
        app.router.add_get("/v1/models", self._handle_models)
        return app

    async def _handle_models(self, request: web.Request) -> web.Response:
        model = {"id": self.model, "object": "model", "created": 1717000000, "owned_by": "fake"}
        return web.json_response({"object": "list", "data": [model]})

    async def _handle_completions(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
        except ValueError:
            return self._fail(400, "request body is not JSON")
        with self._lock:
            self.requests.append(body)
            self.request_headers.append(dict(request.headers))
            scripted = self._queue.popleft() if self._queue else self._handler
        if not request.headers.get("Authorization", "").startswith("Bearer "):
            return self._fail(401, "missing API key")
        if body.get("stream"):
            return self._fail(400, "FakeOpenAI does not support stream=true")
        if scripted is None:
            return self._fail(400, "FakeOpenAI has no reply queued and no handler set")
        try:
            result = scripted(body) if callable(scripted) else scripted
            if inspect.isawaitable(result):
                result = await result
            reply = _as_reply(result)
        except Exception as exc:
            return self._fail(500, f"FakeOpenAI handler raised {exc!r}", retry=False)
        if reply.delay:
            await asyncio.sleep(reply.delay)
        return self._render(reply, body)

    def _fail(self, status: int, message: str, *, retry: bool | None = None) -> web.Response:
        with self._lock:
            self.errors.append(message)
        headers = {} if retry is None else {"x-should-retry": str(retry).lower()}
        return web.json_response(_error_body(status, message), status=status, headers=headers)

    def _render(self, reply: Reply, request_body: dict[str, Any]) -> web.Response:
        headers = dict(reply.headers)
        if reply.body is not None:
            if isinstance(reply.body, dict | list):
                return web.json_response(reply.body, status=reply.status, headers=headers)
            raw = reply.body.encode() if isinstance(reply.body, str) else reply.body
            headers.setdefault("Content-Type", "application/json")
            return web.Response(body=raw, status=reply.status, headers=headers)
        if reply.status != 200:
            message = f"FakeOpenAI scripted error {reply.status}"
            return web.json_response(
                _error_body(reply.status, message), status=reply.status, headers=headers
            )
        completion = self._completion(reply, request_body)
        return web.json_response(completion, headers=headers)

    def _completion(self, reply: Reply, request_body: dict[str, Any]) -> dict[str, Any]:
        content = reply.content
        if isinstance(content, dict | list):
            content = json.dumps(content)
        prompt_chars = sum(len(str(m.get("content", ""))) for m in request_body.get("messages", []))
        prompt_tokens = prompt_chars // 4 + 1
        completion_tokens = len(content or "") // 4 + 1
        return {
            "id": f"chatcmpl-fake{next(self._ids):06d}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": request_body.get("model") or self.model,
            "system_fingerprint": "fp_fake",
            "choices": [
                {
                    "index": 0,
                    "message": {
                        "role": "assistant",
                        "content": content,
                        "refusal": reply.refusal,
                        "annotations": [],
                    },
                    "logprobs": None,
                    "finish_reason": reply.finish_reason,
                }
            ],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            },
        }
