"""Stopping ``ragft serve`` with SIGTERM or SIGINT, as a platform does: real server processes
(HTTP under uvicorn, and Socket Mode against the fake's WebSocket), real SQLite and PostgreSQL,
and ``ragft sweep`` as the second replica that takes over."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import make_url
from sqlmodel import select

from handlers.shutdown import GRACE
from storage.db import create_engine, session_factory
from storage.models import Decision, Reminder
from tests.fakes import signing
from tests.fakes.slack_api import FakeSlack
from tests.slack_app import CHANNEL, FACILITATOR, SlackApp, text_of
from tests.test_cli import run
from tests.test_routine_slack import decided

RAGFT = str(Path(sys.executable).with_name("ragft"))
PASSWORD = "secretpw-shutdown"
EXIT_WITHIN = GRACE  # 10 s


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def with_password(db_url: str) -> str:
    """PostgreSQL's test server trusts local connections, so a password in the URL is accepted
    and ignored: it shows whether ragft ever prints it."""
    url = make_url(db_url)
    if url.get_backend_name() != "postgresql":
        return db_url
    return url.set(password=PASSWORD).render_as_string(hide_password=False)


def wait_until(condition: Callable[[], object], what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.05)


class Serve:
    """A ``ragft serve`` process; ``stop(sig)`` signals it and returns (exit code, seconds)."""

    def __init__(self, fake: FakeSlack, db_url: str, cwd: Path, *, socket_mode: bool) -> None:
        self.port = _free_port()
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "OPENAI_"))}
        self.env.update(
            SLACK_BOT_TOKEN="xoxb-test-token",
            SLACK_API_URL=fake.url,
            DATABASE_URL=with_password(db_url),
        )
        argv = [RAGFT, "serve", "--host", "127.0.0.1", "--port", str(self.port)]
        if socket_mode:  # with --port, Socket Mode serves /healthz there
            self.env["SLACK_APP_TOKEN"] = "xapp-1-test-token"
        else:
            self.env["SLACK_SIGNING_SECRET"] = signing.SIGNING_SECRET
            argv.append("--http")
        self.base = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            argv,
            env=self.env,
            cwd=cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.output = ""

    def alive(self) -> bool:
        if self.process.poll() is not None:
            self.output += self.process.stdout.read()
            pytest.fail(f"ragft serve exited early ({self.process.returncode}):\n{self.output}")
        return True

    def healthy(self) -> bool:
        self.alive()
        try:
            return httpx.get(f"{self.base}/healthz", timeout=1).status_code == 200
        except httpx.TransportError:
            return False

    def send(self, sig: signal.Signals = signal.SIGTERM) -> None:
        self.signalled = time.monotonic()
        self.process.send_signal(sig)

    def exited(self) -> tuple[int, float]:
        """Wait for the exit after ``send``: (exit code, seconds since the signal)."""
        try:
            self.output += self.process.communicate(timeout=EXIT_WITHIN + 5)[0]
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.output += self.process.communicate()[0]
            pytest.fail(f"ragft serve did not exit after the signal:\n{self.output}")
        return self.process.returncode, time.monotonic() - self.signalled

    def stop(self, sig: signal.Signals = signal.SIGTERM) -> tuple[int, float]:
        self.send(sig)
        return self.exited()

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.communicate()


@pytest.fixture
def serving(fake_slack, db_url, tmp_path) -> Iterator[Callable[..., Serve]]:
    started: list[Serve] = []

    def start(*, socket_mode: bool = False) -> Serve:
        server = Serve(fake_slack, db_url, tmp_path, socket_mode=socket_mode)
        started.append(server)
        wait_until(server.healthy, "/healthz")
        if socket_mode:
            wait_until(lambda: server.alive() and fake_slack.open_sockets() == 1, "the socket")
        return server

    yield start
    for server in started:
        server.kill()


async def _due_review(fake: FakeSlack, db_url: str) -> tuple[Decision, int]:
    """A decided decision whose quarterly review fell due a day ago."""
    engine = create_engine(db_url)
    sessions = session_factory(engine)
    try:
        app = SlackApp(fake, engine, sessions)
        decision = await decided(app)
        await app.close()
        async with sessions() as session, session.begin():
            [review] = (await session.exec(select(Reminder))).all()
            review.due_at = datetime.now(UTC) - timedelta(days=1)
            session.add(review)
        fake.clear()
        return decision, review.id
    finally:
        await engine.dispose()


def due_review(fake: FakeSlack, db_url: str) -> tuple[Decision, int]:
    return asyncio.run(_due_review(fake, db_url))


def reminder(db_url: str, reminder_id: int) -> Reminder:
    async def read() -> Reminder:
        engine = create_engine(db_url)
        try:
            async with session_factory(engine)() as session:
                return await session.get(Reminder, reminder_id)
        finally:
            await engine.dispose()

    return asyncio.run(read())


def reviews_posted(fake: FakeSlack, decision: Decision) -> int:
    thread = fake.messages(CHANNEL, thread_ts=decision.thread_ts)
    return sum("Quarterly review" in text_of(m) for m in thread)


def assert_clean(server: Serve) -> None:
    assert "Traceback" not in server.output, server.output
    assert PASSWORD not in server.output
    assert "xoxb-test-token" not in server.output and signing.SIGNING_SECRET not in server.output
    assert "ragft stopped" in server.output
    assert "will be unused" not in server.output  # Bolt's false alarm (handlers/app.py)


def sweep_now(fake: FakeSlack, db_url: str) -> subprocess.CompletedProcess:
    env = {"SLACK_BOT_TOKEN": "xoxb-test", "SLACK_API_URL": fake.url, "DATABASE_URL": db_url}
    return run("sweep", env=env)


def refuses_new_connections(server: Serve) -> None:
    """Soon after the signal the listening socket is closed: no new work comes in."""
    time.sleep(0.5)
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{server.base}/healthz", timeout=1)


def wait_for_a_post(fake: FakeSlack, after: int) -> None:
    """Until more than ``after`` ``chat.postMessage`` have arrived: ``arrived`` also counts the
    set-up's posts (``clear`` keeps them), so ``>= 1`` passed before the sweep had begun."""
    wait_until(lambda: fake.arrived("chat.postMessage") > after, "the review to be posting")


