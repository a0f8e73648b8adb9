"""The floor under ragft's CPU per request: what the I/O each interaction must do costs.

    python -m bench.floor                  # SQLite and PostgreSQL
    python -m bench.floor --no-postgres

The benchmark's mix is a third ``/ragft``, a third answer clicks and a third mentions. Whatever
ragft does around it, each interaction has to make some Slack calls and some transactions:

- ``/ragft``: store the decision (1 transaction), post its thread (the root and four questions:
  5 ``chat.postMessage``), remember where they are (1 transaction);
- an answer click: store the answer (1 transaction) and update the question message and the
  root (``chat.update``; clicks that come together share one);
- a mention (``@ragft fail: …``): store the failure, once per event (1 transaction), link it to
  the message (``chat.getPermalink``), mark it logged (``reactions.add``), tell the author its
  category (``chat.postEphemeral``), and update the thread's failure tally (``chat.update``,
  shared like the clicks');
- every round of updates to a decision's messages: take the messages' lease and read the
  state (1 transaction), and hand the lease back with the version each now shows (1
  transaction). The leases keep one process at a time updating a message, in version order,
  on any replica (issue 14's replicas goal). A round updates at most ``ROUND_AT_MOST`` (3)
  messages in this mix, so there is at least one round for every three ``chat.update``.

The Slack calls are counted, per method, from what the fake Slack saw during ragft's own load
(so ``chat.update`` is what coalescing left); the transactions from the list above.

This measures, in this process, the CPU of each of those operations with the libraries ragft
is built on (slack_sdk's AsyncWebClient on aiohttp, with ragft's own question-message blocks;
SQLModel's AsyncSession on aiosqlite or psycopg, one INSERT per transaction, as many at a time
as ragft's pool holds), adds a bare Bolt app's CPU per request (measured on the same mix, over
HTTP), and compares the sum with ragft's own CPU per request on the same load. Nothing here is
ragft's logic: it is the cost of the work no implementation on this stack can skip.

It then restates the floor with ragft's own transactions in place of the one-INSERT ones
(``bench.floor_ragft``: ragft's services, called as the server calls them, in this process):
what ragft is above that is its code around the calls (Bolt's dispatch to its listeners,
payload parsing, rendering, the thread queue, coalescing), not the database.
"""

from __future__ import annotations

import argparse
import asyncio
import time
import uuid
from typing import Any

import aiohttp
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import insert

from bench import ack_latency
from bench.common import FakeSlackProcess, Server, cpu_per_call, settle
from bench.databases import database, postgres_available
from bench.floor_ragft import ragft_costs
from bench.run import servers
from bot.domain.questions import QUESTION_MESSAGES
from bot.services import decision_records
from bot.settings import normalize_database_url
from handlers.serve import quiet_debug_formatting
from handlers.ui.question_messages import question_message
from storage.db import create_engine, session_factory
from storage.migrate import upgrade
from storage.models import ProcessedEvent

CONCURRENCY = 10
LOAD = 450


