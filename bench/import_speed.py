"""Benchmark: ``ragft failures import`` of 10,000 rows with the offline classifier (not a test).

Writes a CSV of N distinct failures (default 10,000; a mix of knowledge, behavior and unclear
explanations, some with outputs and links), creates a fresh database with one decision, and
times the real console script end to end (process start, migrations, parsing, categorising,
storing), on SQLite and, if reachable, PostgreSQL. Then imports the same file again: every row
is a duplicate.

    python -m bench.import_speed                 # SQLite and PostgreSQL (when reachable)
    python -m bench.import_speed --rows 50000 --only sqlite
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.databases import database, postgres_available
from bot.settings import normalize_database_url
from storage.db import create_engine, session_factory
from storage.migrate import upgrade
from storage.repositories import decision_repo

RAGFT = str(Path(sys.executable).with_name("ragft"))
WHY = [
    "quoted last year's prices for the {n} plan",
    "didn't know about the refund policy change #{n}",
    "sounds like a legal brief, wrong tone (case {n})",
    "ignored the JSON format we asked for in ticket {n}",
    "thumbs down, no details ({n})",
]


def write_csv(path: Path, rows: int) -> None:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["explanation", "output", "link", "category", "external_id"])
        for n in range(rows):
            output = f"The answer given for case {n}." if n % 3 == 0 else ""
            link = f"https://traces.example/t/{n}" if n % 4 == 0 else ""
            writer.writerow([WHY[n % len(WHY)].format(n=n), output, link, "", f"ext-{n}"])


async def prepare(url: str) -> int:
    engine = create_engine(normalize_database_url(url))
    try:
        await upgrade(engine)
        async with session_factory(engine)() as session, session.begin():
            decision = await decision_repo.create_decision(
                session=session, team_id="T0BENCH001", channel_id="C1", title="Bench",
                facilitator_id="U1",
            )  # fmt: skip
            return decision.id
    finally:
        await engine.dispose()


def timed_import(url: str, path: Path, decision: int) -> tuple[float, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "OPENAI_"))}
    env["DATABASE_URL"] = url
    started = time.perf_counter()
    result = subprocess.run(
        [RAGFT, "failures", "import", str(path), "--decision", str(decision), "--offline"],
        capture_output=True, text=True, env=env, check=False,
    )  # fmt: skip
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"import failed: {result.stderr.strip()}")
    return elapsed, result.stdout.strip()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--only", choices=["sqlite", "postgresql"])
    args = parser.parse_args()
    kinds = [args.only] if args.only else ["sqlite", "postgresql"]
    if "postgresql" in kinds and not postgres_available():
        kinds.remove("postgresql")
        print("postgresql: not reachable, skipped", file=sys.stderr)
    with tempfile.TemporaryDirectory(prefix="ragft-bench-import-") as directory:
        path = Path(directory) / "failures.csv"
        write_csv(path, args.rows)
        for kind in kinds:
            with database(kind, "import") as url:
                decision = asyncio.run(prepare(url))
                first, summary = timed_import(url, path, decision)
                again, repeat = timed_import(url, path, decision)
                print(f"{kind:<10} rows={args.rows:,} first={first:.2f}s ({summary})")
                print(f"{kind:<10} rows={args.rows:,} again={again:.2f}s ({repeat})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
