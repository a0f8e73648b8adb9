"""``ragft serve``: HTTP under uvicorn, or Socket Mode, around one lifecycle."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator, Iterator
from typing import Literal

import uvicorn
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.socket_mode import aiohttp as socket_mode_client
from slack_sdk.socket_mode.async_client import AsyncBaseSocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.web import async_base_client
from slack_sdk.webhook import async_client as webhook_client
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.types import ASGIApp

from bot.reminders.clock import ReminderScheduler
from bot.reminders.sweeper import Sweeper
from bot.settings import Settings
from handlers.app import create_app
from handlers.asgi import create_asgi_app, create_health_app
from handlers.runtime import Runtime, close_client
from handlers.shutdown import DRAIN, Stopping, cancel, finish_in_flight
from storage.db import session_factory
from storage.migrate import open_database

log = logging.getLogger("ragft")

DEBUG_FORMATTING_LOGGERS = (
    async_base_client.__name__,  # every AsyncWebClient's, unless given one
    webhook_client.__name__,  # Bolt's respond()
    socket_mode_client.__name__,
    log.name,  # Bolt's framework logger (handlers/app.py)
)
"""Loggers that slack_sdk and Bolt test with ``logger.level <= DEBUG`` (the logger's own level,
not the effective one) before building a debug message: with the level unset, every Web API
call formatted its whole payload, and Bolt each middleware's name, for nothing."""


def quiet_debug_formatting() -> None:
    """Run after logging is configured and before the app is built (Bolt copies its logger's
    level then): each of these loggers without a level of its own gets the level it logs at,
    so a debug message is built only when it would be logged."""
    for name in DEBUG_FORMATTING_LOGGERS:
        logger = logging.getLogger(name)
        if logger.level == logging.NOTSET:
            logger.setLevel(logger.getEffectiveLevel())


GC_THRESHOLDS = (20_000, 10, 10)
"""Python's defaults (700, 10, 10) still ran a full collection a few times a second under load,
each over everything the requests in flight had built, and each stalled the event loop for
40-130 ms (measured with gc.callbacks on the benchmark's c=10 mix). With these full ones are
rare; young ones take 5-25 ms. Over 4 rounds each, the median ack p99 ratio against bare Bolt
went from about 2.9 to 2.3-2.7 (5,000, 20, 100 gave 2.7-2.8)."""

Mode = Literal["http", "socket"]

WHERE_TO_GET = {
    "SLACK_BOT_TOKEN": "OAuth & Permissions → Bot User OAuth Token (xoxb-…)",
    "SLACK_SIGNING_SECRET": "Basic Information → App Credentials → Signing Secret",
    "SLACK_APP_TOKEN": "Basic Information → App-Level Tokens, with connections:write (xapp-…)",
    "SLACK_CLIENT_ID": "Basic Information → App Credentials → Client ID",
    "SLACK_CLIENT_SECRET": "Basic Information → App Credentials → Client Secret",
}


def missing_credentials_message(
    settings: Settings, mode: Mode, http_requested: bool = False
) -> str | None:
    """What to set, in one line, or None when ``mode`` has what it needs. Unless HTTP was asked
    for, Socket Mode comes first: it needs no public URL, so it is how most people start."""
    missing = settings.missing_for_serve(mode)
    if settings.distribution and mode == "socket":
        return (
            "cannot serve in Socket Mode with SLACK_CLIENT_ID: distribution mode serves Slack's "
            "OAuth flow (/slack/install) over HTTP; run `ragft serve --http`"
        )
    if not missing:
        return None
    if settings.distribution or mode == "socket" or http_requested:
        named = missing
        kind = "Socket Mode" if mode == "socket" else "HTTP mode"
        what = (
            f"cannot serve in {'distribution mode' if settings.distribution else kind}: "
            f"set {' and '.join(missing)}"
        )
    else:  # no SLACK_APP_TOKEN, so neither mode is ready: say what each one needs
        socket = settings.missing_for_serve("socket")
        named = list(dict.fromkeys(socket + missing))
        what = (
            f"cannot serve: for Socket Mode (no public URL needed) set {' and '.join(socket)}; "
            f"or, for HTTP mode, set {' and '.join(missing)}"
        )
    where = "; ".join(f"{name}: {WHERE_TO_GET[name]}" for name in named)
    return f"{what}; put them in the environment or .env (at https://api.slack.com/apps: {where})"


