"""Acknowledging a modal submission: a stale one closes (and the user is told why), and inputs
left empty are shown inline, before anything is saved."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from slack_bolt.async_app import AsyncAck

from handlers import payloads


async def submitted(
    ack: AsyncAck,
    body: dict[str, Any],
    required: Mapping[str, str] | None = None,
    *,
    of_a_decision: bool = True,
) -> payloads.Submission | None:
    """The submission, not yet acked; None when ``required`` inputs (id → what to say) were
    empty and the modal now shows that. A stale submission is acked and raises ``StaleForm``."""
    try:
        submission = payloads.submission_of(body)
        if of_a_decision:
            submission.at()  # a modal of a decision must name one
        missing = {i: say for i, say in (required or {}).items() if not submission.value(i)}
        if missing and not all(submission.has_input(i) for i in missing):
            raise payloads.StaleForm()
    except payloads.StaleForm:
        await ack()
        raise
    if missing:
        await ack(response_action="errors", errors=dict(missing))
        return None
    return submission


async def reject(ack: AsyncAck, submission: payloads.Submission, input_id: str, say: str) -> None:
    """Show ``say`` under one input; a modal without that input is stale."""
    try:
        response = submission.errors(input_id, say)
    except payloads.StaleForm:
        await ack()
        raise
    await ack(**response)
