"""Every permission and state check of the services, and the only copy of each message.

A decision reached from a payload is looked up with the payload's team *and* channel: an id
from another channel (a private one, say) is "no such decision here", and nothing of it leaks.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.domain.errors import NotAllowed, NotFound
from bot.domain.failure_modes import BATCH_SIZE
from bot.domain.lifecycle import DecisionStatus
from storage.models import AnalysisSession, Decision
from storage.repositories import analysis_repo, decision_repo

OPENED_IN_ITS_OWN_CHANNEL = "*"
"""The channel of a modal opened before ragft recorded it in ``private_metadata``: such a modal
was opened from the decision's own thread, and Slack signs the metadata, so the decision's own
channel is the one it names."""

AdminCheck = Callable[[], Awaitable[bool]]
"""Asks Slack whether the acting user is a workspace admin (only called when it matters)."""


def not_here(decision_id: int) -> NotFound:
    return NotFound(
        f"There's no decision #{decision_id} in this channel. `/ragft list` shows this "
        "channel's decisions."
    )


async def _get(
    session: AsyncSession, team_id: str, decision_id: int, lock: bool, share: bool
) -> Decision | None:
    return await decision_repo.get_decision(
        session=session, team_id=team_id, decision_id=decision_id, for_update=lock, for_share=share
    )


async def decision_in_team(
    *,
    session: AsyncSession,
    team_id: str,
    decision_id: int,
    for_update: bool = False,
    for_share: bool = False,
) -> Decision:
    """For the bot's own work (sweeps, follow-ups): the decision, by team only."""
    decision = await _get(session, team_id, decision_id, for_update, for_share)
    if decision is None:
        raise NotFound(f"There's no decision #{decision_id} in this workspace.")
    return decision


async def decision_in_channel(
    *,
    session: AsyncSession,
    team_id: str,
    channel_id: str,
    decision_id: int,
    for_update: bool = False,
    for_share: bool = False,
) -> Decision:
    """A decision named by a person (a command, a button, a modal): only this channel's."""
    decision = await _get(session, team_id, decision_id, for_update, for_share)
    if decision is None:
        raise not_here(decision_id)
    if channel_id not in (decision.channel_id, OPENED_IN_ITS_OWN_CHANNEL):
        raise not_here(decision_id)
    return decision


async def in_channel(
    session: AsyncSession, team_id: str, channel_id: str, decision_id: int, *, lock: bool = False
) -> Decision:
    """``decision_in_channel``, short, for the services' own use; ``lock`` takes the row."""
    return await decision_in_channel(
        session=session,
        team_id=team_id,
        channel_id=channel_id,
        decision_id=decision_id,
        for_update=lock,
    )


def require_open(decision: Decision) -> None:
    if decision.status == DecisionStatus.DECIDED:
        raise NotAllowed(
            f"Decision #{decision.id} is already decided, so its answers are frozen. To revisit "
            "it, press *Re-run the diagnostic* (under its verdict, or on a review): it starts a "
            "new decision with these answers filled in."
        )
    if decision.status == DecisionStatus.SUPERSEDED:
        raise NotAllowed(
            f"Decision #{decision.id} was superseded by a re-run, so its answers are frozen. "
            "Answer on the decision that replaced it (`/ragft list` shows it)."
        )
    if decision.status == DecisionStatus.WITHDRAWN:
        raise NotAllowed(
            f"Decision #{decision.id} was withdrawn, so it no longer takes answers. Its record "
            "is kept; `/ragft list` shows this channel's decisions."
        )
    if decision.status != DecisionStatus.OPEN:
        raise NotAllowed(
            f"Decision #{decision.id} is {decision.status}, so its answers are frozen."
        )


def require_decided(decision: Decision, action: str) -> None:
    if decision.status != DecisionStatus.DECIDED:
        raise NotAllowed(
            f"Decision #{decision.id} is {decision.status}, so it has no reviews to {action}."
        )


def require_verdict(decision: Decision) -> None:
    if decision.status != DecisionStatus.DECIDED:
        raise NotAllowed(f"Decision #{decision.id} has no verdict to accept yet.")


def require_reviewed_still(decision: Decision) -> None:
    if decision.status in (
        DecisionStatus.SUPERSEDED,
        DecisionStatus.WITHDRAWN,
        DecisionStatus.ARCHIVED,
    ):
        raise NotAllowed(
            f"Decision #{decision.id} is {decision.status}; it isn't reviewed any more."
        )


def require_rerunnable(decision: Decision) -> None:
    if decision.status not in (DecisionStatus.DECIDED, DecisionStatus.OPEN):
        raise NotAllowed(
            f"Decision #{decision.id} is {decision.status}; re-run its successor instead."
        )


def require_facilitator(
    decision: Decision, user_id: str, action: str, after: str = "Nothing has changed."
) -> None:
    if user_id != decision.facilitator_id:
        raise NotAllowed(
            f"Only the facilitator, <@{decision.facilitator_id}>, can {action}. {after}".strip()
        )


