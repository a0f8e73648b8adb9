"""How ragft acknowledges requests: at once where the ack never carries anything, and for good.

Bolt's async runner starts a listener as a task, then polls every 10 ms until it has called
``ack()``. Button clicks (``block_actions``) and ``/ragft`` are always acknowledged with an empty
200, so ragft acks them before the listener starts: the runner sees the ack on its first look,
and Slack gets it without waiting for a poll. A request no listener matches still gets Bolt's
404, which doesn't come from the ack. So a click or command listener can't answer in its ack
(``ack(text=…)`` would be dropped): it replies with ``respond`` instead, as all of them do.
"""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncBoltContext
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.response import BoltResponse

from handlers import payloads


class StickyAck(AsyncAck):
    """An ack that stays sent. Bolt 1.30's async runner sets ``ack.response`` back to None when a
    listener fails after acking; if its poll hasn't seen the ack yet, the HTTP response then
    waits the whole 3 s ack timeout and Slack shows the user a timeout."""

    @property  # type: ignore[override]
    def response(self) -> BoltResponse | None:
        return self._response

    @response.setter
    def response(self, value: BoltResponse | None) -> None:
        if value is not None or getattr(self, "_response", None) is None:
            self._response = value


async def prepare(context: AsyncBoltContext, body: Any) -> None:
    """Give the request its ack, and send it now if it is one that never carries anything."""
    ack = StickyAck()
    context["ack"] = ack
    if payloads.acked_empty(body):
        await ack()
