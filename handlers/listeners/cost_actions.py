"""The verdict's Costs button and the Costs modal: anyone sees the table, the facilitator
changes the assumptions for the decision. Values are checked before the ack, so a mistake (or a
save by someone else) shows inline in the modal."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext

from bot.domain.cost_assumptions import OVERRIDE_KEYS, CostOverrideError, Range, parse_range_text
from bot.domain.errors import UserError
from bot.domain.questions import MessageKey
from bot.services import cost_overrides
from handlers import payloads
from handlers.modal_acks import submitted
from handlers.runtime import Runtime, runtime_of
from handlers.thread import refresh
from handlers.ui.cost_modal import cost_input_id, costs_modal
from handlers.ui.ids import ActionId, CallbackId, matcher


async def open_costs(ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext) -> None:
    await ack()
    rt, (click, decision_id) = runtime_of(context), payloads.decision_click(body)
    state, editable = await rt.call(
        cost_overrides.costs_of, **click.at(decision_id), user_id=click.user_id
    )
    if not click.trigger_id:
        raise payloads.StaleButton()
    await rt.client.views_open(trigger_id=click.trigger_id, view=costs_modal(state, editable))


async def _reject(ack: AsyncAck, submission: payloads.Submission, errors: dict[str, str]) -> None:
    if not all(submission.has_input(input_id) for input_id in errors):
        await ack()
        raise payloads.StaleForm()
    await ack(response_action="errors", errors=errors)


async def save_costs(ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext) -> None:
    submission = await submitted(ack, body)
    assert submission is not None
    values: dict[str, Range] = {}
    errors: dict[str, str] = {}
    for key in OVERRIDE_KEYS:
        text = submission.text(cost_input_id(key))
        if not text:
            continue  # empty: the default
        try:
            values[key] = parse_range_text(key, text)
        except CostOverrideError as exc:
            errors[cost_input_id(key)] = f"{exc.message[0].upper()}{exc.message[1:]}."
    if errors:
        await _reject(ack, submission, errors)
        return
    rt = runtime_of(context)
    try:
        await rt.call(
            cost_overrides.save_cost_overrides,
            **submission.at(),
            user_id=submission.user_id,
            values=values,
        )
    except UserError as exc:
        await _reject(ack, submission, {cost_input_id(OVERRIDE_KEYS[0]): str(exc)})
        return
    await ack()
    shown = [MessageKey.VERDICT, MessageKey.ROOT]  # the root lists the latest amendments
    await refresh(rt, submission.team_id, submission.decision_id, shown)


def register(app: AsyncApp, runtime: Runtime) -> None:
    app.action(matcher(ActionId.COSTS))(open_costs)
    app.view(CallbackId.COSTS)(save_costs)
