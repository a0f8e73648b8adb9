"""Run every benchmark in one go and render the results as Markdown.

    python -m bench                            # print the results (progress goes to stderr)
    python -m bench --out docs/benchmarks.md   # and write them into that file
    python -m bench --quick                    # a small smoke run (not for the record)
    python -m bench --only ack,throughput      # a subset: ack, throughput, sweep, cold, memory

With ``--out``, only the parts of the file between ``<!-- bench:<section>:start/end -->``
markers are replaced (just the sections that ran), so the notes around them stay. PostgreSQL is
``BENCH_POSTGRES_URL`` (default ``postgresql://postgres@127.0.0.1:5432/test``); each benchmark
creates and drops its own databases there. Exits 0 when every benchmark ran, whatever the
figures; 1 if one crashed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import platform
import shlex
import sqlite3
import subprocess
import sys
import time
import traceback
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from bench import ack_latency, cold_start, memory, throughput
from bench.common import (
    POSTGRES_URL,
    ROOT,
    FakeSlackProcess,
    Server,
    bare_bolt_server,
    database,
    log,
    postgres_available,
    query,
    ragft_server,
)

SECTIONS = ("ack", "throughput", "sweep", "cold", "memory")
PACKAGES = (
    "slack_bolt",
    "slack_sdk",
    "uvicorn",
    "starlette",
    "sqlalchemy",
    "sqlmodel",
    "aiosqlite",
    "psycopg",
    "aiohttp",
    "apscheduler",
)
ACK_P99_RATIO_GOAL = 1.25
ACK_DEADLINE = 3.0


def machine() -> dict[str, str]:
    meminfo = Path("/proc/meminfo").read_text().splitlines()
    total_kib = int(next(line for line in meminfo if line.startswith("MemTotal")).split()[1])
    cpu = "?"
    with contextlib.suppress(OSError, StopIteration):
        cpu = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
    versions = []
    for name in PACKAGES:
        with contextlib.suppress(metadata.PackageNotFoundError):
            versions.append(f"{name} {metadata.version(name)}")
    postgres = "unavailable"
    with contextlib.suppress(Exception):
        postgres = str(query(POSTGRES_URL, "SHOW server_version")[0][0])
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpus": f"{len(os.sched_getaffinity(0))} (nproc), {cpu}",
        "memory": f"{total_kib / 1024 / 1024:.1f} GiB",
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "packages": ", ".join(versions),
        "sqlite": sqlite3.sqlite_version,
        "postgresql": postgres,
    }


@contextlib.contextmanager
def servers(fake: FakeSlackProcess, kinds: list[str], bare: bool) -> Iterator[list[Server]]:
    """ragft on each database kind (fresh databases), plus the bare Bolt app if asked."""
    with contextlib.ExitStack() as stack:
        started: list[Server] = []
        if bare:
            started.append(bare_bolt_server(fake.url))
        for kind in kinds:
            url = stack.enter_context(database(kind, "srv"))
            name = "ragft (SQLite)" if kind == "sqlite" else "ragft (PostgreSQL)"
            started.append(ragft_server(name, fake.url, url))
        for server in started:
            stack.callback(server.stop)
            server.start()
        asyncio.run(_all_healthy(started))
        yield started


async def _all_healthy(started: list[Server]) -> None:
    for server in started:
        await server.wait_healthy()


def run_sweep(postgres: bool) -> dict[str, Any]:
    """bench/sweep.py belongs to the scheduler work; run it (as is) if it is there. It finds
    PostgreSQL through ``RAGFT_TEST_POSTGRES_URL``."""
    path = ROOT / "bench" / "sweep.py"
    if not path.exists():
        return {"status": "pending"}
    env = os.environ.copy()
    if postgres:
        env.setdefault("RAGFT_TEST_POSTGRES_URL", POSTGRES_URL)
    argv = [sys.executable, "-m", "bench.sweep"]
    began = time.perf_counter()
    done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=3600, env=env)
    return {
        "status": "ran",
        "command": shlex.join(["python", "-m", "bench.sweep"]),
        "returncode": done.returncode,
        "stdout": done.stdout,
        "stderr_tail": "\n".join(done.stderr.splitlines()[-20:]),
        "seconds": time.perf_counter() - began,
    }


# --------------------------------------------------------------------------------- Markdown


def ms(seconds: float | None) -> str:
    return "—" if seconds is None else f"{seconds * 1000:.1f}"


def render_ack(results: dict[int, dict[str, dict[str, Any]]]) -> list[str]:
    out = [
        "### 1. Acknowledgement latency",
        "",
        "Fake Slack delay 200 ms on every Web API call. A closed loop of `c` concurrent clients; "
        "a third each `/ragft <title>`, answer clicks and `@ragft fail: …` thread mentions. "
        "Times in ms, from sending the request to reading the whole response. "
        "Ratios are ragft ÷ bare Bolt at the same percentile. Server CPU is the server "
        "process's user+system CPU per request while the load ran (in brackets: including "
        "the work after the acks, until the fake Slack went quiet).",
        "",
        "| c | server | requests | p50 | p95 | p99 | max | non-200 | req/s "
        "| p50 ratio | p99 ratio | server CPU ms/req |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    goals: list[str] = []
    for level, by_server in results.items():
        bare = by_server.get("bare Bolt")
        for name, row in by_server.items():
            r50 = r99 = "—"
            if bare and name != "bare Bolt":
                r50 = f"{row['p50'] / bare['p50']:.2f}"
                r99 = f"{row['p99'] / bare['p99']:.2f}"
            out.append(
                f"| {level} | {name} | {row['n']} | {ms(row['p50'])} | {ms(row['p95'])} | "
                f"{ms(row['p99'])} | {ms(row['max'])} | {row['non_200']} | {row['rps']:.0f} | "
                f"{r50} | {r99} | {row['cpu_ms_load']:.1f} ({row['cpu_ms_total']:.1f}) |"
            )
            if name == "bare Bolt":
                continue
            if level == 10 and bare:
                ratio = row["p99"] / bare["p99"]
                verdict = "met" if ratio <= ACK_P99_RATIO_GOAL else "**missed**"
                goals.append(
                    f"- p99 ratio at c=10, {name}: {ratio:.2f} (goal ≤ {ACK_P99_RATIO_GOAL}): "
                    f"{verdict}"
                )
            if level == 50:
                ok = row["max"] < ACK_DEADLINE and row["non_200"] == 0
                goals.append(
                    f"- every ack < 3 s at c=50, {name}: slowest {ms(row['max'])} ms, "
                    f"{row['non_200']} non-200: {'met' if ok else '**missed**'}"
                )
    out += ["", *goals, "", "By request kind (p50 / p99 ms):", ""]
    out += [
        "| c | server | `/ragft` | answer click | mention |",
        "|---:|---|---:|---:|---:|",
    ]
    for level, by_server in results.items():
        for name, row in by_server.items():
            cells = []
            for kind in ack_latency.KINDS:
                k = row["by_kind"].get(kind)
                cells.append(f"{ms(k['p50'])} / {ms(k['p99'])}" if k else "—")
            out.append(f"| {level} | {name} | {' | '.join(cells)} |")
    return out


def render_throughput(results: dict[str, list[dict[str, Any]]]) -> list[str]:
    out = [
        "### 2. Answer throughput and loss",
        "",
        "N distinct users click an answer to the same question of one decision, all N requests "
        "in flight at once. Counted once the database and the fake Slack are quiet. "
        "*All recorded* is the time from the first click until all N rows were in the database.",
        "",
        "| server | N | acked 200 | ack p99 ms | recorded | lost | duplicated | all recorded (s) "
        "| answers/s | Slack calls | calls/click | calls by method |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for name, rows in results.items():
        for row in rows:
            methods = ", ".join(f"{m} {n}" for m, n in sorted(row["by_method"].items()))
            recorded = row["all_recorded_s"]
            rate = row["answers_per_s"]
            out.append(
                f"| {name} | {row['n']} | {row['acked_200']} | {ms(row['ack_p99'])} | "
                f"{row['recorded']} | {row['lost']} | {row['duplicated']} | "
                f"{'—' if recorded is None else f'{recorded:.2f}'} | "
                f"{'—' if rate is None else f'{rate:.0f}'} | {row['slack_calls']} | "
                f"{row['calls_per_click']:.3f} | {methods} |"
            )
    return out


def render_sweep(result: dict[str, Any]) -> list[str]:
    out = ["### 3. Sweeps", ""]
    if result["status"] == "pending":
        return [
            *out,
            "| measurement | result |",
            "|---|---|",
            "| sweep of 100,000 decisions / 1,000 due, time and peak memory, SQLite and "
            "PostgreSQL; 3 concurrent sweepers on PostgreSQL | **PENDING**: `bench/sweep.py` "
            "(scheduler work) did not exist when this run was made; `python -m bench` runs it "
            "when it does |",
        ]
    out += [f"`{result['command']}` (exit {result['returncode']}, {result['seconds']:.0f} s):", ""]
    out += ["```", result["stdout"].rstrip() or "(no output)", "```"]
    if result["returncode"] != 0 and result["stderr_tail"]:
        out += ["", "stderr (last lines):", "", "```", result["stderr_tail"], "```"]
    return out


def render_cold(results: dict[str, Any]) -> list[str]:
    out = [
        "### 4. Cold start",
        "",
        "From spawning the server process to the first `GET /healthz` → 200, fresh database "
        "each run (so every migration runs). Seconds.",
        "",
        "| server | median | max | runs |",
        "|---|---:|---:|---|",
    ]
    names = {"sqlite": "ragft (SQLite)", "postgres": "ragft (PostgreSQL)", "bare": "bare Bolt"}
    for kind, row in results.items():
        runs = ", ".join(f"{t:.3f}" for t in row["runs"])
        out.append(f"| {names[kind]} | {row['median']:.3f} | {row['max']:.3f} | {runs} |")
    return out


def render_memory(results: dict[str, Any]) -> list[str]:
    out = [
        "### 5. Memory",
        "",
        f"Resident memory (VmRSS) of the server process: warm (after one request), and after "
        f"{memory.DECISIONS:,} `/ragft <title>` (concurrency {memory.CONCURRENCY}) once every "
        "thread is posted; VmHWM is the peak. MiB.",
        "",
        "| server | warm | after | growth | peak (VmHWM) | decisions posted | acked 200 |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    names = {"sqlite": "ragft (SQLite)", "postgres": "ragft (PostgreSQL)", "bare": "bare Bolt"}
    for kind, row in results.items():
        posted = "—" if row["decisions_posted"] is None else str(row["decisions_posted"])
        out.append(
            f"| {names[kind]} | {row['rss_before_mib']:.1f} | {row['rss_after_mib']:.1f} | "
            f"{row['growth_mib']:+.1f} | {row['peak_mib']:.1f} | {posted} | {row['acked_200']} |"
        )
    return out


def render(info: dict[str, str], argv: list[str], sections: dict[str, Any]) -> dict[str, str]:
    """Markdown per part: ``machine`` (always), then each section that ran."""
    parts = {
        "machine": "\n".join(
            [
                f"Last run {info['date']} with `{shlex.join(argv)}`.",
                "",
                "| machine | |",
                "|---|---|",
                *(f"| {key} | {value} |" for key, value in info.items() if key != "date"),
            ]
        )
    }
    renderers: dict[str, Callable[[Any], list[str]]] = {
        "ack": render_ack,
        "throughput": render_throughput,
        "sweep": render_sweep,
        "cold": render_cold,
        "memory": render_memory,
    }
    for name in SECTIONS:
        if name not in sections:
            continue
        value = sections[name]
        if isinstance(value, BaseException):
            lines = [f"### {name}", "", f"**crashed**: `{type(value).__name__}: {value}`"]
        else:
            lines = renderers[name](value)
        parts[name] = "\n".join(lines).rstrip() + f"\n\n_({name}: {info['date']})_"
    return parts


def markers(name: str) -> tuple[str, str]:
    return f"<!-- bench:{name}:start -->", f"<!-- bench:{name}:end -->"


def write(path: Path, parts: dict[str, str]) -> None:
    """Replace each part between its markers, so a partial run (``--only``) updates only its
    sections and notes written around the markers stay."""
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    for name, body in parts.items():
        start, end = markers(name)
        block = f"{start}\n{body}\n{end}"
        if start in text and end in text:
            head, rest = text.split(start, 1)
            text = head + block + rest.split(end, 1)[1]
        else:
            text = text.rstrip() + "\n\n" + block + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


# ------------------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, help="write the results into this Markdown file")
    parser.add_argument("--only", default=",".join(SECTIONS), help="comma-separated sections")
    parser.add_argument("--quick", action="store_true", help="small counts: a smoke run")
    parser.add_argument("--no-postgres", action="store_true", help="SQLite only")
    args = parser.parse_args(argv)
    only = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = set(only) - set(SECTIONS)
    if unknown:
        parser.error(f"unknown sections: {', '.join(sorted(unknown))}")
    kinds = ["sqlite"]
    if not args.no_postgres:
        if postgres_available():
            kinds.append("postgres")
        else:
            log(f"PostgreSQL at {POSTGRES_URL} is unreachable: SQLite only")
    if args.quick:
        ack_latency.LEVELS = {1: 30, 10: 60, 50: 100}
        throughput.SIZES = (20, 50)
        cold_start.RUNS = 2
        memory.DECISIONS = 100

    info = machine()
    results: dict[str, Any] = {}

    def attempt(name: str, work: Callable[[], Any]) -> None:
        if name not in only:
            return
        log(f"--- {name}")
        try:
            results[name] = work()
        except Exception as exc:  # reported in the output, and the exit code
            traceback.print_exc()
            results[name] = exc

    with FakeSlackProcess(delay=0.2) as fake:

        def ack() -> Any:
            with servers(fake, kinds, bare=True) as started:
                return asyncio.run(ack_latency.run(fake, started))

        def clicks() -> Any:
            with servers(fake, kinds, bare=False) as started:
                return asyncio.run(throughput.run(fake, started))

        attempt("ack", ack)
        attempt("throughput", clicks)
        attempt("sweep", lambda: run_sweep("postgres" in kinds))
        attempt("cold", lambda: asyncio.run(cold_start.run(fake, kinds)))
        attempt("memory", lambda: asyncio.run(memory.run(fake, kinds)))

    shown = ["python", "-m", "bench", *(argv if argv is not None else sys.argv[1:])]
    parts = render(info, shown, results)
    print("\n\n".join(parts.values()))
    if args.out:
        write(args.out, parts)
        log(f"wrote {args.out}")
    return 1 if any(isinstance(v, BaseException) for v in results.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
