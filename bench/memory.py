"""5. Memory: the server process's resident set (VmRSS) growth over 1,000 decisions.

A fresh server and database per run. Warm-up: ``WARMUP`` (100) ``/ragft <title>`` decisions,
waited for until every thread is posted and the fake Slack is quiet; then VmRSS is read from
/proc/<pid>/status. Then ``DECISIONS`` (1,000) more at concurrency 10, waited for the same way
(all 1,100 threads posted), and VmRSS read again. VmHWM is the peak. The goal: at most
``GROWTH_GOAL_MIB`` of growth. The bare Bolt app, sent the same commands (which it only acks),
is the reference.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from bench.common import (
    FakeSlackProcess,
    Server,
    bare_bolt_server,
    command,
    fire,
    hwm_kib,
    log,
    ragft_server,
    rss_kib,
    settle,
)
from bench.databases import database, query

WARMUP = 100
DECISIONS = 1000
CONCURRENCY = 10
GROWTH_GOAL_MIB = 5.0
STALL = 30.0


def _posted(database_url: str) -> int:
    rows = query(database_url, "SELECT count(*) FROM decision WHERE thread_ts IS NOT NULL")
    return int(rows[0][0])


async def _make(fake: FakeSlackProcess, server: Server, title: str, count: int) -> int:
    """``count`` decisions; returns how many were acked 200 once their threads are posted."""
    posted_before = (
        await asyncio.to_thread(_posted, server.database_url) if server.database_url else 0
    )
    requests = [("command", command(fake, f"{title} {i}")) for i in range(count)]
    result = await fire(server.base, requests, CONCURRENCY)
    url = server.database_url
    probe = (lambda: _posted(url)) if url else None
    began = time.perf_counter()
    await settle(fake, probe, quiet=2.0, limit=600.0, pids=[server.pid])
    if url:  # and every thread posted, unless nothing has moved for STALL seconds
        goal = posted_before + count
        last, moved = -1, time.perf_counter()
        while time.perf_counter() - moved < STALL and time.perf_counter() - began < 600:
            now = await asyncio.to_thread(_posted, url)
            if now >= goal:
                break
            if now != last:
                last, moved = now, time.perf_counter()
            await asyncio.sleep(0.5)
        await settle(fake, quiet=2.0, pids=[server.pid])
    return result.statuses.get(200, 0)


async def _measure(fake: FakeSlackProcess, server: Server, warmup: int, n: int) -> dict[str, Any]:
    server.start()
    try:
        await server.wait_healthy()
        await _make(fake, server, "Warm-up decision", warmup)
        url = server.database_url
        warm_posted = await asyncio.to_thread(_posted, url) if url else None
        before = rss_kib(server.pid)
        acked = await _make(fake, server, "Memory decision", n)
        after, peak = rss_kib(server.pid), hwm_kib(server.pid)
        posted = None
        if server.database_url and warm_posted is not None:
            posted = await asyncio.to_thread(_posted, server.database_url) - warm_posted
        return {
            "warmup": warmup,
            "n": n,
            "warm_posted": warm_posted,
            "rss_before_mib": before / 1024,
            "rss_after_mib": after / 1024,
            "growth_mib": (after - before) / 1024,
            "peak_mib": peak / 1024,
            "decisions_posted": posted,
            "acked_200": acked,
            "errors_logged": len(server.errors_logged()),
        }
    finally:
        server.stop()


async def run(
    fake: FakeSlackProcess, kinds: list[str], decisions: int | None = None
) -> dict[str, Any]:
    decisions = decisions or DECISIONS
    results: dict[str, Any] = {}
    for kind in kinds:
        with database(kind, "mem") as url:
            server = ragft_server(f"ragft ({kind})", fake.url, url)
            results[kind] = row = await _measure(fake, server, WARMUP, decisions)
        log(f"memory {kind:<8} {row}")
    bare = bare_bolt_server(fake.url)
    results["bare"] = row = await _measure(fake, bare, WARMUP, decisions)
    log(f"memory bare     {row}")
    return results
