"""Fuzz the real app with signed, mutated Slack payloads on every surface, and malformed bodies.

Seeds the database through ordinary signed requests (decisions, answers, a verdict, a failure),
then sends several hundred payloads from ``tests/fuzz_payloads.py`` (fixed seed), one at a
time: each must be acknowledged in under 3 s with a non-5xx status, and neither the request nor
the work it starts after the ack may log a traceback. ``GET /healthz`` must still answer 200.

``pytest -s`` prints what was sent and what came back. ``RAGFT_FUZZ_DUMP=/some/dir`` also writes
every failing case (payload included) to ``fuzz-<backend>.jsonl`` there.
"""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import os
import random
import time
import traceback
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

import pytest

from handlers.ui.ids import ActionId, CallbackId, InputId
from tests import fuzz_payloads as fuzz
from tests.fakes.openai_api import FakeOpenAI
from tests.slack_app import SlackApp

ROOT = Path(__file__).resolve().parents[1]
PRIYA, MARCO = "U0PRIYA001", "U0MARCO002"
ACK_LIMIT = 3.0
LOGGERS = ["ragft", "slack_bolt", ""]
OURS = ("bot", "handlers", "storage")
QUIET = ["sqlalchemy", "aiosqlite", "psycopg", "httpx", "httpcore", "openai"]


# What went wrong --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Error:
    kind: str  # "5xx", "slow ack", "logged traceback", "error log", "app raised", "task exception"
    exc_type: str = ""
    listener: str = ""  # outermost frame in bot/, handlers/ or storage/
    raised_at: str = ""  # innermost such frame
    last_line: str = ""  # innermost frame of the traceback, and the message


@dataclass
class Outcome:
    case: fuzz.Case
    status: int
    seconds: float
    errors: list[Error] = field(default_factory=list)


def _frame(frame: traceback.FrameSummary) -> str:
    path = Path(frame.filename)
    name = str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else path.name
    return f"{name}:{frame.lineno} {frame.name}"


def _ours(frame: traceback.FrameSummary) -> bool:
    path = Path(frame.filename)
    return path.is_relative_to(ROOT) and path.relative_to(ROOT).parts[0] in OURS


def error_of(kind: str, exc: BaseException, tb: TracebackType | None = None) -> Error:
    frames = traceback.extract_tb(tb or exc.__traceback__)
    ours = [f for f in frames if _ours(f)]
    message = str(exc).splitlines()[0][:160] if str(exc) else ""
    return Error(
        kind=kind,
        exc_type=type(exc).__name__,
        listener=_frame(ours[0]) if ours else "",
        raised_at=_frame(ours[-1]) if ours else "",
        last_line=f"{_frame(frames[-1]) if frames else '?'}: {type(exc).__name__}: {message}",
    )


def errors_in(records: list[logging.LogRecord]) -> list[Error]:
    found = []
    for record in records:
        if record.threadName.startswith("fake-"):
            continue  # the fake Slack or OpenAI server's own log, not the app's
        message = record.getMessage()
        if record.exc_info and record.exc_info[1] is not None:
            found.append(error_of("logged traceback", record.exc_info[1], record.exc_info[2]))
        elif "Traceback" in message:
            last = message.strip().splitlines()[-1]
            found.append(Error("logged traceback", last.split(":")[0], last_line=last[:200]))
        elif record.levelno >= logging.ERROR:
            found.append(Error("error log", record.name, last_line=message[:200]))
    return found


