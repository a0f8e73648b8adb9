"""Perfect-context tests (evidence for Q1). Keyword-only, scoped by Slack ``team_id``.

Callers own the transaction: functions flush but never commit.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.domain.lifecycle import ContextTestStatus
from storage.models import ContextTest, utcnow
from storage.repositories.scoping import decision_rows


async def create_test(
    *,
    session: AsyncSession,
    team_id: str,
    decision_id: int,
    requested_by: str,
    question: str,
    context: str,
    expected: str,
) -> ContextTest:
    test = ContextTest(
        team_id=team_id,
        decision_id=decision_id,
        requested_by=requested_by,
        question=question,
        context=context,
        expected=expected,
        status=ContextTestStatus.RUNNING,
    )
    session.add(test)
    await session.flush()
    return test


async def get_test(
    *, session: AsyncSession, team_id: str, test_id: int, for_update: bool = False
) -> ContextTest | None:
    query = select(ContextTest).where(ContextTest.team_id == team_id, ContextTest.id == test_id)
    if for_update:
        query = query.with_for_update()
    return (await session.exec(query.execution_options(populate_existing=True))).first()


async def list_tests(
    *, session: AsyncSession, team_id: str, decision_id: int
) -> Sequence[ContextTest]:
    """Oldest first."""
    scope = {"team_id": team_id, "decision_id": decision_id}
    return await decision_rows(
        session, ContextTest, **scope, oldest_first_by=ContextTest.created_at, fresh=True
    )


async def set_message_ts(
    *, session: AsyncSession, team_id: str, test_id: int, message_ts: str
) -> None:
    test = await get_test(session=session, team_id=team_id, test_id=test_id, for_update=True)
    if test is not None:
        test.message_ts = message_ts
        session.add(test)
        await session.flush()


async def complete_test(
    *,
    session: AsyncSession,
    team_id: str,
    test_id: int,
    answer_without: str,
    answer_with: str,
    model_judgement: str | None,
    model_rationale: str | None,
) -> ContextTest | None:
    test = await get_test(session=session, team_id=team_id, test_id=test_id, for_update=True)
    if test is None:
        return None
    test.status = ContextTestStatus.DONE
    test.answer_without = answer_without
    test.answer_with = answer_with
    test.model_judgement = model_judgement
    test.model_rationale = model_rationale
    test.completed_at = utcnow()
    session.add(test)
    await session.flush()
    return test


async def fail_test(
    *, session: AsyncSession, team_id: str, test_id: int, error: str
) -> ContextTest | None:
    test = await get_test(session=session, team_id=team_id, test_id=test_id, for_update=True)
    if test is None:
        return None
    test.status = ContextTestStatus.FAILED
    test.error = error
    test.completed_at = utcnow()
    session.add(test)
    await session.flush()
    return test


async def judge_test(
    *, session: AsyncSession, team_id: str, test_id: int, judgement: str, judged_by: str
) -> ContextTest | None:
    """The latest judgement wins on the test; each judge's Q1 answer is recorded separately."""
    test = await get_test(session=session, team_id=team_id, test_id=test_id, for_update=True)
    if test is None:
        return None
    test.team_judgement = judgement
    test.judged_by = judged_by
    test.judgements = {**(test.judgements or {}), judged_by: judgement}
    session.add(test)
    await session.flush()
    return test
