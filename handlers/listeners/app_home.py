"""The App Home tab: publish it when a person opens it, and its buttons (open the thread,
export, log a failure, re-run). Every button checks the decision is this workspace's and in a
channel the person is in, as Slack says."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext
from slack_sdk.errors import SlackApiError

from bot.domain.command_parser import parse_command
from bot.services import decision_records, home_dashboard
from handlers import event_payloads, payloads
from handlers.home_refresh import HomeRefresher
from handlers.listeners import slash_command
from handlers.rerun import rerun_diagnostic
from handlers.runtime import Runtime, runtime_of
from handlers.slack_calls import slack_error, tell
from handlers.ui.ids import ActionId, matcher
from handlers.ui.review_messages import log_failure_modal
from storage.models import Decision

log = logging.getLogger("ragft")

NO_RESPONSE_URL = "https://slack.com/app_home"
"""A Home button has no response_url: replies go ephemerally to the decision's channel."""


def home_of(rt: Runtime) -> HomeRefresher:
    assert rt.home is not None, "app_home.register sets it"
    return rt.home


async def home_opened(body: dict[str, Any], context: AsyncBoltContext) -> None:
    opened = event_payloads.home_opened_of(body)
    if opened is None or opened.tab != "home":
        return
    try:
        await home_of(runtime_of(context)).opened(opened.team_id, opened.user_id)
    except SlackApiError as exc:  # nobody to tell: the tab just keeps what it showed
        log.warning("couldn't publish the App Home: Slack said %s", slack_error(exc))


async def _decision(rt: Runtime, click: payloads.Click, decision_id: int) -> Decision:
    channels = await home_of(rt).memberships.channels(rt.client, click.team_id, click.user_id)
    return await rt.call(
        home_dashboard.home_decision,
        team_id=click.team_id,
        decision_id=decision_id,
        channel_ids=channels,
    )


class _TellInChannel:
    """What a subcommand replies, told ephemerally in the decision's channel."""

    def __init__(self, rt: Runtime, channel_id: str, user_id: str) -> None:
        self.rt, self.channel_id, self.user_id = rt, channel_id, user_id

    async def __call__(self, text: str = "", **_: Any) -> None:
        await tell(self.rt.client, self.channel_id, self.user_id, text)


async def open_thread(ack: AsyncAck) -> None:
    await ack()  # a link button: Slack opens the URL, and still sends the click


async def export(ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext) -> None:
    """Exactly ``/ragft export <id>`` typed in the decision's channel."""
    await ack()
    rt, (click, decision_id) = runtime_of(context), event_payloads.home_click(body)
    decision = await _decision(rt, click, decision_id)
    cmd = payloads.SlashCommand(
        team_id=click.team_id,
        channel_id=decision.channel_id,
        user_id=click.user_id,
        text=f"export {decision_id}",
        response_url=NO_RESPONSE_URL,
    )
    respond = _TellInChannel(rt, decision.channel_id, click.user_id)
    await slash_command.export(rt, cmd, parse_command(cmd.text), respond)  # type: ignore[arg-type]


async def log_failure(ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext) -> None:
    """The "Log AI failure" modal, with this decision chosen."""
    await ack()
    rt, (click, decision_id) = runtime_of(context), event_payloads.home_click(body)
    if not click.trigger_id:
        raise payloads.StaleButton()
    decision = await _decision(rt, click, decision_id)
    where = {"team_id": click.team_id, "channel_id": decision.channel_id}
    found, _ = await rt.call(decision_records.logging_choices, **where)
    choices = [decision, *(d for d in found if d.id != decision.id)][:100]
    view = log_failure_modal(
        decisions=choices,
        default=decision,
        output="",
        permalink=None,
        channel_id=decision.channel_id,
    )
    await rt.client.views_open(trigger_id=click.trigger_id, view=view)


async def rerun(ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext) -> None:
    """What the review's *Re-run the diagnostic* does."""
    await ack()
    rt, (click, decision_id) = runtime_of(context), event_payloads.home_click(body)
    decision = await _decision(rt, click, decision_id)
    new = await rerun_diagnostic(
        rt,
        team_id=click.team_id,
        channel_id=decision.channel_id,
        decision_id=decision_id,
        user_id=click.user_id,
    )
    assert new.id is not None
    home_of(rt).changed(click.team_id, new.id)


def register(app: AsyncApp, runtime: Runtime) -> None:
    runtime.home = HomeRefresher(runtime)
    app.event("app_home_opened")(home_opened)
    app.action(matcher(ActionId.HOME_OPEN_THREAD))(open_thread)
    app.action(matcher(ActionId.HOME_EXPORT))(export)
    app.action(matcher(ActionId.HOME_LOG_FAILURE))(log_failure)
    app.action(matcher(ActionId.HOME_RERUN))(rerun)
