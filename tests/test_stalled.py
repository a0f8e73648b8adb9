"""Stalled decisions: an open decision with no activity for a week gets one reminder to its
facilitator, at most weekly, until it's decided or withdrawn. The real app, the fake Slack and
the sweeper with an explicit ``now``, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlmodel import select

from storage.models import Reminder
from tests.slack_app import FACILITATOR, text_of
from tests.test_routine_slack import MARCO, PRIYA, in_thread, sweeper


async def stalled_rows(slack) -> list[Reminder]:
    async with slack.sessions() as session:
        query = select(Reminder).where(Reminder.kind == "stalled").order_by(Reminder.id)
        return list((await session.exec(query)).all())


def stalled_posts(slack, decision) -> list[str]:
    return [text_of(m) for m in in_thread(slack, decision) if "no activity for" in text_of(m)]


async def started(slack):
    await slack.command("start Billing assistant")
    decision = await slack.decision()
    await slack.answer(decision.id, "problem_type", "knowledge", user=PRIYA)
    await slack.answer(decision.id, "problem_type", "behavior", user=MARCO)
    await slack.pick_user(decision.id, "evaluation", MARCO)
    return await slack.decision(decision.id)


async def test_a_week_without_activity_reminds_the_facilitator_once_then_weekly(slack):
    decision = await started(slack)
    [row] = await stalled_rows(slack)
    assert row.status == "pending" and row.due_at - decision.created_at == timedelta(days=7)
    start = decision.created_at

    assert (await sweeper(slack).sweep(start + timedelta(days=6))).sent == []
    report = await sweeper(slack).sweep(start + timedelta(days=8))
    assert len(report.sent) == 1 and "stalled reminder" in report.sent[0]
    [post] = stalled_posts(slack, decision)
    assert f"<@{FACILITATOR}>, decision #{decision.id}" in post
    assert "no activity for 8 days" in post
    assert f"Knowledge: <@{PRIYA}> · Behavior: <@{MARCO}>" in post
    assert f"Evaluation: <@{MARCO}>" in post
    assert "Still missing:" in post and "Q2 change rate" in post and "Q3 failures 0/20" in post
    assert "*Next:*" in post and "Decide" in post

    assert (await sweeper(slack).sweep(start + timedelta(days=8))).sent == []  # once
    assert (await sweeper(slack).sweep(start + timedelta(days=14))).sent == []  # weekly at most
    assert len((await sweeper(slack).sweep(start + timedelta(days=16))).sent) == 1
    assert len(stalled_posts(slack, decision)) == 2


async def test_recent_activity_pushes_the_reminder_a_week_past_it(slack):
    decision = await started(slack)
    async with slack.sessions() as session, session.begin():
        [row] = (await session.exec(select(Reminder).where(Reminder.kind == "stalled"))).all()
        row.due_at = datetime.now(UTC) - timedelta(minutes=5)  # due, but they just answered
        session.add(row)
    assert (await sweeper(slack).sweep(datetime.now(UTC))).sent == []
    assert stalled_posts(slack, decision) == []
    rows = await stalled_rows(slack)
    [pending] = [r for r in rows if r.status == "pending"]
    assert timedelta(days=6) < pending.due_at - datetime.now(UTC) <= timedelta(days=7)


async def test_two_sweepers_post_it_once(slack):
    decision = await started(slack)
    at = decision.created_at + timedelta(days=8)
    reports = await asyncio.gather(sweeper(slack).sweep(at), sweeper(slack).sweep(at))
    assert sum(len(r.sent) for r in reports) == 1
    assert len(stalled_posts(slack, decision)) == 1
    assert len([r for r in await stalled_rows(slack) if r.status == "pending"]) == 1


async def test_a_decided_or_withdrawn_decision_is_not_reminded(slack):
    decision = await started(slack)
    await slack.decide(decision.id)
    assert [r for r in await stalled_rows(slack) if r.status == "pending"] == []
    assert (await sweeper(slack).sweep(decision.created_at + timedelta(days=8))).sent == []
    assert stalled_posts(slack, decision) == []

    await slack.command("start Second one")
    second = await slack.decision()
    async with slack.sessions() as session, session.begin():
        fresh = await session.get(type(second), second.id)
        fresh.status = "withdrawn"
        session.add(fresh)
    assert (await sweeper(slack).sweep(second.created_at + timedelta(days=8))).sent == []
    assert stalled_posts(slack, second) == []
    assert {r.status for r in await stalled_rows(slack)} == {"cancelled"}


async def test_upgrading_gives_open_decisions_a_stalled_check_and_keeps_judgements(empty_db_url):
    from alembic import command
    from sqlalchemy import text

    from storage.db import create_engine
    from storage.migrate import alembic_config, upgrade

    engine = create_engine(empty_db_url)

    def to_0002(connection):
        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, "0002")

    insert = (
        "INSERT INTO decision (team_id, channel_id, title, facilitator_id, status, created_at,"
        " review_cadence_days, message_ts, prompt_tokens, completion_tokens, nudge_evidence)"
        " VALUES ('T1', 'C1', :title, 'U1', :status, CURRENT_TIMESTAMP, 90, '{}', 0, 0, '{}')"
    )
    try:
        async with engine.begin() as conn:
            await conn.run_sync(to_0002)
            await conn.execute(text(insert), {"title": "Open", "status": "open"})
            await conn.execute(text(insert), {"title": "Done", "status": "decided"})
            await conn.execute(
                text(
                    "INSERT INTO contexttest (team_id, decision_id, requested_by, question,"
                    " context, expected, status, team_judgement, judged_by, created_at)"
                    " VALUES ('T1', 1, 'U1', 'q', 'c', 'e', 'done', 'behavior', 'U2',"
                    " CURRENT_TIMESTAMP)"
                )
            )
        await upgrade(engine)
        async with engine.connect() as conn:
            rows = (
                await conn.execute(text("SELECT decision_id, kind, status FROM reminder"))
            ).all()
            judgements = (await conn.execute(text("SELECT judgements FROM contexttest"))).scalar()
        assert [tuple(r) for r in rows] == [(1, "stalled", "pending")]
        assert judgements in ({"U2": "behavior"}, '{"U2": "behavior"}')
    finally:
        await engine.dispose()
