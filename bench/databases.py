"""Throwaway databases for the benchmarks, and the benchmark's own synchronous queries.

PostgreSQL is ``BENCH_POSTGRES_URL`` (default ``postgresql://postgres@127.0.0.1:5432/test``).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa

POSTGRES_URL = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


def sync_url(url: str) -> str:
    """A synchronous SQLAlchemy URL for the benchmark's own queries."""
    if url.startswith("sqlite"):
        return "sqlite:///" + url.split(":///", 1)[1]
    return "postgresql+psycopg://" + url.split("://", 1)[1]


def query(url: str, sql: str, **params: Any) -> list[tuple[Any, ...]]:
    engine = sa.create_engine(sync_url(url), poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as connection:
            return [tuple(row) for row in connection.execute(sa.text(sql), params)]
    finally:
        engine.dispose()


def postgres_available() -> bool:
    try:
        query(POSTGRES_URL, "SELECT 1")
    except Exception:
        return False
    return True


def _admin(statement: str) -> None:
    import psycopg

    with psycopg.connect(POSTGRES_URL, autocommit=True) as connection:
        connection.execute(statement)


@contextlib.contextmanager
def postgres_database(tag: str) -> Iterator[str]:
    """A throwaway PostgreSQL database, dropped afterwards; yields its URL."""
    name = f"ragft_bench_{tag}_{uuid.uuid4().hex[:8]}"
    _admin(f'CREATE DATABASE "{name}"')
    try:
        yield POSTGRES_URL.rsplit("/", 1)[0] + "/" + name
    finally:
        _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.contextmanager
def sqlite_database(tag: str) -> Iterator[str]:
    directory = tempfile.mkdtemp(prefix=f"ragft-bench-{tag}-")
    try:
        yield f"sqlite:///{directory}/ragft.db"
    finally:
        shutil.rmtree(directory, ignore_errors=True)


@contextlib.contextmanager
def database(kind: str, tag: str) -> Iterator[str]:
    manager = sqlite_database(tag) if kind == "sqlite" else postgres_database(tag)
    with manager as url:
        yield url
