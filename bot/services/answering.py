"""Teammates answering the four questions: choices, the facilitator settling one, owners and
labeled examples. Each call is one transaction; every value is checked in the domain first."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.domain.errors import UserError
from bot.domain.questions import SETTLEABLE, AnswerKey, OwnerRole, choice_answer
from bot.services import guards
from storage.models import Decision
from storage.repositories import answer_repo


async def open_decision(
    *,
    session: AsyncSession,
    team_id: str,
    channel_id: str,
    decision_id: int,
    for_update: bool = False,
) -> Decision:
    """The decision, if it is still open. Answers take a shared lock and deciding an exclusive
    one, so a click racing a Decide either lands before the verdict or is told it's frozen, and
    two Decide clicks can't both decide."""
    decision = await guards.decision_in_channel(
        session=session,
        team_id=team_id,
        channel_id=channel_id,
        decision_id=decision_id,
        for_update=for_update,
        for_share=not for_update,
    )
    guards.require_open(decision)
    return decision


async def _open(session: AsyncSession, team_id: str, channel_id: str, decision_id: int) -> Decision:
    return await open_decision(
        session=session, team_id=team_id, channel_id=channel_id, decision_id=decision_id
    )


async def save_choice(
    *, session: AsyncSession, decision: Decision, question: str, user_id: str, value: str
) -> answer_repo.AnswerChange:
    """Inside the caller's transaction, on an open decision it already holds."""
    key, value = choice_answer(question, value)
    assert decision.id is not None
    return await answer_repo.record_answer(
        session=session,
        team_id=decision.team_id,
        decision_id=decision.id,
        question=key,
        user_id=user_id,
        value=value,
    )


async def record_choice(
    *,
    session: AsyncSession,
    team_id: str,
    channel_id: str,
    decision_id: int,
    question: str,
    user_id: str,
    value: str,
) -> answer_repo.AnswerChange:
    choice_answer(question, value)  # a bad value is refused before anything is read
    async with session.begin():
        decision = await _open(session, team_id, channel_id, decision_id)
        return await save_choice(
            session=session, decision=decision, question=question, user_id=user_id, value=value
        )


async def settle(
    *,
    session: AsyncSession,
    team_id: str,
    channel_id: str,
    decision_id: int,
    question: str,
    user_id: str,
    value: str | None,
) -> Decision:
    """The facilitator settles the team's answer; ``None`` lets the majority decide again."""
    key = AnswerKey(question) if question in set(AnswerKey) else None
    if key is None or key not in SETTLEABLE:
        raise UserError(f"`{question}` can't be settled.")
    if value is not None:
        choice_answer(key, value)
    async with session.begin():
        decision = await _open(session, team_id, channel_id, decision_id)
        guards.require_facilitator(
            decision,
            user_id,
            "settle the team's answer",
            after="Your answers still count: pick an option above.",
        )
        setattr(decision, f"settled_{key}", value)
        session.add(decision)
        await session.flush()
        return decision


async def assign_owner(
    *,
    session: AsyncSession,
    team_id: str,
    channel_id: str,
    decision_id: int,
    role: OwnerRole,
    owner_id: str | None,
    user_id: str,
) -> None:
    async with session.begin():
        await _open(session, team_id, channel_id, decision_id)
        await answer_repo.assign_owner(
            session=session,
            team_id=team_id,
            decision_id=decision_id,
            role=role,
            user_id=owner_id or None,
            assigned_by=user_id,
        )


async def set_labeled_examples(
    *,
    session: AsyncSession,
    team_id: str,
    channel_id: str,
    decision_id: int,
    user_id: str,
    count: int,
) -> None:
    async with session.begin():
        await _open(session, team_id, channel_id, decision_id)
        await answer_repo.record_answer(
            session=session,
            team_id=team_id,
            decision_id=decision_id,
            question=AnswerKey.LABELED_EXAMPLES,
            user_id=user_id,
            value=str(count),
        )
