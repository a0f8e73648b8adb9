"""Delivering the stalled-decision reminder (``ReminderKind.STALLED``): posted in the decision's
thread, mentioning its facilitator, once Slack accepts it; or, after recent activity, closed
unsent and checked again a week after that activity."""

from __future__ import annotations

from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.domain.lifecycle import ReminderStatus
from bot.reminders.sweeper import Outcome, Progress
from bot.services import stalled
from handlers.runtime import Runtime
from handlers.slack_calls import post_message
from handlers.ui.stalled_message import stalled_message
from storage.repositories.reminder_repo import Claimed


class StalledDeliverer:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    async def __call__(self, claim: Claimed, progress: Progress, now: datetime) -> Outcome:
        rt = self.runtime
        async with rt.sessions() as session:
            check = await stalled.stalled_check(
                session=session, team_id=claim.team_id, decision_id=claim.decision_id, now=now
            )
        if check is None:
            return Outcome(status=ReminderStatus.CANCELLED)
        next_due = check.next_due

        async def after(session: AsyncSession) -> None:
            await stalled.reschedule_stalled_in(session, claim.team_id, claim.decision_id, next_due)

        if check.state is None:  # activity in the past week: look again a week after it
            return Outcome(status=ReminderStatus.CANCELLED, after=after)
        state = check.state
        decision = state.decision

        async def post() -> str:
            link = (
                await rt.client.chat_getPermalink(
                    channel=decision.channel_id, message_ts=decision.thread_ts
                )
            )["permalink"]
            message = stalled_message(state, check.idle_days, link)
            return await post_message(
                rt.client,
                channel=decision.channel_id,
                thread_ts=decision.thread_ts,
                text=message.text,
                blocks=message.blocks,
            )

        await progress.step("stalled", post)
        line = (
            f"{claim.team_id} #{state.id} stalled reminder to {decision.facilitator_id}: "
            f"no activity for {check.idle_days} days"
        )
        return Outcome(line=line, after=after)
