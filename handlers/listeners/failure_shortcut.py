"""The "Log AI failure" message shortcut and the modal it opens."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext
from slack_sdk.errors import SlackApiError

from bot.domain.failure_lines import MAX_EXPLANATION_LENGTH, ParsedFailure
from bot.domain.markup import to_plain
from bot.services import decision_records
from handlers import payloads
from handlers.failure_intake import log_from_slack, logged_text
from handlers.modal_acks import submitted
from handlers.runtime import Runtime, runtime_of
from handlers.slack_calls import slack_error, tell
from handlers.ui.ids import CallbackId, InputId
from handlers.ui.review_messages import log_failure_modal

log = logging.getLogger("ragft")


async def open_modal(ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext) -> None:
    await ack()
    shortcut = payloads.shortcut_of(body)
    rt = runtime_of(context)
    where = {"team_id": shortcut.team_id, "channel_id": shortcut.channel_id}
    found, default = await rt.call(decision_records.logging_choices, **where)
    try:
        link = (
            await rt.client.chat_getPermalink(
                channel=shortcut.channel_id, message_ts=shortcut.message_ts
            )
        )["permalink"]
    except SlackApiError as exc:  # e.g. a DM the bot can't read: log it without the link
        log.info("chat.getPermalink failed: %s", slack_error(exc))
        link = None
    view = log_failure_modal(
        decisions=found,
        default=default,
        output=to_plain(shortcut.message_text),
        permalink=link,
        channel_id=shortcut.channel_id,
    )
    await rt.client.views_open(trigger_id=shortcut.trigger_id, view=view)


async def submit(ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext) -> None:
    submission = await submitted(
        ack, body, {InputId.EXPLANATION: "Say why it failed."}, of_a_decision=False
    )
    if submission is None:
        return
    await ack()
    why = submission.text(InputId.EXPLANATION)
    try:
        decision_id = payloads.number(submission.selected(InputId.DECISION))
    except payloads.StaleButton:
        raise payloads.StaleForm() from None
    item = ParsedFailure(
        explanation=why[:MAX_EXPLANATION_LENGTH],
        output=submission.text(InputId.OUTPUT) or None,
        permalink=submission.meta.permalink,
    )
    rt = runtime_of(context)
    decision, categorised, duplicates = await log_from_slack(
        rt, **submission.at(decision_id), user_id=submission.user_id, failures=[item], visible=False
    )
    text = logged_text(decision, categorised, duplicates)
    channel = submission.meta.channel_id or submission.user_id  # else by DM
    await tell(rt.client, channel, submission.user_id, text)


def register(app: AsyncApp, runtime: Runtime) -> None:
    app.shortcut(CallbackId.LOG_FAILURE)(open_modal)
    app.view(CallbackId.LOG_FAILURE)(submit)
