"""``ragft serve``: HTTP under uvicorn, or Socket Mode, around one lifecycle."""

from __future__ import annotations

import contextlib
import gc
import logging
from collections.abc import AsyncIterator
from typing import Literal

import uvicorn
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.reminders.clock import ReminderScheduler
from bot.reminders.sweeper import Sweeper
from bot.settings import Settings
from handlers.app import create_app
from handlers.asgi import create_asgi_app
from handlers.runtime import Runtime, close_client
from storage.db import session_factory
from storage.migrate import open_database

log = logging.getLogger("ragft")

Mode = Literal["http", "socket"]

WHERE_TO_GET = {
    "SLACK_BOT_TOKEN": "OAuth & Permissions → Bot User OAuth Token (xoxb-…)",
    "SLACK_SIGNING_SECRET": "Basic Information → App Credentials → Signing Secret",
    "SLACK_APP_TOKEN": "Basic Information → App-Level Tokens, with connections:write (xapp-…)",
}


def missing_credentials_message(
    settings: Settings, mode: Mode, http_requested: bool = False
) -> str | None:
    missing = settings.missing_for_serve(mode)
    if not missing:
        return None
    where = "; ".join(f"{name}: {WHERE_TO_GET[name]}" for name in missing)
    alternative = ""
    if mode == "http" and not http_requested:
        alternative = "; or, for Socket Mode, set SLACK_BOT_TOKEN and SLACK_APP_TOKEN"
    return (
        f"cannot serve in {'Socket Mode' if mode == 'socket' else 'HTTP mode'}: set "
        f"{', '.join(missing)} in the environment or .env (from your app at "
        f"https://api.slack.com/apps, {where}){alternative}"
    )


@contextlib.asynccontextmanager
async def lifecycle(runtime: Runtime, engine: AsyncEngine) -> AsyncIterator[None]:
    """Everything that lives as long as the server: background jobs. The database is already
    migrated (``open_database``, before the server starts)."""
    scheduler = reminder_scheduler(runtime)
    scheduler.start()  # its first sweep runs at once: what fell due while down goes out once
    # Everything loaded so far lives as long as the process: keep it out of the collector's
    # full passes, which otherwise pause the event loop for ~125 ms under load (the ack p99).
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        await scheduler.stop()
        if runtime.llm is not None:
            await runtime.llm.close()
        await close_client(runtime.client)
        await engine.dispose()


def reminder_scheduler(runtime: Runtime) -> ReminderScheduler:
    """One APScheduler interval job sweeping the reminder table (see bot.reminders)."""
    from handlers.reminder_delivery import build_deliverer, sweep_runtime

    sweeper = Sweeper(
        runtime.sessions, build_deliverer(sweep_runtime(runtime.settings, runtime.sessions))
    )
    return ReminderScheduler(sweeper)


async def build(settings: Settings) -> tuple[AsyncEngine, Runtime, object]:
    """The migrated database, then the app; DatabaseUnavailable if the database can't be used."""
    engine = await open_database(settings.database_url.get_secret_value())
    app, runtime = create_app(settings=settings, sessions=session_factory(engine))
    return engine, runtime, app


async def serve_http(settings: Settings, host: str, port: int) -> None:
    engine, runtime, app = await build(settings)
    secret = settings.slack_signing_secret
    asgi = create_asgi_app(
        app,
        engine,
        signing_secret=secret.get_secret_value() if secret else None,
        lifecycle=lambda: lifecycle(runtime, engine),
    )
    config = uvicorn.Config(asgi, host=host, port=port, log_level="info", lifespan="on")
    await uvicorn.Server(config).serve()


async def serve_socket(settings: Settings) -> None:
    from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

    engine, runtime, app = await build(settings)
    assert settings.slack_app_token is not None
    handler = AsyncSocketModeHandler(app, settings.slack_app_token.get_secret_value())
    async with lifecycle(runtime, engine):
        log.info("ragft is connecting to Slack in Socket Mode")
        await handler.start_async()
