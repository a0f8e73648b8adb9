"""Undoing and editing what was entered on an open decision: a teammate withdrawing their own
answer, replacing or clearing a Q4 owner, and the facilitator deleting a failure.

Who may replace an owner: anyone may fill an empty role; a named owner is replaced or cleared
only by the facilitator, that owner, or a workspace admin (``guards.require_owner_change``).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.domain.errors import NotFound, UserError
from bot.domain.questions import QUESTIONS_BY_KEY, AnswerKey, OwnerRole, QuestionKey
from bot.services import guards
from bot.services.answering import open_decision
from storage.models import Decision, FailureExample
from storage.repositories import answer_repo, failure_repo

WITHDRAWABLE = {
    AnswerKey.PROBLEM_TYPE: QuestionKey.PROBLEM_TYPE,
    AnswerKey.PROMPT_ENGINEERING: QuestionKey.PROBLEM_TYPE,
    AnswerKey.KNOWLEDGE_CHANGE: QuestionKey.KNOWLEDGE_CHANGE,
}
"""The answers a teammate can withdraw, and the question message each is shown on."""


@dataclass(frozen=True)
class OwnerChange:
    decision: Decision
    role: OwnerRole
    old: str | None
    new: str | None

    @property
    def changed(self) -> bool:
        return self.old != self.new


async def withdraw_answer(
    *,
    session: AsyncSession,
    team_id: str,
    channel_id: str,
    decision_id: int,
    question: str,
    user_id: str,
) -> None:
    key = AnswerKey(question) if question in set(AnswerKey) else None
    if key not in WITHDRAWABLE:
        raise UserError(f"`{question}` isn't an answer you can withdraw.")
    async with session.begin():
        await open_decision(
            session=session, team_id=team_id, channel_id=channel_id, decision_id=decision_id
        )
        removed = await answer_repo.withdraw_answer(
            session=session,
            team_id=team_id,
            decision_id=decision_id,
            question=key,
            user_id=user_id,
        )
    if removed is None:
        number = QUESTIONS_BY_KEY[WITHDRAWABLE[key]].number
        raise UserError(
            f"You haven't answered that part of Q{number}, so there's nothing to withdraw."
        )


async def change_owner(
    *,
    session: AsyncSession,
    team_id: str,
    channel_id: str,
    decision_id: int,
    role: OwnerRole,
    owner_id: str | None,
    user_id: str,
    is_admin: guards.AdminCheck,
) -> OwnerChange:
    """Name (``owner_id``) or clear (None) the owner of a Q4 role."""
    scope = {"session": session, "team_id": team_id, "decision_id": decision_id}
    where = {"team_id": team_id, "channel_id": channel_id, "decision_id": decision_id}
    async with session.begin():
        decision = await open_decision(session=session, **where)
        current = await answer_repo.owner_of(**scope, role=role)
    if current == owner_id:
        return OwnerChange(decision=decision, role=role, old=current, new=owner_id)
    await guards.require_owner_change(decision, user_id, current, is_admin)
    async with session.begin():
        decision = await open_decision(session=session, **where, for_update=True)
        if await answer_repo.owner_of(**scope, role=role) != current:
            raise UserError("Someone changed this owner just now. Look again, then pick.")
        await answer_repo.assign_owner(**scope, role=role, user_id=owner_id, assigned_by=user_id)
        return OwnerChange(decision=decision, role=role, old=current, new=owner_id)


async def delete_failure(
    *,
    session: AsyncSession,
    team_id: str,
    channel_id: str,
    decision_id: int,
    failure_id: int,
    user_id: str,
    is_admin: guards.AdminCheck,
) -> FailureExample:
    """The facilitator (or a workspace admin) deletes a failure logged by mistake."""
    where = {"team_id": team_id, "channel_id": channel_id, "decision_id": decision_id}
    async with session.begin():
        decision = await guards.in_channel(session, **where)
        guards.require_live(decision, "changed")
    await guards.require_manager(decision, user_id, is_admin, "delete a failure of")
    async with session.begin():
        decision = await guards.in_channel(session, **where, lock=True)
        guards.require_live(decision, "changed")
        removed = await failure_repo.delete_failure(
            session=session, team_id=team_id, decision_id=decision_id, failure_id=failure_id
        )
    if removed is None:
        raise NotFound("That failure no longer exists.")
    return removed