async def require_facilitator_or_admin(
    decision: Decision, user_id: str, is_admin: AdminCheck
) -> None:
    if user_id == decision.facilitator_id or await is_admin():
        return
    raise NotAllowed(
        f"Thanks! Only the facilitator, <@{decision.facilitator_id}>, or a workspace admin "
        "can make the call. Nothing has changed; keep adding your answers."
    )


def require_costs_editable(decision: Decision, user_id: str) -> None:
    """Only the facilitator changes a decision's cost assumptions, and only while it is open
    or decided: a superseded or withdrawn decision keeps the costs it had."""
    if decision.status not in (DecisionStatus.OPEN, DecisionStatus.DECIDED):
        raise NotAllowed(
            f"Decision #{decision.id} is {decision.status}, so its costs are kept as they were."
        )
    require_facilitator(decision, user_id, "change the cost assumptions")


def require_visible(decision: Decision, channel_ids: frozenset[str]) -> None:
    """For the App Home: the person must be in the decision's channel (Slack says which
    conversations they're in). Otherwise it's as if the decision didn't exist."""
    if decision.channel_id not in channel_ids:
        raise NotFound(
            f"There's no decision #{decision.id} in a channel you're in. Open the App Home "
            "again to see yours."
        )


# The error analysis ------------------------------------------------------------------------------


async def analysis_in_channel(
    session: AsyncSession, team_id: str, channel_id: str, analysis_id: int, *, lock: bool = False
) -> tuple[AnalysisSession, Decision]:
    """An error analysis named by a click: this workspace's, of a decision of this channel."""
    analysis = await analysis_repo.get_session(
        session=session, team_id=team_id, analysis_id=analysis_id, for_update=lock
    )
    if analysis is None:
        raise NotFound("That error analysis isn't in this workspace, so nothing changed.")
    decision = await in_channel(session, team_id, channel_id, analysis.decision_id)
    require_reviewed_still(decision)
    return analysis, decision


def require_in_sample(analysis: AnalysisSession, failure_id: int) -> None:
    if failure_id not in analysis.failure_ids[: analysis.batches_shown * BATCH_SIZE]:
        raise NotFound("That failure isn't in this error analysis, so nothing changed.")


def require_current_batch(analysis: AnalysisSession, batch: int) -> None:
    if batch != analysis.batches_shown - 1:
        raise NotAllowed(
            f"Batch {batch + 1} of this error analysis is already closed, so nothing changed: "
            "the batch to read now is further down the thread."
        )


async def require_token_manager(
    session: AsyncSession, team_id: str, user_id: str, is_admin: AdminCheck
) -> None:
    """API tokens are made and revoked by a facilitator of a decision here, or an admin."""
    if await decision_repo.facilitates_any(session=session, team_id=team_id, user_id=user_id):
        return
    if await is_admin():
        return
    raise NotAllowed(
        "Only a facilitator of a decision in this workspace, or a workspace admin, can manage "
        "API tokens."
    )


def token_owned_by(token_team_id: str, decision_team_ids: dict[int, str], wanted: set[int]) -> None:
    """Every decision an API request names must exist, and be the token's workspace's."""
    for decision_id in sorted(wanted):
        team = decision_team_ids.get(decision_id)
        if team is None:
            raise NotFound(f"There's no decision #{decision_id}.")
        if team != token_team_id:
            raise NotAllowed(f"Decision #{decision_id} belongs to another workspace.")


LIVE = frozenset({DecisionStatus.OPEN, DecisionStatus.DECIDED})
"""The states a facilitator can still rename or withdraw; superseded and withdrawn decisions are
closed records."""


def require_live(decision: Decision, action: str) -> None:
    if decision.status not in LIVE:
        raise NotAllowed(
            f"Decision #{decision.id} is {decision.status}, so it can't be {action}: its record "
            "stays as it was. `/ragft delete` removes it for good."
        )


async def require_manager(
    decision: Decision, user_id: str, is_admin: AdminCheck, action: str
) -> None:
    """Renaming, withdrawing and deleting: the facilitator or a workspace admin."""
    if user_id == decision.facilitator_id or await is_admin():
        return
    raise NotAllowed(
        f"Only the facilitator, <@{decision.facilitator_id}>, or a workspace admin can {action} "
        f"decision #{decision.id}. Nothing has changed."
    )


async def require_owner_change(
    decision: Decision, user_id: str, current: str | None, is_admin: AdminCheck
) -> None:
    """A named owner is replaced (or cleared) only by the facilitator, that owner, or a
    workspace admin; an empty role is anyone's to fill."""
    if current is None or user_id in (current, decision.facilitator_id) or await is_admin():
        return
    raise NotAllowed(
        f"<@{current}> is named for this role. Only they, the facilitator "
        f"(<@{decision.facilitator_id}>) or a workspace admin can replace them. Nothing has "
        "changed."
    )
