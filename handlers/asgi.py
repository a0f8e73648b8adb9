"""The HTTP app: Bolt's Starlette adapter at POST /slack/events, and GET /healthz."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager

from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
from slack_bolt.async_app import AsyncApp
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

Lifecycle = Callable[[], AbstractAsyncContextManager[None]]


def create_asgi_app(
    app: AsyncApp, engine: AsyncEngine, *, lifecycle: Lifecycle | None = None
) -> Starlette:
    """``lifecycle`` runs around the server's life: migrations, the scheduler."""
    handler = AsyncSlackRequestHandler(app)

    async def slack_events(request: Request) -> Response:
        return await handler.handle(request)

    async def healthz(request: Request) -> Response:
        try:
            async with engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        except Exception as exc:  # reported to the caller as 503, not swallowed
            return JSONResponse(
                {"ok": False, "database": f"unreachable: {type(exc).__name__}"}, status_code=503
            )
        return JSONResponse({"ok": True, "database": "ok"})

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        if lifecycle is None:
            yield
            return
        async with lifecycle():
            yield

    return Starlette(
        routes=[
            Route("/slack/events", slack_events, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
        ],
        lifespan=lifespan,
    )
