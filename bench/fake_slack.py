"""The fake Slack Web API (``tests.fakes.slack_api.FakeSlack``) in a process of its own.

The servers under test and the load generator must not share a GIL with the fake: 200 ms of
``asyncio.sleep`` costs nothing, but parsing thousands of ``chat.postMessage`` bodies would slow
the load generator's clock-reading for ragft only (bare Bolt makes no calls). So the fake runs
here, prints its base URL on stdout, and adds two endpoints for the benchmark:

- ``GET /bench/stats``: ``{"total": n, "by_method": {method: n}}`` of every recorded call;
- ``POST /bench/delay?seconds=s``: change the delay while running;
- ``GET /bench/updates?since=i``: the ``chat.update`` calls answered so far, from the i-th on,
  each ``{"done", "at", "channel", "ts", "ok", "text", "blocks"}``: ``done`` is ``time.time()``
  when the fake answered it (after its delay: when Slack would show it), ``at`` when it
  arrived; ``next`` is the index to ask from next time.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import time
from collections import Counter
from typing import Any

from aiohttp import web

from tests.fakes.slack_api import FakeSlack


class BenchFakeSlack(FakeSlack):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.updates: list[dict[str, Any]] = []

    def _make_app(self) -> web.Application:
        app = super()._make_app()
        app.router.add_get("/bench/stats", self._stats)
        app.router.add_post("/bench/delay", self._set_delay)
        app.router.add_get("/bench/updates", self._updates)
        return app

    async def _handle_api(self, request: web.Request) -> web.Response:
        if request.match_info["method"] == "chat.update":
            request["bench_at"] = time.time()
        return await super()._handle_api(request)

    def _dispatch(self, method: str, args: dict[str, Any], request: web.Request) -> dict[str, Any]:
        # Called (under the lock) once the delay is over: the moment the update is answered.
        body = super()._dispatch(method, args, request)
        if method == "chat.update":
            self.updates.append(
                {
                    "done": time.time(),
                    "at": request.get("bench_at"),
                    "channel": args.get("channel"),
                    "ts": args.get("ts"),
                    "ok": bool(body.get("ok")),
                    "text": args.get("text"),
                    "blocks": args.get("blocks"),
                }
            )
        return body

    async def _updates(self, request: web.Request) -> web.Response:
        since = int(request.query.get("since", "0"))
        with self._lock:
            chunk = self.updates[since:]
            end = len(self.updates)
        return web.json_response({"updates": chunk, "next": end})

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
