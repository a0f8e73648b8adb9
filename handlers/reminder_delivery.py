"""Delivering due reminders for the sweeper: quarterly reviews and revisit nudges."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.domain.questions import OwnerRole
from bot.domain.review_schedule import evaluate_nudge, percent, quarters_text
from bot.reminders.sweeper import Outcome, Progress
from bot.services import review_routine as routine
from bot.services.state import DecisionState, load_state
from bot.settings import Settings
from handlers.coalesce import Coalescer
from handlers.listeners.routine_listeners import user_tz
from handlers.runtime import Runtime
from handlers.slack_calls import post_message, slack_error
from handlers.thread import refresh, render_message
from handlers.ui.review_chart import quarters_png
from handlers.ui.review_messages import (
    nudge_message,
    pointer_message,
    review_message,
)
from storage.models import DecisionStatus, ReminderKind, ReminderStatus
from storage.repositories import decision_repo as repo
from storage.repositories.reminder_repo import Claimed


async def departed_owners(
    client: AsyncWebClient, state: DecisionState
) -> list[tuple[OwnerRole, str]]:
    """Q4 owners whose account is deactivated (users.info ``deleted``) or gone."""
    gone = []
    for role, user_id in state.owners.items():
        if not user_id:
            continue
        try:
            user = (await client.users_info(user=user_id))["user"]
        except SlackApiError as exc:
            if slack_error(exc) != "user_not_found":
                raise
            gone.append((role, user_id))
            continue
        if user.get("deleted"):
            gone.append((role, user_id))
    return gone


def sweep_runtime(settings: Settings, sessions: async_sessionmaker[AsyncSession]) -> Runtime:
    """A runtime for the sweeper. Its client has no rate-limit retry handler: a 429 goes back
    into the reminder's row with a backoff instead of holding the sweep (and its lease)."""
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
    client = AsyncWebClient(token=token, base_url=settings.slack_api_url)
    runtime = Runtime(sessions=sessions, client=client, settings=settings)
    runtime.refresher = Coalescer(lambda key: render_message(runtime, key))
    return runtime


# Delivering due reminders (for the Sweeper) --------------------------------------------------


class Deliverer:
    """Posts what a claimed reminder stands for. Each Slack step is recorded in ``progress`` as
    soon as Slack accepts it, so a retry after an error continues where it stopped."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.client = runtime.client
        self.sessions = runtime.sessions

    async def __call__(self, claim: Claimed, progress: Progress, now: datetime) -> Outcome:
        async with self.sessions() as session:
            decision = await repo.get_decision(
                session=session, team_id=claim.team_id, decision_id=claim.decision_id
            )
        if decision is None or decision.status != DecisionStatus.DECIDED or not decision.thread_ts:
            return Outcome(status=ReminderStatus.CANCELLED)
        if claim.kind == ReminderKind.QUARTERLY_REVIEW:
            return await self.review(claim, progress, now)
        if claim.kind == ReminderKind.REVISIT:
            return await self.revisit(claim, progress, now)
        return Outcome(status=ReminderStatus.CANCELLED)

    async def review(self, claim: Claimed, progress: Progress, now: datetime) -> Outcome:
        period_end = datetime.fromisoformat(
            progress.payload.setdefault("period_end", now.isoformat())
        )
        async with self.sessions() as session:
            state = await load_state(
                session=session, team_id=claim.team_id, decision_id=claim.decision_id
            )
            evidence = await routine.gather_evidence(
                session=session, decision=state.decision, now=period_end
            )
        decision = state.decision
        channel, thread = decision.channel_id, decision.thread_ts
        has_chart = bool(evidence.quarters)
        departed = await departed_owners(self.client, state)
        message = review_message(
            state, evidence, now=period_end, departed=departed, chart_attached=has_chart
        )

        async def post_review() -> str:
            return await post_message(
                self.client,
                channel=channel,
                thread_ts=thread,
                text=message.text,
                blocks=message.blocks,
            )

        async def upload_chart() -> bool:
            if not has_chart:
                return False
            title = f"#{state.id} {decision.title}: failures per quarter"
            await self.client.files_upload_v2(
                channel=channel,
                thread_ts=thread,
                content=quarters_png(evidence.quarters, title),
                filename=f"ragft-review-{state.id}.png",
                title=title[:250],
                alt_txt=quarters_text(evidence.quarters)[:1000],
            )
            return True

        review_ts = await progress.step("review", post_review)
        await progress.step("chart", upload_chart)

        async def post_pointer() -> str:
            link = (await self.client.chat_getPermalink(channel=channel, message_ts=review_ts))[
                "permalink"
            ]
            pointer = pointer_message(state, link)
            return await post_message(
                self.client, channel=channel, text=pointer.text, blocks=pointer.blocks
            )

        await progress.step("pointer", post_pointer)
        tz = await user_tz(self.client, decision.facilitator_id)

        async def after(session: AsyncSession) -> None:
            fresh = await repo.get_decision(
                session=session,
                team_id=claim.team_id,
                decision_id=claim.decision_id,
                for_update=True,
            )
            if fresh is not None and fresh.status == DecisionStatus.DECIDED:
                await routine.schedule_next_review(
                    session=session, decision=fresh, now=period_end, tz=tz
                )
                # Failures logged by any path get a revisit check at least once a period.
                await routine.note_failures(
                    session=session, team_id=claim.team_id, decision_id=claim.decision_id, now=now
                )

        line = (
            f"{claim.team_id} #{state.id} review in {channel} (thread {thread}): "
            f"{evidence.current.analysed} failures this period, "
            f"{percent(evidence.current.behavior_share)} behavioral"
        )

        async def then() -> None:
            await refresh(self.runtime, claim.team_id, claim.decision_id, ["root"])

        return Outcome(line=line, after=after, then=then if decision.message_ts else None)

    async def revisit(self, claim: Claimed, progress: Progress, now: datetime) -> Outcome:
        if progress.done("nudge") is None:
            async with self.sessions() as session:
                state = await load_state(
                    session=session, team_id=claim.team_id, decision_id=claim.decision_id
                )
                evidence = await routine.gather_evidence(
                    session=session, decision=state.decision, now=now
                )
            nudge = evaluate_nudge(
                since_decision=evidence.since_decision,
                current=evidence.current,
                previous=evidence.previous,
                period_start=evidence.current_start,
                last=state.decision.nudge_evidence,
                at=now,
            )
            if nudge is None:
                return Outcome(status=ReminderStatus.CANCELLED)
            decision = state.decision
            message = nudge_message(state, nudge)

            async def post_nudge() -> dict[str, Any]:
                ts = await post_message(
                    self.client,
                    channel=decision.channel_id,
                    thread_ts=decision.thread_ts,
                    reply_broadcast=True,
                    text=message.text,
                    blocks=message.blocks,
                )
                return {"ts": ts, "evidence": nudge.evidence}

            await progress.step("nudge", post_nudge)
        posted = progress.done("nudge")

        async def after(session: AsyncSession) -> None:
            fresh = await repo.get_decision(
                session=session,
                team_id=claim.team_id,
                decision_id=claim.decision_id,
                for_update=True,
            )
            if fresh is not None:
                fresh.nudge_evidence = posted["evidence"]
                session.add(fresh)

        evidence = posted["evidence"]
        line = (
            f"{claim.team_id} #{claim.decision_id} revisit nudge: {evidence['analysed']} failures "
            f"since the decision, {percent(evidence['share'])} behavioral"
        )
        return Outcome(line=line, after=after)
