"""Where each millisecond of a server's CPU per request goes, by who spends it.

    python -m bench.attribution                 # PostgreSQL (SQLite with --sqlite)
    python -m bench.attribution --raw OUT.json  # also keep the samples

Runs the benchmark's c=10 mix (section 1's ``/ragft``, answer clicks and mentions) against a
ragft server and a bare Bolt app, each under ``bench.sampler``, and splits each one's measured
CPU per request by the samples' stacks (the sampler follows SQLAlchemy's greenlets back to the
coroutine that awaited them, so every sample has its whole call chain).

Each sample is filed twice:

- by **component**: the first owner out from the leaf that isn't the event loop, the standard
  library, ``json`` or ``logging`` (those are charged to whoever called them): the database
  (SQLAlchemy, psycopg, aiosqlite), Slack Web API calls (slack_sdk, aiohttp), Bolt, the HTTP
  server (uvicorn, Starlette), rendering Block Kit (``handlers/ui``) or ragft's other code; a
  stack with none of them is the event loop's;
- by the **innermost ragft function** on it: which of ragft's call sites the time was spent
  under (a statement's ORM and driver work counts for the repository function that ran it).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import os
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import ack_latency
from bench.checkout import RAGFT_SRC
from bench.common import FakeSlackProcess, Server, bare_bolt_server, log, ragft_server, settle
from bench.databases import database

LOADS = 3
LOAD = 450
CONCURRENCY = 10
OWN = ("bot", "handlers", "storage")

LIBRARIES = {
    "sqlalchemy": "SQLAlchemy",
    "sqlmodel": "SQLAlchemy",
    "psycopg": "psycopg",
    "psycopg_pool": "psycopg",
    "aiosqlite": "aiosqlite",
    "sqlite3": "aiosqlite",
    "aiohttp": "aiohttp",
    "yarl": "aiohttp",
    "multidict": "aiohttp",
    "slack_sdk": "slack_sdk",
    "slack_bolt": "Bolt",
    "uvicorn": "uvicorn",
    "h11": "uvicorn",
    "httptools": "uvicorn",
    "starlette": "Starlette",
    "pydantic": "pydantic",
    "pydantic_core": "pydantic",
    "apscheduler": "APScheduler",
    "greenlet": "SQLAlchemy",
    "json": "json",
    "logging": "logging",
    "asyncio": "event loop",
    "selectors": "event loop",
    "ssl": "event loop",
    "socket": "event loop",
}


def owner(filename: str) -> tuple[str, str]:
    """``("ragft", module)`` for ragft's own code, else ``("lib", library)``."""
    path = Path(filename)
    if path.is_relative_to(RAGFT_SRC) and path.relative_to(RAGFT_SRC).parts[0] in OWN:
        module = ".".join(path.relative_to(RAGFT_SRC).with_suffix("").parts)
        return "ragft", module
    parts = path.parts
    if "site-packages" in parts:
        top = parts[parts.index("site-packages") + 1].split(".")[0]
        return "lib", LIBRARIES.get(top, top)
    for part in reversed(parts[-3:]):
        name = part.removesuffix(".py")
        if name in LIBRARIES:
            return "lib", LIBRARIES[name]
    return "lib", "python" if filename.startswith("/") else filename


TRANSPARENT = {"event loop", "python", "json", "logging"}
"""Owners that don't decide a sample's component: the component is the first other owner out
from the leaf (a ``json.dumps`` called by slack_sdk is a Slack call's)."""
COMPONENTS = {
    "SQLAlchemy": "database",
    "psycopg": "database",
    "aiosqlite": "database",
    "slack_sdk": "Slack Web API calls",
    "aiohttp": "Slack Web API calls",
    "Bolt": "Bolt",
    "uvicorn": "HTTP server",
    "Starlette": "HTTP server",
    "pydantic": "ragft's code",
    "APScheduler": "ragft's code",
}
ENTRY = ("bot.cli", "handlers.serve")
"""ragft modules every stack starts in: the process's entry, not a caller of anything."""


def _own(filename: str) -> str | None:
    kind, module = owner(filename)
    return module if kind == "ragft" and not module.startswith(ENTRY) else None


def component(frames: list[list[Any]]) -> str:
    """What a sample's CPU was spent on (see the module's docstring)."""
    for filename, _, _ in reversed(frames):
        if (module := _own(filename)) is not None:
            return "rendering Block Kit" if module.startswith("handlers.ui") else "ragft's code"
        kind, name = owner(filename)
        if kind == "lib" and name not in TRANSPARENT and not name.startswith("<"):
            return COMPONENTS.get(name, "other libraries")
    return "event loop"


