"""Sweeping in big batches: one claim statement for many reminders, and a batch whose lease runs
out hands the rest back instead of delivering on an expired claim. Real SQLite and PostgreSQL."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

from sqlmodel import select

from bot.domain.lifecycle import DecisionStatus, ReminderKind
from bot.reminders.sweeper import Outcome, Progress, Sweeper
from storage.models import Decision, Reminder
from storage.repositories import reminder_repo as reminder_store
from storage.repositories.reminder_repo import Claimed

T0 = datetime(2027, 3, 1, 15, 0, tzinfo=UTC)
TEAM, CHANNEL = "T0ABCDEF12", "C0CHAN0001"


async def seed(sessions, count: int) -> None:
    async with sessions() as session, session.begin():
        made = []
        for i in range(count):
            decision = Decision(
                team_id=TEAM,
                channel_id=CHANNEL,
                thread_ts=f"1700000000.{i:06d}",
                title=f"Decision {i}",
                facilitator_id="U0USER0001",
                status=DecisionStatus.DECIDED,
                verdict="rag",
                decided_at=T0 - timedelta(days=90),
            )
            session.add(decision)
            made.append(decision)
        await session.flush()
        for decision in made:
            await reminder_store.schedule(
                session=session,
                team_id=decision.team_id,
                decision_id=decision.id,
                kind=ReminderKind.QUARTERLY_REVIEW,
                due_at=T0 - timedelta(minutes=1),
            )


async def test_a_batch_whose_lease_runs_out_hands_the_rest_back_so_nothing_is_sent_twice(
    sessions,
):
    """Each delivery takes 40 s (inside its 45 s limit) of a 2-minute lease, so a batch of six
    outlives its lease. A second sweeper runs after every delivery of the first: it takes over
    any claim whose lease expired. No reminder may be delivered twice or missed."""
    await seed(sessions, 6)
    now = [T0]
    delivered: list[tuple[str, int]] = []

    def clock() -> datetime:
        return now[0]

    def deliverer(name: str):
        async def deliver(claim: Claimed, progress: Progress, at: datetime) -> Outcome:
            delivered.append((name, claim.decision_id))
            now[0] += timedelta(seconds=40)
            if name == "first":
                await second.sweep(T0)
            return Outcome(line=f"#{claim.decision_id}")

        return deliver

    lease = timedelta(minutes=2)
    timeout = timedelta(seconds=45)
    first = Sweeper(sessions, deliverer("first"), clock=clock, lease=lease, timeout=timeout)
    second = Sweeper(sessions, deliverer("second"), clock=clock, lease=lease, timeout=timeout)
    report = await first.sweep(T0)

    counts = Counter(decision_id for _, decision_id in delivered)
    assert sorted(counts) == list(range(1, 7)) and set(counts.values()) == {1}
    assert len(report.sent) == 6  # handed back, then claimed again with a fresh lease
    async with sessions() as session:
        rows = (await session.exec(select(Reminder).order_by(Reminder.id))).all()
    assert [r.status for r in rows] == ["sent"] * 6
    assert [r.attempts for r in rows] == [1] * 6  # handing back isn't a failed attempt
