"""The routine in Slack: logging failures after the decision (message shortcut, ``/ragft log``),
the review cadence (``/ragft cadence``, a select), the review's buttons, and delivering due
reminders (reviews and revisit nudges) for the sweeper in ``bot.reminders.sweeper``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.domain.command_parser import CADENCE_DAYS, Command, Subcommand
from bot.domain.errors import NotFound, UserError
from bot.domain.failure_lines import ParsedFailure, parse_failure_line
from bot.domain.markup import to_plain
from bot.domain.questions import FAILURE_CATEGORY_LABELS
from bot.domain.review_schedule import percent
from bot.services import review_routine as routine
from bot.services import state as decisions
from bot.services.state import DecisionState, load_state
from handlers.failure_intake import log_failures
from handlers.listeners.slash_command import VISIBLE, Handler, find_decision, reply
from handlers.runtime import Runtime
from handlers.slack_calls import NOT_IN_CHANNEL, post_message, slack_error, team_id_of
from handlers.thread import post_thread, refresh
from handlers.ui.command_replies import status_message
from handlers.ui.ids import ActionId, CallbackId, InputId, matcher, unpack
from handlers.ui.mrkdwn import mention, safe, slack_date
from handlers.ui.review_messages import (
    cadence_label,
    log_failure_modal,
    reviewed_note,
    schedule_message,
    snoozed_note,
)
from storage.models import Decision, DecisionStatus, ReminderStatus, utcnow
from storage.repositories import decision_repo as repo
from storage.repositories import reminder_repo as reminders

log = logging.getLogger("ragft")


# Slack look-ups ----------------------------------------------------------------------------------


async def user_tz(client: AsyncWebClient, user_id: str) -> str | None:
    """The user's timezone (users.info ``tz``). Without it reviews land at 10:00 UTC."""
    try:
        return (await client.users_info(user=user_id))["user"].get("tz")
    except SlackApiError as exc:
        log.warning("users.info %s failed (%s); using UTC", user_id, slack_error(exc))
        return None


# Which decision ----------------------------------------------------------------------------------


async def default_decision(
    runtime: Runtime, team_id: str, channel_id: str, decision_id: int | None
) -> Decision:
    """The given decision, else the latest decided one in this channel, else the latest one."""
    async with runtime.sessions() as session:
        if decision_id is not None:
            return await decisions.get_channel_decision(
                session=session, team_id=team_id, channel_id=channel_id, decision_id=decision_id
            )
        found = await repo.latest_decision(
            session=session, team_id=team_id, channel_id=channel_id, status=DecisionStatus.DECIDED
        ) or await repo.latest_decision(
            session=session, team_id=team_id, channel_id=channel_id, statuses=VISIBLE
        )
    if found is None:
        raise NotFound(
            "There are no decisions in this channel yet. Name one (`/ragft log 12 …`), or start "
            "one with `/ragft <title>`."
        )
    return found


async def decision_choices(
    runtime: Runtime, team_id: str, channel_id: str
) -> tuple[list[Decision], Decision]:
    """Decisions a failure can be logged against (this channel's only: listing other channels'
    would show private channels' titles), and the default: the latest decided one."""
    statuses = [DecisionStatus.DECIDED, DecisionStatus.OPEN]
    async with runtime.sessions() as session:
        found = list(
            await repo.list_decisions(
                session=session, team_id=team_id, channel_id=channel_id, statuses=statuses
            )
        )
    if not found:
        raise NotFound(
            "There are no decisions in this channel to log against. Use the shortcut in the "
            "decision's channel, or start one here with `/ragft <title>`."
        )
    default = next((d for d in found if d.status == DecisionStatus.DECIDED), found[0])
    return found[:100], default


# Logging failures --------------------------------------------------------------------------------


def logged_text(decision: Decision, categorised: Sequence[decisions.Categorised]) -> str:
    lines = [
        f"*{FAILURE_CATEGORY_LABELS[item.category]}*: {safe(item.failure.explanation, 300)}"
        for item in categorised
    ]
    return (
        f"Logged to #{decision.id} *{safe(decision.title, 200)}*. "
        + " ".join(lines)
        + " It counts in the next review and in `/ragft status`."
    )