async def slack_costs(fake: FakeSlackProcess, blocks: list[dict[str, Any]]) -> dict[str, float]:
    quiet_debug_formatting()  # as ragft serve does
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

        async def reaction(_: int) -> Any:
            return await client.reactions_add(channel="C0FLOOR", timestamp=ts, name="memo")

        async def ephemeral(_: int) -> Any:
            return await client.chat_postEphemeral(
                channel="C0FLOOR", user="U0FLOOR", thread_ts=ts, text="Logged as *knowledge*"
            )

        return {
            "chat.postMessage": await cpu_per_call(post),
            "chat.update": await cpu_per_call(update),
            "chat.getPermalink": await cpu_per_call(permalink),
            "reactions.add": await cpu_per_call(reaction),
            "chat.postEphemeral": await cpu_per_call(ephemeral),
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

        statement = insert(ProcessedEvent.__table__)  # type: ignore[attr-defined]

        async def write(i: int) -> None:  # the cheapest: built once, on the table (no ORM path)
            async with sessions() as session, session.begin():
                row = {"team_id": "T0FLOOR", "event_id": f"Ev{tag}{i:06d}-{time.perf_counter()}"}
                await session.exec(statement, params=row)  # type: ignore[call-overload]

        # As many at a time as the pool holds: more would open and close overflow connections
        # on every call, a cost a server can configure away (its pool sized to its load).
        return await cpu_per_call(write, at_once=engine.pool.size()), blocks
    finally:
        await engine.dispose()


async def server_cpu(fake: FakeSlackProcess, started: list[Server]) -> dict[str, dict[str, Any]]:
    """CPU per request of each server on the benchmark's c=10 mix (3 loads each), and the Slack
    calls it made per request, by method."""
    out: dict[str, dict[str, Any]] = {}
    targets = await ack_latency.prepare(fake, started)
    for server in started:
        target = targets[server.name]
        cpu = 0.0
        async with aiohttp.ClientSession() as http:
            before = (await fake.stats(http))["by_method"]
            for k in range(3):
                _, row = await ack_latency.load(fake, target, CONCURRENCY, LOAD, 900 + k, False)
                await settle(fake, pids=[server.pid])
                cpu += row["cpu_s_total"]
            after = (await fake.stats(http))["by_method"]
        out[server.name] = {
            "cpu_ms": cpu * 1000 / (3 * LOAD),
            "calls": {m: (n - before.get(m, 0)) / (3 * LOAD) for m, n in after.items()},
        }
    return out


TRANSACTIONS = {"command": 2, "click": 1, "mention": 1}
"""The transactions each kind of the mix must make, besides the rounds of updates."""


ROUND_AT_MOST = 3
"""The most messages one round of updates can update in this mix: a click asks for its question
and the root, a mention for the failure tally and the root, so a decision's round covers at
most those three."""


def floor_ms(bolt: float, tx: float, costs: dict[str, float], calls: dict[str, float]) -> float:
    """Bare Bolt, plus the CPU of the Slack calls ragft made per request (each at its cost
    here; a method not measured here counts as free), plus the transactions: each kind's own,
    and two per round of updates (at least one round per ``ROUND_AT_MOST`` updates)."""
    own = {kind: n * tx for kind, n in TRANSACTIONS.items()}
    return bolt + slack_ms(costs, calls) + with_transactions(own, 2 * tx, calls)


def slack_ms(costs: dict[str, float], calls: dict[str, float]) -> float:
    return sum(n * costs.get(method, 0.0) for method, n in calls.items())


def with_transactions(kinds: dict[str, float], round_ms: float, calls: dict[str, float]) -> float:
    """Per request of the mix: each kind's transactions (a third of the requests each), and a
    round of updates for every ``ROUND_AT_MOST`` ``chat.update``, the fewest possible."""
    rounds = calls.get("chat.update", 0.0) / ROUND_AT_MOST
    return sum(kinds.values()) / len(kinds) + rounds * round_ms


async def main(fake: FakeSlackProcess, kinds: list[str], started: list[Server]) -> None:
    tx: dict[str, float] = {}
    own: dict[str, dict[str, float]] = {}
    blocks: list[dict[str, Any]] = []
    for kind in kinds:
        with database(kind, "floorops") as url:
            tx[kind], blocks = await database_costs(url)
        with database(kind, "floorragft") as url:
            own[kind] = await ragft_costs(url)
    costs = await slack_costs(fake, blocks)
    measured = await server_cpu(fake, started)
    bare, *ragft_servers = started  # bench.run.servers: bare Bolt first, then one per kind
    ragft = {k: measured[s.name] for k, s in zip(kinds, ragft_servers, strict=True)}
    bolt = measured[bare.name]["cpu_ms"]
    print(f"bare Bolt: {bolt:.2f} ms of CPU per request (c={CONCURRENCY}, {3 * LOAD} requests)")
    for name, ms in costs.items():
        print(f"{name}: {ms:.3f} ms per call")
    for kind in kinds:
        print(f"transaction ({kind}): {tx[kind]:.3f} ms")
    for kind in kinds:
        made = ", ".join(f"{m} {n:.2f}" for m, n in sorted(ragft[kind]["calls"].items()) if n)
        print(f"Slack calls per request, ragft ({kind}): {made}")
        if unmeasured := sorted(set(ragft[kind]["calls"]) - set(costs)):
            print(f"  not measured here, counted as free: {', '.join(unmeasured)}")
    print()
    print("| | CPU per request | × bare Bolt | × the floor |")
    print("|---|---|---|---|")
    print(f"| bare Bolt | {bolt:.2f} ms | 1.0 | |")
    for kind in kinds:
        cpu = ragft[kind]["cpu_ms"]
        floor = floor_ms(bolt, tx[kind], costs, ragft[kind]["calls"])
        print(f"| floor ({kind}) | {floor:.2f} ms | {floor / bolt:.1f} | 1.0 |")
        print(f"| ragft ({kind}) | {cpu:.2f} ms | {cpu / bolt:.1f} | {cpu / floor:.2f} |")
    print()
    print("ragft's own transactions, in this process (ms of CPU per interaction):")
    print()
    print("| | " + " | ".join(f"the floor's ({k}) | ragft's ({k})" for k in kinds) + " |")
    print("|---|" + "---:|---:|" * len(kinds))
    for name, floor_n in [*TRANSACTIONS.items(), ("round", 2)]:
        cells = " | ".join(f"{floor_n * tx[k]:.2f} | {own[k][name]:.2f}" for k in kinds)
        print(f"| {name} | {cells} |")
    print()
    print("| with ragft's own transactions | CPU per request | × bare Bolt | ragft ÷ it |")
    print("|---|---|---|---|")
    for kind in kinds:
        calls = ragft[kind]["calls"]
        kinds_ms = {name: own[kind][name] for name in TRANSACTIONS}
        restated = (
            bolt + slack_ms(costs, calls) + with_transactions(kinds_ms, own[kind]["round"], calls)
        )
        cpu = ragft[kind]["cpu_ms"]
        print(f"| {kind} | {restated:.2f} ms | {restated / bolt:.1f} | {cpu / restated:.2f} |")


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
