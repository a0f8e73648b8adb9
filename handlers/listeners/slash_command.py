"""``/ragft``: ack at once, then parse and dispatch to one small function per subcommand."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext, AsyncRespond

from bot.domain.adr_formats import DEFAULT_FORMAT, AdrFormat
from bot.domain.command_parser import Command, Subcommand, parse_command
from bot.domain.errors import UserError
from bot.domain.failure_lines import parse_failure_line
from bot.domain.markup import unescape
from bot.domain.review_schedule import CADENCE_DAYS
from bot.services import (
    adr_records,
    decision_records,
    default_decision,
    failure_ingest,
    lifecycle_actions,
    review_routine,
)
from handlers import payloads
from handlers.adr_delivery import upload_adr
from handlers.failure_intake import log_from_slack, logged_text
from handlers.runtime import Runtime, runtime_of
from handlers.slack_calls import ephemeral_reply, post_message
from handlers.thread import refresh, refresh_root
from handlers.thread_queue import NewDecision
from handlers.token_command import manage_tokens
from handlers.ui import confirm_messages as confirm
from handlers.ui.arrivals import arrivals_line
from handlers.ui.blocks import Message
from handlers.ui.command_replies import (
    cadence_text,
    help_message,
    list_message,
    routine_lines,
    status_message,
)
from handlers.ui.ids import ActionId, matcher
from handlers.ui.mrkdwn import safe
from storage.models import utcnow

Handler = Callable[[Runtime, payloads.SlashCommand, Command, AsyncRespond], Awaitable[None]]


async def start(rt: Runtime, cmd: payloads.SlashCommand, parsed: Command, respond) -> None:
    if parsed.confirm:  # a title that may be a typo: nothing is posted until the user says so
        await ephemeral_reply(respond, confirm.start_preview(parsed.title or "", parsed.suggestion))
        return
    new = NewDecision(cmd.team_id, cmd.channel_id, cmd.user_id, parsed.title or "")
    place = payloads.Where(channel=cmd.channel_id, user=cmd.user_id)
    rt.threads.post(new, place=place, respond=respond)


async def show_help(rt: Runtime, cmd: payloads.SlashCommand, parsed: Command, respond) -> None:
    shown = help_message()
    if parsed.kind is Subcommand.UNKNOWN:
        preview = confirm.start_preview(parsed.word or "", parsed.suggestion, unknown=True)
        shown = Message(text=preview.text, blocks=[*preview.blocks, *shown.blocks])
    await ephemeral_reply(respond, shown)


async def show_list(rt: Runtime, cmd: payloads.SlashCommand, parsed: Command, respond) -> None:
    where = {"team_id": cmd.team_id, "channel_id": cmd.channel_id}
    found = await rt.call(decision_records.channel_decisions, **where)
    await ephemeral_reply(respond, list_message(found, cmd.channel_id))


async def status(rt: Runtime, cmd: payloads.SlashCommand, parsed: Command, respond) -> None:
    state = await rt.call(decision_records.find_state, **cmd.at(parsed.decision_id))
    troubled = await rt.call(
        decision_records.troubled_reminders, team_id=cmd.team_id, decision_id=state.id
    )
    counts, last = await rt.call(failure_ingest.arrivals, team_id=cmd.team_id, decision_id=state.id)
    arrived = [line] if (line := arrivals_line(counts, last)) else []
    await ephemeral_reply(
        respond, status_message(state, [*arrived, *routine_lines(state.decision, troubled)])
    )


async def export(rt: Runtime, cmd: payloads.SlashCommand, parsed: Command, respond) -> None:
    source = await rt.call(adr_records.export_source, **cmd.at(parsed.decision_id))
    adr_format = AdrFormat(parsed.export_format or DEFAULT_FORMAT)
    await upload_adr(rt.client, source, adr_format, cmd.user_id)


async def log_failure(rt: Runtime, cmd: payloads.SlashCommand, parsed: Command, respond) -> None:
    item = parse_failure_line(parsed.text or "")
    if item is None:
        raise UserError("Say why the output failed: `/ragft log [decision] <why it failed>`.")
    decision, categorised, duplicates = await log_from_slack(
        rt, **cmd.at(parsed.decision_id), user_id=cmd.user_id, failures=[item], visible=False
    )
    await ephemeral_reply(respond, logged_text(decision, categorised, duplicates))


async def cadence(rt: Runtime, cmd: payloads.SlashCommand, parsed: Command, respond) -> None:
    decision = await rt.call(default_decision.resolve, **cmd.at(parsed.decision_id))
    assert decision.id is not None
    if parsed.cadence is not None:
        change = {"days": CADENCE_DAYS[parsed.cadence], "now": utcnow(), "tz_of": rt.tz_of}
        decision = await rt.call(review_routine.set_cadence, **cmd.at(decision.id), **change)
        assert decision.id is not None
        await refresh_root(rt, cmd.team_id, decision.id, bool(decision.message_ts))
    await ephemeral_reply(respond, cadence_text(decision, with_hint=parsed.cadence is None))


async def rename(rt: Runtime, cmd: payloads.SlashCommand, parsed: Command, respond) -> None:
    renamed = await rt.call(
        lifecycle_actions.rename,
        **cmd.at(parsed.decision_id),
        user_id=cmd.user_id,
        title=parsed.title or "",
        is_admin=rt.admin_check(cmd.user_id),
    )
    decision = renamed.decision
    assert decision.id is not None
    await refresh(rt, cmd.team_id, decision.id, decision.message_ts.keys())
    if decision.thread_ts:
        note = confirm.renamed_note(decision, renamed.old_title, cmd.user_id)
        await post_message(
            rt.client, channel=decision.channel_id, thread_ts=decision.thread_ts, text=note
        )
    await ephemeral_reply(respond, f"Renamed #{decision.id} to “{safe(decision.title, 200)}”.")


async def withdraw(rt: Runtime, cmd: payloads.SlashCommand, parsed: Command, respond) -> None:
    decision = await rt.call(
        lifecycle_actions.check_withdraw,
        **cmd.at(parsed.decision_id),
        user_id=cmd.user_id,
        is_admin=rt.admin_check(cmd.user_id),
    )
    await ephemeral_reply(respond, confirm.withdraw_confirm(decision))


async def delete(rt: Runtime, cmd: payloads.SlashCommand, parsed: Command, respond) -> None:
    removal = await rt.call(
        lifecycle_actions.removal_preview,
        **cmd.at(parsed.decision_id),
        user_id=cmd.user_id,
        is_admin=rt.admin_check(cmd.user_id),
    )
    await ephemeral_reply(respond, confirm.delete_confirm(removal))


SUBCOMMANDS: dict[Subcommand, Handler] = {
    Subcommand.START: start,
    Subcommand.HELP: show_help,
    Subcommand.UNKNOWN: show_help,
    Subcommand.LIST: show_list,
    Subcommand.STATUS: status,
    Subcommand.EXPORT: export,
    Subcommand.LOG: log_failure,
    Subcommand.CADENCE: cadence,
    Subcommand.TOKEN: manage_tokens,
    Subcommand.RENAME: rename,
    Subcommand.WITHDRAW: withdraw,
    Subcommand.DELETE: delete,
}


async def ragft(
    ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond, context: AsyncBoltContext
) -> None:
    await ack()
    cmd = payloads.command_of(body)
    # The manifest sets should_escape=false, so the text has no markup: only &, <, > arrive
    # as entities. What the user typed, "<!channel>" included, is kept as text.
    await run(runtime_of(context), cmd, parse_command(unescape(cmd.text)), respond)


async def run(rt: Runtime, cmd: payloads.SlashCommand, parsed: Command, respond) -> None:
    """Dispatch; a command that named no decision when several are open gets a picker."""
    try:
        await SUBCOMMANDS[parsed.kind](rt, cmd, parsed, respond)
    except default_decision.Ambiguous as exc:
        await ephemeral_reply(respond, confirm.decision_picker(exc.choices, cmd.text))


async def picked(
    ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond, context: AsyncBoltContext
) -> None:
    """A decision picked from ``decision_picker``: the original command, completed."""
    await ack()
    cmd, decision_id = payloads.picked_command_of(body)
    await respond(delete_original=True)
    parsed = replace(parse_command(unescape(cmd.text)), decision_id=decision_id)
    await run(runtime_of(context), cmd, parsed, respond)


def register(app: AsyncApp, runtime: Runtime) -> None:
    app.command("/ragft")(ragft)
    app.action(matcher(ActionId.PICK_DECISION))(picked)
