"""Deliverers of the decision record's reminder kinds (registered in
``handlers.reminder_delivery.deliverers``): the verdict's outbox row, and the follow-up after
Decide said "not ready"."""

from __future__ import annotations

from datetime import datetime

from bot.domain.lifecycle import ReminderStatus
from bot.reminders.sweeper import Outcome, Progress
from bot.services import decision_records, stalled
from handlers.announce import deliver_verdict
from handlers.runtime import Runtime
from handlers.slack_calls import post_message
from handlers.thread import refresh_all
from handlers.ui.decide_confirm import not_ready_follow_up
from storage.repositories.reminder_repo import Claimed


class VerdictDeliverer:
    """The verdict the app couldn't post (a Slack error, a restart): posted once, here."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    async def __call__(self, claim: Claimed, progress: Progress, now: datetime) -> Outcome:
        rt = self.runtime

        async def post() -> str | None:
            return await deliver_verdict(rt, claim.team_id, claim.decision_id)

        ts = await progress.step("verdict", post)
        if ts is None:
            return Outcome(status=ReminderStatus.CANCELLED)  # the app had posted it

        async def then() -> None:
            async with rt.sessions() as session:
                state = await decision_records.current_state(
                    session=session, team_id=claim.team_id, decision_id=claim.decision_id
                )
            await refresh_all(rt, state)

        return Outcome(line=f"{claim.team_id} #{claim.decision_id} verdict posted", then=then)


class NotReadyFollowUpDeliverer:
    """14 days after Decide said "not ready": remind the facilitator in the thread."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    async def __call__(self, claim: Claimed, progress: Progress, now: datetime) -> Outcome:
        rt = self.runtime
        async with rt.sessions() as session:
            state = await decision_records.current_state(
                session=session, team_id=claim.team_id, decision_id=claim.decision_id
            )
        decision = state.decision
        message = not_ready_follow_up(state)

        async def post() -> str:
            return await post_message(
                rt.client,
                channel=decision.channel_id,
                thread_ts=decision.thread_ts,
                text=message.text,
                blocks=message.blocks,
            )

        await progress.step("follow_up", post)
        line = f"{claim.team_id} #{state.id} not-ready follow-up to {decision.facilitator_id}"

        async def then() -> None:
            await rt.call(
                stalled.resume_watching,
                team_id=claim.team_id,
                decision_id=claim.decision_id,
                now=now,
            )

        return Outcome(line=line, then=then)
