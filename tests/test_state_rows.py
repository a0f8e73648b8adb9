"""The hot-path repositories: a decision's state rows in one query, and merging a posted ts."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services import decision_records
from bot.services.state import state_of
from storage.repositories import (
    answer_repo,
    context_test_repo,
    decision_repo,
    failure_repo,
    message_ts_repo,
    render_repo,
    state_rows_repo,
)

TEAM, OTHER = "T0TEAM0001", "T0OTHER001"


async def _decision(session: AsyncSession, team_id: str = TEAM) -> int:
    decision = await decision_repo.create_decision(
        session=session, team_id=team_id, channel_id="C1", title="t", facilitator_id="U1"
    )
    assert decision.id is not None
    return decision.id


async def test_state_rows_match_what_the_orm_repositories_read(sessions: async_sessionmaker):
    async with sessions() as session, session.begin():
        mine, other = await _decision(session), await _decision(session, OTHER)
        scope = {"session": session, "team_id": TEAM, "decision_id": mine}
        for n, (user, value) in enumerate([("U2", "behavior"), ("U1", "knowledge")]):
            await answer_repo.record_answer(
                **scope, question="problem_type", user_id=user, value=value
            )
            await asyncio.sleep(0.002 * n)
        await answer_repo.record_answer(
            **scope, question="problem_type", user_id="U2", value="both"
        )
        await answer_repo.assign_owner(**scope, role="evaluation", user_id="U3", assigned_by="U1")
        await failure_repo.add_failures(
            **scope,
            logged_by="U1",
            failures=[
                failure_repo.NewFailure(explanation=f"f{i}", category=c, category_source="manual")
                for i, c in enumerate(["knowledge", "knowledge", "behavior"])
            ],
        )
        await context_test_repo.create_test(
            **scope, requested_by="U1", question="q", context="c", expected="e"
        )
        await answer_repo.record_answer(
            session=session, team_id=OTHER, decision_id=other, question="problem_type",
            user_id="U9", value="behavior",
        )  # fmt: skip
        rows = await state_rows_repo.state_rows(**scope)
        answers = await answer_repo.list_answers(**scope)
        assert rows.answers == [(a.question, a.user_id, a.value) for a in answers]
        assert rows.owners == [("evaluation", "U3")]
        assert (
            rows.failure_counts
            == await failure_repo.failure_counts(**scope)
            == {
                "knowledge": 2,
                "behavior": 1,
            }
        )
        assert rows.context_tests == 1
        elsewhere = {"session": session, "team_id": OTHER, "decision_id": mine}
        assert await state_rows_repo.state_rows(**elsewhere) == state_rows_repo.StateRows()
        decision = await decision_repo.get_decision(session=session, team_id=TEAM, decision_id=mine)
        assert decision is not None
        state = await state_of(session=session, decision=decision)
        assert len(state.context_tests) == 1
        assert state.failures.knowledge == 2
        assert state.choices["problem_type"].votes  # both votes are counted


async def test_saving_posted_ts_merges_and_a_concurrent_save_loses_nothing(
    sessions: async_sessionmaker,
):
    async with sessions() as session, session.begin():
        decision_id = await _decision(session)

    async def save(key: str, thread_ts: str | None = None) -> None:
        async with sessions() as session:
            await decision_records.save_message_ts(
                session=session, team_id=TEAM, decision_id=decision_id, posted={key: f"1.{key}"},
                thread_ts=thread_ts,
            )  # fmt: skip

    await save("root")
    await asyncio.gather(*(save(key) for key in ["q1", "q2", "q3"]))
    await save("q4", thread_ts="1.root")
    async with sessions() as session, session.begin():
        decision = await decision_repo.get_decision(
            session=session, team_id=TEAM, decision_id=decision_id
        )
        assert decision is not None
        assert decision.message_ts == {k: f"1.{k}" for k in ["root", "q1", "q2", "q3", "q4"]}
        assert decision.thread_ts == "1.root"
        assert not await message_ts_repo.add_message_ts(
            session=session, team_id=OTHER, decision_id=decision_id, posted={"x": "1"}
        )
    with pytest.raises(Exception, match="no decision"):
        async with sessions() as session:
            await decision_records.save_message_ts(
                session=session, team_id=OTHER, decision_id=decision_id, posted={"x": "1"}
            )


@contextlib.contextmanager
def statements_of(engine: AsyncEngine) -> Iterator[list[tuple[str, object]]]:
    """The ``(sql, parameters)`` the engine sends while the block runs."""
    sent: list[tuple[str, object]] = []

    def record(_connection, _cursor, sql: str, parameters: object, *_rest) -> None:
        sent.append((sql, parameters))

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)


async def test_a_claim_on_messages_another_process_holds_only_looks(
    engine: AsyncEngine, sessions: async_sessionmaker
):
    """Recorded messages held elsewhere are left alone: the claim's UPDATE and one look at which
    are recorded, not the INSERT for unrecorded ones and a second UPDATE."""
    keys = {"root", "problem_type"}
    async with sessions() as session, session.begin():
        decision_id = await _decision(session)
        scope = {"session": session, "team_id": TEAM, "decision_id": decision_id}
        await render_repo.record_shown(**scope, shown=dict.fromkeys(keys, 1))
    now, lease = datetime.now(UTC), timedelta(seconds=60)
    async with sessions() as session, session.begin():
        scope = {"session": session, "team_id": TEAM, "decision_id": decision_id}
        claimed, busy = await render_repo.claim(
            **scope, keys=keys, holder="replica-a", now=now, lease=lease
        )
    assert claimed == dict.fromkeys(keys, 1) and busy == set()

    with statements_of(engine) as statements:
        async with sessions() as session, session.begin():
            scope = {"session": session, "team_id": TEAM, "decision_id": decision_id}
            claimed, busy = await render_repo.claim(
                **scope, keys=keys, holder="replica-b", now=now, lease=lease
            )
    assert claimed == {} and busy == keys
    made = [sql.split()[0] for sql, _ in statements if not sql.startswith(("BEGIN", "COMMIT"))]
    assert made == ["UPDATE", "SELECT"], statements


async def test_a_threads_decision_is_found_through_its_index(
    engine: AsyncEngine, sessions: async_sessionmaker
):
    """Every mention looks its thread's decision up: by an index on team, channel and thread,
    not by reading every decision the channel ever had."""
    async with sessions() as session, session.begin():
        for n in range(30):
            decision_id = await _decision(session)
            await message_ts_repo.add_message_ts(
                session=session,
                team_id=TEAM,
                decision_id=decision_id,
                posted={"root": f"1700000000.{n:06d}"},
                thread_ts=f"1700000000.{n:06d}",
            )
    with statements_of(engine) as statements:
        async with sessions() as session, session.begin():
            found = await decision_repo.get_decision_by_thread(
                session=session, team_id=TEAM, channel_id="C1", thread_ts="1700000000.000007"
            )
    assert found is not None and found.thread_ts == "1700000000.000007"
    [(sql, params)] = [(sql, p) for sql, p in statements if sql.lstrip().startswith("SELECT")]
    async with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            rows = await connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", params)
            plan = " ".join(str(row[-1]) for row in rows)
        else:  # PostgreSQL would scan 30 rows whatever the indexes: ask it not to
            await connection.exec_driver_sql("SET enable_seqscan = off")
            rows = await connection.exec_driver_sql(f"EXPLAIN {sql}", params)
            plan = " ".join(str(row[0]) for row in rows)
    assert "ix_decision_thread" in plan, plan
