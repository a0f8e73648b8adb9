"""Shared fixtures: real databases (SQLite and PostgreSQL), each test on a fresh, migrated one.

PostgreSQL tests need ``RAGFT_TEST_POSTGRES_URL`` (``.ci/run`` exports it). Without it they skip
with a visible reason, except under ``CI=true``, where a missing database is a failure.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.settings import normalize_database_url
from storage.db import create_engine, session_factory
from storage.migrate import upgrade

POSTGRES_ENV = "RAGFT_TEST_POSTGRES_URL"
BACKENDS = ["sqlite", "postgresql"]


def _postgres_admin_url() -> str:
    url = os.environ.get(POSTGRES_ENV)
    if not url:
        reason = f"PostgreSQL tests need {POSTGRES_ENV} (e.g. postgresql://postgres@127.0.0.1/test)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{reason}; CI must run them, not skip them")
        pytest.skip(reason)
    return url


def _libpq(url: str) -> str:
    return (
        make_url(normalize_database_url(url))
        .set(drivername="postgresql")
        .render_as_string(hide_password=False)
    )


class PostgresDatabases:
    """Creates throwaway databases from one migrated template, so each test starts clean."""

    def __init__(self, admin_url: str) -> None:
        self.admin_url = admin_url
        self.template: str | None = None
        self.created: list[str] = []

    def _admin(self) -> psycopg.Connection:
        return psycopg.connect(_libpq(self.admin_url), autocommit=True)

    def url_for(self, name: str) -> str:
        return (
            make_url(normalize_database_url(self.admin_url))
            .set(database=name)
            .render_as_string(hide_password=False)
        )

    def empty(self) -> str:
        name = f"ragft_test_{uuid.uuid4().hex[:12]}"
        with self._admin() as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        self.created.append(name)
        return self.url_for(name)

    def migrated(self) -> str:
        if self.template is None:
            url = self.empty()
            engine = create_engine(url)
            asyncio.run(_migrate_and_dispose(engine))
            self.template = make_url(url).database
        name = f"ragft_test_{uuid.uuid4().hex[:12]}"
        with self._admin() as conn:
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"')
        self.created.append(name)
        return self.url_for(name)

    def drop_all(self) -> None:
        with self._admin() as conn:
            for name in reversed(self.created):
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def _migrate_and_dispose(engine: AsyncEngine) -> None:
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()


_postgres: PostgresDatabases | None = None


@pytest.fixture(scope="session")
def postgres_databases() -> Iterator[PostgresDatabases]:
    global _postgres
    if _postgres is None:
        _postgres = PostgresDatabases(_postgres_admin_url())
    yield _postgres


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _postgres is not None:
        _postgres.drop_all()


CLASSIFIER_REPORT = "offline classifier"
"""A test's ``user_properties`` name for a report the summary shows (reports travel from the
xdist workers to the controller with their test's report)."""
_reports: list[str] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when == "call":
        _reports.extend(
            value for name, value in report.user_properties if name == CLASSIFIER_REPORT
        )


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    reports = sorted(set(_reports))
    if reports:
        terminalreporter.section("offline classifier")
        for report in reports:
            terminalreporter.write_line(report)


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def empty_db_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """A database with no tables yet."""
    if backend == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'ragft.db'}"
    return request.getfixturevalue("postgres_databases").empty()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One SQLite file migrated to head; each test gets a copy (migrating takes ~0.25 s)."""
    path = tmp_path_factory.mktemp("sqlite-template") / "ragft.db"
    asyncio.run(_migrate_and_dispose(create_engine(f"sqlite+aiosqlite:///{path}")))
    assert not path.with_name("ragft.db-wal").exists()  # checkpointed when the engine closed
    return path


@pytest.fixture
def db_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """A fresh database migrated to head."""
    if backend == "sqlite":
        target = tmp_path / "ragft.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), target)
        return f"sqlite+aiosqlite:///{target}"
    return request.getfixturevalue("postgres_databases").migrated()


@pytest.fixture
async def engine(db_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(db_url)
    yield engine
    await engine.dispose()


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return session_factory(engine)


@pytest.fixture
def fake_slack():
    from tests.fakes.slack_api import FakeSlack

    with FakeSlack() as fake:
        yield fake


@pytest.fixture
async def slack(fake_slack, engine: AsyncEngine, sessions):
    from tests.slack_app import SlackApp

    app = SlackApp(fake_slack, engine, sessions)
    yield app
    await app.close()