@contextlib.asynccontextmanager
async def lifecycle(
    runtime: Runtime, engine: AsyncEngine, stopping: Stopping
) -> AsyncIterator[None]:
    """Everything that lives as long as the server: the reminder clock, then, on the way out,
    in-flight work, claims handed back, and every client and the database closed (see
    handlers/shutdown.py). The database is already migrated (``open_database``)."""
    scheduler = reminder_scheduler(runtime)
    scheduler.start()  # its first sweep runs at once: what fell due while down goes out once
    stopping.on_request(scheduler.stop_taking_work, force=scheduler.cut_short)
    stopping.on_request(runtime.threads.stop_taking_work)
    runtime.renderer.start_recovery()  # messages a crash left behind, then every 30 s
    stopping.on_request(runtime.renderer.stop_recovery)
    # Everything loaded so far lives as long as the process: keep it out of the collector's
    # full passes, which otherwise pause the event loop for ~125 ms under load (the ack p99),
    # and make those passes rare (GC_THRESHOLDS).
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
    known = asyncio.all_tasks()
    try:
        yield
    finally:
        runtime.renderer.stop_recovery()  # also when no signal asked (uvicorn failed to bind)
        await scheduler.stop(grace=stopping.left_to_drain())
        await finish_in_flight(known, stopping)
        await runtime.threads.stop()  # what a listener queued after the drain began, too
        runtime.renderer.close()  # delayed refreshes: another replica, or a restart, does them
        if runtime.llm is not None:
            await runtime.llm.close()
        await close_client(runtime.client)
        await engine.dispose()
        log.info("ragft stopped")


def reminder_scheduler(runtime: Runtime) -> ReminderScheduler:
    """One APScheduler interval job sweeping the reminder table (see bot.reminders)."""
    from handlers.reminder_delivery import build_deliverer, sweep_runtime

    sweeper = Sweeper(
        runtime.sessions,
        build_deliverer(sweep_runtime(runtime.settings, runtime.sessions)),
        retention=runtime.settings.retention,
    )
    return ReminderScheduler(sweeper)


async def build(settings: Settings) -> tuple[AsyncEngine, Runtime, AsyncApp]:
    """The migrated database, then the app; DatabaseUnavailable if the database can't be used."""
    engine = await open_database(settings.database_url.get_secret_value())
    app, runtime = create_app(settings=settings, sessions=session_factory(engine))
    return engine, runtime, app


class _Uvicorn(uvicorn.Server):
    """uvicorn without its own signal handling: Stopping owns SIGTERM and SIGINT (uvicorn's
    would re-raise the signal once it has shut down, so the process never exits 0)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def http_server(asgi: ASGIApp, host: str, port: int, stopping: Stopping) -> _Uvicorn:
    """uvicorn for ``asgi``, which closes its socket and drains on the first signal."""
    config = uvicorn.Config(
        asgi,
        host=host,
        port=port,
        log_level="info",
        lifespan="on",
        timeout_graceful_shutdown=int(DRAIN),
    )
    server = _Uvicorn(config)

    def stop_serving() -> None:
        server.should_exit = True  # uvicorn closes its sockets, then drains what is in flight

    def stop_now() -> None:
        server.force_exit = True

    stopping.on_request(stop_serving, force=stop_now)
    return server


async def serve_http(settings: Settings, host: str, port: int) -> None:
    engine, runtime, app = await build(settings)
    stopping = Stopping()
    secret = settings.slack_signing_secret
    asgi = create_asgi_app(
        app,
        engine,
        signing_secret=secret.get_secret_value() if secret else None,
        lifecycle=lambda: lifecycle(runtime, engine, stopping),
        runtime=runtime,
    )
    server = http_server(asgi, host, port, stopping)
    stopping.install()
    try:
        await server.serve()
    finally:
        stopping.uninstall()


class _SocketModeHandler(AsyncSocketModeHandler):
    """Bolt's Socket Mode handler, which can stop taking envelopes and wait for the acks of
    those it took."""

    def __init__(self, app: AsyncApp, app_token: str) -> None:
        super().__init__(app, app_token)
        self.accepting = True
        self.handling: set[asyncio.Task] = set()

    async def handle(self, client: AsyncBaseSocketModeClient, req: SocketModeRequest) -> None:
        if not self.accepting:  # never acked: Slack delivers it to another connection
            return
        task = asyncio.current_task()
        assert task is not None
        self.handling.add(task)
        try:
            await super().handle(client, req)
        finally:
            self.handling.discard(task)

    async def stop(self, stopping: Stopping) -> None:
        """Take no more envelopes, let those taken be acked while ``stopping`` allows, then
        disconnect."""
        self.accepting = False
        await cancel(await stopping.wait(set(self.handling)), "Socket Mode request(s)")
        await self.close_async()


async def serve_socket(settings: Settings, host: str, port: int | None = None) -> None:
    """Socket Mode; with ``port``, ``GET /healthz`` and ``/api/v1/*`` are served there too."""
    engine, runtime, app = await build(settings)
    assert settings.slack_app_token is not None
    handler = _SocketModeHandler(app, settings.slack_app_token.get_secret_value())
    stopping = Stopping()
    stopping.install()
    try:
        async with lifecycle(runtime, engine, stopping):
            health = None
            if port is not None:
                server = http_server(create_health_app(engine, runtime), host, port, stopping)
                health = asyncio.create_task(server.serve())
            log.info("ragft is connecting to Slack in Socket Mode")
            connect = asyncio.create_task(handler.connect_async())
            stop = asyncio.create_task(stopping.requested.wait())
            await asyncio.wait({connect, stop}, return_when=asyncio.FIRST_COMPLETED)
            if connect.done() and connect.exception() is None:
                log.info("ragft is connected to Slack in Socket Mode")
            await stop
            connect.cancel()
            await handler.stop(stopping)
            if health is not None:
                await cancel(await stopping.wait({health}), "/healthz server")
    finally:
        stopping.uninstall()