def signalled_mid_sweep(fake, db_url, serving, *, socket_mode: bool, sig=signal.SIGTERM):
    """Start a server whose first sweep is stuck posting a review, signal it, and check that it
    exited 0 in time and handed the review back. Returns the decision."""
    decision, review_id = due_review(fake, db_url)
    fake.slow("chat.postMessage", 60)  # Slack takes a minute: the sweep is in progress
    posts = fake.arrived("chat.postMessage")
    server = serving(socket_mode=socket_mode)
    wait_for_a_post(fake, posts)
    held = reminder(db_url, review_id)
    assert held.status == "pending" and held.claimed_by and held.attempts == 1

    server.send(sig)
    refuses_new_connections(server)
    code, seconds = server.exited()
    assert code == 0, server.output
    assert seconds < EXIT_WITHIN, f"took {seconds:.1f} s\n{server.output}"
    assert_clean(server)
    assert "handed back 1 reminder(s)" in server.output
    released = reminder(db_url, review_id)
    assert released.status == "pending" and released.claimed_by is None
    assert released.claimed_at is None and released.attempts == 0  # stopping isn't failing
    assert reviews_posted(fake, decision) == 0  # the stuck post was never answered
    return decision


def test_http_server_stops_mid_sweep_and_another_process_sends_the_review_at_once(
    fake_slack, db_url, serving
):
    decision = signalled_mid_sweep(fake_slack, db_url, serving, socket_mode=False)
    fake_slack.slow("chat.postMessage", 0)
    started = time.monotonic()
    result = sweep_now(fake_slack, db_url)  # a second replica, right away: no 10-minute lease
    assert result.returncode == 0, result.stderr
    [line] = result.stdout.splitlines()
    assert line.startswith("sent ") and f"#{decision.id} review" in line
    assert time.monotonic() - started < 30
    assert reviews_posted(fake_slack, decision) == 1


@pytest.mark.parametrize("backend", ["sqlite"])
def test_sigint_stops_the_http_server_the_same_way(fake_slack, db_url, serving):
    decision = signalled_mid_sweep(
        fake_slack, db_url, serving, socket_mode=False, sig=signal.SIGINT
    )
    fake_slack.slow("chat.postMessage", 0)
    assert sweep_now(fake_slack, db_url).stdout.startswith("sent ")
    assert reviews_posted(fake_slack, decision) == 1


@pytest.mark.parametrize("backend", ["sqlite"])
def test_a_second_signal_stops_at_once_and_still_hands_the_review_back(fake_slack, db_url, serving):
    decision, review_id = due_review(fake_slack, db_url)
    fake_slack.slow("chat.postMessage", 60)
    posts = fake_slack.arrived("chat.postMessage")
    server = serving()
    wait_for_a_post(fake_slack, posts)
    server.send(signal.SIGINT)
    time.sleep(0.5)
    server.send(signal.SIGINT)  # Ctrl+C again: no waiting for the stuck post
    code, seconds = server.exited()
    assert code == 0 and seconds < 3, f"took {seconds:.1f} s\n{server.output}"
    assert_clean(server)
    assert "SIGINT again: stopping now" in server.output
    released = reminder(db_url, review_id)
    assert released.status == "pending" and released.claimed_by is None
    fake_slack.slow("chat.postMessage", 0)
    assert sweep_now(fake_slack, db_url).stdout.startswith("sent ")
    assert reviews_posted(fake_slack, decision) == 1


