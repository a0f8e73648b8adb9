"""4. Cold start: from spawning ``ragft serve --http`` until ``GET /healthz`` answers 200.

Each run gets a fresh database (a new SQLite file; a new PostgreSQL database, created before the
clock starts), so the time includes running every migration. The bare Bolt app is timed the
same way for reference (it has no database and no migrations).
"""

from __future__ import annotations

from typing import Any

from bench.common import (
    FakeSlackProcess,
    bare_bolt_server,
    log,
    median,
    ragft_server,
)
from bench.databases import database

RUNS = 5


async def run(fake: FakeSlackProcess, kinds: list[str], runs: int | None = None) -> dict[str, Any]:
    runs = runs or RUNS
    results: dict[str, Any] = {}
    for kind in [*kinds, "bare"]:
        times: list[float] = []
        for i in range(runs):
            if kind == "bare":
                server = bare_bolt_server(fake.url)
                server.start()
                try:
                    times.append(await server.wait_healthy(interval=0.005))
                finally:
                    server.stop()
                continue
            with database(kind, f"cold{i}") as url:
                server = ragft_server(f"ragft ({kind})", fake.url, url)
                server.start()
                try:
                    times.append(await server.wait_healthy(interval=0.005))
                finally:
                    server.stop()
        results[kind] = {"runs": times, "median": median(times), "max": max(times)}
        log(
            f"cold start {kind:<8} median {median(times):.3f} s  "
            f"runs {[round(t, 3) for t in times]}"
        )
    return results
