"""What grows: tracemalloc snapshots of an in-process ragft after 0, 500 and 1,000 decisions.

The app runs in this process (the real ASGI app, driven with signed requests as the tests do),
on a fresh SQLite file; the fake Slack runs in its own process so its memory isn't counted.
After a warm-up of 100 decisions, it snapshots, makes 500, snapshots, makes 500 more,
snapshots, and prints the source lines whose allocations grew the most.

    python -m bench.memory_trace [--decisions 1000] [--top 15]
    python -m bench.memory_trace --rss     # the same load, VmRSS only (no tracemalloc)
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import tempfile
import tracemalloc

from bench.common import FakeSlackProcess
from storage.db import create_engine, session_factory
from storage.migrate import upgrade
from tests.fakes import signing
from tests.slack_app import SlackApp

CONCURRENCY = 10


async def make(app: SlackApp, fake: FakeSlackProcess, start: int, count: int) -> None:
    async def one(i: int) -> None:
        signed = signing.slash_command(
            text=f"start Memory decision {i}", response_url=fake.response_url("cmd")
        )
        response = await app.post(signed, settle=False)
        assert response.status_code == 200, response.text

    for chunk in range(start, start + count, CONCURRENCY):
        end = min(chunk + CONCURRENCY, start + count)
        await asyncio.gather(*(one(i) for i in range(chunk, end)))
        await app.idle(120)  # each chunk's threads posted before the next (bounded backlog)


def rss_mib() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        line = next(x for x in status if x.startswith("VmRSS:"))
    return int(line.split()[1]) / 1024


def snapshot() -> tracemalloc.Snapshot:
    gc.collect()
    print(f"VmRSS {rss_mib():.1f} MiB (tracemalloc's own memory included)", flush=True)
    return tracemalloc.take_snapshot().filter_traces(
        [tracemalloc.Filter(False, tracemalloc.__file__), tracemalloc.Filter(False, "<frozen *>")]
    )


def show(label: str, new: tracemalloc.Snapshot, old: tracemalloc.Snapshot, top: int) -> None:
    stats = new.compare_to(old, "lineno")
    growth = sum(s.size_diff for s in stats)
    print(f"\n{label}: {growth / 1_048_576:+.2f} MiB traced")
    for stat in stats[:top]:
        frame = stat.traceback[0]
        print(
            f"  {stat.size_diff / 1024:+9.1f} KiB {stat.count_diff:+7d} blocks  "
            f"{frame.filename.split('site-packages/')[-1]}:{frame.lineno}"
        )


async def rss_only(app: SlackApp, fake: FakeSlackProcess, decisions: int) -> None:
    """The same load without tracemalloc: resident memory at 0, half and all."""
    await make(app, fake, 0, 100)
    gc.collect()
    at = [rss_mib()]
    await make(app, fake, 100, decisions // 2)
    gc.collect()
    at.append(rss_mib())
    await make(app, fake, 100 + decisions // 2, decisions - decisions // 2)
    gc.collect()
    at.append(rss_mib())
    print("VmRSS MiB at 0 / half / all:", " / ".join(f"{x:.1f}" for x in at))


async def main(decisions: int, top: int, rss: bool = False) -> None:
    with tempfile.TemporaryDirectory() as tmp, FakeSlackProcess(delay=0.01) as fake:
        url = f"sqlite+aiosqlite:///{tmp}/memory.db"
        engine = create_engine(url)
        await upgrade(engine)
        app = SlackApp(fake, engine, session_factory(engine))  # type: ignore[arg-type]
        try:
            if rss:
                await rss_only(app, fake, decisions)
                return
            await make(app, fake, 0, 100)  # warm-up
            tracemalloc.start(25)
            at0 = snapshot()
            await make(app, fake, 100, decisions // 2)
            at500 = snapshot()
            await make(app, fake, 100 + decisions // 2, decisions - decisions // 2)
            at1000 = snapshot()
            show(f"0 -> {decisions // 2}", at500, at0, top)
            show(f"{decisions // 2} -> {decisions}", at1000, at500, top)
            show(f"0 -> {decisions}", at1000, at0, top)
        finally:
            tracemalloc.stop()
            await app.close()
            await engine.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--decisions", type=int, default=1000)
    parser.add_argument("--top", type=int, default=15)
    parser.add_argument("--rss", action="store_true", help="resident memory only, no tracemalloc")
    args = parser.parse_args()
    asyncio.run(main(args.decisions, args.top, args.rss))
