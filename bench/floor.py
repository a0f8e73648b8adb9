"""The floor under ragft's CPU per request: what the I/O each interaction must do costs.

    python -m bench.floor                  # SQLite and PostgreSQL
    python -m bench.floor --no-postgres

The benchmark's mix is a third ``/ragft``, a third answer clicks and a third mentions. Whatever
ragft does around it, each interaction has to make some Slack calls and some transactions:

- ``/ragft``: store the decision (1 transaction), post its thread (the root and four questions:
  5 ``chat.postMessage``), remember where they are (1 transaction);
- an answer click: store the answer (1 transaction) and update the question message
  (``chat.update``; clicks that come together share one, so per click it is the number of
  updates the fake Slack saw, divided by the clicks);
- a mention (``@ragft fail: …``): store the failure, once per event (1 transaction), link it to
  the message (``chat.getPermalink``) and tell the author (1 call).

This measures, in this process, the CPU of each of those operations with the libraries ragft
is built on (slack_sdk's AsyncWebClient on aiohttp, with ragft's own question-message blocks;
SQLModel's AsyncSession on aiosqlite or psycopg, one INSERT per transaction), adds a bare Bolt
app's CPU per request (measured on the same mix, over HTTP), and compares the sum with ragft's
own CPU per request on the same load. Nothing here is ragft's logic: it is the cost of the work
no implementation on this stack can skip.
"""

from __future__ import annotations

import argparse
import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import insert

from bench import ack_latency
from bench.common import FakeSlackProcess, Server, log, settle
from bench.databases import database, postgres_available
from bench.run import servers
from bot.domain.questions import QUESTION_MESSAGES
from bot.services import decision_records
from bot.settings import normalize_database_url
from handlers.ui.question_messages import question_message
from storage.db import create_engine, session_factory
from storage.migrate import upgrade
from storage.models import ProcessedEvent

OPERATIONS = 600
CONCURRENCY = 10
LOAD = 450


async def cpu_per_call(call: Callable[[int], Awaitable[Any]], count: int = OPERATIONS) -> float:
    """Milliseconds of this process's CPU per call, ``CONCURRENCY`` at a time."""
    await asyncio.gather(*(call(i) for i in range(CONCURRENCY)))  # warm: pools, caches
    began = time.process_time()
    for start in range(0, count, CONCURRENCY):
        await asyncio.gather(*(call(i) for i in range(start, start + CONCURRENCY)))
    return (time.process_time() - began) * 1000 / count


async def slack_costs(fake: FakeSlackProcess, blocks: list[dict[str, Any]]) -> dict[str, float]:
    async with aiohttp.ClientSession() as http:
        client = AsyncWebClient(token="xoxb-floor", base_url=fake.url, session=http)
        text = "Q1. Knowledge problem or behavior problem?"

        async def post(_: int) -> Any:
            return await client.chat_postMessage(channel="C0FLOOR", text=text, blocks=blocks)

        ts = (await post(0))["ts"]

        async def update(_: int) -> Any:
            return await client.chat_update(channel="C0FLOOR", ts=ts, text=text, blocks=blocks)

        async def permalink(_: int) -> Any:
            return await client.chat_getPermalink(channel="C0FLOOR", message_ts=ts)

        return {
            "chat.postMessage": await cpu_per_call(post),
            "chat.update": await cpu_per_call(update),
            "chat.getPermalink": await cpu_per_call(permalink),
        }


async def database_costs(url: str) -> tuple[float, list[dict[str, Any]]]:
    """CPU per one-INSERT transaction; and a real question message's blocks."""
    engine = create_engine(normalize_database_url(url))
    try:
        await upgrade(engine)
        sessions = session_factory(engine)
        async with sessions() as session:
            state = await decision_records.start_decision(
                session=session,
                team_id="T0FLOOR",
                channel_id="C0FLOOR",
                title="Floor",
                facilitator_id="U0FLOOR",
            )
        blocks = question_message(state, QUESTION_MESSAGES[0]).blocks
        tag = uuid.uuid4().hex[:8]

        async def write(i: int) -> None:
            async with sessions() as session, session.begin():
                row = {"team_id": "T0FLOOR", "event_id": f"Ev{tag}{i:06d}-{time.perf_counter()}"}
                await session.exec(insert(ProcessedEvent).values(**row))

        return await cpu_per_call(write), blocks
    finally:
        await engine.dispose()


