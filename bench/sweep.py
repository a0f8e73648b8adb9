"""Benchmark: one reminder sweep over a big database (not a test).

Seeds N decisions (default 100,000), each with a pending quarterly review; D of them (default
1,000) are due. Then times one sweep, and sweeps them again (warm) for its peak Python memory
(tracemalloc, which slows every allocation, so not in the timed one), on SQLite
and, given ``--postgres URL`` or ``RAGFT_TEST_POSTGRES_URL``, on PostgreSQL (in a throwaway
database it creates and drops).

``--deliver noop`` (default) measures the sweeper's own work: claiming in batches and marking
sent. ``--deliver slack`` runs the real review delivery against the fake Slack Web API from the
test suite (four HTTP calls per review), which is what a sweep costs end to end.

    python bench/sweep.py                      # SQLite, 100k decisions, 1k due
    python bench/sweep.py --postgres postgresql://postgres@127.0.0.1:5432/test
    python bench/sweep.py --decisions 10000    # compare: the cost follows the due count
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
import tracemalloc
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

if not __package__:  # run as a script (python bench/sweep.py): the checkout it is in
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import psycopg
from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.reminders.sweeper import Outcome, Progress, Sweeper
from bot.settings import Settings, normalize_database_url
from storage.db import create_engine, session_factory
from storage.migrate import upgrade
from storage.models import Decision, Reminder
from storage.repositories.reminder_repo import Claimed

NOW = datetime(2027, 3, 1, 12, tzinfo=UTC)
CHUNK = 5_000


async def seed(url: str, decisions: int, due: int) -> None:
    engine = create_engine(url)
    await upgrade(engine)
    decided = NOW - timedelta(days=90)
    async with engine.begin() as conn:
        for start in range(0, decisions, CHUNK):
            ids = range(start + 1, min(start + CHUNK, decisions) + 1)
            await conn.execute(
                insert(Decision),
                [
                    {
                        "id": i,
                        "team_id": f"T{i % 50:09d}",
                        "channel_id": f"C{i % 500:09d}",
                        "thread_ts": f"1700000000.{i:06d}",
                        "title": f"Decision {i}",
                        "facilitator_id": "U0USER0001",
                        "status": "decided",
                        "verdict": "rag",
                        "created_at": decided,
                        "decided_at": decided,
                        "review_cadence_days": 90,
                        "message_ts": {},
                        "prompt_tokens": 0,
                        "completion_tokens": 0,
                        "nudge_evidence": {},
                    }
                    for i in ids
                ],
            )
            await conn.execute(
                insert(Reminder),
                [
                    {
                        "team_id": f"T{i % 50:09d}",
                        "decision_id": i,
                        "kind": "quarterly_review",
                        # Every (decisions // due)-th one is due; the rest are weeks away.
                        "due_at": NOW - timedelta(minutes=1)
                        if i % (decisions // due) == 0
                        else NOW + timedelta(days=1 + i % 60),
                        "status": "pending",
                        "attempts": 0,
                        "payload": {},
                    }
                    for i in ids
                ],
            )
        if engine.dialect.name == "postgresql":
            await conn.exec_driver_sql(f"SELECT setval('decision_id_seq', {decisions})")
            await conn.exec_driver_sql("ANALYZE")
    await engine.dispose()


async def noop(claim: Claimed, progress: Progress, now: datetime) -> Outcome:
    return Outcome(line=f"#{claim.decision_id}")


async def measure(url: str, deliver_kind: str) -> tuple[int, float, int]:
    engine = create_engine(url)
    sessions = session_factory(engine)
    fake = None
    if deliver_kind == "slack":
        from handlers.reminder_delivery import build_deliverer, sweep_runtime
        from tests.fakes.slack_api import FakeSlack

        fake = FakeSlack()
        fake.start()
        settings = Settings(
            _env_file=None, slack_bot_token="xoxb-bench", slack_api_url=fake.url, database_url=url
        )
        deliver = build_deliverer(sweep_runtime(settings, sessions))
    else:
        deliver = noop
    sweeper = Sweeper(sessions, deliver, clock=lambda: NOW)
    try:
        started = time.perf_counter()
        report = await sweeper.sweep(NOW)
        elapsed = time.perf_counter() - started
        # The peak memory from the same sweep again: tracemalloc hooks every allocation, which
        # made the timed sweep itself a third slower.
        await due_again(engine)
        tracemalloc.start()
        await sweeper.sweep(NOW)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    finally:
        await engine.dispose()
        if fake is not None:
            fake.stop()
    return len(report.sent), elapsed, peak


async def due_again(engine: AsyncEngine) -> int:
    """Mark the due reminders pending again, as seeded; returns how many are due."""
    async with engine.begin() as conn:
        await conn.execute(
            update(Reminder)
            .where(Reminder.due_at <= NOW)
            .values(status="pending", claimed_by=None, claimed_at=None, sent_at=None, attempts=0)
        )
        return (await conn.execute(select(func.count()).where(Reminder.due_at <= NOW))).scalar_one()


async def concurrent(url: str, sweepers: int) -> tuple[int, int, int, float]:
    """Mark the due reminders pending again, then sweep with several replicas at once (each its
    own engine, as separate processes would be). Returns (due, sent, duplicates, seconds)."""
    engine = create_engine(url)
    due = await due_again(engine)
    await engine.dispose()
    engines = [create_engine(url) for _ in range(sweepers)]
    try:
        started = time.perf_counter()
        reports = await asyncio.gather(
            *(Sweeper(session_factory(e), noop, clock=lambda: NOW).sweep(NOW) for e in engines)
        )
        elapsed = time.perf_counter() - started
    finally:
        for e in engines:
            await e.dispose()
    lines = [line for report in reports for line in report.sent]
    return due, len(set(lines)), len(lines) - len(set(lines)), elapsed


def _libpq(url: str) -> str:
    return (
        make_url(normalize_database_url(url))
        .set(drivername="postgresql")
        .render_as_string(hide_password=False)
    )


def run(label: str, url: str, args: argparse.Namespace) -> None:
    started = time.perf_counter()
    asyncio.run(seed(url, args.decisions, args.due))
    seeded = time.perf_counter() - started
    sent, elapsed, peak = asyncio.run(measure(url, args.deliver))
    print(
        f"{label:<10} decisions={args.decisions:>7,} due={args.due:>5,} sent={sent:>5,} "
        f"deliver={args.deliver:<5} sweep={elapsed:7.3f}s ({elapsed / max(sent, 1) * 1000:.2f} "
        f"ms/reminder) peak={peak / 1_048_576:6.1f} MiB  (seeding took {seeded:.0f}s)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--decisions", type=int, default=100_000)
    parser.add_argument("--due", type=int, default=1_000)
    parser.add_argument("--deliver", choices=["noop", "slack"], default="noop")
    parser.add_argument("--postgres", default=os.environ.get("RAGFT_TEST_POSTGRES_URL"))
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument("--sweepers", type=int, default=3, help="replicas sweeping at once (PG)")
    args = parser.parse_args()

    if not args.skip_sqlite:
        with tempfile.TemporaryDirectory() as tmp:
            run("sqlite", f"sqlite+aiosqlite:///{tmp}/bench.db", args)
    if args.postgres:
        name = f"ragft_bench_{uuid.uuid4().hex[:10]}"
        admin = _libpq(args.postgres)
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        try:
            url = make_url(normalize_database_url(args.postgres)).set(database=name)
            rendered = url.render_as_string(hide_password=False)
            run("postgresql", rendered, args)
            due, sent, duplicates, elapsed = asyncio.run(concurrent(rendered, args.sweepers))
            print(
                f"postgresql {args.sweepers} concurrent sweepers: due={due:,} sent={sent:,} "
                f"duplicates={duplicates} missed={due - sent} in {elapsed:.3f}s"
            )
        finally:
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    else:
        print("postgresql skipped: pass --postgres URL or set RAGFT_TEST_POSTGRES_URL")


if __name__ == "__main__":
    main()