async def tell(client: AsyncWebClient, channel: str, user: str, text: str) -> None:
    """Ephemerally in the channel; by DM when the bot can't post there."""
    try:
        await client.chat_postEphemeral(channel=channel, user=user, text=text)
    except SlackApiError as exc:
        if slack_error(exc) not in NOT_IN_CHANNEL:
            raise
        await client.chat_postMessage(channel=user, text=text)


async def log_command(
    runtime: Runtime, command: dict[str, Any], parsed: Command, respond: AsyncRespond
) -> None:
    team_id, user_id = command["team_id"], command["user_id"]
    decision = await default_decision(runtime, team_id, command["channel_id"], parsed.decision_id)
    item = parse_failure_line(parsed.text or "")
    if item is None:
        raise UserError("Say why the output failed: `/ragft log [decision] <why it failed>`.")
    assert decision.id is not None
    decision, categorised = await log_failures(runtime, team_id, decision.id, user_id, [item])
    await respond(
        text=logged_text(decision, categorised), response_type="ephemeral", replace_original=False
    )


# Cadence and status ------------------------------------------------------------------------------


async def change_cadence(runtime: Runtime, team_id: str, decision_id: int, days: int) -> Decision:
    tz = await facilitator_tz(runtime, team_id, decision_id)
    async with runtime.sessions() as session, session.begin():
        decision = await routine.set_cadence(
            session=session,
            team_id=team_id,
            decision_id=decision_id,
            days=days,
            now=utcnow(),
            tz=tz,
        )
    await refresh(runtime, team_id, decision_id, ["root"] if decision.message_ts else [])
    return decision


def cadence_text(decision: Decision) -> str:
    days = decision.review_cadence_days
    text = f"Decision #{decision.id} is reviewed *{cadence_label(days).lower()}* ({days} days)."
    if decision.next_review_at:
        text += f" Next review: {slack_date(decision.next_review_at)}."
    elif decision.status == DecisionStatus.OPEN:
        text += " The first review is scheduled when it's decided."
    return text


async def cadence_command(
    runtime: Runtime, command: dict[str, Any], parsed: Command, respond: AsyncRespond
) -> None:
    team_id = command["team_id"]
    decision = await default_decision(runtime, team_id, command["channel_id"], parsed.decision_id)
    assert decision.id is not None
    if parsed.cadence is not None:
        decision = await change_cadence(runtime, team_id, decision.id, CADENCE_DAYS[parsed.cadence])
    text = cadence_text(decision)
    if parsed.cadence is None:
        text += f" Change it with `/ragft cadence {decision.id} monthly|quarterly|half-yearly`."
    await respond(text=text, response_type="ephemeral", replace_original=False)


async def routine_lines(runtime: Runtime, state: DecisionState) -> list[str]:
    """What ``/ragft status`` adds: cadence, reviews, and reminders that couldn't be sent."""
    decision = state.decision
    lines = [f"*Review cadence:* {cadence_label(decision.review_cadence_days)}"]
    if decision.last_reviewed_at:
        lines.append(
            f"*Last reviewed* by {mention(decision.last_reviewed_by)} on "
            f"{slack_date(decision.last_reviewed_at)}"
        )
    if decision.nudge_evidence.get("at"):
        at = datetime.fromisoformat(decision.nudge_evidence["at"])
        lines.append(
            f"*Last revisit nudge:* {slack_date(at)}, at {decision.nudge_evidence['analysed']} "
            f"failures ({percent(decision.nudge_evidence.get('share'))} behavioral)"
        )
    async with runtime.sessions() as session:
        troubled = await reminders.list_for_decision(
            session=session,
            team_id=decision.team_id,
            decision_id=state.id,
            statuses=[ReminderStatus.FAILED, ReminderStatus.PENDING],
        )
    for reminder in troubled:
        if not reminder.last_error:
            continue
        what = reminder.kind.replace("_", " ")
        error = safe(reminder.last_error, 300)
        if reminder.status == ReminderStatus.FAILED:
            lines.append(
                f"⚠️ *The {what} couldn't be posted* after {reminder.attempts} attempts: {error}. "
                "Check the bot is in this channel, then change the cadence to schedule it again."
            )
        else:
            lines.append(
                f"⏳ *The {what} is being retried* (attempt {reminder.attempts} failed: {error}); "
                f"next try {slack_date(reminder.due_at)}."
            )
    return lines


