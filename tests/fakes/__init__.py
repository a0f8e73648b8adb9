"""Fakes that let tests drive the real app through its real interfaces.

- ``tests.fakes.slack_api.FakeSlack``: a recording Slack Web API server.
- ``tests.fakes.openai_api.FakeOpenAI``: a scriptable OpenAI-compatible server.
- ``tests.fakes.signing``: signed Slack request bodies (commands, interactivity, events).

Both servers are real aiohttp servers on 127.0.0.1 with an OS-assigned port. Each runs in its
own thread with its own event loop, so it serves sync tests, async tests (in any loop) and
subprocesses alike. ``BackgroundServer`` below is the shared plumbing.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Self

from aiohttp import web

__all__ = ["BackgroundServer"]


class BackgroundServer:
    """An aiohttp application served from a daemon thread with its own event loop.

    Subclasses implement ``_make_app``. Handlers run in the server's loop, never the test's.
    """

    thread_name = "fake-server"

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._port: int | None = None

    def _make_app(self) -> web.Application:
        raise NotImplementedError

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError(f"{type(self).__name__} is not started")
        return self._port

    @property
    def origin(self) -> str:
        """``http://127.0.0.1:PORT`` (no trailing slash)."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Self:
        if self._thread is not None:
            return self
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            asyncio.set_event_loop(loop)
            self._loop = loop
            try:
                loop.run_until_complete(self._serve())
            except BaseException as exc:  # surfaced to start() below
                failure.append(exc)
                ready.set()
                loop.close()
                return
            ready.set()
            try:
                loop.run_forever()
            finally:
                assert self._runner is not None
                loop.run_until_complete(self._runner.cleanup())
                loop.close()

        self._thread = threading.Thread(target=run, name=self.thread_name, daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError(f"{type(self).__name__} did not start within 10 s")
        if failure:
            self._thread = None
            raise failure[0]
        return self

    async def _serve(self) -> None:
        # handler_cancellation: a client that gives up (timeout) cancels its slow handler,
        # so stop() never waits for a sleeping reply.
        self._runner = web.AppRunner(
            self._make_app(), access_log=None, shutdown_timeout=0.5, handler_cancellation=True
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self._port = self._runner.addresses[0][1]

    def stop(self) -> None:
        thread, loop = self._thread, self._loop
        if thread is None or loop is None:
            return
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        self._thread = None
        self._loop = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
