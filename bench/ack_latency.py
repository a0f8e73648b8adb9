"""1. Acknowledgement latency: ragft (SQLite, PostgreSQL) against a bare Bolt app, side by side.

Every server is a real process on loopback, pointed at the fake Slack (every Web API call
answers after 200 ms). Each concurrency level fires the same mix at each server in turn: a third
``/ragft <title>`` (a new decision: 5 ``chat.postMessage`` after the ack), a third answer clicks
on real decisions (distinct users; a DB write and coalesced ``chat.update`` after the ack), a
third ``@ragft fail: …`` mentions in real decision threads (unique event ids). Latency is the
time from sending the request to reading the whole HTTP response (the ack).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

from bench.common import (
    FakeSlackProcess,
    LoadResult,
    Server,
    Signed,
    answer_click,
    command,
    cpu_seconds,
    decisions_with_threads,
    fire,
    log,
    mention,
    percentile,
    settle,
)

LEVELS = {1: 300, 10: 450, 50: 600}
KINDS = ("command", "click", "mention")
SEED_DECISIONS = 6
VALUES = ("knowledge", "behavior", "both")
_event_ids = itertools.count(1)


@dataclass
class Target:
    server: Server
    threads: list[tuple[int, str]]  # (decision id, thread_ts) to click and mention in


def build(
    fake: FakeSlackProcess, target: Target, level: int, count: int
) -> list[tuple[str, Signed]]:
    """The request mix for one level. Same kinds, order and users for every server; only the
    decision ids and thread ts (each server's own) and the event ids (unique) differ."""
    requests: list[tuple[str, Signed]] = []
    for i in range(count):
        kind = KINDS[i % 3]
        decision_id, thread_ts = target.threads[i % len(target.threads)]
        if kind == "command":
            signed = command(fake, f"Bench decision c{level} #{i}")
        elif kind == "click":
            user = f"U{level:03d}{i:06d}"
            value = VALUES[i % len(VALUES)]
            signed = answer_click(fake, decision_id, user, value, thread_ts=thread_ts)
        else:
            signed = mention(thread_ts, f"Ev{next(_event_ids):09d}")
        requests.append((kind, signed))
    return requests


def summary(result: LoadResult) -> dict[str, Any]:
    lat = result.latencies
    out: dict[str, Any] = {
        "n": result.count,
        "p50": percentile(lat, 50),
        "p95": percentile(lat, 95),
        "p99": percentile(lat, 99),
        "max": max(lat),
        "non_200": sum(n for status, n in result.statuses.items() if status != 200),
        "rps": result.count / result.wall,
        "by_kind": {},
    }
    for kind in KINDS:
        of = result.of(kind)
        if of:
            out["by_kind"][kind] = {
                "p50": percentile(of, 50),
                "p99": percentile(of, 99),
                "max": max(of),
            }
    return out


async def prepare(fake: FakeSlackProcess, servers: list[Server]) -> dict[str, Target]:
    """Warm up (Bolt's first request calls auth.test) and create the decisions to click on."""
    targets: dict[str, Target] = {}
    ragft = [s for s in servers if s.database_url]
    for server in ragft:
        seeds = [("command", command(fake, f"Seed decision {i}")) for i in range(SEED_DECISIONS)]
        await fire(server.base, seeds, 1)
    await settle(fake)
    for server in ragft:
        assert server.database_url is not None
        threads = decisions_with_threads(server.database_url)
        if len(threads) < SEED_DECISIONS:
            raise RuntimeError(f"{server.name}: only {len(threads)} decisions were posted")
        targets[server.name] = Target(server, threads)
    reference = next(iter(targets.values())).threads
    for server in servers:
        if server.name not in targets:
            targets[server.name] = Target(server, reference)
    # A short warm-up of the full mix on every server: imports, pools, caches.
    for target in targets.values():
        await fire(target.server.base, build(fake, target, 0, 30), 5)
    await settle(fake)
    return targets


async def run(
    fake: FakeSlackProcess, servers: list[Server], levels: dict[int, int] | None = None
) -> dict[int, dict[str, dict[str, Any]]]:
    """Returns ``{level: {server name: summary}}``. Servers are interleaved per level, and the
    fake is let go quiet before each run so no server pays for another's background work."""
    levels = levels or LEVELS
    targets = await prepare(fake, servers)
    results: dict[int, dict[str, dict[str, Any]]] = {}
    for level, count in levels.items():
        results[level] = {}
        for server in servers:
            target = targets[server.name]
            requests = build(fake, target, level, count)
            cpu0 = cpu_seconds(server.pid)
            result = await fire(server.base, requests, level)
            cpu1 = cpu_seconds(server.pid)
            results[level][server.name] = row = summary(result)
            log(
                f"ack c={level:<3} {server.name:<18} p50 {row['p50'] * 1000:7.1f} ms  "
                f"p99 {row['p99'] * 1000:7.1f} ms  max {row['max'] * 1000:7.1f} ms  "
                f"non-200 {row['non_200']}"
            )
            await settle(fake)
            # CPU the server spent per request: while acking, and including the work after.
            row["cpu_ms_load"] = (cpu1 - cpu0) * 1000 / count
            row["cpu_ms_total"] = (cpu_seconds(server.pid) - cpu0) * 1000 / count
    return results
