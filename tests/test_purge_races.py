"""A workspace's purge racing the bot's own writes, on SQLite and PostgreSQL.

The purge deletes children before parents in one transaction; on PostgreSQL a write committed
meanwhile can fail it on a foreign key, or deadlock with it, and the purge then runs again
(``bot/services/workspace_data.py``). Each test holds a writer's transaction open, waits until
PostgreSQL shows the purge waiting on a lock, and lets the writer go."""

from __future__ import annotations

import asyncio

import pytest
import sqlalchemy as sa

from bot.services import decision_records, workspace_data
from storage.models import ProcessedEvent
from storage.repositories import answer_repo, context_test_repo, decision_repo, event_repo
from storage.repositories.workspace_repo import _tables as _purge_order
from tests.fakes import signing
from tests.oauth_app import rows_per_table
from tests.slack_app import CHANNEL, FACILITATOR
from tests.test_cli import assert_one_line_error, run
from tests.test_render_versions import waiting_on_a_lock
from tests.test_slack_thread import start


async def _purge(sessions) -> dict[str, int]:
    async with sessions() as session:
        return await workspace_data.purge_workspace(session=session, team_id=signing.DEFAULT_TEAM)


async def _answer(session, decision_id: int, user_id: str, value: str) -> None:
    """A Q1 answer, inside ``session``'s transaction."""
    await answer_repo.record_answer(
        session=session,
        team_id=signing.DEFAULT_TEAM,
        decision_id=decision_id,
        question="problem_type",
        user_id=user_id,
        value=value,
    )


async def test_a_purge_outlasts_a_write_in_flight_and_deletes_what_it_wrote(slack, sessions):
    """An answer being saved as the workspace's purge runs: the purge deletes children before
    parents, so on PostgreSQL the answer, committed after its table was emptied, failed the
    decision's DELETE on the foreign key, and nothing was purged. The purge runs again."""
    decision_id = await start(slack)
    async with sessions() as writing:
        await writing.begin()
        await _answer(writing, decision_id, "U0RACINGAN", "knowledge")
        purging = asyncio.create_task(_purge(sessions))
        await waiting_on_a_lock(slack)  # the purge waits on the answer's hold on the decision
        await writing.commit()
        purged = await purging

    assert (purged["decision"], purged["answer"], purged["answeraudit"]) == (1, 1, 1)
    assert set((await rows_per_table(sessions, signing.DEFAULT_TEAM)).values()) == {0}


async def test_a_purge_and_a_write_holding_a_child_row_both_finish(slack, sessions):
    """A context test being marked failed holds its row, and its version trigger takes the
    decision only as it commits. This guards the purge's design: one that locked the decision
    first deadlocked with such writers (PostgreSQL aborted it), so the purge locks nothing first
    and runs again if a write fails it."""
    decision_id = await start(slack)
    async with sessions() as session, session.begin():
        test = await context_test_repo.create_test(
            session=session,
            team_id=signing.DEFAULT_TEAM,
            decision_id=decision_id,
            requested_by=FACILITATOR,
            question="What is the refund window?",
            context="Refunds within 30 days.",
            expected="30 days",
        )
    async with sessions() as writing:
        await writing.begin()
        failed = await context_test_repo.fail_test(
            session=writing, team_id=signing.DEFAULT_TEAM, test_id=test.id, error="timed out"
        )
        assert failed is not None
        purging = asyncio.create_task(_purge(sessions))
        await waiting_on_a_lock(slack)  # the purge waits on the test's row
        await writing.commit()
        purged = await purging

    assert (purged["decision"], purged["contexttest"]) == (1, 1)
    assert set((await rows_per_table(sessions, signing.DEFAULT_TEAM)).values()) == {0}


@pytest.mark.parametrize("backend", ["postgresql"])  # SQLite's write lock keeps writers out
async def test_a_decision_started_during_a_purge_goes_with_it(slack, sessions):
    """A decision and its first answer, committed while the purge is between emptying the
    answer table and deleting decisions, failed that DELETE on the foreign key."""
    first = await start(slack)
    async with sessions() as session, session.begin():
        await event_repo.claim_event(session=session, team_id=signing.DEFAULT_TEAM, event_id="Ev1")
    async with sessions() as session:  # the purge's order: answers, …, processed events, …
        order = [t.name for t in await (await session.connection()).run_sync(_purge_order)]
    assert order.index("answer") < order.index("processedevent") < order.index("decision")

    async with sessions() as holding:  # a lock on a row the purge deletes late: it pauses there
        await holding.begin()
        await holding.execute(
            sa.select(ProcessedEvent)
            .where(ProcessedEvent.team_id == signing.DEFAULT_TEAM)
            .with_for_update()
        )
        purging = asyncio.create_task(_purge(sessions))
        await waiting_on_a_lock(slack)  # answers deleted; waits at the processed events
        async with sessions() as session:
            state = await decision_records.start_decision(
                session=session,
                team_id=signing.DEFAULT_TEAM,
                channel_id=CHANNEL,
                title="Started as the workspace was purged",
                facilitator_id=FACILITATOR,
            )
        late = state.decision.id
        async with sessions() as session, session.begin():
            await _answer(session, late, "U0LATEANSW", "knowledge")
        await holding.commit()
        purged = await purging

    assert (purged["decision"], purged["answer"]) == (2, 1)
    assert late != first
    assert set((await rows_per_table(sessions, signing.DEFAULT_TEAM)).values()) == {0}


async def test_a_purge_that_a_writer_deadlocks_with_runs_again(slack, sessions):
    """A writer holding the decision that then changes a row the purge already deleted: the
    two wait on each other, and PostgreSQL aborts the purge, which waited first."""
    decision_id = await start(slack)
    await slack.answer(decision_id, "problem_type", "knowledge", user=FACILITATOR)
    async with sessions() as writing:
        await writing.begin()
        await decision_repo.get_decision(
            session=writing, team_id=signing.DEFAULT_TEAM, decision_id=decision_id, for_update=True
        )
        purging = asyncio.create_task(_purge(sessions))
        await waiting_on_a_lock(slack)  # the purge has emptied the answers; waits at decisions
        # a change of the answer it deleted, not committed yet: the two wait on each other
        await _answer(writing, decision_id, FACILITATOR, "behavior")
        await writing.commit()
        purged = await purging

    assert purged["decision"] == 1
    assert set((await rows_per_table(sessions, signing.DEFAULT_TEAM)).values()) == {0}


@pytest.mark.parametrize("backend", ["postgresql"])  # another schema's foreign key
async def test_a_purge_the_database_refuses_is_one_line_and_deletes_nothing(
    slack, sessions, db_url
):
    """A table outside ragft's schema points at its decisions (an operator's report, say):
    ragft doesn't know it, so every attempt fails on that foreign key. ``ragft purge`` says so
    in one line and leaves everything as it was."""
    await start(slack)
    async with sessions() as session, session.begin():
        await session.execute(sa.text("CREATE SCHEMA reports"))
        await session.execute(
            sa.text("CREATE TABLE reports.seen (decision_id integer REFERENCES public.decision)")
        )
        await session.execute(sa.text("INSERT INTO reports.seen SELECT id FROM public.decision"))
    before = await rows_per_table(sessions, signing.DEFAULT_TEAM)
    result = await asyncio.to_thread(
        run, "purge", "--team", signing.DEFAULT_TEAM, "--yes", env={"DATABASE_URL": db_url}
    )
    assert_one_line_error(result, "PostgreSQL at", "failed:", "violates foreign key constraint")
    assert await rows_per_table(sessions, signing.DEFAULT_TEAM) == before
