"""``GET /healthz``: 200 only when the database takes a write within 2 s, else 503 with the
reason, and never a hang. The real ASGI app over HTTP (httpx's ASGI transport), on real SQLite
files and real PostgreSQL databases put in each state by a second, ordinary connection."""

from __future__ import annotations

import sqlite3
import time

import psycopg
import pytest
from sqlalchemy.engine import make_url

from storage.db import create_engine
from tests.slack_app import SlackApp

BOUND = 2.5  # seconds: the 2 s check, and the request around it


@pytest.fixture
async def health(fake_slack):
    """GET /healthz of the app on a given database URL: (status, JSON, seconds taken)."""
    opened: list[tuple] = []

    async def get(url: str) -> tuple[int, dict, float]:
        engine = create_engine(url)
        app = SlackApp(fake_slack, engine, None)
        opened.append((engine, app))
        started = time.monotonic()
        response = await app.http.get("/healthz")
        return response.status_code, response.json(), time.monotonic() - started

    yield get
    for engine, app in opened:
        await app.close()
        await engine.dispose()


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def sqlite_file(db_url: str) -> str:
    return make_url(db_url).database


async def test_a_database_that_takes_a_write_is_healthy(health, db_url: str):
    status, body, seconds = await health(db_url)
    assert (status, body) == (200, {"ok": True, "database": "ok"})
    assert seconds < BOUND


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_a_read_only_sqlite_file_is_503(health, db_url: str):
    # A file ragft's user can't write is opened read-only by SQLite; root ignores file modes,
    # so the URL asks for exactly that.
    read_only = f"sqlite+aiosqlite:///file:{sqlite_file(db_url)}?mode=ro&uri=true"
    status, body, seconds = await health(read_only)
    assert status == 503 and body["ok"] is False
    assert "readonly" in body["database"]
    assert seconds < BOUND


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_a_sqlite_file_locked_by_another_writer_is_503_within_two_seconds(
    health, db_url: str
):
    writer = sqlite3.connect(sqlite_file(db_url), isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")  # holds the write lock, as a stuck writer would
    try:
        status, body, seconds = await health(db_url)
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    assert (status, body) == (503, {"ok": False, "database": "database is locked"})
    assert seconds < BOUND  # not the 30 s busy timeout the app's own transactions wait
    status, _, _ = await health(db_url)
    assert status == 200


@pytest.mark.parametrize("backend", ["postgresql"])
async def test_a_postgresql_table_locked_by_another_session_is_503_within_two_seconds(
    health, db_url: str
):
    with psycopg.connect(_libpq(db_url)) as other:  # a transaction until the block ends
        other.execute("LOCK TABLE alembic_version IN ACCESS EXCLUSIVE MODE")
        status, body, seconds = await health(db_url)
    assert status == 503 and "lock timeout" in body["database"]
    assert seconds < BOUND


@pytest.mark.parametrize("backend", ["postgresql"])
async def test_a_read_only_postgresql_database_is_503(health, db_url: str):
    name = make_url(db_url).database
    with psycopg.connect(_libpq(db_url), autocommit=True) as admin:
        admin.execute(f'ALTER DATABASE "{name}" SET default_transaction_read_only = on')
    status, body, _ = await health(db_url)
    assert status == 503 and "read-only transaction" in body["database"]


async def test_an_unreachable_postgresql_is_503_without_the_password(fake_slack):
    engine = create_engine("postgresql+psycopg://u:secretpw@127.0.0.1:1/x")
    app = SlackApp(fake_slack, engine, None)
    try:
        started = time.monotonic()
        response = await app.http.get("/healthz")
    finally:
        await app.close()
        await engine.dispose()
    assert response.status_code == 503 and time.monotonic() - started < BOUND
    assert response.json() == {"ok": False, "database": "Connection refused"}
    assert "secretpw" not in response.text
