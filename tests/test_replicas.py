"""Two replicas on one PostgreSQL: the messages end up showing what the database holds.

Two real ``ragft serve --http`` processes share a database; 200 answer clicks on one question
are split between them while Slack answers each ``chat.update`` after a random 0-400 ms, so
updates complete out of the order they were sent in. Once the clicks stop, every message of the
thread must show the database's state: the counts, and exactly the blocks a fresh render gives.
Twenty runs, each on a new decision.
"""

from __future__ import annotations

import asyncio
import os
import random
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from bot.domain.questions import AnswerKey
from bot.services import decision_records
from handlers.thread_renders import build_message
from handlers.ui.ids import ActionId, action_id, pack
from storage.db import session_factory
from tests.fakes import signing
from tests.fakes.slack_api import FakeSlack
from tests.slack_app import text_of

RAGFT = str(Path(sys.executable).with_name("ragft"))
RUNS = 20
CLICKS = 200
VOTERS = 150  # fewer voters than clicks: some change their answer, on the other replica
VALUES = ("knowledge", "behavior", "both")
LABELS = {"knowledge": "Knowledge", "behavior": "Behavior", "both": "Both"}
JITTER = 0.4
QUIET = 0.75
TOKENS = ("xoxb-replica-a", "xoxb-replica-b")
"""Each replica's bot token, so the fake Slack can tell their calls apart."""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start(
    fake: FakeSlack, database_url: str, cwd: Path, log: Path, token: str
) -> tuple[subprocess.Popen[str], str]:
    """A server writing its output to ``log`` (a pipe nobody reads would fill and block it)."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "OPENAI_"))}
    env.update(
        SLACK_BOT_TOKEN=token,
        SLACK_SIGNING_SECRET=signing.SIGNING_SECRET,
        SLACK_API_URL=fake.url,
        DATABASE_URL=database_url,
    )
    with log.open("w") as output:  # the child keeps its own descriptor
        process = subprocess.Popen(
            [RAGFT, "serve", "--http", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            cwd=cwd,
            stdout=output,
            stderr=subprocess.STDOUT,
            text=True,
        )
    return process, f"http://127.0.0.1:{port}"


def _wait_healthy(process: subprocess.Popen[str], base: str) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail("server did not become healthy")
        time.sleep(0.1)


@pytest.fixture
def replicas(fake_slack: FakeSlack, postgres_databases, tmp_path: Path) -> Iterator[Any]:
    database_url = postgres_databases.migrated()
    logs = [tmp_path / f"replica-{i}.log" for i in range(2)]
    started = [
        _start(fake_slack, database_url, tmp_path, log, token)
        for log, token in zip(logs, TOKENS, strict=True)
    ]
    for process, base in started:
        _wait_healthy(process, base)
    yield database_url, [base for _, base in started]
    for process, _ in started:
        process.send_signal(signal.SIGINT)
    for (process, _), log in zip(started, logs, strict=True):
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        output = log.read_text()
        assert "Traceback" not in output and "ERROR" not in output, output[-5000:]


@pytest.fixture
async def sessions_of(replicas) -> AsyncIterator[Any]:
    database_url, _ = replicas
    url = re.sub(r"^postgresql(\+\w+)?://", "postgresql+psycopg://", database_url)
    engine = create_async_engine(url)
    yield session_factory(engine)
    await engine.dispose()


async def _settled(fake: FakeSlack, sessions: Any, decision_id: int, voters: int) -> None:
    """Until the clicks have all been handled and nothing moves any more: every voter's answer
    is stored, and for ``QUIET`` seconds the decision's version stays put, no message is leased
    for an update, and Slack has nothing in flight and hears nothing new."""
    seen: tuple[int, ...] = ()
    since = time.monotonic()
    deadline = since + 60
    while time.monotonic() < deadline:
        async with sessions() as session:
            row = (
                await session.execute(
                    text(
                        "SELECT (SELECT version FROM decision WHERE id = :d),"
                        " (SELECT count(*) FROM answer WHERE decision_id = :d),"
                        " (SELECT count(*) FROM messagerender"
                        "  WHERE decision_id = :d AND leased_by IS NOT NULL)"
                    ),
                    {"d": decision_id},
                )
            ).one()
        now = (len(fake.calls), *row)
        if now != seen or fake.in_flight() or row[1] < voters or row[2]:
            seen, since = now, time.monotonic()
        elif time.monotonic() - since >= QUIET:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"decision #{decision_id} never settled: {seen}")


async def _start_decision(http: httpx.AsyncClient, base: str, fake: FakeSlack, title: str) -> None:
    posts = len(fake.calls_to("chat.postMessage"))
    body, headers = signing.slash_command(
        text=f"start {title}", response_url=fake.response_url("cmd")
    )
    response = await http.post(f"{base}/slack/events", content=body, headers=headers)
    assert response.status_code == 200
    await fake.wait_for("chat.postMessage", posts + 5, timeout=20)


async def _click(
    http: httpx.AsyncClient,
    gate: asyncio.Semaphore,
    fake: FakeSlack,
    decision_id: int,
    base: str,
    user: str,
    value: str,
) -> None:
    payload = signing.block_action(
        action_id=action_id(ActionId.ANSWER, "problem_type", value),
        value=pack(decision_id, "problem_type", value),
        user_id=user,
        response_url=fake.response_url(f"act-{user}"),
    )
    body, headers = signing.interactive(payload)
    async with gate:
        response = await http.post(f"{base}/slack/events", content=body, headers=headers)
    assert response.status_code == 200


def _plain(blocks: list[Any]) -> list[dict[str, Any]]:
    return [block if isinstance(block, dict) else block.to_dict() for block in blocks]


async def test_two_replicas_with_jittery_slack_end_on_the_database_state(
    fake_slack: FakeSlack, replicas, sessions_of
) -> None:
    _, bases = replicas
    fake_slack.jitter("chat.update", JITTER, seed=20261201)
    rng = random.Random(14)
    wrong: list[str] = []
    # No idle keep-alive connections: uvicorn closes them after 5 s, racing a reuse.
    limits = httpx.Limits(max_keepalive_connections=0)
    async with httpx.AsyncClient(timeout=30, limits=limits) as http:
        for run in range(RUNS):
            await _start_decision(http, bases[run % 2], fake_slack, f"Replica run {run} decision")
            async with sessions_of() as session:
                decisions = await decision_records.channel_decisions(
                    session=session,
                    team_id=signing.DEFAULT_TEAM,
                    channel_id=signing.DEFAULT_CHANNEL,
                )
            decision_id = max(d.id for d in decisions if d.id is not None)
            clicks = [
                (bases[i % 2], f"U{run:02d}V{rng.randrange(VOTERS):04d}", rng.choice(VALUES))
                for i in range(CLICKS)
            ]
            gate = asyncio.Semaphore(CLICKS)  # all in flight at once
            await asyncio.gather(
                *(_click(http, gate, fake_slack, decision_id, *click) for click in clicks)
            )
            voters = len({user for _, user, _ in clicks})
            await _settled(fake_slack, sessions_of, decision_id, voters)

            async with sessions_of() as session:
                state = await decision_records.current_state(
                    session=session, team_id=signing.DEFAULT_TEAM, decision_id=decision_id
                )
            # Two clicks of one voter (a change, or the same value twice: a withdrawal) race
            # on the two replicas: the database decides the answer, and the messages follow it.
            votes = state.choices[AnswerKey.PROBLEM_TYPE].votes
            counts = {value: len(votes.get(value, ())) for value in VALUES}
            assert sum(counts.values()) == voters  # every voter once: no click was lost
            channel = state.decision.channel_id
            for key, ts in state.decision.message_ts.items():
                shown = fake_slack.message(channel, ts)
                expected = build_message(state, key)  # type: ignore[arg-type]
                if shown["blocks"] != _plain(expected.blocks) or shown["text"] != expected.text:
                    wrong.append(f"run {run}: the {key} message is stale")
            q1 = text_of(fake_slack.message(channel, state.decision.message_ts["problem_type"]))
            for value, count in counts.items():
                if count and f"*{LABELS[value]}* ({count})" not in q1:
                    wrong.append(f"run {run}: Q1 doesn't show {LABELS[value]} ({count})")
    assert wrong == [], wrong


async def test_a_slow_update_from_one_replica_never_overwrites_a_newer_one(
    fake_slack: FakeSlack, replicas, sessions_of
) -> None:
    """Replica A's Slack calls take 1.5 s more. A click on A starts A's update; a second click,
    on B, lands while A's update is in flight. B must not send its newer render, to have A's
    older one arrive after it: A holds the message, and once its update is in, A sees the
    newer version and sends that too."""
    _, (a, b) = replicas
    async with httpx.AsyncClient(timeout=30) as http:
        await _start_decision(http, b, fake_slack, "Slow replica decision")
        async with sessions_of() as session:
            decisions = await decision_records.channel_decisions(
                session=session, team_id=signing.DEFAULT_TEAM, channel_id=signing.DEFAULT_CHANNEL
            )
        decision_id = max(d.id for d in decisions if d.id is not None)
        fake_slack.token_delays[TOKENS[0]] = 1.5
        gate = asyncio.Semaphore(1)
        updates = fake_slack.arrived("chat.update")
        await _click(http, gate, fake_slack, decision_id, a, "U0FIRST001", "knowledge")
        while fake_slack.arrived("chat.update") == updates:  # noqa: ASYNC110 - A's update is on its way
            await asyncio.sleep(0.01)
        await _click(http, gate, fake_slack, decision_id, b, "U0SECOND02", "behavior")
        await _settled(fake_slack, sessions_of, decision_id, 2)
    fake_slack.token_delays.clear()
    async with sessions_of() as session:
        state = await decision_records.current_state(
            session=session, team_id=signing.DEFAULT_TEAM, decision_id=decision_id
        )
    q1_ts = state.decision.message_ts["problem_type"]
    q1_updates = [c for c in fake_slack.calls_to("chat.update") if c.args.get("ts") == q1_ts]
    senders = [c.token for c in q1_updates]  # in the order Slack applied them
    assert senders and senders[0] == TOKENS[0], senders  # B waited for A's update to land
    q1 = text_of(fake_slack.message(state.decision.channel_id, q1_ts))
    assert "*Knowledge* (1): <@U0FIRST001>" in q1
    assert "*Behavior* (1): <@U0SECOND02>" in q1
