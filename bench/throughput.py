"""2. Answer throughput and loss: N distinct users click one question of one decision at once."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import aiohttp

from bench.common import (
    FakeSlackProcess,
    Server,
    answer_click,
    command,
    decisions_with_threads,
    fire,
    log,
    percentile,
    settle,
)
from bench.databases import query

SIZES = (50, 200)
QUESTION = "problem_type"
VALUES = ("knowledge", "behavior", "both")


def _answers(database_url: str, decision_id: int) -> tuple[int, int]:
    rows = query(
        database_url,
        "SELECT count(*), count(DISTINCT user_id) FROM answer "
        "WHERE decision_id = :d AND question = :q",
        d=decision_id,
        q=QUESTION,
    )
    return int(rows[0][0]), int(rows[0][1])


async def one(fake: FakeSlackProcess, server: Server, n: int) -> dict[str, Any]:
    assert server.database_url is not None
    url = server.database_url
    await fire(server.base, [("command", command(fake, f"Throughput benchmark decision N={n}"))], 1)
    await settle(fake)
    decision_id, thread_ts = decisions_with_threads(url)[-1]
    users = [f"U{n:03d}T{i:05d}" for i in range(n)]
    clicks = [
        ("click", answer_click(fake, decision_id, user, VALUES[i % 3], thread_ts=thread_ts))
        for i, user in enumerate(users)
    ]
    async with aiohttp.ClientSession() as http:
        before = await fake.stats(http)
    began = time.perf_counter()
    result = await fire(server.base, clicks, n)  # all N in flight at once
    # Time until every answer is in the database (or nothing changes for 5 s).
    recorded_at, last, last_change = None, (-1, -1), time.perf_counter()
    while time.perf_counter() - last_change < 5:
        now = await asyncio.to_thread(_answers, url, decision_id)
        if now != last:
            last, last_change = now, time.perf_counter()
        if now[0] >= n:
            recorded_at = time.perf_counter() - began
            break
        await asyncio.sleep(0.05)
    await settle(fake, lambda: _answers(url, decision_id))
    rows, distinct = _answers(url, decision_id)
    async with aiohttp.ClientSession() as http:
        after = await fake.stats(http)
    by_method = {
        method: count - before["by_method"].get(method, 0)
        for method, count in after["by_method"].items()
        if count - before["by_method"].get(method, 0)
    }
    calls = after["total"] - before["total"]
    row = {
        "n": n,
        "acked_200": result.statuses.get(200, 0),
        "ack_p99": percentile(result.latencies, 99),
        "ack_max": max(result.latencies),
        "recorded": distinct,
        "rows": rows,
        "lost": n - distinct,
        "duplicated": rows - distinct,
        "all_recorded_s": recorded_at,
        "answers_per_s": (n / recorded_at) if recorded_at else None,
        "slack_calls": calls,
        "calls_per_click": calls / n,
        "by_method": by_method,
        "errors_logged": len(server.errors_logged()),
    }
    log(
        f"throughput {server.name:<18} N={n:<4} recorded {distinct} lost {row['lost']} "
        f"dup {row['duplicated']} calls/click {row['calls_per_click']:.3f} {by_method}"
    )
    return row


async def run(fake: FakeSlackProcess, servers: list[Server]) -> dict[str, list[dict[str, Any]]]:
    results: dict[str, list[dict[str, Any]]] = {}
    for server in servers:
        results[server.name] = [await one(fake, server, n) for n in SIZES]
    return results
