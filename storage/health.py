"""The database half of ``GET /healthz``: does the database take a write, promptly?

A read answers even when the database is read-only, full or locked by a stuck writer, so the
check writes: inside a transaction it updates Alembic's one-row version table to itself, then
rolls back. Nothing is kept and no table is added. The whole check is bounded: on SQLite the busy
timeout of that connection is lowered for it (a locked file would otherwise wait 30 s); on
PostgreSQL ``lock_timeout`` and ``statement_timeout`` are set for the transaction; and an
``asyncio.timeout`` covers connecting and everything else.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from sqlalchemy import Connection, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import SQLITE_BUSY_TIMEOUT_MS, reason

WRITE_CHECK_SECONDS = 2.0
_WRITE = text("UPDATE alembic_version SET version_num = version_num")


def _busy_timeout(connection: Connection, milliseconds: int) -> None:
    # On the DB-API connection: through SQLAlchemy, even a PRAGMA would begin a transaction,
    # and the BEGIN IMMEDIATE hook (storage/db.py) would wait on the lock being checked.
    cursor: Any = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    cursor.execute(f"PRAGMA busy_timeout={int(milliseconds)}")
    cursor.close()


async def write_check(engine: AsyncEngine, within: float = WRITE_CHECK_SECONDS) -> str | None:
    """None if the database took a (rolled back) write within ``within`` seconds; else why not,
    in one line without the password."""
    sqlite = engine.dialect.name == "sqlite"
    budget_ms = int(within * 1000 * 0.75)  # the database's own limits fire before ours
    lock_ms = int(within * 1000 * 0.6)  # and a lock wait says so, before the statement limit
    try:
        async with asyncio.timeout(within), engine.connect() as connection:
            if sqlite:
                await connection.run_sync(_busy_timeout, budget_ms)
            try:
                transaction = await connection.begin()
                if not sqlite:
                    await connection.execute(text(f"SET LOCAL lock_timeout = {lock_ms}"))
                    await connection.execute(text(f"SET LOCAL statement_timeout = {budget_ms}"))
                await connection.execute(_WRITE)
                await transaction.rollback()
            finally:
                if sqlite:
                    with contextlib.suppress(SQLAlchemyError):  # a broken one is discarded
                        await connection.run_sync(_busy_timeout, SQLITE_BUSY_TIMEOUT_MS)
    except TimeoutError:
        return f"no answer to a write within {within:g} s"
    except (SQLAlchemyError, OSError) as exc:
        return reason(exc, engine.url)
    return None
