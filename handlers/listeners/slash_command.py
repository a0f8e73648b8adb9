"""``/ragft``: ack at once, then parse and dispatch to one small function per subcommand."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext, AsyncRespond

from bot.domain.adr_formats import DEFAULT_FORMAT, AdrFormat
from bot.domain.command_parser import Command, Subcommand, parse_command
from bot.domain.errors import UserError
from bot.domain.failure_lines import parse_failure_line
from bot.domain.markup import unescape
from bot.domain.review_schedule import CADENCE_DAYS
from bot.services import adr_records, decision_records, review_routine
from handlers import payloads
from handlers.adr_delivery import upload_adr
from handlers.failure_intake import log_from_slack, logged_text
from handlers.runtime import Runtime, runtime_of
from handlers.thread import post_thread, refresh_root
from handlers.ui.blocks import Message
from handlers.ui.command_replies import (
    cadence_text,
    help_message,
    list_message,
    routine_lines,
    status_message,
)
from storage.models import utcnow

Handler = Callable[[Runtime, payloads.SlashCommand, Command, AsyncRespond], Awaitable[None]]


async def reply(respond: AsyncRespond, message: Message | str) -> None:
    if isinstance(message, str):
        message = Message(text=message, blocks=[])
    await respond(
        text=message.text,
        blocks=message.blocks or None,
        response_type="ephemeral",
        replace_original=False,
    )


async def start(rt: Runtime, cmd: payloads.SlashCommand, parsed: Command, respond) -> None:
    state = await rt.call(
        decision_records.start_decision,
        team_id=cmd.team_id,
        channel_id=cmd.channel_id,
        title=parsed.title or "",
        facilitator_id=cmd.user_id,
    )
    await post_thread(rt, state)


async def show_help(rt: Runtime, cmd: payloads.SlashCommand, parsed: Command, respond) -> None:
    note = None
    if parsed.kind is Subcommand.UNKNOWN:
        note = (
            f"`{parsed.word}` isn't a ragft command. To start a decision with that title, "
            f"use `/ragft start {parsed.word}`."
        )
    await reply(respond, help_message(note))


async def show_list(rt: Runtime, cmd: payloads.SlashCommand, parsed: Command, respond) -> None:
    where = {"team_id": cmd.team_id, "channel_id": cmd.channel_id}
    found = await rt.call(decision_records.channel_decisions, **where)
    await reply(respond, list_message(found, cmd.channel_id))


async def status(rt: Runtime, cmd: payloads.SlashCommand, parsed: Command, respond) -> None:
    state = await rt.call(decision_records.find_state, **cmd.at(parsed.decision_id))
    troubled = await rt.call(
        decision_records.troubled_reminders, team_id=cmd.team_id, decision_id=state.id
    )
    await reply(respond, status_message(state, routine_lines(state.decision, troubled)))


async def export(rt: Runtime, cmd: payloads.SlashCommand, parsed: Command, respond) -> None:
    source = await rt.call(adr_records.export_source, **cmd.at(parsed.decision_id))
    adr_format = AdrFormat(parsed.export_format or DEFAULT_FORMAT)
    await upload_adr(rt.client, source, adr_format, cmd.user_id)


async def log_failure(rt: Runtime, cmd: payloads.SlashCommand, parsed: Command, respond) -> None:
    item = parse_failure_line(parsed.text or "")
    if item is None:
        raise UserError("Say why the output failed: `/ragft log [decision] <why it failed>`.")
    decision, categorised = await log_from_slack(
        rt, **cmd.at(parsed.decision_id), user_id=cmd.user_id, failures=[item], visible=False
    )
    await reply(respond, logged_text(decision, categorised))


async def cadence(rt: Runtime, cmd: payloads.SlashCommand, parsed: Command, respond) -> None:
    decision = await rt.call(decision_records.decision_for_logging, **cmd.at(parsed.decision_id))
    assert decision.id is not None
    if parsed.cadence is not None:
        change = {"days": CADENCE_DAYS[parsed.cadence], "now": utcnow(), "tz_of": rt.tz_of}
        decision = await rt.call(review_routine.set_cadence, **cmd.at(decision.id), **change)
        assert decision.id is not None
        await refresh_root(rt, cmd.team_id, decision.id, bool(decision.message_ts))
    await reply(respond, cadence_text(decision, with_hint=parsed.cadence is None))


SUBCOMMANDS: dict[Subcommand, Handler] = {
    Subcommand.START: start,
    Subcommand.HELP: show_help,
    Subcommand.UNKNOWN: show_help,
    Subcommand.LIST: show_list,
    Subcommand.STATUS: status,
    Subcommand.EXPORT: export,
    Subcommand.LOG: log_failure,
    Subcommand.CADENCE: cadence,
}


async def ragft(
    ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond, context: AsyncBoltContext
) -> None:
    await ack()
    cmd = payloads.command_of(body)
    # The manifest sets should_escape=false, so the text has no markup: only &, <, > arrive
    # as entities. What the user typed, "<!channel>" included, is kept as text.
    parsed = parse_command(unescape(cmd.text))
    await SUBCOMMANDS[parsed.kind](runtime_of(context), cmd, parsed, respond)


def register(app: AsyncApp, runtime: Runtime) -> None:
    app.command("/ragft")(ragft)
