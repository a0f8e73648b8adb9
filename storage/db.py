"""The async engine and session factory, and how to talk about a database that fails.

SQLite is the embedded default. Every SQLite transaction starts with ``BEGIN IMMEDIATE`` so that
concurrent writers queue on the busy timeout instead of failing with "database is locked" when a
read lock is upgraded. PostgreSQL needs none of this.

Messages about a database name its host (or file), port, database and user, never the password.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

SQLITE_BUSY_TIMEOUT_MS = 30_000
PG_CONNECT_TIMEOUT = 10
"""Seconds to wait for a PostgreSQL connection, unless the URL sets ``connect_timeout``."""


class DatabaseUnavailable(Exception):
    """The database can't be reached, opened or migrated. The message is one line that names
    the database (never the password) and what to check."""


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def describe(url: str) -> str:
    """Which database ``url`` is, for people: ``PostgreSQL at db:5432 (database ragft, user
    ragft)`` or ``the SQLite file /srv/ragft.db``. Never the password."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = (parsed.database or ":memory:").removeprefix("file:")
        if database == ":memory:":
            return "the in-memory SQLite database"
        return f"the SQLite file {Path(database).expanduser().resolve()}"
    host = parsed.host or "localhost (its Unix socket)"
    where = f"{host}:{parsed.port}" if parsed.port else host
    details = []
    if parsed.database:
        details.append(f"database {parsed.database}")
    if parsed.username:
        details.append(f"user {parsed.username}")
    return f"PostgreSQL at {where}" + (f" ({', '.join(details)})" if details else "")


_PG_PREFIX = re.compile(r"^(?:connection failed: )?(?:.* failed: )?(?:FATAL: +)?")


def reason(error: BaseException, url: str | URL) -> str:
    """The database's own one-line explanation of ``error``, with the password masked."""
    original = getattr(error, "orig", None) or error
    if isinstance(error, TimeoutError) or isinstance(original, TimeoutError):
        return "it did not answer in time"
    text = str(original).strip().splitlines()[0] if str(original).strip() else ""
    text = _PG_PREFIX.sub("", text).strip() or type(original).__name__
    password = make_url(url).password
    if password:
        text = text.replace(str(password), "***")
    return text[:200]


POOL_TIMEOUT = 600
"""Seconds a burst's work may queue for a pooled connection (SQLAlchemy's default, 30, made
work after the ack fail outright, and threads go unposted, when 1,000 ``/ragft`` came at once)."""


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    if not is_sqlite(url):
        kwargs.setdefault("pool_timeout", POOL_TIMEOUT)
        kwargs.setdefault("pool_pre_ping", True)
        if "connect_timeout" not in make_url(url).query:
            kwargs.setdefault("connect_args", {}).setdefault("connect_timeout", PG_CONNECT_TIMEOUT)
        return create_async_engine(url, **kwargs)

    database = make_url(url).database
    if database and database != ":memory:" and not database.startswith("file:"):
        directory = Path(database).expanduser().parent
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DatabaseUnavailable(
                f"cannot create {describe(url)}: its directory {directory} can't be created "
                f"({exc.strerror or type(exc).__name__}); check DATABASE_URL and that the "
                "directory exists and is writable"
            ) from None
    if database and database != ":memory:":  # a file: a queue pool (memory has one connection)
        kwargs.setdefault("pool_timeout", POOL_TIMEOUT)
    engine = create_async_engine(
        url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}, **kwargs
    )

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # let the "begin" hook below own transactions
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)


def insert_for(session: AsyncSession, table: type) -> Any:
    """An INSERT with the session's dialect's ON CONFLICT support."""
    return dialect_insert(session.get_bind().dialect.name, table)


def dialect_insert(dialect: str, table: type) -> Any:
    """An INSERT with this dialect's ON CONFLICT support: for statements a repository builds
    once per dialect (building ``excluded`` copies every column of the table)."""
    return (pg_insert if dialect == "postgresql" else sqlite_insert)(table)
