"""The sweeper: each due reminder posted exactly once, across Slack errors, dead claimers,
restarts and concurrent replicas. Real SQLite and PostgreSQL, the fake Slack Web API."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from bot.domain.lifecycle import DecisionStatus, ReminderKind
from bot.reminders.clock import ReminderScheduler
from bot.reminders.sweeper import MAX_ATTEMPTS, Sweeper
from handlers.reminder_delivery import build_deliverer, sweep_runtime
from storage.db import create_engine, session_factory
from storage.models import Decision, Reminder
from storage.repositories import reminder_repo as reminder_store
from tests.slack_app import CHANNEL, FACILITATOR, text_of
from tests.test_cli import run
from tests.test_routine_slack import decided, in_thread

T0 = datetime(2027, 3, 1, 15, 0, tzinfo=UTC)


def sweeper(slack, sessions=None, **kw) -> Sweeper:
    sessions = sessions or slack.sessions
    return Sweeper(sessions, build_deliverer(sweep_runtime(slack.settings, sessions)), **kw)


async def rows(sessions) -> list[Reminder]:
    async with sessions() as session:
        return list((await session.exec(select(Reminder).order_by(Reminder.id))).all())


def reviews_in(slack, decision: Decision) -> list[dict]:
    return [m for m in in_thread(slack, decision) if "Quarterly review" in text_of(m)]


async def due_review(slack) -> tuple[Decision, Reminder]:
    decision = await decided(slack)
    [review] = await rows(slack.sessions)
    return decision, review


@pytest.mark.parametrize("status", [429, 500])
async def test_a_slack_error_leaves_the_review_pending_for_a_retry_never_lost_or_doubled(
    slack, status
):
    decision, review = await due_review(slack)
    slack.fake.fail_next("chat.postMessage", status=status, retry_after=120)
    report = await sweeper(slack).sweep(review.due_at)
    assert report.sent == [] and len(report.retrying) == 1
    [row] = await rows(slack.sessions)
    assert row.status == "pending" and row.attempts == 1 and row.claimed_by is None
    assert row.last_error and (
        "ratelimited" in row.last_error or "internal_error" in row.last_error
    )
    assert row.due_at >= review.due_at + timedelta(seconds=120)  # Retry-After respected

    assert (await sweeper(slack).sweep(review.due_at)).sent == []  # backing off
    await slack.command(f"status {decision.id}")
    assert "being retried" in text_of(slack.replies(FACILITATOR)[-1])

    report = await sweeper(slack).sweep(row.due_at)
    assert len(report.sent) == 1
    assert len(reviews_in(slack, decision)) == 1
    assert (await rows(slack.sessions))[0].status == "sent"


async def test_a_failure_after_the_review_was_posted_does_not_post_it_again(slack):
    decision, review = await due_review(slack)
    slack.fake.fail_next("chat.getPermalink", status=500)  # the pointer step, after the review
    report = await sweeper(slack).sweep(review.due_at)
    assert report.sent == [] and len(reviews_in(slack, decision)) == 1
    [row] = await rows(slack.sessions)
    assert row.status == "pending" and row.payload["steps"]["review"]

    report = await sweeper(slack).sweep(row.due_at)
    assert len(report.sent) == 1
    assert len(reviews_in(slack, decision)) == 1  # posted once, the pointer now too
    assert sum("review of decision" in text_of(m) for m in slack.fake.messages(CHANNEL)) == 1


async def test_after_max_attempts_it_fails_and_status_says_why(slack):
    decision, review = await due_review(slack)
    slack.fake.fail_next("chat.postMessage", error="is_archived", times=MAX_ATTEMPTS)
    now = review.due_at
    for _ in range(MAX_ATTEMPTS):
        await sweeper(slack).sweep(now)
        now += timedelta(hours=3)
    [row] = await rows(slack.sessions)
    assert row.status == "failed" and row.attempts == MAX_ATTEMPTS
    assert "is_archived" in row.last_error
    assert (await sweeper(slack).sweep(now + timedelta(days=1))).sent == []
    await slack.command(f"status {decision.id}")
    status = text_of(slack.replies(FACILITATOR)[-1])
    assert f"couldn't be posted* after {MAX_ATTEMPTS} attempts: Slack said is_archived" in status


async def test_a_dead_claimers_reminder_is_claimed_again_after_the_lease(slack):
    decision, review = await due_review(slack)
    claimed_at = T0
    async with slack.sessions() as session, session.begin():
        [claim] = await reminder_store.claim_due(
            session=session, now=review.due_at, clock=claimed_at, worker="dead", limit=10
        )
    assert claim.id == review.id  # ...and then that process died

    soon = sweeper(slack, clock=lambda: claimed_at + timedelta(minutes=5))
    assert (await soon.sweep(review.due_at)).sent == []
    later = sweeper(slack, clock=lambda: claimed_at + timedelta(minutes=11))
    assert len((await later.sweep(review.due_at)).sent) == 1
    assert len(reviews_in(slack, decision)) == 1
    row = (await rows(slack.sessions))[0]
    assert row.id == review.id and row.status == "sent" and row.attempts == 2


async def test_a_sweep_as_if_in_the_future_cannot_steal_a_live_claim(slack):
    _, review = await due_review(slack)
    async with slack.sessions() as session, session.begin():
        await reminder_store.claim_due(
            session=session, now=review.due_at, clock=datetime.now(UTC), worker="live", limit=10
        )
    report = await sweeper(slack).sweep(review.due_at + timedelta(days=365))
    assert report.sent == []


async def test_on_start_overdue_reminders_go_out_once_not_once_per_missed_interval(slack):
    decision, review = await due_review(slack)
    async with slack.sessions() as session, session.begin():
        row = await session.get(Reminder, review.id)
        row.due_at = datetime.now(UTC) - timedelta(days=30)  # the bot was down for a month
        session.add(row)
    scheduler = ReminderScheduler(sweeper(slack), interval=3600)
    scheduler.start()
    try:
        await slack.fake.wait_for(
            "chat.postMessage", predicate=lambda c: "is in its thread" in c.args.get("text", "")
        )
    finally:
        await scheduler.stop()
    assert not scheduler.scheduler.running
    assert len(reviews_in(slack, decision)) == 1
    assert (await rows(slack.sessions))[0].status == "sent"


async def test_release_hands_back_only_this_workers_unfinished_claims(slack):
    await decided(slack, title="First")
    await decided(slack, title="Second")
    due = max(r.due_at for r in await rows(slack.sessions))
    async with slack.sessions() as session, session.begin():
        [theirs] = await reminder_store.claim_due(
            session=session, now=due, clock=datetime.now(UTC), worker="other", limit=1
        )
        [mine] = await reminder_store.claim_due(
            session=session, now=due, clock=datetime.now(UTC), worker="me", limit=1
        )
    async with slack.sessions() as session, session.begin():
        assert await reminder_store.release(session=session, worker="me") == 1
    by_id = {r.id: r for r in await rows(slack.sessions)}
    assert by_id[mine.id].claimed_by is None and by_id[mine.id].claimed_at is None
    assert by_id[mine.id].status == "pending" and by_id[mine.id].attempts == 0
    assert by_id[theirs.id].claimed_by == "other" and by_id[theirs.id].attempts == 1
    assert len((await sweeper(slack).sweep(due)).sent) == 1  # mine, at once; theirs is held


async def test_stopping_the_clock_mid_delivery_cuts_the_sweep_and_hands_the_claim_back(slack):
    decision, review = await due_review(slack)
    async with slack.sessions() as session, session.begin():
        row = await session.get(Reminder, review.id)
        row.due_at = datetime.now(UTC) - timedelta(hours=1)
        session.add(row)
    slack.fake.slow("chat.postMessage", 30)
    scheduler = ReminderScheduler(sweeper(slack), interval=3600)
    scheduler.start()
    deadline = asyncio.get_running_loop().time() + 5
    while slack.fake.arrived("chat.postMessage") == 0:
        assert asyncio.get_running_loop().time() < deadline, "the review was never posted"
        await asyncio.sleep(0.02)
    scheduler.stop_taking_work()
    await scheduler.stop(grace=0.2)
    assert not scheduler.scheduler.running
    [row] = await rows(slack.sessions)
    assert row.status == "pending" and row.claimed_by is None and row.attempts == 0
    slack.fake.slow("chat.postMessage", 0)
    assert len((await sweeper(slack).sweep()).sent) == 1
    assert len(reviews_in(slack, decision)) == 1


async def test_three_replicas_send_hundreds_of_due_reminders_exactly_once(slack, db_url, backend):
    count = 300 if backend == "postgresql" else 120
    async with slack.sessions() as session, session.begin():
        made = []
        for i in range(count):
            decision = Decision(
                team_id="T0ABCDEF12",
                channel_id=CHANNEL,
                thread_ts=f"1700000000.{i:06d}",
                title=f"Decision {i}",
                facilitator_id=FACILITATOR,
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
                due_at=T0 - timedelta(minutes=decision.id % 50),
            )
    engines = [create_engine(db_url) for _ in range(3)]
    try:
        sweepers = [sweeper(slack, session_factory(e), batch=7) for e in engines]
        reports = await asyncio.gather(*(s.sweep(T0) for s in sweepers))
    finally:
        for engine in engines:
            await engine.dispose()
    assert all(r.retrying == [] and r.failed == [] for r in reports)
    assert sum(len(r.sent) for r in reports) == count
    posted = [
        m["thread_ts"]
        for m in slack.fake.messages(CHANNEL)
        if m["thread_ts"] and "Quarterly review" in m["text"]
    ]
    assert len(posted) == count and len(set(posted)) == count  # 0 duplicates, 0 missed
    statuses = [r.status for r in await rows(slack.sessions) if r.kind == "quarterly_review"]
    assert statuses.count("sent") == count and statuses.count("pending") == count  # next ones


def test_ragft_sweep_now_posts_the_review_in_the_thread(tmp_path, fake_slack):
    from tests.slack_app import SlackApp

    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    engine = create_engine(url)

    async def setup():
        from storage.migrate import upgrade

        await upgrade(engine)
        app = SlackApp(fake_slack, engine, session_factory(engine))
        decision = await decided(app)
        [review] = await rows(app.sessions)
        await app.close()
        await engine.dispose()
        return decision, review

    decision, review = asyncio.run(setup())
    env = {"SLACK_BOT_TOKEN": "xoxb-test", "SLACK_API_URL": fake_slack.url, "DATABASE_URL": url}
    early = run("sweep", "--now", (review.due_at - timedelta(days=1)).isoformat(), env=env)
    assert early.returncode == 0 and early.stdout == "", early.stderr

    result = run("sweep", "--now", review.due_at.isoformat(), env=env)
    assert result.returncode == 0, result.stderr
    [line] = result.stdout.splitlines()
    assert line.startswith("sent ") and f"#{decision.id} review" in line
    thread = fake_slack.messages(CHANNEL, thread_ts=decision.thread_ts)
    assert sum("Quarterly review" in text_of(m) for m in thread) == 1
    again = run("sweep", "--now", review.due_at.isoformat(), env=env)
    assert again.returncode == 0 and again.stdout == ""


def test_ragft_sweep_rejects_a_bad_time_and_a_missing_token(tmp_path):
    from tests.test_cli import assert_one_line_error

    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}", "SLACK_BOT_TOKEN": "xoxb-test"}
    assert_one_line_error(run("sweep", "--now", "next tuesday", env=env), "--now", "ISO-8601")
    env.pop("SLACK_BOT_TOKEN")
    assert_one_line_error(run("sweep", env=env), "SLACK_BOT_TOKEN")
