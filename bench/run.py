"""Run every benchmark in one go and render the results as Markdown.

    python -m bench                            # print the results (progress goes to stderr)
    python -m bench --out docs/benchmarks.md   # and write them into that file
    python -m bench --quick                    # a small smoke run (not for the record)
    python -m bench --only ack,throughput      # a subset: ack, paced, throughput, sweep, cold,
                                               # memory
    python -m bench --ragft-src /tmp/before    # the ragft servers from another checkout

With ``--out``, only the parts of the file between ``<!-- bench:<section>:start/end -->``
markers are replaced (just the sections that ran), so the notes around them stay. PostgreSQL is
``BENCH_POSTGRES_URL`` (default ``postgresql://postgres@127.0.0.1:5432/test``); each benchmark
creates and drops its own databases there. Exits 0 when every benchmark ran, whatever the
figures; 1 if one crashed.

``--ragft-src DIR``: the ragft servers (and the sweep) import bot/, handlers/ and storage/ from
DIR, e.g. the code before a change, checked out with ``git worktree add /tmp/before <rev>``;
the harness (bench/, the fake Slack, bare Bolt) stays this checkout's, and so does the venv
(its editable install comes after PYTHONPATH, which is checked before anything runs). The
Markdown says which checkout and commit ran. ``ack`` also makes the ``visible`` part (click to
visible, from the same loads); ``paced`` is the same mix sent open loop at steady rates
(bench/paced.py); every run adds a ``goals`` part.
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

from bench import ack_latency, checkout, cold_start, memory, paced, report, throughput
from bench.checkout import check_ragft_imports, set_ragft_src, source_info
from bench.common import (
    ROOT,
    FakeSlackProcess,
    Server,
    bare_bolt_server,
    log,
    ragft_server,
)
from bench.databases import POSTGRES_URL, database, postgres_available, query

SECTIONS = ("ack", "paced", "throughput", "sweep", "cold", "memory")
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
        "ragft source": source_info(checkout.RAGFT_SRC),
        "harness (bench/)": source_info(ROOT),
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


SWEEP_QUICK = ("--decisions", "10000")


def run_sweep(postgres: bool, quick: bool) -> dict[str, Any]:
    """``python -m bench.sweep`` (1,000 due among 100,000, no-op Slack, both databases, then 3
    concurrent sweepers) in a process that imports bench from here and ragft from
    ``RAGFT_SRC``. It finds PostgreSQL through ``RAGFT_TEST_POSTGRES_URL``."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    if postgres:
        env.setdefault("RAGFT_TEST_POSTGRES_URL", POSTGRES_URL)
    extra = list(SWEEP_QUICK) if quick else []
    launcher = (
        "import sys, runpy\n"
        f"sys.path.insert(0, {str(ROOT)!r}); import bench\n"  # bench/ from the harness
        f"sys.path.insert(0, {str(checkout.RAGFT_SRC)!r})\n"  # ragft from --ragft-src
        f"sys.argv = ['bench.sweep', *{extra!r}]\n"
        "runpy.run_module('bench.sweep', run_name='__main__', alter_sys=True)\n"
        "print('IMPORTS', *(sys.modules[n].__file__ for n in ('bot', 'storage')), "
        "file=sys.stderr)\n"
    )
    argv = [sys.executable, "-c", launcher]
    began = time.perf_counter()
    done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=3600, env=env)
    imports = [line for line in done.stderr.splitlines() if line.startswith("IMPORTS ")]
    return {
        "status": "ran",
        "command": shlex.join(["python", "-m", "bench.sweep", *extra]),
        "returncode": done.returncode,
        "stdout": done.stdout,
        "stderr_tail": "\n".join(done.stderr.splitlines()[-20:]),
        "seconds": time.perf_counter() - began,
        "imports": ", ".join(f"`{f}`" for f in imports[-1].split()[1:]) if imports else "",
    }


# ------------------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, help="write the results into this Markdown file")
    parser.add_argument("--only", default=",".join(SECTIONS), help="comma-separated sections")
    parser.add_argument("--quick", action="store_true", help="small counts: a smoke run")
    parser.add_argument("--no-postgres", action="store_true", help="SQLite only")
    parser.add_argument(
        "--ragft-src",
        type=Path,
        metavar="DIR",
        help="run the ragft servers from this checkout (default: this one)",
    )
    args = parser.parse_args(argv)
    if args.ragft_src:
        set_ragft_src(args.ragft_src)
    imported = check_ragft_imports()
    log(f"ragft servers import from {', '.join(imported.values())}")
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
        ack_latency.ROUNDS = 2
        paced.RATES, paced.SECONDS = (10, 25), 3.0
        throughput.SIZES = (20, 50)
        cold_start.RUNS = 2
        memory.WARMUP, memory.DECISIONS = 20, 100

    began = time.perf_counter()
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
        if "ack" in results and not isinstance(results["ack"], BaseException):
            results["visible"] = results["ack"]

        def steady() -> Any:
            with servers(fake, kinds, bare=True) as started:
                return asyncio.run(paced.run(fake, started))

        attempt("paced", steady)
        attempt("throughput", clicks)
        attempt("sweep", lambda: run_sweep("postgres" in kinds, args.quick))
        attempt("cold", lambda: asyncio.run(cold_start.run(fake, kinds)))
        attempt("memory", lambda: asyncio.run(memory.run(fake, kinds)))

    shown = shlex.join(["python", "-m", "bench", *(argv if argv is not None else sys.argv[1:])])
    parts = report.render(info, shown, results)
    print("\n\n".join(parts.values()))
    if args.out:
        report.write(args.out, parts)
        log(f"wrote {args.out}")
    log(f"all done in {time.perf_counter() - began:.0f} s")
    return 1 if any(isinstance(v, BaseException) for v in results.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
