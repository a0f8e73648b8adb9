"""``/ragft``: ack at once, then parse and dispatch to one small function per subcommand."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_bolt.context.async_context import AsyncBoltContext

from bot.domain.command_parser import Command, Subcommand, parse_command
from bot.domain.errors import NotFound
from bot.domain.markup import unescape
from bot.domain.record_markdown import render_record
from bot.services.state import DecisionState, get_channel_decision, load_state
from handlers.runtime import Runtime
from handlers.thread import post_thread
from handlers.ui.command_replies import help_message, list_message
from handlers.ui.thread_messages import Message
from storage.models import DecisionStatus
from storage.repositories import decision_repo as repo

VISIBLE = [s for s in DecisionStatus if s != DecisionStatus.ARCHIVED]
"""Archived decisions are the orphans of a /ragft whose thread could not be posted."""

Handler = Callable[[Runtime, dict[str, Any], Command, AsyncRespond], Awaitable[None]]


async def reply(respond: AsyncRespond, message: Message) -> None:
    await respond(
        text=message.text,
        blocks=message.blocks,
        response_type="ephemeral",
        replace_original=False,
    )


async def start(runtime: Runtime, command: dict[str, Any], parsed: Command, respond) -> None:
    team_id, channel_id = command["team_id"], command["channel_id"]
    async with runtime.sessions() as session, session.begin():
        decision = await repo.create_decision(
            session=session,
            team_id=team_id,
            channel_id=channel_id,
            title=parsed.title or "",
            facilitator_id=command["user_id"],
        )
        decision_id = decision.id
        assert decision_id is not None
    async with runtime.sessions() as session:
        state = await load_state(session=session, team_id=team_id, decision_id=decision_id)
    await post_thread(runtime, state)


async def show_help(runtime: Runtime, command: dict[str, Any], parsed: Command, respond) -> None:
    note = None
    if parsed.kind is Subcommand.UNKNOWN:
        note = (
            f"`{parsed.word}` isn't a ragft command. To start a decision with that title, "
            f"use `/ragft start {parsed.word}`."
        )
    await reply(respond, help_message(note))


async def show_list(runtime: Runtime, command: dict[str, Any], parsed: Command, respond) -> None:
    async with runtime.sessions() as session:
        decisions = await repo.list_decisions(
            session=session,
            team_id=command["team_id"],
            channel_id=command["channel_id"],
            statuses=VISIBLE,
            limit=41,
        )
    await reply(respond, list_message(decisions, command["channel_id"]))


async def find_decision(
    runtime: Runtime, command: dict[str, Any], decision_id: int | None
) -> DecisionState:
    """The given decision, or the latest one in this channel."""
    team_id, channel_id = command["team_id"], command["channel_id"]
    async with runtime.sessions() as session:
        if decision_id is None:
            latest = await repo.latest_decision(
                session=session, team_id=team_id, channel_id=channel_id, statuses=VISIBLE
            )
            if latest is None or latest.id is None:
                raise NotFound(
                    "There are no decisions in this channel yet. Start one with `/ragft <title>`."
                )
            decision_id = latest.id
        else:
            await get_channel_decision(
                session=session, team_id=team_id, channel_id=channel_id, decision_id=decision_id
            )
        return await load_state(session=session, team_id=team_id, decision_id=decision_id)


async def export(runtime: Runtime, command: dict[str, Any], parsed: Command, respond) -> None:
    state = await find_decision(runtime, command, parsed.decision_id)
    async with runtime.sessions() as session:
        answers = await repo.list_answers(
            session=session, team_id=state.decision.team_id, decision_id=state.id
        )
    content = render_record(state, answers)
    decision = state.decision
    await runtime.client.files_upload_v2(
        channel=decision.channel_id,
        thread_ts=decision.thread_ts,
        content=content,
        filename=f"ragft-decision-{state.id}.md",
        title=f"Decision record #{state.id}: {decision.title}"[:250],  # plain text, not mrkdwn
        initial_comment=f"Decision record for #{state.id}, exported by <@{command['user_id']}>.",
    )


SUBCOMMANDS: dict[Subcommand, Handler] = {
    Subcommand.START: start,
    Subcommand.HELP: show_help,
    Subcommand.UNKNOWN: show_help,
    Subcommand.LIST: show_list,
    Subcommand.EXPORT: export,
}


def register(app: AsyncApp, runtime: Runtime, extra: dict[Subcommand, Handler]) -> None:
    handlers = {**SUBCOMMANDS, **extra}

    @app.command("/ragft")
    async def ragft(
        ack: AsyncAck, command: dict[str, Any], respond: AsyncRespond, context: AsyncBoltContext
    ) -> None:
        await ack()
        # The manifest sets should_escape=false, so the text has no markup: only &, <, > arrive
        # as entities. What the user typed, "<!channel>" included, is kept as text.
        parsed = parse_command(unescape(command.get("text", "")))
        await handlers[parsed.kind](runtime, command, parsed, respond)
