"""Latency at a steady rate: the benchmark's mix sent open loop, at rates the machine can carry.

The acknowledgement rounds (bench/ack_latency.py) are a closed loop: each of 10 workers sends
its next request as soon as the previous one is acked. ragft acks in a few milliseconds and
does its work after the ack, so that loop offers several hundred requests a second, more than
this machine can serve, and the click-to-visible times it gives are mostly the wait in the
backlog that builds up.

Here each request is sent at its own moment, ``1 / rate`` seconds after the one before,
whatever the server does (an open loop, as a team's clicks come). For each rate, every server
gets the same mix (a third ``/ragft``, a third answer clicks, a third mentions) for ``SECONDS``;
the figures are the ack p99 against bare Bolt's at the same rate, and, on the ragft servers,
click to visible (bench/click_visible.py), with each server's CPU use over the load.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import Any

import aiohttp

from bench import ack_latency, click_visible
from bench.ack_latency import Target
from bench.click_visible import Click
from bench.common import (
    FakeSlackProcess,
    LoadResult,
    Server,
    Signed,
    cpu_seconds,
    log,
    percentile,
    question_messages,
    settle,
)
from bench.goals import ACK_P99_RATIO_GOAL, VISIBLE_GOAL, Goal, goal_lines, ms
from bot.domain.questions import CHOICE_LABELS, AnswerKey

RATES = (25, 50, 100)
"""Requests a second."""
SECONDS = 20.0


async def fire_paced(
    base: str, requests: Sequence[tuple[str, Signed]], rate: float
) -> tuple[LoadResult, list[float]]:
    """POST request i to ``base``/slack/events at ``i / rate`` seconds from the start (an open
    loop: no request waits for another's answer). Also returns how late each was sent: the
    load generator keeping up or not."""
    result = LoadResult([], [], {}, 0.0)
    late: list[float] = []
    connector = aiohttp.TCPConnector(limit=0)
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as http:

        async def send(index: int, kind: str, signed: Signed, at: float) -> None:
            await asyncio.sleep(max(0.0, at - time.perf_counter()))
            late.append(time.perf_counter() - at)
            await result.post(http, base, index, kind, signed)

        began = time.perf_counter() + 0.1  # every send is scheduled before the first is due
        await asyncio.gather(
            *(send(i, kind, signed, began + i / rate) for i, (kind, signed) in enumerate(requests))
        )
        result.wall = time.perf_counter() - began
    return result, late


async def load(
    fake: FakeSlackProcess, target: Target, rate: float, tag: int
) -> tuple[dict[str, Any], list[Click], list[dict[str, Any]]]:
    """One paced load on one server: its ack summary (with the server's CPU use), its clicks,
    and the ``chat.update`` calls that followed them."""
    server = target.server
    requests, meta = ack_latency.build(fake, target, tag, int(rate * SECONDS))
    async with aiohttp.ClientSession() as http:
        since = (await fake.updates(http, 1 << 40))["next"]
        cpu0 = cpu_seconds(server.pid)
        result, late = await fire_paced(server.base, requests, rate)
        cpu1 = cpu_seconds(server.pid)
        await settle(fake, pids=[server.pid])
        clicks = ack_latency.clicks_of(result, meta)
        updates: list[dict[str, Any]] = []
        if server.database_url:
            updates = await ack_latency.shown(fake, http, server.database_url, clicks, since)
    row = ack_latency.summary(result)
    row["cpu_share"] = (cpu1 - cpu0) / result.wall  # of one core, while the load was sent
    row["late_p99"] = percentile(late, 99)  # how far behind its schedule the generator sent
    log(
        f"paced {rate:>4} req/s t{tag:<4} {server.name:<18} p50 {row['p50'] * 1000:7.1f} ms  "
        f"p99 {row['p99'] * 1000:7.1f} ms  non-200 {row['non_200']}  "
        f"cpu {row['cpu_share'] * 100:.0f} % of a core  "
        f"sent late p99 {row['late_p99'] * 1000:.1f} ms"
    )
    return row, clicks, updates


async def run(
    fake: FakeSlackProcess, servers: list[Server], rates: Sequence[float] | None = None
) -> dict[str, Any]:
    """``{rate: {server name: {"ack": summary, "visible": click to visible or None}}}``."""
    rates = RATES if rates is None else rates
    targets = await ack_latency.prepare(fake, servers)
    labels = CHOICE_LABELS[AnswerKey.PROBLEM_TYPE]
    out: dict[str, Any] = {}
    for n, rate in enumerate(rates):
        out[rate] = {}
        for server in servers:
            target = targets[server.name]
            row, clicks, updates = await load(fake, target, rate, 500 + n)
            visible = None
            if server.database_url:
                messages = await asyncio.to_thread(question_messages, server.database_url)
                visible = click_visible.measure(clicks, updates, messages, labels)
                log(f"paced {rate} req/s {server.name}: click to visible {visible}")
            out[rate][server.name] = {"ack": row, "visible": visible}
    return out


def goals(result: dict[Any, Any]) -> list[Goal]:
    """The ack and click-to-visible thresholds of issue 14, held at each steady rate."""
    out: list[Goal] = []
    for rate, by_server in result.items():
        bare = by_server.get("bare Bolt")
        for name, row in by_server.items():
            if name == "bare Bolt" or row["visible"] is None:
                continue
            if bare is not None:
                ratio = row["ack"]["p99"] / bare["ack"]["p99"]
                out.append(
                    (
                        f"ack p99 at {rate:g} req/s, {name} ÷ bare Bolt ≤ {ACK_P99_RATIO_GOAL}",
                        f"{ratio:.2f} ({ms(row['ack']['p99'])} vs {ms(bare['ack']['p99'])} ms)",
                        ratio <= ACK_P99_RATIO_GOAL,
                    )
                )
            p99 = row["visible"].get("p99")
            out.append(
                (
                    f"click to visible p99 at {rate:g} req/s, {name} ≤ "
                    f"{VISIBLE_GOAL * 1000:.0f} ms",
                    f"{ms(p99)} ms ({row['visible']['never_shown']} never shown)",
                    p99 is not None and p99 <= VISIBLE_GOAL and row["visible"]["never_shown"] == 0,
                )
            )
    return out


def render(result: dict[Any, Any]) -> list[str]:
    out = [
        "### 1c. Latency at a steady rate",
        "",
        "Section 1's closed loop at c=10 offers more requests a second than this machine can "
        "serve, so its click-to-visible times are mostly the backlog. Here the same mix is "
        f"sent open loop: each request at its own moment, {SECONDS:g} s at each rate, to every "
        "server in turn. *CPU*: the server's CPU time while the load was sent, as a share of "
        "one core. *Sent late*: p99 of how far behind its schedule the load generator sent a "
        "request. Times in ms; click to visible as in section 1b.",
        "",
        "| req/s | server | sent late | ack p50 | ack p99 | × bare Bolt | CPU | clicks shown | "
        "never shown | visible p50 | visible p99 | visible max |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for rate, by_server in result.items():
        bare = by_server.get("bare Bolt")
        for name, row in by_server.items():
            ack, seen = row["ack"], row["visible"] or {}
            ratio = f"{ack['p99'] / bare['ack']['p99']:.2f}" if bare is not None else "—"
            out.append(
                f"| {rate:g} | {name} | {ms(ack['late_p99'])} | {ms(ack['p50'])} | "
                f"{ms(ack['p99'])} | {ratio} | "
                f"{ack['cpu_share'] * 100:.0f} % | {seen.get('shown', '—')} | "
                f"{seen.get('never_shown', '—')} | {ms(seen.get('p50'))} | "
                f"{ms(seen.get('p99'))} | {ms(seen.get('max'))} |"
            )
    return [*out, "", *goal_lines(goals(result))]
