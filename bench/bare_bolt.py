"""The baseline: a bare Bolt AsyncApp whose listeners only ack, on ragft's ASGI stack.

Same stack as ``ragft serve --http`` (bot/serve.py): uvicorn with the same config, Starlette,
Bolt's ``AsyncSlackRequestHandler`` at ``POST /slack/events``, a ``GET /healthz`` (without a
database: there is none), request verification with the signing secret, and an
``AsyncWebClient`` pointed at ``SLACK_API_URL`` (Bolt calls ``auth.test`` on the first request).

    SLACK_BOT_TOKEN=xoxb-… SLACK_SIGNING_SECRET=… SLACK_API_URL=… \\
        python -m bench.bare_bolt --host 127.0.0.1 --port 3001
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import re
import sys
from typing import Any

import uvicorn
from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route


def create_app() -> AsyncApp:
    client = AsyncWebClient(
        token=os.environ["SLACK_BOT_TOKEN"], base_url=os.environ["SLACK_API_URL"]
    )
    app = AsyncApp(
        client=client,
        signing_secret=os.environ["SLACK_SIGNING_SECRET"],
        logger=logging.getLogger("bare-bolt"),
    )

    @app.command("/ragft")
    async def command(ack: AsyncAck) -> None:
        await ack()

    @app.action(re.compile(".*"))
    async def action(ack: AsyncAck) -> None:
        await ack()

    @app.event("app_mention")
    async def mention(body: dict[str, Any]) -> None:
        return None  # events are acked by Bolt itself

    @app.event("message")
    async def message(body: dict[str, Any]) -> None:
        return None

    return app


def create_asgi() -> Starlette:
    handler = AsyncSlackRequestHandler(create_app())

    async def slack_events(request: Request) -> Response:
        return await handler.handle(request)

    async def healthz(request: Request) -> Response:
        return JSONResponse({"ok": True})

    return Starlette(
        routes=[
            Route("/slack/events", slack_events, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
        ]
    )


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=3001)
    args = parser.parse_args()
    # The same logging, event loop and uvicorn config as ``ragft serve --http`` (bot/cli.py,
    # bot/serve.py's serve_http).
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    for name in ("slack_sdk.web.async_base_client", "slack_sdk.webhook.async_client", "bare-bolt"):
        logging.getLogger(name).setLevel(logging.INFO)  # as ragft serve does (handlers/serve.py)
    config = uvicorn.Config(
        create_asgi(), host=args.host, port=args.port, log_level="info", lifespan="on"
    )
    with contextlib.suppress(KeyboardInterrupt):  # the bench stops it with SIGINT
        asyncio.run(uvicorn.Server(config).serve())
    return 0


if __name__ == "__main__":
    sys.exit(main())
