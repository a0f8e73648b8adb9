"""*Decide* and its confirmation: pressing Decide shows, only to the presser, what the rule gives,
its unmet conditions and the unanswered questions; only *Confirm* decides."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext, AsyncRespond

from bot.services import deciding
from bot.services.deciding import FINGERPRINT_LENGTH, Changed, NotReady
from handlers import payloads
from handlers.announce import announce_decided, announce_not_ready
from handlers.runtime import Runtime, runtime_of
from handlers.ui.decide_confirm import confirm_message
from handlers.ui.ids import SEPARATOR, ActionId, matcher

_FINGERPRINT = re.compile(f"[0-9a-f]{{{FINGERPRINT_LENGTH}}}")


async def decide(
    ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond, context: AsyncBoltContext
) -> None:
    await ack()
    rt, (click, decision_id) = runtime_of(context), payloads.decision_click(body)
    state = await rt.call(
        deciding.preview_decide,
        **click.at(decision_id),
        user_id=click.user_id,
        is_admin=rt.admin_check(click.user_id),
    )
    message = confirm_message(state)
    await respond(
        text=message.text,
        blocks=message.blocks,
        response_type="ephemeral",
        replace_original=False,
    )


async def confirm(
    ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond, context: AsyncBoltContext
) -> None:
    await ack()
    rt, click = runtime_of(context), payloads.in_channel(payloads.click_of(body))
    ref, _, shown = click.value.partition(SEPARATOR)  # a confirmation before fingerprints: none
    decision_id = payloads.number(ref)
    if shown and not _FINGERPRINT.fullmatch(shown):
        raise payloads.StaleButton()
    result = await rt.call(
        deciding.decide,
        **click.at(decision_id),
        user_id=click.user_id,
        is_admin=rt.admin_check(click.user_id),
        tz_of=rt.tz_of,
        shown=shown or None,
    )
    if isinstance(result, Changed):
        message = confirm_message(result.state, changed=True)
        await respond(
            text=message.text,
            blocks=message.blocks,
            response_type="ephemeral",
            replace_original=True,
        )
        return
    if isinstance(result, NotReady):
        await respond(
            text=f"Decision #{decision_id} stays open: the rule says not ready. "
            "What's missing is in the thread.",
            response_type="ephemeral",
            replace_original=True,
        )
        await announce_not_ready(rt, result)
        return
    await respond(text=f"Decided #{decision_id}.", response_type="ephemeral", replace_original=True)
    await announce_decided(rt, result)


async def cancel(
    ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond, context: AsyncBoltContext
) -> None:
    await ack()
    payloads.decision_click(body)
    await respond(
        text="Not decided. Nothing has changed.", response_type="ephemeral", replace_original=True
    )


LISTENERS = {
    ActionId.DECIDE: decide,
    ActionId.CONFIRM_DECIDE: confirm,
    ActionId.CANCEL_DECIDE: cancel,
}


def register(app: AsyncApp, runtime: Runtime) -> None:
    for action, listener in LISTENERS.items():
        app.action(matcher(action))(listener)