async def status_command(
    runtime: Runtime, command: dict[str, Any], parsed: Command, respond: AsyncRespond
) -> None:
    state = await find_decision(runtime, command, parsed.decision_id)
    await reply(respond, status_message(state, await routine_lines(runtime, state)))


SUBCOMMANDS: dict[Subcommand, Handler] = {
    Subcommand.LOG: log_command,
    Subcommand.CADENCE: cadence_command,
    Subcommand.STATUS: status_command,
}


# After deciding ----------------------------------------------------------------------------------


async def record_decided(
    *, session: AsyncSession, decision: Decision, tz: str | None
) -> Decision | None:
    """In the deciding transaction: schedule the first review and retire the decision this one
    re-ran (returned), so a crash after the verdict can't leave a decision without a review."""
    assert decision.id is not None
    await routine.schedule_first_review(
        session=session, team_id=decision.team_id, decision_id=decision.id, tz=tz
    )
    return await routine.supersede_previous(session=session, decision=decision)


async def announce_decided(runtime: Runtime, state: DecisionState, old: Decision | None) -> None:
    """After the commit: say when the first review is, and point the old thread at this one."""
    decision = state.decision
    async with runtime.sessions() as session:
        state = await load_state(session=session, team_id=decision.team_id, decision_id=state.id)
    message = schedule_message(state)
    await post_message(
        runtime.client,
        channel=decision.channel_id,
        thread_ts=decision.thread_ts,
        text=message.text,
        blocks=message.blocks,
    )
    if old is not None and old.id is not None and old.status == DecisionStatus.SUPERSEDED:
        await refresh(runtime, old.team_id, old.id, ["root"] if old.message_ts else [])
        if old.thread_ts:
            await post_message(
                runtime.client,
                channel=old.channel_id,
                thread_ts=old.thread_ts,
                text=f"This decision is superseded by #{state.id}, decided just now.",
            )


# The review's buttons ----------------------------------------------------------------------------


def _clicked(body: dict[str, Any]) -> tuple[int, str, str]:
    """(decision id, team id, user id) of a button whose value is the decision id."""
    return int(body["actions"][0]["value"]), team_id_of(body), body["user"]["id"]


async def facilitator_tz(runtime: Runtime, team_id: str, decision_id: int) -> str | None:
    async with runtime.sessions() as session:
        decision = await decisions.get_decision(
            session=session, team_id=team_id, decision_id=decision_id
        )
    return await user_tz(runtime.client, decision.facilitator_id)


def _in_thread(decision: Decision) -> dict[str, Any]:
    return {"channel": decision.channel_id, "thread_ts": decision.thread_ts}


async def rerun(runtime: Runtime, team_id: str, decision_id: int, user_id: str) -> Decision:
    """Start a new decision prefilled from this one, posted as a new thread."""
    async with runtime.sessions() as session, session.begin():
        # Lock the old decision first, so two clicks on Re-run can't both start one.
        await decisions.get_decision(
            session=session, team_id=team_id, decision_id=decision_id, for_update=True
        )
        existing = await routine.open_rerun(
            session=session, team_id=team_id, decision_id=decision_id
        )
        if existing is not None:
            raise UserError(
                f"Decision #{decision_id} is already being re-run as #{existing.id}: answer "
                "there, and decide it to replace this one."
            )
        new = await routine.rerun(
            session=session, team_id=team_id, decision_id=decision_id, user_id=user_id
        )
        new_id = new.id
        assert new_id is not None
    async with runtime.sessions() as session:
        state = await load_state(session=session, team_id=team_id, decision_id=new_id)
    await post_thread(runtime, state)
    async with runtime.sessions() as session:
        return await decisions.get_decision(session=session, team_id=team_id, decision_id=new_id)


