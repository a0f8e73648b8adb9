"""Run a server module with a CPU-time sampler that sees through SQLAlchemy's greenlets.

    python -m bench.sampler OUT.json -- bot.cli serve --http --port 3000
    python -m bench.sampler OUT.json -- bench.bare_bolt --port 3001

py-spy samples the thread's current stack. SQLAlchemy's asyncio layer runs each statement's
ORM and Core work in a child greenlet, whose stack ends at the greenlet, not at the coroutine
that awaited it: a profile then can't tell which of ragft's call sites spent that time. This
sampler takes a sample every millisecond of process CPU (``ITIMER_PROF``), and when the
interrupted frame is in such a greenlet it carries on from the frame where the greenlet's
parent is suspended, which is the awaiting coroutine's chain.

It samples from ``SIGUSR1`` to ``SIGUSR2`` (so a benchmark profiles its load, not the start-up),
and then writes the stacks and their counts to OUT.json, for ``bench.attribution``.

Two limits:

- ``ITIMER_PROF`` counts the CPU of every thread, but the sample is the main thread's stack.
  On PostgreSQL (psycopg's async connections) the server has one busy thread; on SQLite,
  aiosqlite runs each connection in a thread of its own, and that thread's CPU is charged to
  whatever the main thread is doing then, often waiting in the event loop.
- A process with a loop signal handler (ragft's ``Stopping``) has the signal wake its event
  loop; bare Bolt's uvicorn doesn't. That adds a little to ragft's event loop share.
"""

from __future__ import annotations

import collections
import json
import os
import runpy
import signal
import sys
from types import CodeType, FrameType

import greenlet

INTERVAL = float(os.environ.get("RAGFT_SAMPLER_INTERVAL", "0.001"))
_samples: collections.Counter[tuple[CodeType, ...]] = collections.Counter()


def _on_sample(_signum: int, frame: FrameType | None) -> None:
    codes: list[CodeType] = []
    current = greenlet.getcurrent()
    while True:
        while frame is not None:
            codes.append(frame.f_code)
            frame = frame.f_back
        parent = current.parent
        if parent is None:
            break
        frame, current = parent.gr_frame, parent
    _samples[tuple(codes)] += 1


def _start() -> None:
    _samples.clear()
    signal.signal(signal.SIGPROF, _on_sample)
    signal.setitimer(signal.ITIMER_PROF, INTERVAL, INTERVAL)


def _dump(path: str) -> None:
    signal.setitimer(signal.ITIMER_PROF, 0)
    signal.signal(signal.SIGPROF, signal.SIG_IGN)  # a tick already pending can't change _samples
    rows = [
        [n, [[c.co_filename, c.co_name, c.co_firstlineno] for c in reversed(codes)]]
        for codes, n in _samples.items()
    ]
    partial = f"{path}.partial"
    with open(partial, "w") as out:
        json.dump({"interval_s": INTERVAL, "stacks": rows}, out)
    os.replace(partial, path)  # whoever waits for the file sees all of it or nothing


def main() -> None:
    out, separator, module, *argv = sys.argv[1:]
    if separator != "--":
        raise SystemExit("usage: python -m bench.sampler OUT.json -- MODULE ARGS...")
    signal.signal(signal.SIGUSR1, lambda *_: _start())
    signal.signal(signal.SIGUSR2, lambda *_: _dump(out))
    sys.argv = [module, *argv]
    runpy.run_module(module, run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