def test_socket_mode_stops_mid_sweep_closes_the_socket_and_hands_the_review_back(
    fake_slack, db_url, serving
):
    decision = signalled_mid_sweep(fake_slack, db_url, serving, socket_mode=True)
    assert fake_slack.open_sockets() == 0
    fake_slack.slow("chat.postMessage", 0)
    result = sweep_now(fake_slack, db_url)
    assert result.returncode == 0 and result.stdout.startswith("sent "), result.stderr
    assert reviews_posted(fake_slack, decision) == 1


def posted_texts(fake: FakeSlack) -> list[str]:
    return [c.args.get("text", "") for c in fake.calls_to("chat.postMessage")]


@pytest.mark.parametrize("backend", ["sqlite"])
def test_http_server_finishes_a_command_in_flight_but_takes_no_new_connection(
    fake_slack, db_url, serving
):
    fake_slack.slow("chat.postMessage", 0.5)  # the command's five posts take ~2.5 s
    server = serving()
    body, headers = signing.slash_command(
        text="start Billing assistant", response_url=fake_slack.response_url("cmd")
    )
    answered = httpx.post(f"{server.base}/slack/events", content=body, headers=headers)
    assert answered.status_code == 200  # acked; the listener goes on posting the questions
    wait_until(lambda: fake_slack.arrived("chat.postMessage") >= 1, "the first post")
    server.send(signal.SIGTERM)
    refuses_new_connections(server)
    code, seconds = server.exited()
    assert code == 0 and seconds < EXIT_WITHIN, server.output
    assert_clean(server)
    assert fake_slack.arrived("chat.postMessage") == len(fake_slack.calls_to("chat.postMessage"))
    assert len(posted_texts(fake_slack)) == 5  # the root message and the four questions


@pytest.mark.parametrize("backend", ["sqlite"])
def test_socket_mode_acks_and_finishes_an_envelope_in_flight(fake_slack, db_url, serving):
    fake_slack.slow("chat.postMessage", 0.5)
    server = serving(socket_mode=True)
    payload = dict(signing.SLASH_COMMAND)
    payload.update(
        text="start Billing assistant",
        user_id=FACILITATOR,
        response_url=fake_slack.response_url("cmd"),
        trigger_id="13345224609.738474920.8088930838d88f008e0",
    )
    fake_slack.send_envelope(
        {
            "envelope_id": "env-shutdown-1",
            "type": "slash_commands",
            "accepts_response_payload": True,
            "payload": payload,
        }
    )
    wait_until(
        lambda: any(a.get("envelope_id") == "env-shutdown-1" for a in fake_slack.acks), "ack"
    )
    code, seconds = server.stop(signal.SIGTERM)
    assert code == 0 and seconds < EXIT_WITHIN, server.output
    assert_clean(server)
    assert len(posted_texts(fake_slack)) == 5
    assert fake_slack.open_sockets() == 0


def decisions(db_url: str) -> list[Decision]:
    async def read() -> list[Decision]:
        engine = create_engine(db_url)
        try:
            async with session_factory(engine)() as session:
                return list((await session.exec(select(Decision))).all())
        finally:
            await engine.dispose()

    return asyncio.run(read())


def test_stopping_with_a_burst_queued_leaves_no_decision_half_posted(fake_slack, db_url, serving):
    """40 /ragft, each thread 5 s to post, 16 at a time; the signal comes while the first 16
    post. Those finish (or, cut short, are archived: hidden); the rest never start, and each
    facilitator is told to run the command again."""
    fake_slack.slow("chat.postMessage", 1.0)
    server = serving()
    for i in range(40):
        body, headers = signing.slash_command(
            text=f"start Billing assistant number {i}",
            response_url=fake_slack.response_url(f"cmd-{i}"),
        )
        response = httpx.post(f"{server.base}/slack/events", content=body, headers=headers)
        assert response.status_code == 200
    wait_until(lambda: fake_slack.arrived("chat.postMessage") >= 16, "the first posts")
    server.send(signal.SIGTERM)
    code, seconds = server.exited()
    assert code == 0 and seconds < EXIT_WITHIN, server.output
    assert_clean(server)
    started = decisions(db_url)
    assert 16 <= len(started) < 40  # the threads being posted finish; no queued one starts
    for decision in started:
        posted = decision.thread_ts and len(decision.message_ts) == 5
        assert decision.status == "archived" or posted, (decision, server.output)
    assert f"{40 - len(started)} /ragft acknowledged but not started" in server.output
    told = [c for c in fake_slack.calls_to("response_url") if "run the same" in c.args["text"]]
    assert len(told) == 40 - len(started)
    assert {c.path for c in told}.isdisjoint(f"cmd-{i}" for i in range(16))
