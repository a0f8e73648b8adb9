"""1. Acknowledgement latency: ragft (SQLite, PostgreSQL) against a bare Bolt app, side by side.

Every server is a real process on loopback, pointed at the fake Slack (every Web API call
answers after 200 ms). Each concurrency level fires the same mix at each server in turn: a third
``/ragft <title>`` (a new decision: 5 ``chat.postMessage`` after the ack), a third answer clicks
on real decisions (distinct users; a DB write and coalesced ``chat.update`` after the ack), a
third ``@ragft fail: …`` mentions in real decision threads (unique event ids). Latency is the
time from sending the request to reading the whole HTTP response (the ack).

c=1 and c=50 run once per server. c=10, the level of the ack and CPU goals, runs in ``ROUNDS``
interleaved rounds: round k fires the same kind of load at every server, in an order rotated by
k, so a slow patch of a shared machine hits each server in turn; the goal figure is the median
of the per-round ratios. The answer clicks of those rounds also give the click-to-visible times
(bench/click_visible.py). Server CPU is read from /proc before the load, after it, and once the
fake Slack has gone quiet (all the work after the acks done).
"""

from __future__ import annotations

import asyncio
import itertools
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from bench import click_visible
from bench.click_visible import Click
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
    median,
    mention,
    percentile,
    question_messages,
    settle,
)
from bot.domain.questions import CHOICE_LABELS, AnswerKey

LEVELS = {1: 300, 10: 450, 50: 600}
ROUND_LEVEL = 10
ROUNDS = 5
KINDS = ("command", "click", "mention")
SEED_DECISIONS = 12
VALUES = ("knowledge", "behavior", "both")
SHOW_WAIT = 10.0
_event_ids = itertools.count(1)
Meta = tuple[int, str, str] | None  # a click's (decision id, user, value)


@dataclass
class Target:
    server: Server
    threads: list[tuple[int, str]]  # (decision id, thread_ts) to click and mention in
    clicks: list[Click] = field(default_factory=list)  # of the c=10 rounds
    updates: list[dict[str, Any]] = field(default_factory=list)  # chat.update during them


