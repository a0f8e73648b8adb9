"""Distribution mode: Bolt's OAuth flow, with installs kept in ragft's own database.

``SLACK_CLIENT_ID`` and ``SLACK_CLIENT_SECRET`` turn it on. ``GET /slack/install`` shows
Bolt's "Add to Slack" page, linking to ``SLACK_AUTHORIZE_URL`` with exactly the bot scopes of
``manifest.json``; ``GET /slack/oauth_redirect`` exchanges the code with ``oauth.v2.access`` at
``SLACK_API_URL`` and stores the installation (slack_sdk's SQLAlchemy store, tables created by
migration 0006). The OAuth ``state`` is signed with ``SLACK_STATE_SECRET`` when it is set, else
kept in the database (so any replica can finish an install another one started).

Token rotation: Bolt refreshes a bot token that expires within two hours. The refresh of one
installation is serialised within the process (an asyncio lock) and across processes (a
PostgreSQL advisory lock; on SQLite a file lock beside the database, for ``ragft sweep`` from
cron beside ``ragft serve``), and whoever waited re-reads the installation, so a refresh token
is used once and everyone ends up with the new token. The rotator's client is built from
``SLACK_API_URL``: Bolt's default one would always call slack.com.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import hashlib
import json
import logging
import os
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from slack_bolt.authorization.async_authorize import AsyncInstallationStoreAuthorize
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_sdk.oauth.installation_store.models.installation import Installation
from slack_sdk.oauth.installation_store.sqlalchemy import AsyncSQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.async_state_store import AsyncOAuthStateStore
from slack_sdk.oauth.state_store.sqlalchemy import AsyncSQLAlchemyOAuthStateStore
from slack_sdk.oauth.state_store.stateless import StatelessOAuthStateStore
from slack_sdk.oauth.token_rotation.async_rotator import AsyncTokenRotator
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.settings import Settings

log = logging.getLogger("ragft")

MANIFEST = Path(__file__).resolve().parents[1] / "manifest.json"
BOT_SCOPES = (
    "app_mentions:read",
    "channels:history",
    "channels:join",
    "channels:read",
    "chat:write",
    "commands",
    "files:write",
    "groups:history",
    "groups:read",
    "im:read",
    "mpim:read",
    "reactions:write",
    "users:read",
)
"""The manifest's bot scopes, for an installed copy without the manifest beside it
(tests/test_oauth.py checks the two agree)."""
STATE_SECONDS = 600
ROTATE_MINUTES_BEFORE_EXPIRY = 120
FILE_LOCK_POLL_SECONDS = 0.05


def manifest_bot_scopes() -> list[str]:
    """The bot scopes ``manifest.json`` declares: what "Add to Slack" asks for."""
    try:
        manifest = json.loads(MANIFEST.read_text(encoding="utf-8"))
        return list(manifest["oauth_config"]["scopes"]["bot"])
    except (OSError, ValueError, KeyError):
        return list(BOT_SCOPES)


_PROCESS_LOCKS: dict[tuple[int, str], asyncio.Lock] = {}


def _lock_key(key: str) -> int:
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big", signed=True)


class RefreshLocks:
    """One refresh per installation at a time. Within the process an ``asyncio.Lock`` per
    installation, so only one coroutine per process waits on the cross-process lock (the
    others wait without holding a database connection); across processes a PostgreSQL
    advisory lock (held by a transaction of its own), or on SQLite an OS file lock on
    ``<database file>.refresh.lock`` (``ragft sweep`` from cron beside ``ragft serve``)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    @contextlib.asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        loop = id(asyncio.get_running_loop())
        lock = _PROCESS_LOCKS.setdefault((loop, key), asyncio.Lock())
        async with lock:
            if self.engine.dialect.name == "postgresql":
                async with self.engine.connect() as connection, connection.begin():
                    await connection.execute(
                        text("SELECT pg_advisory_xact_lock(:key)"), {"key": _lock_key(key)}
                    )
                    yield
                return
            path = lock_file_of(self.engine)
            if path is None:  # an in-memory database lives in one process
                yield
                return
            async with _file_lock(path):
                yield


def lock_file_of(engine: AsyncEngine) -> Path | None:
    """``<database file>.refresh.lock`` for a SQLite file database, else None."""
    database = engine.url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database).expanduser().with_name(Path(database).name + ".refresh.lock")


@contextlib.asynccontextmanager
async def _file_lock(path: Path) -> AsyncIterator[None]:
    """An exclusive ``flock`` on ``path``, polled so that waiting never blocks the loop and a
    cancelled wait leaves nothing behind; released when the file is closed."""
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        while True:
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                await asyncio.sleep(FILE_LOCK_POLL_SECONDS)
        yield
    finally:
        os.close(descriptor)  # releases the lock


