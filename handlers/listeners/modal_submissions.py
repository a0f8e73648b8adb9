"""Modal submissions. Input is validated before the ack, so mistakes show inline in the modal."""

from __future__ import annotations

import json
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.domain.errors import UserError
from bot.domain.failure_lines import (
    MAX_FAILURES_PER_PASTE,
    ParsedFailure,
    parse_failure_line,
    parse_failure_lines,
)
from bot.domain.questions import FAILURE_CATEGORY_LABELS, QuestionKey
from bot.services import state as decisions
from handlers.failure_intake import save_failures
from handlers.listeners.model_steps import categorise_in_thread
from handlers.runtime import Runtime
from handlers.thread import refresh
from handlers.ui.ids import CallbackId, InputId

Values = dict[str, dict[str, dict[str, Any]]]


def _value(values: Values, input_id: InputId) -> str:
    element = values.get(input_id, {}).get(input_id, {})
    if "selected_option" in element:
        return ((element.get("selected_option") or {}).get("value")) or ""
    return (element.get("value") or "").strip()


def _decision_id(view: dict[str, Any]) -> int:
    return int(json.loads(view["private_metadata"])["decision_id"])


def failures_from(values: Values) -> list[ParsedFailure]:
    """Pasted lines plus the single failure, or a UserError naming the input to fix."""
    items = parse_failure_lines(_value(values, InputId.PASTE))
    explanation = _value(values, InputId.EXPLANATION)
    output = _value(values, InputId.OUTPUT)
    if output and not explanation:
        raise _InputError(InputId.EXPLANATION, "Say why this output failed.")
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
        raise _InputError(InputId.PASTE, "Paste at least one failure, or fill in one below.")
    if len(items) > MAX_FAILURES_PER_PASTE:
        raise _InputError(
            InputId.PASTE, f"That's {len(items)}; add at most {MAX_FAILURES_PER_PASTE} at a time."
        )
    return items


class _InputError(UserError):
    def __init__(self, input_id: InputId, message: str) -> None:
        super().__init__(message)
        self.input_id = input_id


def register(app: AsyncApp, runtime: Runtime) -> None:
    @app.view(CallbackId.ADD_FAILURES)
    async def add_failures(
        ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], client
    ) -> None:
        try:
            items = failures_from(view["state"]["values"])
        except _InputError as exc:
            await ack(response_action="errors", errors={exc.input_id: str(exc)})
            return
        await ack()
        team_id, user_id = body["team"]["id"], body["user"]["id"]
        decision_id = _decision_id(view)
        categorised = await categorise_in_thread(
            runtime, team_id=team_id, decision_id=decision_id, user_id=user_id, failures=items
        )
        decision = await save_failures(runtime, team_id, decision_id, user_id, categorised)
        counts = {label: 0 for label in FAILURE_CATEGORY_LABELS.values()}
        for item in categorised:
            counts[FAILURE_CATEGORY_LABELS[item.category]] += 1
        summary = ", ".join(f"{n} {label.lower()}" for label, n in counts.items() if n)
        await client.chat_postEphemeral(
            channel=decision.channel_id,
            user=user_id,
            thread_ts=decision.thread_ts,
            text=f"Added {len(categorised)} failure{'s' if len(categorised) != 1 else ''} to "
            f"#{decision_id}: {summary}. Use *Review & correct* to change a category.",
        )

    @app.view(CallbackId.LABELED_EXAMPLES)
    async def labeled_examples(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
        try:
            count = decisions.parse_labeled_examples(_value(view["state"]["values"], InputId.COUNT))
        except UserError as exc:
            await ack(response_action="errors", errors={InputId.COUNT: str(exc)})
            return
        await ack()
        team_id, decision_id = body["team"]["id"], _decision_id(view)
        async with runtime.sessions() as session, session.begin():
            await decisions.set_labeled_examples(
                session=session,
                team_id=team_id,
                decision_id=decision_id,
                user_id=body["user"]["id"],
                count=count,
            )
        await refresh(runtime, team_id, decision_id, [QuestionKey.OWNERS, "root"])

    @app.view(CallbackId.OVERRIDE)
    async def override(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
        values = view["state"]["values"]
        choice, reason = _value(values, InputId.CHOICE), _value(values, InputId.REASON)
        if not reason:
            await ack(response_action="errors", errors={InputId.REASON: "Say why."})
            return
        await ack()
        team_id, decision_id = body["team"]["id"], _decision_id(view)
        async with runtime.sessions() as session, session.begin():
            await decisions.record_final_choice(
                session=session,
                team_id=team_id,
                decision_id=decision_id,
                user_id=body["user"]["id"],
                choice=choice,
                reason=reason,
            )
        await refresh(runtime, team_id, decision_id, ["verdict", "root"])
