"""Modal submissions of a decision thread: adding failures, labeled examples, and a different
choice. Input is validated before the ack, so mistakes show inline in the modal."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext

from bot.domain.errors import UserError
from bot.domain.failure_lines import (
    MAX_FAILURES_PER_PASTE,
    ParsedFailure,
    parse_failure_line,
    parse_failure_lines,
)
from bot.domain.outcome import outcome_of
from bot.domain.questions import MessageKey, parse_count
from bot.services import answering, deciding
from handlers import payloads
from handlers.failure_intake import added_text, log_from_slack
from handlers.modal_acks import reject, submitted
from handlers.runtime import Runtime, runtime_of
from handlers.slack_calls import tell
from handlers.thread import refresh
from handlers.ui.ids import CallbackId, InputId


class InputError(UserError):
    def __init__(self, input_id: InputId, message: str) -> None:
        super().__init__(message)
        self.input_id = input_id


def failures_from(submission: payloads.Submission) -> list[ParsedFailure]:
    """Pasted lines plus the single failure, or an InputError naming the input to fix."""
    items = parse_failure_lines(submission.text(InputId.PASTE))
    explanation = submission.text(InputId.EXPLANATION)
    output = submission.text(InputId.OUTPUT)
    if output and not explanation:
        raise InputError(InputId.EXPLANATION, "Say why this output failed.")
    if explanation:
        single = parse_failure_line(explanation)
        if single is not None:
            link = (
                output if output.startswith(("http://", "https://")) and " " not in output else None
            )
            items.append(
                ParsedFailure(
                    explanation=single.explanation,
                    output=None if link else (output or single.output),
                    permalink=link or single.permalink,
                )
            )
    if not items:
        raise InputError(InputId.PASTE, "Paste at least one failure, or fill in one below.")
    if len(items) > MAX_FAILURES_PER_PASTE:
        raise InputError(
            InputId.PASTE, f"That's {len(items)}; add at most {MAX_FAILURES_PER_PASTE} at a time."
        )
    return items


async def add_failures(ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext) -> None:
    submission = await submitted(ack, body)
    assert submission is not None
    try:
        items = failures_from(submission)
    except InputError as exc:
        await reject(ack, submission, exc.input_id, str(exc))
        return
    await ack()
    rt = runtime_of(context)
    decision, categorised, duplicates = await log_from_slack(
        rt, **submission.at(), user_id=submission.user_id, failures=items
    )
    await tell(
        rt.client,
        decision.channel_id,
        submission.user_id,
        added_text(submission.decision_id, categorised, duplicates),
        thread_ts=decision.thread_ts,
    )


async def labeled_examples(ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext) -> None:
    submission = await submitted(ack, body)
    assert submission is not None
    try:
        count = parse_count(submission.text(InputId.COUNT))
    except UserError as exc:
        await reject(ack, submission, InputId.COUNT, str(exc))
        return
    await ack()
    rt = runtime_of(context)
    await rt.call(
        answering.set_labeled_examples, **submission.at(), user_id=submission.user_id, count=count
    )
    keys = [MessageKey.OWNERS, MessageKey.ROOT]
    await refresh(rt, submission.team_id, submission.decision_id, keys)


async def override(ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext) -> None:
    required = {InputId.CHOICE: "Pick what the team chose.", InputId.REASON: "Say why."}
    submission = await submitted(ack, body, required)
    if submission is None:
        return
    choice, reason = submission.selected(InputId.CHOICE), submission.text(InputId.REASON)
    try:
        outcome_of(choice)
    except UserError as error:
        await reject(ack, submission, InputId.CHOICE, str(error))
        return
    await ack()
    rt = runtime_of(context)
    await rt.call(
        deciding.record_final_choice,
        **submission.at(),
        user_id=submission.user_id,
        choice=choice,
        reason=reason,
    )
    keys = [MessageKey.VERDICT, MessageKey.ROOT]
    await refresh(rt, submission.team_id, submission.decision_id, keys)


def register(app: AsyncApp, runtime: Runtime) -> None:
    app.view(CallbackId.ADD_FAILURES)(add_failures)
    app.view(CallbackId.LABELED_EXAMPLES)(labeled_examples)
    app.view(CallbackId.OVERRIDE)(override)