async def server_cpu(fake: FakeSlackProcess, started: list[Server]) -> dict[str, dict[str, float]]:
    """CPU per request of each server on the benchmark's c=10 mix (3 loads each), and the
    chat.update calls per click."""
    out: dict[str, dict[str, float]] = {}
    targets = await ack_latency.prepare(fake, started)
    for server in started:
        target = targets[server.name]
        cpu, clicks, updates = 0.0, 0, 0
        async with aiohttp.ClientSession() as http:
            for k in range(3):
                since = (await fake.updates(http, 1 << 40))["next"]
                _, row = await ack_latency.load(fake, target, CONCURRENCY, LOAD, 900 + k, False)
                await settle(fake, pids=[server.pid])
                cpu += row["cpu_s_total"]
                clicks += LOAD // 3
                updates += len((await fake.updates(http, since))["updates"])
        out[server.name] = {
            "cpu_ms": cpu * 1000 / (3 * LOAD),
            "updates_per_click": updates / clicks,
        }
    return out


def floor_ms(bolt: float, tx: float, calls: dict[str, float], updates_per_click: float) -> float:
    command = 2 * tx + 5 * calls["chat.postMessage"]
    click = tx + updates_per_click * calls["chat.update"]
    mention = tx + calls["chat.getPermalink"] + calls["chat.postMessage"]
    return bolt + (command + click + mention) / 3


async def main(fake: FakeSlackProcess, kinds: list[str], started: list[Server]) -> None:
    tx: dict[str, float] = {}
    blocks: list[dict[str, Any]] = []
    for kind in kinds:
        with database(kind, "floorops") as url:
            tx[kind], blocks = await database_costs(url)
    calls = await slack_costs(fake, blocks)
    measured = await server_cpu(fake, started)
    bare, *ragft_servers = started  # bench.run.servers: bare Bolt first, then one per kind
    cpu = {"bare Bolt": measured[bare.name]}
    cpu |= {f"ragft ({k})": measured[s.name] for k, s in zip(kinds, ragft_servers, strict=True)}
    bolt = cpu["bare Bolt"]["cpu_ms"]
    print(f"bare Bolt: {bolt:.2f} ms of CPU per request (c={CONCURRENCY}, {3 * LOAD} requests)")
    for name, ms in calls.items():
        print(f"{name}: {ms:.3f} ms per call")
    for kind in kinds:
        print(f"transaction ({kind}): {tx[kind]:.3f} ms")
    print()
    print("| | CPU per request | × bare Bolt |")
    print("|---|---|---|")
    print(f"| bare Bolt | {bolt:.2f} ms | 1.0 |")
    for kind in kinds:
        ragft = cpu[f"ragft ({kind})"]
        floor = floor_ms(bolt, tx[kind], calls, ragft["updates_per_click"])
        print(f"| floor ({kind}) | {floor:.2f} ms | {floor / bolt:.1f} |")
        print(f"| ragft ({kind}) | {ragft['cpu_ms']:.2f} ms | {ragft['cpu_ms'] / bolt:.1f} |")
    for kind in kinds:
        ragft = cpu[f"ragft ({kind})"]
        log(f"{kind}: {ragft['updates_per_click']:.2f} chat.update per click")


def cli() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.floor", description=__doc__)
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    kinds = (
        ["sqlite", "postgresql"] if not args.no_postgres and postgres_available() else ["sqlite"]
    )
    with FakeSlackProcess() as fake, servers(fake, kinds, bare=True) as started:
        asyncio.run(main(fake, kinds, started))


if __name__ == "__main__":
    cli()
