"""The storage layer on real SQLite and real PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.domain.lifecycle import DecisionStatus, ReminderKind
from storage.db import create_engine
from storage.migrate import current_revision, head_revision, upgrade
from storage.models import Answer, Decision, FailureExample, OwnerAssignment, Reminder
from storage.repositories import answer_repo, decision_repo, event_repo, failure_repo

TEAM_A = "T0AAAAAAAA"
TEAM_B = "T0BBBBBBBB"


async def _decision(session: AsyncSession, team_id: str = TEAM_A, title: str = "Billing bot"):
    return await decision_repo.create_decision(
        session=session, team_id=team_id, channel_id="C1", title=title, facilitator_id="U1"
    )


async def test_migrations_upgrade_an_empty_database_and_again_is_a_no_op(empty_db_url: str):
    engine = create_engine(empty_db_url)
    try:
        assert await current_revision(engine) is None
        await upgrade(engine)
        assert await current_revision(engine) == head_revision()
        async with engine.connect() as conn:
            tables = set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
        expected = {"decision", "answer", "answeraudit", "ownerassignment", "failureexample"}
        assert expected | {"reminder", "processedevent"} <= tables
        await upgrade(engine)
        assert await current_revision(engine) == head_revision()
    finally:
        await engine.dispose()


async def test_decision_round_trips_with_utc_datetimes(sessions: async_sessionmaker[AsyncSession]):
    decided = datetime(2026, 3, 1, 9, 30, tzinfo=timezone(timedelta(hours=-5)))
    async with sessions() as session, session.begin():
        earlier = await _decision(session, title="Earlier")
        decision = await decision_repo.create_decision(
            session=session,
            team_id=TEAM_A,
            channel_id="C1",
            title="Support assistant <for> billing & refunds",
            facilitator_id="U1",
            supersedes_id=earlier.id,
        )
        decision.thread_ts = "1717000000.000100"
        decision.message_ts = {"q1": "1717000001.000100"}
        await decision_repo.mark_decided(
            session=session, decision=decision, verdict="rag", decided_by="U1", at=decided
        )
        decision_id = decision.id

    async with sessions() as session:
        loaded = await decision_repo.get_decision(
            session=session, team_id=TEAM_A, decision_id=decision_id
        )
    assert loaded is not None
    assert loaded.title == "Support assistant <for> billing & refunds"
    assert loaded.status == DecisionStatus.DECIDED
    assert loaded.verdict == "rag"
    assert loaded.supersedes_id == earlier.id
    assert loaded.message_ts == {"q1": "1717000001.000100"}
    assert loaded.review_cadence_days == 90
    assert loaded.decided_at == decided
    assert loaded.decided_at.tzinfo is not None
    assert loaded.decided_at.utcoffset() == timedelta(0)
    assert loaded.decided_at.hour == 14
    assert loaded.created_at.utcoffset() == timedelta(0)


async def test_answers_latest_wins_and_every_change_is_audited(
    sessions: async_sessionmaker[AsyncSession],
):
    async with sessions() as session, session.begin():
        decision_id = (await _decision(session)).id

    for value in ["knowledge", "knowledge", "behavior"]:
        async with sessions() as session, session.begin():
            await answer_repo.record_answer(
                session=session,
                team_id=TEAM_A,
                decision_id=decision_id,
                question="problem_type",
                user_id="U1",
                value=value,
            )

    async with sessions() as session:
        answers = await answer_repo.list_answers(
            session=session, team_id=TEAM_A, decision_id=decision_id
        )
        audit = await answer_repo.list_answer_audit(
            session=session, team_id=TEAM_A, decision_id=decision_id
        )
    assert [(a.user_id, a.value) for a in answers] == [("U1", "behavior")]
    assert [(a.old_value, a.new_value) for a in audit] == [
        (None, "knowledge"),
        ("knowledge", "behavior"),
    ]
    assert all(a.changed_at.utcoffset() == timedelta(0) for a in audit)


async def test_owners_failures_and_reminders_round_trip(
    sessions: async_sessionmaker[AsyncSession],
):
    due = datetime(2026, 6, 1, 14, 0, tzinfo=UTC)
    async with sessions() as session, session.begin():
        decision_id = (await _decision(session)).id
        await answer_repo.assign_owner(
            session=session,
            team_id=TEAM_A,
            decision_id=decision_id,
            role="evaluation",
            user_id="U2",
            assigned_by="U1",
        )
        await answer_repo.assign_owner(
            session=session,
            team_id=TEAM_A,
            decision_id=decision_id,
            role="evaluation",
            user_id="U3",
            assigned_by="U1",
        )
        await failure_repo.add_failures(
            session=session,
            team_id=TEAM_A,
            decision_id=decision_id,
            logged_by="U2",
            failures=[
                failure_repo.NewFailure(
                    explanation="quoted last year's prices",
                    category="knowledge",
                    category_source="heuristic",
                    output="The Pro plan is $10",
                    permalink="https://example.slack.com/archives/C1/p1",
                ),
                failure_repo.NewFailure(
                    explanation="sounds like a legal brief",
                    category="behavior",
                    category_source="llm",
                    rationale="Tone, not facts.",
                ),
            ],
        )
        session.add(
            Reminder(
                team_id=TEAM_A,
                decision_id=decision_id,
                kind=ReminderKind.QUARTERLY_REVIEW,
                due_at=due,
                payload={"period": 1},
            )
        )

    async with sessions() as session:
        owners = await answer_repo.list_owners(
            session=session, team_id=TEAM_A, decision_id=decision_id
        )
        failures = await failure_repo.list_failures(
            session=session, team_id=TEAM_A, decision_id=decision_id
        )
        counts = await failure_repo.failure_counts(
            session=session, team_id=TEAM_A, decision_id=decision_id
        )
        reminder = (await session.exec(select(Reminder))).one()
    assert [(o.role, o.user_id) for o in owners] == [("evaluation", "U3")]
    assert [(f.explanation, f.category, f.category_source) for f in failures] == [
        ("quoted last year's prices", "knowledge", "heuristic"),
        ("sounds like a legal brief", "behavior", "llm"),
    ]
    assert failures[0].permalink == "https://example.slack.com/archives/C1/p1"
    assert failures[1].rationale == "Tone, not facts."
    assert counts == {"knowledge": 1, "behavior": 1}
    assert reminder.due_at == due and reminder.due_at.utcoffset() == timedelta(0)
    assert reminder.status == "pending" and reminder.attempts == 0
    assert reminder.payload == {"period": 1}

    async with sessions() as session, session.begin():
        corrected = await failure_repo.correct_failure_category(
            session=session,
            team_id=TEAM_A,
            failure_id=failures[0].id,
            category="behavior",
            corrected_by="U1",
        )
    assert corrected is not None
    assert (corrected.category, corrected.category_source) == ("behavior", "human")


async def test_team_scoping_never_leaks_another_workspaces_rows(
    sessions: async_sessionmaker[AsyncSession],
):
    async with sessions() as session, session.begin():
        a = await _decision(session, team_id=TEAM_A, title="A's decision")
        b = await _decision(session, team_id=TEAM_B, title="B's decision")
        for team, decision in [(TEAM_A, a), (TEAM_B, b)]:
            await answer_repo.record_answer(
                session=session,
                team_id=team,
                decision_id=decision.id,
                question="problem_type",
                user_id="U1",
                value="knowledge",
            )
            await failure_repo.add_failures(
                session=session,
                team_id=team,
                decision_id=decision.id,
                logged_by="U1",
                failures=[failure_repo.NewFailure("x", "unclear", "heuristic")],
            )

    async with sessions() as session:
        assert (
            await decision_repo.get_decision(session=session, team_id=TEAM_A, decision_id=b.id)
            is None
        )
        assert [
            d.title for d in await decision_repo.list_decisions(session=session, team_id=TEAM_A)
        ] == ["A's decision"]
        assert (
            await answer_repo.list_answers(session=session, team_id=TEAM_A, decision_id=b.id) == []
        )
        assert (
            await failure_repo.list_failures(session=session, team_id=TEAM_A, decision_id=b.id)
            == []
        )
        assert (
            await failure_repo.failure_counts(session=session, team_id=TEAM_A, decision_id=b.id)
            == {}
        )
        failure_b = (
            await session.exec(select(FailureExample).where(FailureExample.team_id == TEAM_B))
        ).one()
        assert (
            await failure_repo.get_failure(session=session, team_id=TEAM_A, failure_id=failure_b.id)
        ) is None
        assert (
            await decision_repo.get_decision_by_thread(
                session=session, team_id=TEAM_B, channel_id="C1", thread_ts="none"
            )
            is None
        )


async def test_event_ids_are_claimed_once_per_team(sessions: async_sessionmaker[AsyncSession]):
    async with sessions() as session, session.begin():
        assert await event_repo.claim_event(session=session, team_id=TEAM_A, event_id="Ev1")
    async with sessions() as session, session.begin():
        assert not await event_repo.claim_event(session=session, team_id=TEAM_A, event_id="Ev1")
        assert await event_repo.claim_event(session=session, team_id=TEAM_B, event_id="Ev1")


@pytest.mark.parametrize("model", [Decision, Answer, OwnerAssignment, FailureExample, Reminder])
def test_every_table_carries_team_id(model: type):
    assert "team_id" in model.__table__.c
    assert not model.__table__.c.team_id.nullable


async def test_upgrading_keeps_existing_decisions(empty_db_url: str):
    """0002 adds NOT NULL columns; a database with decisions in it must still upgrade."""
    from alembic import command
    from sqlalchemy import text

    from storage.migrate import alembic_config

    engine = create_engine(empty_db_url)

    def to_0001(connection):
        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, "0001")

    try:
        async with engine.begin() as conn:
            await conn.run_sync(to_0001)
            await conn.execute(
                text(
                    "INSERT INTO decision (team_id, channel_id, title, facilitator_id, status,"
                    " created_at, review_cadence_days, message_ts, prompt_tokens,"
                    " completion_tokens) VALUES ('T1', 'C1', 'Old', 'U1', 'decided',"
                    " CURRENT_TIMESTAMP, 90, '{}', 0, 0)"
                )
            )
        await upgrade(engine)
        async with engine.connect() as conn:
            query = text("SELECT title, nudge_evidence, cost_overrides FROM decision")
            row = (await conn.execute(query)).one()
        assert row.title == "Old"
        assert row.nudge_evidence in ({}, "{}")
        assert row.cost_overrides in ({}, "{}")  # 0009: existing decisions keep the defaults
    finally:
        await engine.dispose()
