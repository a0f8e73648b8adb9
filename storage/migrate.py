"""Run Alembic against the configured database, from async code or the CLI."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import Connection, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import DatabaseUnavailable, create_engine, describe, is_sqlite, reason

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
_PG_MIGRATION_LOCK = 0x72616766  # "ragf": replicas that start together migrate one at a time


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def _upgrade(connection: Connection) -> None:
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_MIGRATION_LOCK})
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


async def upgrade(engine: AsyncEngine) -> None:
    """Upgrade the database to the newest migration. A second call is a no-op."""
    async with engine.begin() as connection:
        await connection.run_sync(_upgrade)


def _what_to_check(url: str, migrating: bool) -> str:
    if is_sqlite(url):
        return "check DATABASE_URL and that the file and its directory exist and are writable"
    if migrating:
        return (
            "check that this user may create and alter tables there (or run `ragft db upgrade` "
            "as one who can)"
        )
    return (
        "check DATABASE_URL (host, port, database, user, password), that the server is running "
        "and that it accepts connections from this host"
    )


async def open_database(url: str) -> AsyncEngine:
    """An engine on ``url``, connected and migrated to head; or DatabaseUnavailable, whose one
    line says which database (never the password), what went wrong and what to check."""
    engine = create_engine(url)
    migrating = False
    try:
        async with engine.connect():
            pass
        migrating = True
        await upgrade(engine)
    except CommandError as exc:  # e.g. a revision this version of ragft doesn't know
        await engine.dispose()
        raise DatabaseUnavailable(
            f"cannot migrate {describe(url)}: {str(exc).splitlines()[0][:200]}; check that it "
            "was not migrated by a newer version of ragft"
        ) from None
    except (SQLAlchemyError, OSError, TimeoutError) as exc:
        await engine.dispose()
        verb = "migrate" if migrating else ("open" if is_sqlite(url) else "reach")
        raise DatabaseUnavailable(
            f"cannot {verb} {describe(url)}: {reason(exc, url)}; {_what_to_check(url, migrating)}"
        ) from None
    except BaseException:
        await engine.dispose()
        raise
    return engine


async def current_revision(engine: AsyncEngine) -> str | None:
    async with engine.connect() as connection:
        return await connection.run_sync(
            lambda sync: MigrationContext.configure(sync).get_current_revision()
        )
