"""Shared plumbing: the fake Slack process, server processes, databases, signed requests, load."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from bench import checkout
from bench.databases import query
from handlers.ui.ids import ActionId, action_id, pack
from tests.fakes import signing

ROOT = Path(__file__).resolve().parents[1]
BOT_TOKEN = "xoxb-bench-token"
SECRET = signing.SIGNING_SECRET
CHANNEL = signing.DEFAULT_CHANNEL
BOT_USER = "U0BOT00001"
Signed = tuple[bytes, dict[str, str]]


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def ragft_command() -> list[str]:
    exe = Path(sys.executable).with_name("ragft")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "bot.cli"]


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100) of a non-empty sequence."""
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * p // 100))
    return ordered[int(rank) - 1]


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


def hwm_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmHWM for {pid}")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time the process has used (from /proc/<pid>/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# --------------------------------------------------------------------------- the fake Slack


class FakeSlackProcess:
    """``bench.fake_slack`` in its own process; ``url`` is its Web API base URL."""

    def __init__(self, delay: float = 0.2) -> None:
        self.delay = delay
        self.proc: subprocess.Popen[str] | None = None
        self.url = ""

    def __enter__(self) -> FakeSlackProcess:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bench.fake_slack", "--delay", str(self.delay)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        self.url = self.proc.stdout.readline().strip()
        if not self.url.startswith("http"):
            raise RuntimeError("the fake Slack did not start")
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    @property
    def origin(self) -> str:
        return self.url.removesuffix("/api/")

    def response_url(self, key: str) -> str:
        return f"{self.origin}/hooks/{key}"

    async def stats(self, http: aiohttp.ClientSession) -> dict[str, Any]:
        async with http.get(f"{self.origin}/bench/stats") as response:
            return await response.json()

    async def updates(self, http: aiohttp.ClientSession, since: int = 0) -> dict[str, Any]:
        """``{"updates": [...], "next": i}``: the chat.update calls answered from ``since`` on."""
        async with http.get(f"{self.origin}/bench/updates", params={"since": since}) as response:
            return await response.json()


# --------------------------------------------------------------------------------- servers


@dataclass
class Server:
    """A server under test, as a real process: ``ragft serve --http`` or ``bench.bare_bolt``."""

    name: str
    argv: list[str]
    env: dict[str, str]
    port: int
    database_url: str | None = None
    proc: subprocess.Popen[bytes] | None = None
    workdir: str = field(default_factory=lambda: tempfile.mkdtemp(prefix="ragft-bench-srv-"))
    started_at: float = 0.0

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def start(self) -> None:
        log_file = open(Path(self.workdir) / "server.log", "wb")  # noqa: SIM115 - kept open
        self.started_at = time.perf_counter()
        # cwd is an empty directory: no stray .env is read.
        self.proc = subprocess.Popen(
            self.argv, env=self.env, cwd=self.workdir, stdout=log_file, stderr=subprocess.STDOUT
        )

    async def wait_healthy(self, timeout: float = 60.0, interval: float = 0.01) -> float:  # noqa: ASYNC109
        """Poll ``GET /healthz`` until 200; returns seconds since ``start()``."""
        deadline = time.perf_counter() + timeout
        async with aiohttp.ClientSession() as http:
            while time.perf_counter() < deadline:
                assert self.proc is not None
                if self.proc.poll() is not None:
                    raise RuntimeError(f"{self.name} exited: {self.log_tail()}")
                with contextlib.suppress(aiohttp.ClientError, OSError):
                    async with http.get(f"{self.base}/healthz") as response:
                        if response.status == 200:
                            return time.perf_counter() - self.started_at
                await asyncio.sleep(interval)
        raise RuntimeError(f"{self.name} not healthy after {timeout}s: {self.log_tail()}")

    def log_tail(self, lines: int = 30) -> str:
        path = Path(self.workdir) / "server.log"
        text = path.read_text(errors="replace") if path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def errors_logged(self) -> list[str]:
        path = Path(self.workdir) / "server.log"
        text = path.read_text(errors="replace") if path.exists() else ""
        return [line for line in text.splitlines() if " ERROR " in line or "Traceback" in line]

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if errors := self.errors_logged():  # keep the log to read
            kept = Path(tempfile.gettempdir()) / "ragft-bench-logs"
            kept.mkdir(exist_ok=True)
            slug = "".join(c if c.isalnum() else "-" for c in self.name).strip("-")
            name = f"{slug}-{time.strftime('%H%M%S')}.log"
            with contextlib.suppress(OSError):
                shutil.copy(Path(self.workdir) / "server.log", kept / name)
                log(f"{self.name}: {len(errors)} error lines logged, log kept in {kept / name}")
        shutil.rmtree(self.workdir, ignore_errors=True)


def _env(fake_url: str, database_url: str | None, pythonpath: Path) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("SLACK_", "OPENAI_", "DATABASE_URL", "PORT"))
    }
    env.update(
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_SIGNING_SECRET=SECRET,
        SLACK_API_URL=fake_url,
        PYTHONPATH=str(pythonpath),
        PYTHONUNBUFFERED="1",
    )
    if database_url:
        env["DATABASE_URL"] = database_url
    return env


def ragft_server(name: str, fake_url: str, database_url: str) -> Server:
    port = free_port()
    argv = [*ragft_command(), "serve", "--http", "--host", "127.0.0.1", "--port", str(port)]
    env = _env(fake_url, database_url, checkout.RAGFT_SRC)
    return Server(name, argv, env, port, database_url)


def bare_bolt_server(fake_url: str) -> Server:
    port = free_port()
    argv = [sys.executable, "-m", "bench.bare_bolt", "--host", "127.0.0.1", "--port", str(port)]
    return Server("bare Bolt", argv, _env(fake_url, None, ROOT), port)


