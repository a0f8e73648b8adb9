"""The fake Slack Web API (``tests.fakes.slack_api.FakeSlack``) in a process of its own.

The servers under test and the load generator must not share a GIL with the fake: 200 ms of
``asyncio.sleep`` costs nothing, but parsing thousands of ``chat.postMessage`` bodies would slow
the load generator's clock-reading for ragft only (bare Bolt makes no calls). So the fake runs
here, prints its base URL on stdout, and adds two endpoints for the benchmark:

- ``GET /bench/stats``: ``{"total": n, "by_method": {method: n}}`` of every recorded call;
- ``POST /bench/delay?seconds=s``: change the delay while running.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections import Counter

from aiohttp import web

from tests.fakes.slack_api import FakeSlack


class BenchFakeSlack(FakeSlack):
    def _make_app(self) -> web.Application:
        app = super()._make_app()
        app.router.add_get("/bench/stats", self._stats)
        app.router.add_post("/bench/delay", self._set_delay)
        return app

    async def _stats(self, request: web.Request) -> web.Response:
        with self._lock:
            by_method = Counter(call.method for call in self.calls)
        return web.json_response({"total": sum(by_method.values()), "by_method": by_method})

    async def _set_delay(self, request: web.Request) -> web.Response:
        self.delay = float(request.query["seconds"])
        return web.json_response({"ok": True, "delay": self.delay})


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--delay", type=float, default=0.2)
    args = parser.parse_args()
    fake = BenchFakeSlack(delay=args.delay).start()
    print(fake.url, flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    fake.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