def build(
    fake: FakeSlackProcess, target: Target, tag: int, count: int
) -> tuple[list[tuple[str, Signed]], list[Meta]]:
    """One load's request mix, and each click's (decision, user, value). Same kinds, order and
    users for every server; only the decision ids and thread ts (each server's own) and the
    event ids (unique) differ. ``tag`` makes the users of each load new ones."""
    requests: list[tuple[str, Signed]] = []
    meta: list[Meta] = []
    spread = len(target.threads)
    for i in range(count):
        kind = KINDS[i % 3]
        # Clicks and mentions go round every decision (so no question message gets more voters
        # than it can show), each decision's clicks round the answers.
        decision_id, thread_ts = target.threads[(i // 3) % spread]
        info: Meta = None
        if kind == "command":
            signed = command(fake, f"Bench decision t{tag} #{i}")
        elif kind == "click":
            user = f"U{tag:03d}{i:06d}"
            value = VALUES[(i // (3 * spread)) % len(VALUES)]
            signed = answer_click(fake, decision_id, user, value, thread_ts=thread_ts)
            info = (decision_id, user, value)
        else:
            signed = mention(thread_ts, f"Ev{next(_event_ids):09d}")
        requests.append((kind, signed))
        meta.append(info)
    return requests, meta


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


def pooled(results: list[LoadResult]) -> LoadResult:
    statuses: dict[int, int] = {}
    for r in results:
        for status, n in r.statuses.items():
            statuses[status] = statuses.get(status, 0) + n
    return LoadResult(
        [t for r in results for t in r.latencies],
        [k for r in results for k in r.kinds],
        statuses,
        sum(r.wall for r in results),
    )


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
        await fire(target.server.base, build(fake, target, 0, 30)[0], 5)
    await settle(fake)
    return targets


def clicks_of(result: LoadResult, meta: list[Meta]) -> list[Click]:
    """The answer clicks of a load (``build``'s ``meta``), each as sent and acked."""
    return [
        Click(sent_at, *info, status)
        for index, sent_at, status in zip(
            result.order, result.sent_at, result.status_of, strict=True
        )
        if (info := meta[index]) is not None
    ]


async def load(
    fake: FakeSlackProcess, target: Target, level: int, count: int, tag: int, watch: bool
) -> tuple[LoadResult, dict[str, Any]]:
    """One load on one server; with ``watch``, keeps its clicks and the updates that followed."""
    server = target.server
    requests, meta = build(fake, target, tag, count)
    async with aiohttp.ClientSession() as http:
        since = (await fake.updates(http, 1 << 40))["next"]
        cpu0 = cpu_seconds(server.pid)
        result = await fire(server.base, requests, level)
        cpu1 = cpu_seconds(server.pid)
        await settle(fake, pids=[server.pid])
        if watch and server.database_url:
            clicks = clicks_of(result, meta)
            target.clicks += clicks
            target.updates += await shown(fake, http, server.database_url, clicks, since)
        cpu2 = cpu_seconds(server.pid)
    row = summary(result)
    # CPU the server spent per request: while acking, and including the work after.
    row["cpu_s_load"], row["cpu_s_total"] = cpu1 - cpu0, cpu2 - cpu0
    row["cpu_ms_load"] = (cpu1 - cpu0) * 1000 / count
    row["cpu_ms_total"] = (cpu2 - cpu0) * 1000 / count
    log(
        f"ack c={level:<3} t{tag:<4} {server.name:<18} p50 {row['p50'] * 1000:7.1f} ms  "
        f"p99 {row['p99'] * 1000:7.1f} ms  max {row['max'] * 1000:7.1f} ms  "
        f"non-200 {row['non_200']}  cpu {row['cpu_ms_total']:.1f} ms/req"
    )
    return result, row


async def shown(
    fake: FakeSlackProcess, http: aiohttp.ClientSession, url: str, clicks: list[Click], since: int
) -> list[dict[str, Any]]:
    """The chat.update calls since ``since``, once they show every click of this load, or
    ``SHOW_WAIT`` seconds went by without a new one (then the rest count as never shown)."""
    messages = await asyncio.to_thread(question_messages, url)
    labels = CHOICE_LABELS[AnswerKey.PROBLEM_TYPE]
    updates: list[dict[str, Any]] = []
    last_new = time.perf_counter()
    while True:
        got = await fake.updates(http, since)
        since = got["next"]
        if got["updates"]:
            updates += got["updates"]
            last_new = time.perf_counter()
        seen = click_visible.measure(clicks, updates, messages, labels)
        if seen["never_shown"] == 0 or time.perf_counter() - last_new > SHOW_WAIT:
            return updates
        await asyncio.sleep(0.5)


async def run(
    fake: FakeSlackProcess, servers: list[Server], levels: dict[int, int] | None = None
) -> dict[str, Any]:
    """Returns ``levels`` (``{level: {server name: summary}}``, c=10 pooled over its rounds),
    ``rounds`` (c=10, ``[{server name: summary}]`` with ``order``), ``cpu`` (c=10 totals) and
    ``visible`` (click to visible per ragft server). The fake is let go quiet after each load
    so no server pays for another's background work."""
    levels = levels or LEVELS
    targets = await prepare(fake, servers)
    out: dict[str, Any] = {"levels": {}, "rounds": [], "orders": [], "visible": {}, "cpu": {}}
    for level, count in levels.items():
        if level != ROUND_LEVEL:
            out["levels"][level] = {}
            for server in servers:
                _, row = await load(fake, targets[server.name], level, count, level, False)
                out["levels"][level][server.name] = row
            continue
        raw: dict[str, list[LoadResult]] = {s.name: [] for s in servers}
        for k in range(ROUNDS):
            order = servers[k % len(servers) :] + servers[: k % len(servers)]
            out["orders"].append([s.name for s in order])
            rows: dict[str, Any] = {}
            for server in order:
                tag = 100 + k
                result, rows[server.name] = await load(
                    fake, targets[server.name], level, count, tag, True
                )
                raw[server.name].append(result)
            out["rounds"].append({s.name: rows[s.name] for s in servers})
        out["levels"][level] = {}
        for server in servers:
            row = summary(pooled(raw[server.name]))
            per_round = [r[server.name] for r in out["rounds"]]
            n = sum(r["n"] for r in per_round)
            row["cpu_ms_load"] = sum(r["cpu_s_load"] for r in per_round) * 1000 / n
            row["cpu_ms_total"] = sum(r["cpu_s_total"] for r in per_round) * 1000 / n
            row["p99_median"] = median([r["p99"] for r in per_round])
            out["levels"][level][server.name] = row
            out["cpu"][server.name] = row["cpu_ms_total"]
    labels = CHOICE_LABELS[AnswerKey.PROBLEM_TYPE]
    for target in targets.values():
        url = target.server.database_url
        if url and target.clicks:
            messages = await asyncio.to_thread(question_messages, url)
            out["visible"][target.server.name] = row = click_visible.measure(
                target.clicks, target.updates, messages, labels
            )
            row["errors_logged"] = errors = target.server.errors_logged()
            log(f"click to visible {target.server.name}: {row}, {len(errors)} errors logged")
    return out