# ------------------------------------------------------------------------- signed requests


def command(fake: FakeSlackProcess, title: str, user: str = signing.DEFAULT_USER) -> Signed:
    return signing.slash_command(
        text=title, user_id=user, response_url=fake.response_url(f"cmd-{user}")
    )


def answer_click(
    fake: FakeSlackProcess,
    decision_id: int,
    user: str,
    value: str = "knowledge",
    question: str = "problem_type",
    thread_ts: str | None = None,
) -> Signed:
    payload = signing.block_action(
        action_id=action_id(ActionId.ANSWER, question, value),
        value=pack(decision_id, question, value),
        user_id=user,
        thread_ts=thread_ts or signing.DEFAULT_THREAD_TS,
        response_url=fake.response_url(f"act-{user}"),
    )
    return signing.interactive(payload)


def mention(thread_ts: str, event_id: str, user: str = signing.DEFAULT_USER) -> Signed:
    event = signing.app_mention(
        text=f"<@{BOT_USER}> fail: quoted last year's prices", user_id=user, thread_ts=thread_ts
    )
    return signing.event(event, event_id=event_id)


def question_messages(database_url: str, key: str = "problem_type") -> dict[int, tuple[str, str]]:
    """``{decision id: (channel, ts)}`` of each posted decision's ``key`` question message."""
    rows = query(database_url, "SELECT id, channel_id, message_ts FROM decision")
    found: dict[int, tuple[str, str]] = {}
    for decision_id, channel, posted in rows:
        posted = json.loads(posted) if isinstance(posted, str) else (posted or {})
        if posted.get(key):
            found[int(decision_id)] = (str(channel), str(posted[key]))
    return found


def decisions_with_threads(database_url: str) -> list[tuple[int, str]]:
    rows = query(
        database_url,
        "SELECT id, thread_ts FROM decision WHERE thread_ts IS NOT NULL ORDER BY id",
    )
    return [(int(i), str(ts)) for i, ts in rows]


# ------------------------------------------------------------------------------------ load


@dataclass
class LoadResult:
    latencies: list[float]  # seconds, one per request, in completion order
    kinds: list[str]  # the kind of each request, parallel to ``latencies``
    statuses: dict[int, int]
    wall: float
    order: list[int] = field(default_factory=list)  # index in the requests given, parallel
    sent_at: list[float] = field(default_factory=list)  # time.time() when sent, parallel
    status_of: list[int] = field(default_factory=list)  # HTTP status, parallel

    @property
    def count(self) -> int:
        return len(self.latencies)

    def of(self, kind: str) -> list[float]:
        return [t for t, k in zip(self.latencies, self.kinds, strict=True) if k == kind]

    async def post(
        self, http: aiohttp.ClientSession, base: str, index: int, kind: str, signed: Signed
    ) -> None:
        """Send request ``index`` and record its ack."""
        body, headers = signed
        sent_at = time.time()
        begin = time.perf_counter()
        async with http.post(f"{base}/slack/events", data=body, headers=headers) as r:
            await r.read()
        self.latencies.append(time.perf_counter() - begin)
        self.kinds.append(kind)
        self.order.append(index)
        self.sent_at.append(sent_at)
        self.status_of.append(r.status)
        self.statuses[r.status] = self.statuses.get(r.status, 0) + 1


async def fire(base: str, requests: Sequence[tuple[str, Signed]], concurrency: int) -> LoadResult:
    """POST each ``(kind, signed request)`` to ``base``/slack/events, ``concurrency`` at a time
    (a closed loop: each worker sends its next request once the previous one was answered)."""
    queue: asyncio.Queue[tuple[int, tuple[str, Signed]]] = asyncio.Queue()
    for item in enumerate(requests):
        queue.put_nowait(item)
    result = LoadResult([], [], {}, 0.0)
    connector = aiohttp.TCPConnector(limit=concurrency)
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as http:

        async def worker() -> None:
            while True:
                try:
                    index, (kind, signed) = queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                await result.post(http, base, index, kind, signed)

        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        result.wall = time.perf_counter() - began
    return result


async def settle(
    fake: FakeSlackProcess,
    probe: Any = None,
    *,
    quiet: float = 1.5,
    limit: float = 180.0,
    pids: Sequence[int] = (),
) -> float:
    """Wait until the fake has seen no new call (and ``probe()``, if given, has not changed, and
    the processes ``pids`` have used less than 0.1 s of CPU) for ``quiet`` seconds: the servers'
    work after their acks is done. Returns seconds waited. (A server busy on its backlog can
    go more than ``quiet`` without a Slack call; its CPU shows it is not done.)"""
    began = time.perf_counter()
    async with aiohttp.ClientSession() as http:
        last: Any = None
        stable_since = time.perf_counter()
        while time.perf_counter() - began < limit:
            stats = await fake.stats(http)
            now = (
                stats["total"],
                await asyncio.to_thread(probe) if probe else None,
                tuple(int(cpu_seconds(pid) * 10) for pid in pids),
            )
            if now != last:
                last, stable_since = now, time.perf_counter()
            elif time.perf_counter() - stable_since >= quiet:
                break
            await asyncio.sleep(0.25)
    return time.perf_counter() - began


async def cpu_per_call(
    call: Callable[[int], Awaitable[Any]], count: int = 600, at_once: int = 10
) -> float:
    """Milliseconds of this process's CPU per call, ``at_once`` at a time."""
    await asyncio.gather(*(call(i) for i in range(at_once)))  # warm: pools, caches
    began = time.process_time()
    for start in range(0, count, at_once):
        await asyncio.gather(*(call(i) for i in range(start, start + at_once)))
    return (time.process_time() - began) * 1000 / count


def fmt_ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}"


def dumps(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=True, default=str)
