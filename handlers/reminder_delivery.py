"""Delivering due reminders in Slack: the deliverer of each reminder kind, registered in
``DELIVERERS`` (the sweeper's ``KindRegistry`` dispatches to them). Each Slack step is recorded
in ``progress`` as soon as Slack accepts it, so a retry after an error continues where it
stopped."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.domain.lifecycle import ReminderKind, ReminderStatus
from bot.domain.questions import OwnerRole
from bot.domain.tallies import percent, quarters_text
from bot.reminders.kinds import KindRegistry
from bot.reminders.sweeper import Deliver, Outcome, Progress
from bot.services import reminder_work
from bot.services.state import DecisionState
from bot.settings import Settings
from handlers.record_delivery import NotReadyFollowUpDeliverer, VerdictDeliverer
from handlers.runtime import Runtime
from handlers.slack_calls import post_message, slack_error, user_tz
from handlers.stalled_delivery import StalledDeliverer
from handlers.thread import refresh_root
from handlers.thread_renders import ThreadRenderer
from handlers.ui.review_chart import quarters_png
from handlers.ui.review_messages import nudge_message, pointer_message, review_message
from handlers.workspace_delivery import in_its_workspace, with_workspaces
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
    client = AsyncWebClient(
        token=None if settings.distribution else token, base_url=settings.slack_api_url
    )
    runtime = Runtime(sessions=sessions, client=client, settings=settings)
    runtime.renderer = ThreadRenderer(runtime)
    with_workspaces(runtime)  # distribution mode: each reminder goes out with its team's token
    return runtime


class ReviewDeliverer:
    """The quarterly review: the review in the thread, its chart, and a pointer in the channel."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    async def __call__(self, claim: Claimed, progress: Progress, now: datetime) -> Outcome:
        rt, client = self.runtime, self.runtime.client
        period_end = datetime.fromisoformat(
            progress.payload.setdefault("period_end", now.isoformat())
        )
        async with rt.sessions() as session:
            facts = await reminder_work.review_facts(
                session=session,
                team_id=claim.team_id,
                decision_id=claim.decision_id,
                period_end=period_end,
            )
        state, evidence = facts.state, facts.evidence
        decision = state.decision
        channel, thread = decision.channel_id, decision.thread_ts
        has_chart = bool(evidence.quarters)

        async def find_departed() -> list[list[str]]:
            return [[role.value, user] for role, user in await departed_owners(client, state)]

        # Kept with the review, so the message shows the same when it's marked reviewed.
        departed = [(OwnerRole(r), u) for r, u in await progress.step("departed", find_departed)]
        message = review_message(
            state, evidence, now=period_end, departed=departed, chart_attached=has_chart
        )

        async def post_review() -> str:
            return await post_message(
                client, channel=channel, thread_ts=thread, text=message.text, blocks=message.blocks
            )

        async def upload_chart() -> bool:
            if not has_chart:
                return False
            title = f"#{state.id} {decision.title}: failures per quarter"
            await client.files_upload_v2(
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
            link = (await client.chat_getPermalink(channel=channel, message_ts=review_ts))[
                "permalink"
            ]
            pointer = pointer_message(state, link)
            return await post_message(
                client, channel=channel, text=pointer.text, blocks=pointer.blocks
            )

        await progress.step("pointer", post_pointer)
        tz = await user_tz(client, decision.facilitator_id)

        async def after(session: AsyncSession) -> None:
            await reminder_work.after_review(
                session=session,
                team_id=claim.team_id,
                decision_id=claim.decision_id,
                period_end=period_end,
                now=now,
                tz=tz,
            )

        async def then() -> None:
            await refresh_root(rt, claim.team_id, claim.decision_id, True)

        line = (
            f"{claim.team_id} #{state.id} review in {channel} (thread {thread}): "
            f"{evidence.current.analysed} failures this period, "
            f"{percent(evidence.current.behavior_share)} behavioral"
        )
        return Outcome(line=line, after=after, then=then if decision.message_ts else None)


class NudgeDeliverer:
    """The revisit nudge, broadcast from the thread when the evidence has moved."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    async def __call__(self, claim: Claimed, progress: Progress, now: datetime) -> Outcome:
        rt = self.runtime
        if progress.done("nudge") is None:
            async with rt.sessions() as session:
                due = await reminder_work.nudge_due(
                    session=session, team_id=claim.team_id, decision_id=claim.decision_id, now=now
                )
            if due is None:
                return Outcome(status=ReminderStatus.CANCELLED)
            state, nudge = due
            decision = state.decision
            message = nudge_message(state, nudge)

            async def post_nudge() -> dict[str, Any]:
                ts = await post_message(
                    rt.client,
                    channel=decision.channel_id,
                    thread_ts=decision.thread_ts,
                    reply_broadcast=True,
                    text=message.text,
                    blocks=message.blocks,
                )
                return {"ts": ts, "evidence": nudge.evidence}

            await progress.step("nudge", post_nudge)
        evidence = progress.done("nudge")["evidence"]

        async def after(session: AsyncSession) -> None:
            await reminder_work.after_nudge(
                session=session,
                team_id=claim.team_id,
                decision_id=claim.decision_id,
                evidence=evidence,
            )

        line = (
            f"{claim.team_id} #{claim.decision_id} revisit nudge: {evidence['analysed']} failures "
            f"since the decision, {percent(evidence['share'])} behavioral"
        )
        return Outcome(line=line, after=after)


def deliverers(runtime: Runtime) -> Mapping[ReminderKind, Deliver]:
    """The registry: one entry per reminder kind."""
    return {
        ReminderKind.QUARTERLY_REVIEW: ReviewDeliverer(runtime),
        ReminderKind.REVISIT: NudgeDeliverer(runtime),
        ReminderKind.VERDICT: VerdictDeliverer(runtime),
        ReminderKind.NOT_READY_FOLLOW_UP: NotReadyFollowUpDeliverer(runtime),
        ReminderKind.STALLED: StalledDeliverer(runtime),
    }


def build_deliverer(runtime: Runtime) -> KindRegistry:
    """What the sweeper calls for every claimed reminder."""
    return KindRegistry(runtime.sessions, in_its_workspace(runtime, deliverers(runtime)))