def installation_key(installation: Installation) -> str:
    if installation.is_enterprise_install:
        return f"ragft-refresh:{installation.enterprise_id}:-"
    return f"ragft-refresh:{installation.enterprise_id or '-'}:{installation.team_id}"


def expiring(installation: Installation, minutes: int) -> bool:
    deadline = time.time() + minutes * 60
    return any(
        refresh is not None and expires is not None and expires <= deadline
        for refresh, expires in (
            (installation.bot_refresh_token, installation.bot_token_expires_at),
            (installation.user_refresh_token, installation.user_token_expires_at),
        )
    )


class WorkspaceAuthorize(AsyncInstallationStoreAuthorize):
    """Bolt's installation-store authorize, with a rotator that calls ``SLACK_API_URL`` and a
    refresh serialised per installation (see the module docstring)."""

    def __init__(
        self,
        *,
        settings: Settings,
        installation_store: AsyncSQLAlchemyInstallationStore,
        api_client: AsyncWebClient,
        locks: RefreshLocks,
    ) -> None:
        assert settings.slack_client_id and settings.slack_client_secret
        secret = settings.slack_client_secret.get_secret_value()
        super().__init__(
            logger=log,
            client_id=settings.slack_client_id,
            client_secret=secret,
            installation_store=installation_store,
            token_rotation_expiration_minutes=ROTATE_MINUTES_BEFORE_EXPIRY,
            cache_enabled=True,  # one auth.test per token, not one per request
        )
        self.token_rotator = AsyncTokenRotator(
            client_id=settings.slack_client_id, client_secret=secret, client=api_client
        )
        self.locks = locks

    async def _rotate_and_save_tokens_if_necessary(
        self, installation: Installation | None
    ) -> Installation | None:
        if installation is None or not expiring(
            installation, self.token_rotation_expiration_minutes
        ):
            return None
        async with self.locks.hold(installation_key(installation)):
            fresh = await self.installation_store.async_find_installation(
                enterprise_id=installation.enterprise_id,
                team_id=installation.team_id,
                is_enterprise_install=installation.is_enterprise_install,
            )
            if fresh is None:
                return None
            refreshed = await super()._rotate_and_save_tokens_if_necessary(fresh)
            if refreshed is not None:
                log.info("refreshed the bot token of %s", installation_key(installation))
                return refreshed
            # another replica refreshed it while this one waited: use what it saved
            return fresh if fresh.bot_token != installation.bot_token else None

    async def current(self, installation: Installation) -> Installation:
        """``installation`` with a token that isn't about to expire (refreshed if needed)."""
        return await self._rotate_and_save_tokens_if_necessary(installation) or installation


@dataclass
class Distribution:
    """What distribution mode adds to the app: where installs live and how requests and the
    sweep get a workspace's token."""

    installation_store: AsyncSQLAlchemyInstallationStore
    authorize: WorkspaceAuthorize
    oauth_settings: AsyncOAuthSettings


def state_store(settings: Settings, engine: AsyncEngine) -> AsyncOAuthStateStore:
    if settings.slack_state_secret is not None:
        return StatelessOAuthStateStore(
            expiration_seconds=STATE_SECONDS,
            signing_secret=settings.slack_state_secret.get_secret_value(),
        )
    return AsyncSQLAlchemyOAuthStateStore(expiration_seconds=STATE_SECONDS, engine=engine)


def build_distribution(
    settings: Settings, engine: AsyncEngine, client: AsyncWebClient
) -> Distribution:
    """``client`` is the app's (its base URL is ``SLACK_API_URL``)."""
    assert settings.slack_client_id and settings.slack_client_secret
    store = AsyncSQLAlchemyInstallationStore(
        client_id=settings.slack_client_id, engine=engine, logger=log
    )
    api_client = AsyncWebClient(base_url=client.base_url, session=client.session)
    authorize = WorkspaceAuthorize(
        settings=settings,
        installation_store=store,
        api_client=api_client,
        locks=RefreshLocks(engine),
    )
    oauth_settings = AsyncOAuthSettings(
        client_id=settings.slack_client_id,
        client_secret=settings.slack_client_secret.get_secret_value(),
        scopes=manifest_bot_scopes(),
        user_scopes=[],
        installation_store=store,
        state_store=state_store(settings, engine),
        state_expiration_seconds=STATE_SECONDS,
        authorization_url=settings.slack_authorize_url,
        token_rotation_expiration_minutes=ROTATE_MINUTES_BEFORE_EXPIRY,
        logger=log,
    )
    return Distribution(store, authorize, oauth_settings)


def oauth_kwargs(distribution: Distribution | None) -> dict[str, object]:
    """What AsyncApp takes for distribution mode (nothing in single-workspace mode)."""
    if distribution is None:
        return {}
    return {
        "oauth_settings": distribution.oauth_settings,
        "authorize": distribution.authorize,
        "installation_store": distribution.installation_store,
    }