def register(app: AsyncApp, runtime: Runtime) -> None:
    @app.shortcut(CallbackId.LOG_FAILURE)
    async def log_failure_shortcut(ack: AsyncAck, body: dict[str, Any], client) -> None:
        await ack()
        team_id, channel_id = team_id_of(body), body["channel"]["id"]
        found, default = await decision_choices(runtime, team_id, channel_id)
        message_ts = body.get("message_ts") or body["message"]["ts"]
        try:
            link = (await client.chat_getPermalink(channel=channel_id, message_ts=message_ts))[
                "permalink"
            ]
        except SlackApiError as exc:  # e.g. a DM the bot can't read: log it without the link
            log.info("chat.getPermalink failed: %s", slack_error(exc))
            link = None
        view = log_failure_modal(
            decisions=found,
            default=default,
            output=to_plain(body["message"].get("text") or ""),
            permalink=link,
            channel_id=channel_id,
        )
        await client.views_open(trigger_id=body["trigger_id"], view=view)

    @app.view(CallbackId.LOG_FAILURE)
    async def log_failure_submit(
        ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], client
    ) -> None:
        values = view["state"]["values"]
        why = (values[InputId.EXPLANATION][InputId.EXPLANATION].get("value") or "").strip()
        if not why:
            await ack(response_action="errors", errors={InputId.EXPLANATION: "Say why it failed."})
            return
        await ack()
        selected = values[InputId.DECISION][InputId.DECISION]["selected_option"]["value"]
        output = (values.get(InputId.OUTPUT, {}).get(InputId.OUTPUT, {}).get("value") or "").strip()
        meta = json.loads(view.get("private_metadata") or "{}")
        item = ParsedFailure(
            explanation=why[:1000], output=output or None, permalink=meta.get("permalink")
        )
        team_id, user_id = team_id_of(body), body["user"]["id"]
        decision, categorised = await log_failures(runtime, team_id, int(selected), user_id, [item])
        await tell(
            client, meta.get("channel_id") or user_id, user_id, logged_text(decision, categorised)
        )

    @app.action(matcher(ActionId.REVIEWED))
    async def reviewed(ack: AsyncAck, body: dict[str, Any], client) -> None:
        await ack()
        decision_id, team_id, user_id = _clicked(body)
        tz = await facilitator_tz(runtime, team_id, decision_id)
        async with runtime.sessions() as session, session.begin():
            decision = await routine.mark_reviewed(
                session=session,
                team_id=team_id,
                decision_id=decision_id,
                user_id=user_id,
                now=utcnow(),
                tz=tz,
            )
        await post_message(client, **_in_thread(decision), text=reviewed_note(decision, user_id))
        await refresh(runtime, team_id, decision_id, ["root"] if decision.message_ts else [])

    @app.action(matcher(ActionId.SNOOZE))
    async def snooze(ack: AsyncAck, body: dict[str, Any], client) -> None:
        await ack()
        decision_id, team_id, user_id = _clicked(body)
        tz = await facilitator_tz(runtime, team_id, decision_id)
        async with runtime.sessions() as session, session.begin():
            decision = await routine.snooze(
                session=session, team_id=team_id, decision_id=decision_id, now=utcnow(), tz=tz
            )
        await post_message(client, **_in_thread(decision), text=snoozed_note(decision, user_id))
        await refresh(runtime, team_id, decision_id, ["root"] if decision.message_ts else [])

    @app.action(matcher(ActionId.RERUN))
    async def rerun_clicked(ack: AsyncAck, body: dict[str, Any], client) -> None:
        await ack()
        decision_id, team_id, user_id = (
            int(body["actions"][0]["value"]),
            team_id_of(body),
            body["user"]["id"],
        )
        new = await rerun(runtime, team_id, decision_id, user_id)
        async with runtime.sessions() as session:
            old = await decisions.get_decision(
                session=session, team_id=team_id, decision_id=decision_id
            )
        link = (await client.chat_getPermalink(channel=new.channel_id, message_ts=new.thread_ts))[
            "permalink"
        ]
        await post_message(
            client,
            **_in_thread(old),
            text=f"🔁 {mention(user_id)} re-ran the diagnostic as <{link}|decision #{new.id}>, "
            "prefilled with this one's answers. Once it's decided, it replaces this one.",
        )

    @app.action(matcher(ActionId.CADENCE))
    async def cadence_selected(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        decision_id, days = unpack(body["actions"][0]["selected_option"]["value"], 2)
        decision = await change_cadence(runtime, team_id_of(body), int(decision_id), int(days))
        await respond(
            text=cadence_text(decision), response_type="ephemeral", replace_original=False
        )