@contextmanager
def errors_only_in_report(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """caplog sees DEBUG, but pytest's "Captured log" section of a failure keeps only errors:
    the assertion message already lists every failure, and the debug lines run to many MB."""
    others = [
        h
        for h in logging.getLogger().handlers
        if isinstance(h, type(caplog.handler)) and h is not caplog.handler
    ]
    levels = [h.level for h in others]
    for handler in others:
        handler.setLevel(logging.ERROR)
    try:
        yield
    finally:
        for handler, level in zip(others, levels, strict=True):
            handler.setLevel(level)


@contextmanager
def tracked_tasks() -> Iterator[list[asyncio.Task[Any]]]:
    """Every task the loop creates, so an exception nobody retrieves is seen at once (asyncio
    would only log it when the task is garbage collected, in some later test)."""
    loop = asyncio.get_running_loop()
    created: list[asyncio.Task[Any]] = []
    previous = loop.get_task_factory()

    def factory(loop: asyncio.AbstractEventLoop, coro: Any, **kw: Any) -> asyncio.Task[Any]:
        task = asyncio.Task(coro, loop=loop, **kw)
        created.append(task)
        return task

    loop.set_task_factory(factory)
    try:
        yield created
    finally:
        loop.set_task_factory(previous)


def task_errors(tasks: list[asyncio.Task[Any]]) -> list[Error]:
    found = []
    for task in tasks:
        if task.done() and not task.cancelled() and task.exception() is not None:
            found.append(error_of("task exception", task.exception()))  # type: ignore[arg-type]
    tasks.clear()
    return found


# Sending ----------------------------------------------------------------------------------------


async def send(
    slack: SlackApp, case: fuzz.Case, caplog: pytest.LogCaptureFixture, tasks: list[Any]
) -> Outcome:
    """Post one case, time its ack, then let its background work finish and collect errors."""
    caplog.clear()
    started = time.perf_counter()
    errors = []
    try:
        response = await slack.post(case.request(), settle=False)
        status = response.status_code
    except Exception as exc:  # the ASGI app raised: a real server answers 500
        status = 500
        errors.append(error_of("app raised", exc))
    seconds = time.perf_counter() - started
    await slack.idle()
    errors += errors_in(caplog.records) + task_errors(tasks)
    if status >= 500 and not errors:
        errors.append(Error("5xx", last_line=f"HTTP {status} with nothing logged"))
    if seconds >= ACK_LIMIT:
        errors.append(Error("slow ack", last_line=f"acked in {seconds:.1f}s"))
    return Outcome(case, status, seconds, errors)


def action_values(node: Any, prefix: str) -> Iterator[str]:
    """Values of elements whose action_id starts with ``prefix``, anywhere in ``node``."""
    if isinstance(node, dict):
        if str(node.get("action_id", "")).startswith(prefix):
            if "value" in node:
                yield node["value"]
            for option in node.get("options") or []:
                yield option["value"]
        for child in node.values():
            yield from action_values(child, prefix)
    elif isinstance(node, list):
        for child in node:
            yield from action_values(child, prefix)


async def seed(slack: SlackApp, *, with_model: bool) -> fuzz.World:
    """Real decisions through ordinary signed requests: one open (answered), one decided with a
    failure, and two the fuzzing team may not touch (another team's, another channel's)."""
    fake = slack.fake
    fake.add_user(PRIYA)
    fake.add_user(MARCO)
    await slack.command("start Billing assistant")
    opened = await slack.decision()
    await slack.answer(opened.id, "problem_type", "knowledge", user=PRIYA)
    await slack.command("start Support triage")
    decided = await slack.decision()
    for question, value in fuzz.QUESTIONS.items():
        await slack.answer(decided.id, question, value, user=MARCO)
    await slack.decide(decided.id)
    await slack.command(f"log {decided.id} quoted last year's prices | https://example.com/1")
    await slack.click(ActionId.REVIEW_FAILURES, str(decided.id))
    view = fake.calls_to("views.open")[-1].args["view"]
    failure_id = int(next(action_values(view, ActionId.CORRECT_FAILURE)).split("|")[0])
    test_id = 1  # no such test unless a model is configured
    if with_model:  # a real perfect-context test, for the judge buttons
        values = {
            input_id: {input_id: fuzz.signing.text_value(text)}
            for input_id, text in [
                (InputId.TEST_QUESTION, "Refund window?"),
                (InputId.TEST_CONTEXT, "Refunds within 30 days."),
                (InputId.TEST_EXPECTED, "30 days"),
            ]
        }
        await slack.submit(CallbackId.CONTEXT_TEST, values, opened.id)
        sent = [c.args for c in fake.calls if c.method in ("chat.update", "chat.postMessage")]
        test_id = int(next(action_values(sent, ActionId.JUDGE_CONTEXT_TEST)).split("|")[0])
    foreign = []
    for kw in ({"team_id": fuzz.OTHER_TEAM}, {"channel": fuzz.OTHER_CHANNEL}):
        await slack.command("Someone else's decision", **kw)
        foreign.append((await slack.decision()).id)
    decided = await slack.decision(decided.id)
    assert decided.status == "decided" and opened.thread_ts and decided.thread_ts
    return fuzz.World(
        team=fuzz.signing.DEFAULT_TEAM,
        channel=fuzz.signing.DEFAULT_CHANNEL,
        facilitator=opened.facilitator_id,
        teammate=PRIYA,
        open_id=opened.id,
        decided_id=decided.id,
        foreign_ids=tuple(foreign),
        failure_id=failure_id,
        test_id=test_id,
        open_thread=opened.thread_ts,
        decided_thread=decided.thread_ts,
        response_url=fake.response_url("fuzz"),
    )


# Reporting --------------------------------------------------------------------------------------


def _trim(node: Any) -> Any:
    if isinstance(node, str | bytes):
        return node if len(node) <= 200 else f"{node[:120]!s}…({len(node)} chars)"
    if isinstance(node, dict):
        return {k: _trim(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_trim(v) for v in node]
    return node


def group(outcomes: list[Outcome]) -> dict[tuple[str, ...], list[Outcome]]:
    groups: dict[tuple[str, ...], list[Outcome]] = defaultdict(list)
    for outcome in outcomes:
        status = "5xx" if outcome.status >= 500 else str(outcome.status)
        for error in dict.fromkeys(outcome.errors):
            line = error.last_line.split(": ")[0] if error.raised_at else error.last_line[:80]
            key = (outcome.case.surface, status, error.kind, error.exc_type, error.raised_at, line)
            groups[key].append(outcome)
    return groups


def describe(groups: dict[tuple[str, ...], list[Outcome]]) -> str:
    lines = []
    for (surface, status, kind, exc_type, raised_at, _), found in sorted(
        groups.items(), key=lambda item: (item[0][0], -len(item[1]))
    ):
        error = next(e for e in found[0].errors if e.kind == kind and e.exc_type == exc_type)
        mutations = "; ".join(dict.fromkeys(o.case.mutation[:90] for o in found[:3]))
        lines.append(
            f"{len(found):3}× {surface} [HTTP {status}] {kind} {exc_type} "
            f"(listener {error.listener or '-'}, raised at {raised_at or '-'})\n"
            f"      last line: {error.last_line}\n      e.g. {mutations}"
        )
    return "\n".join(lines)


def summary(name: str, outcomes: list[Outcome]) -> str:
    signed = [o for o in outcomes if o.case.signed]
    surfaces = Counter(o.case.surface for o in outcomes)
    statuses = Counter(o.status for o in outcomes)
    times = sorted(o.seconds for o in outcomes)
    tracebacks = ("logged traceback", "app raised", "task exception")
    errors = [e for o in outcomes for e in o.errors if e.kind in tracebacks]
    return "\n".join(
        [
            f"fuzz[{name}]: {len(signed)} signed payloads, {len(outcomes) - len(signed)} unsigned",
            "  per surface: " + ", ".join(f"{s} {n}" for s, n in sorted(surfaces.items())),
            "  status codes: " + ", ".join(f"{s}: {n}" for s, n in sorted(statuses.items())),
            f"  tracebacks: {len(errors)} in {sum(1 for o in outcomes if o.errors)} requests; "
            f"slowest ack {times[-1]:.2f}s, p95 {times[int(len(times) * 0.95)]:.3f}s",
        ]
    )


def dump(name: str, failed: list[Outcome]) -> None:
    folder = os.environ.get("RAGFT_FUZZ_DUMP")
    if not folder:
        return
    with open(Path(folder) / f"fuzz-{name}.jsonl", "w") as out:
        for o in failed:
            payload = o.case.payload
            row = {"surface": o.case.surface, "mutation": o.case.mutation, "status": o.status}
            row |= {"seconds": round(o.seconds, 3), "errors": [e.__dict__ for e in o.errors]}
            if isinstance(payload, bytes):
                payload = payload.decode("latin-1")
            row["payload"] = _trim(payload)
            out.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")


# The test ---------------------------------------------------------------------------------------


async def run_fuzz(
    slack: SlackApp,
    name: str,
    caplog: pytest.LogCaptureFixture,
    *,
    per_surface: int = 20,
    with_model: bool = False,
) -> None:
    for logger in LOGGERS:
        caplog.set_level(logging.DEBUG, logger=logger)
    for logger in QUIET:
        caplog.set_level(logging.WARNING, logger=logger)
    with errors_only_in_report(caplog), tracked_tasks() as tasks:
        world = await seed(slack, with_model=with_model)
        seeding = errors_in(caplog.records) + task_errors(tasks)
        seeded = fuzz.Case("seed", "ordinary requests", b"", None, None)
        outcomes = [Outcome(seeded, 200, 0.0, seeding)]
        cases = (
            fuzz.signed_cases(world, random.Random(fuzz.SEED), per_surface) + fuzz.malformed_cases()
        )
        for case in cases:
            outcomes.append(await send(slack, case, caplog, tasks))
        caplog.clear()
        gc.collect()  # unretrieved task exceptions are logged now, if any escaped tracking
        await asyncio.sleep(0)
        late = fuzz.Case("after the run", "garbage-collected tasks", b"", None, None)
        outcomes.append(Outcome(late, 200, 0.0, errors_in(caplog.records) + task_errors(tasks)))
        health = await slack.http.get("/healthz")
    print("\n" + summary(name, outcomes[1:-1]))
    failed = [o for o in outcomes if o.errors]
    dump(name, failed)
    groups = group(failed)
    if groups:
        print(describe(groups))
    assert sum(o.case.signed for o in outcomes) >= 25 * per_surface  # 500 by default
    assert health.status_code == 200, health.text
    distinct = len(groups)
    assert distinct == 0, (
        f"{len(failed)} of {len(outcomes)} requests failed, {len(groups)} distinct failures "
        f"(surface, HTTP status, kind, exception, where):\n{describe(groups)}"
    )


async def test_fuzz(slack: SlackApp, backend: str, caplog: pytest.LogCaptureFixture) -> None:
    await run_fuzz(slack, backend, caplog)


def _model(request: dict[str, Any]) -> Any:
    """A well-behaved model for every call ragft makes (names from its JSON schemas)."""
    name = request["response_format"]["json_schema"]["name"]
    if name == "CategorisedBatch":
        count = request["messages"][-1]["content"].count("\n") + 1
        return {
            "items": [
                {"index": i, "category": "knowledge", "rationale": "stale"}
                for i in range(1, count + 1)
            ]
        }
    replies = {"ModelAnswer": {"answer": "30 days"}, "ContextSummary": {"paragraph": "We chose."}}
    return replies.get(name, {"verdict": "right_with_context", "rationale": "It names 30 days."})


async def test_fuzz_with_a_model(
    fake_slack: Any, engine: Any, sessions: Any, backend: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Fewer of the same, with a model configured: categorising, the perfect-context test and
    the Context draft then take their model paths, and the judge buttons point at a real test."""
    with FakeOpenAI() as openai:
        openai.respond_with(_model)
        slack = SlackApp(
            fake_slack, engine, sessions, openai_api_key="sk-fuzz", openai_base_url=openai.base_url
        )
        try:
            await run_fuzz(slack, f"{backend}+model", caplog, per_surface=8, with_model=True)
        finally:
            await slack.close()
            close = getattr(getattr(slack.runtime, "llm", None), "close", None)
            if close is not None:
                await close()
