"""5. Memory: the server process's resident set (VmRSS) after 1,000 decisions made by ``/ragft``.

A fresh server and database per run. RSS is read from /proc/<pid>/status once the server is
warm (one decision), and again after 1,000 more, once their threads are all posted and the
fake Slack is quiet. VmHWM is the peak. The bare Bolt app, sent the same 1,000 commands (which
it only acks), is the reference.
"""

from __future__ import annotations

from typing import Any

from bench.common import (
    FakeSlackProcess,
    bare_bolt_server,
    command,
    database,
    fire,
    hwm_kib,
    log,
    query,
    ragft_server,
    rss_kib,
    settle,
)

DECISIONS = 1000
CONCURRENCY = 10


async def _measure(fake: FakeSlackProcess, server: Any, decisions: int) -> dict[str, Any]:
    server.start()
    try:
        await server.wait_healthy()
        await fire(server.base, [("command", command(fake, "Warm-up"))], 1)
        await settle(fake)
        before = rss_kib(server.pid)
        requests = [("command", command(fake, f"Memory decision {i}")) for i in range(decisions)]
        result = await fire(server.base, requests, CONCURRENCY)
        await settle(fake, quiet=2.0)
        after, peak = rss_kib(server.pid), hwm_kib(server.pid)
        posted = None
        if server.database_url:
            rows = query(
                server.database_url, "SELECT count(*) FROM decision WHERE thread_ts IS NOT NULL"
            )
            posted = int(rows[0][0]) - 1  # less the warm-up
        return {
            "rss_before_mib": before / 1024,
            "rss_after_mib": after / 1024,
            "growth_mib": (after - before) / 1024,
            "peak_mib": peak / 1024,
            "decisions_posted": posted,
            "acked_200": result.statuses.get(200, 0),
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
            results[kind] = row = await _measure(fake, server, decisions)
        log(f"memory {kind:<8} {row}")
    results["bare"] = row = await _measure(fake, bare_bolt_server(fake.url), decisions)
    log(f"memory bare     {row}")
    return results