def attribute(stacks: list[list[Any]]) -> dict[tuple[str, str], int]:
    """Samples by (innermost ragft function, the sample's component)."""
    out: collections.Counter[tuple[str, str]] = collections.Counter()
    for count, frames in stacks:
        caller = "(no ragft frame)"
        for filename, function, _ in reversed(frames):
            if (module := _own(filename)) is not None:
                caller = f"{module}.{function}"
                break
        out[(caller, component(frames))] += count
    return out


def sampled(name: str, base: Server, out: Path) -> Server:
    module_argv = base.argv
    if module_argv[:3] == [sys.executable, "-m", "bench.bare_bolt"]:
        rest = ["bench.bare_bolt", *module_argv[3:]]
    else:
        rest = ["bot.cli", *module_argv[module_argv.index("serve") :]]
    argv = [sys.executable, "-m", "bench.sampler", str(out), "--", *rest]
    return Server(name, argv, base.env, base.port, base.database_url)


async def profile(fake: FakeSlackProcess, started: list[Server], files: dict[str, Path]) -> dict:
    targets = await ack_latency.prepare(fake, started)
    results: dict[str, dict[str, Any]] = {}
    for server in started:
        target = targets[server.name]
        os.kill(server.pid, signal.SIGUSR1)
        cpu = 0.0
        for k in range(LOADS):
            _, row = await ack_latency.load(fake, target, CONCURRENCY, LOAD, 700 + k, False)
            cpu += row["cpu_s_total"]
        os.kill(server.pid, signal.SIGUSR2)
        for _ in range(100):  # the sampler writes it whole, then renames it into place
            if files[server.name].exists():
                break
            await asyncio.sleep(0.1)
        samples = json.loads(files[server.name].read_text())
        results[server.name] = {"cpu_ms": cpu * 1000 / (LOADS * LOAD), **samples}
    await settle(fake)
    return results


def per_component(result: dict[str, Any]) -> dict[str, float]:
    """Milliseconds of CPU per request by component."""
    by = attribute(result["stacks"])
    per_sample = result["cpu_ms"] / sum(by.values())
    out: collections.Counter[str] = collections.Counter()
    for (_, what), n in by.items():
        out[what] += n * per_sample
    return dict(out)


def report(results: dict[str, dict[str, Any]], top: int) -> None:
    names = list(results)
    parts = {name: per_component(r) for name, r in results.items()}
    last = parts[names[-1]]
    whats = sorted({w for p in parts.values() for w in p}, key=lambda w: -last.get(w, 0))
    print("| ms of CPU per request | " + " | ".join(names) + " |")
    print("|---|" + "---:|" * len(names))
    for what in whats:
        print(f"| {what} | " + " | ".join(f"{parts[n].get(what, 0):.2f}" for n in names) + " |")
    print("| **all** | " + " | ".join(f"**{results[n]['cpu_ms']:.2f}**" for n in names) + " |")
    counts = [str(sum(c for c, _ in results[n]["stacks"])) for n in names]
    print("| samples | " + " | ".join(counts) + " |")
    name = names[-1]
    by = attribute(results[name]["stacks"])
    per_sample = results[name]["cpu_ms"] / sum(by.values())
    callers: collections.Counter[str] = collections.Counter()
    for (caller, _), n in by.items():
        callers[caller] += n
    print(f"\n{name}, by the innermost ragft function on the stack:\n")
    print("| function | ms per request | of which |")
    print("|---|---:|---|")
    for caller, n in callers.most_common(top):
        parts_of = sorted(((m, w) for (c, w), m in by.items() if c == caller), reverse=True)
        detail = ", ".join(f"{w} {m * per_sample:.2f}" for m, w in parts_of[:3])
        print(f"| `{caller}` | {n * per_sample:.2f} | {detail} |")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.attribution", description=__doc__)
    parser.add_argument("--sqlite", action="store_true")
    parser.add_argument("--raw", type=Path)
    parser.add_argument("--top", type=int, default=40)
    args = parser.parse_args(argv)
    kind = "sqlite" if args.sqlite else "postgresql"
    work = Path(tempfile.mkdtemp(prefix="ragft-attr-"))
    files = {"bare Bolt": work / "bare.json", f"ragft ({kind})": work / "ragft.json"}
    with FakeSlackProcess() as fake, database(kind, "attr") as url:
        bare = sampled("bare Bolt", bare_bolt_server(fake.url), files["bare Bolt"])
        name = f"ragft ({kind})"
        ragft = sampled(name, ragft_server(name, fake.url, url), files[name])
        started = [bare, ragft]
        try:
            for server in started:
                server.start()
            for server in started:
                asyncio.run(server.wait_healthy())
            log(f"profiling at {time.strftime('%H:%M:%S')}")
            results = asyncio.run(profile(fake, started, files))
        finally:
            for server in started:
                server.stop()
            shutil.rmtree(work, ignore_errors=True)
    if args.raw:
        args.raw.write_text(json.dumps(results))
    report(results, args.top)
    return 0


if __name__ == "__main__":
    sys.exit(main())
