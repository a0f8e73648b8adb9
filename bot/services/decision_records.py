"""Starting a decision, finding one in a channel, and the bookkeeping of the messages the bot
posted for it (their ts)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.domain.errors import NotFound
from bot.domain.lifecycle import DecisionStatus, ReminderStatus
from bot.services import guards
from bot.services.default_decision import named_or_default, pick_in
from bot.services.stalled import watch_new_decision_in
from bot.services.state import DecisionState, build_state, state_of
from storage.models import Decision, FailureExample, Reminder
from storage.repositories import (
    decision_repo,
    event_repo,
    failure_repo,
    message_ts_repo,
    reminder_repo,
    render_repo,
)

VISIBLE = [s for s in DecisionStatus if s != DecisionStatus.ARCHIVED]
"""Archived decisions are the orphans of a /ragft whose thread could not be posted."""
LOGGABLE = [DecisionStatus.DECIDED, DecisionStatus.OPEN]
NO_DECISIONS = "There are no decisions in this channel yet. Start one with `/ragft <title>`."


async def start_decision(
    *, session: AsyncSession, team_id: str, channel_id: str, title: str, facilitator_id: str
) -> DecisionState:
    async with session.begin():
        return await start_in(session, team_id, channel_id, title, facilitator_id)


async def start_in(
    session: AsyncSession, team_id: str, channel_id: str, title: str, facilitator_id: str
) -> DecisionState:
    """Inside a caller's transaction: a new open decision, watched for stalling."""
    decision = await decision_repo.create_decision(
        session=session,
        team_id=team_id,
        channel_id=channel_id,
        title=title,
        facilitator_id=facilitator_id,
    )
    await watch_new_decision_in(session, decision)
    # Nothing can refer to a decision created in this transaction yet: it has no rows to load.
    return build_state(decision, answers=(), owners=(), counts={})


async def channel_decisions(
    *, session: AsyncSession, team_id: str, channel_id: str, limit: int = 41
) -> Sequence[Decision]:
    async with session.begin():
        return await decision_repo.list_decisions(
            session=session, team_id=team_id, channel_id=channel_id, statuses=VISIBLE, limit=limit
        )


async def find_state(
    *, session: AsyncSession, team_id: str, channel_id: str, decision_id: int | None
) -> DecisionState:
    """The given decision of this channel, or the channel's default (``default_decision``)."""
    async with session.begin():
        decision = await named_or_default(session, team_id, channel_id, decision_id)
        return await state_of(session=session, decision=decision)


async def decision_for_logging(
    *, session: AsyncSession, team_id: str, channel_id: str, decision_id: int | None
) -> Decision:
    """The given decision, else the channel's default (``default_decision``)."""
    async with session.begin():
        decision = await named_or_default(session, team_id, channel_id, decision_id)
        guards.require_loggable(decision)
        return decision


async def logging_choices(
    *, session: AsyncSession, team_id: str, channel_id: str
) -> tuple[list[Decision], Decision]:
    """Decisions a failure can be logged against (this channel's only: listing other channels'
    would show private channels' titles), and the default: the channel's (``default_decision``;
    the modal's select is the picker)."""
    async with session.begin():
        found = list(
            await decision_repo.list_decisions(
                session=session, team_id=team_id, channel_id=channel_id, statuses=LOGGABLE
            )
        )
        if not found:
            raise NotFound(
                "There are no decisions in this channel to log against. Use the shortcut in the "
                "decision's channel, or start one here with `/ragft <title>`."
            )
        default = await pick_in(session, team_id, channel_id, ask=False)
    return found[:100], default or found[0]


async def troubled_reminders(
    *, session: AsyncSession, team_id: str, decision_id: int
) -> Sequence[Reminder]:
    """Reminders that failed, or are being retried, for ``/ragft status``."""
    async with session.begin():
        found = await reminder_repo.list_for_decision(
            session=session,
            team_id=team_id,
            decision_id=decision_id,
            statuses=[ReminderStatus.FAILED, ReminderStatus.PENDING],
        )
    return [r for r in found if r.last_error]


async def save_message_ts(
    *,
    session: AsyncSession,
    team_id: str,
    decision_id: int,
    posted: dict[str, str],
    thread_ts: str | None = None,
    shown_version: int | None = None,
) -> int | None:
    """Where these messages are; ``shown_version``: the decision version they were rendered
    from, so only a later write updates them. Returns the decision's version once they are
    saved: a write that it doesn't count commits after this save, so its own refresh finds
    these messages (the save holds the decision row until its commit, and on PostgreSQL a write
    bumps the version by updating that row as it commits)."""
    async with session.begin():
        version = await message_ts_repo.add_message_ts(
            session=session,
            team_id=team_id,
            decision_id=decision_id,
            posted=posted,
            thread_ts=thread_ts,
        )
        if version is None:
            raise NotFound(f"There's no decision #{decision_id} in this workspace.")
        if shown_version is not None:
            await render_repo.record_shown(
                session=session,
                team_id=team_id,
                decision_id=decision_id,
                shown=dict.fromkeys(posted, shown_version),
            )
        return version  # read by the UPDATE, under the row lock this save holds to its commit


async def archive_orphan(*, session: AsyncSession, team_id: str, decision_id: int) -> None:
    """A decision whose root message could not be posted can never be answered: hide it."""
    async with session.begin():
        orphan = await decision_repo.get_decision(
            session=session, team_id=team_id, decision_id=decision_id
        )
        if orphan is not None and orphan.thread_ts is None:
            orphan.status = DecisionStatus.ARCHIVED
            session.add(orphan)


async def current_state(*, session: AsyncSession, team_id: str, decision_id: int) -> DecisionState:
    """For re-rendering the bot's own messages (the decision was checked when the work began)."""
    async with session.begin():
        decision = await guards.decision_in_team(
            session=session, team_id=team_id, decision_id=decision_id
        )
        return await state_of(session=session, decision=decision)


async def current_decision(*, session: AsyncSession, team_id: str, decision_id: int) -> Decision:
    async with session.begin():
        return await guards.decision_in_team(
            session=session, team_id=team_id, decision_id=decision_id
        )


async def claim_thread_event(
    *, session: AsyncSession, team_id: str, event_id: str, channel_id: str, thread_ts: str | None
) -> tuple[bool, Decision | None]:
    """Claim a Slack event id (False for a retry or replay) and find the decision whose thread
    it was posted in."""
    async with session.begin():
        if not await event_repo.claim_event(session=session, team_id=team_id, event_id=event_id):
            return False, None
        if not thread_ts:
            return True, None
        return True, await decision_repo.get_decision_by_thread(
            session=session, team_id=team_id, channel_id=channel_id, thread_ts=thread_ts
        )


async def failures_for_review(
    *, session: AsyncSession, team_id: str, channel_id: str, decision_id: int, limit: int
) -> tuple[DecisionState, list[FailureExample], int]:
    """For *Review & correct*: the decision, its latest failures (newest first), and the total."""
    state = await find_state(
        session=session, team_id=team_id, channel_id=channel_id, decision_id=decision_id
    )
    async with session.begin():
        failures = await failure_repo.list_failures(
            session=session, team_id=team_id, decision_id=decision_id
        )
    return state, list(failures)[-limit:][::-1], len(failures)
