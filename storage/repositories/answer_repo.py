"""Answers, their audit trail, and Q4 owners.

Keyword-only; every query is scoped by Slack ``team_id``. Callers own the transaction:
functions flush but never commit.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.db import dialect_insert, insert_for
from storage.models import (
    Answer,
    AnswerAudit,
    OwnerAssignment,
    utcnow,
)
from storage.repositories.scoping import decision_rows, of_decision

# Answers -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AnswerChange:
    answer: Answer
    old_value: str | None
    changed: bool


async def record_answer(
    *,
    session: AsyncSession,
    team_id: str,
    decision_id: int,
    question: str,
    user_id: str,
    value: str,
) -> AnswerChange:
    """Set a user's answer. Writes an audit row only when the value actually changes."""
    now = utcnow()
    row = {
        "team_id": team_id,
        "decision_id": decision_id,
        "question": question,
        "user_id": user_id,
    }
    inserted = await session.exec(  # type: ignore[call-overload]
        _first_answer(session.get_bind().dialect.name),
        params={**row, "value": value, "updated_at": now},
    )
    old_value: str | None = None
    new_row = inserted.first()
    if new_row is not None:  # the first answer: no row to load back, one INSERT for the audit
        await session.exec(  # type: ignore[call-overload]
            _FIRST_AUDIT, params={**row, "old_value": None, "new_value": value, "changed_at": now}
        )
        answer = Answer(
            id=new_row[0],
            team_id=team_id,
            decision_id=decision_id,
            question=question,
            user_id=user_id,
            value=value,
            updated_at=now,
        )
        return AnswerChange(answer=answer, old_value=None, changed=True)
    existing = (
        await session.exec(
            select(Answer)
            .where(
                Answer.team_id == team_id,
                Answer.decision_id == decision_id,
                Answer.question == question,
                Answer.user_id == user_id,
            )
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    ).one()
    if existing.value == value:
        return AnswerChange(answer=existing, old_value=value, changed=False)
    old_value = existing.value
    existing.value = value
    existing.updated_at = now
    session.add(existing)
    session.add(
        AnswerAudit(
            team_id=team_id,
            decision_id=decision_id,
            question=question,
            user_id=user_id,
            old_value=old_value,
            new_value=value,
            changed_at=now,
        )
    )
    await session.flush()
    answer = (
        await session.exec(
            select(Answer).where(
                Answer.team_id == team_id,
                Answer.decision_id == decision_id,
                Answer.question == question,
                Answer.user_id == user_id,
            )
        )
    ).one()
    return AnswerChange(answer=answer, old_value=old_value, changed=True)


@functools.cache
def _first_answer(dialect: str) -> Any:
    """``record_answer``'s INSERT, built once per dialect: it runs on every answer click."""
    table = Answer.__table__  # type: ignore[attr-defined]
    return (
        dialect_insert(dialect, table)
        .on_conflict_do_nothing(index_elements=["decision_id", "question", "user_id"])
        .returning(table.c.id)
    )


# On the tables, not the classes: with parameters, an INSERT of a mapped class takes the ORM's
# bulk path, which rebuilds the statement on every call.
_FIRST_AUDIT = sa.insert(AnswerAudit.__table__)  # type: ignore[attr-defined]


async def list_answers(
    *, session: AsyncSession, team_id: str, decision_id: int, question: str | None = None
) -> Sequence[Answer]:
    rows = await decision_rows(
        session,
        Answer,
        team_id=team_id,
        decision_id=decision_id,
        oldest_first_by=Answer.updated_at,
        fresh=True,
    )
    return [row for row in rows if question is None or row.question == question]


async def list_answer_audit(
    *, session: AsyncSession, team_id: str, decision_id: int
) -> Sequence[AnswerAudit]:
    scope = {"team_id": team_id, "decision_id": decision_id}
    return await decision_rows(
        session, AnswerAudit, **scope, oldest_first_by=AnswerAudit.changed_at
    )


# Owners ------------------------------------------------------------------------------------------


async def assign_owner(
    *,
    session: AsyncSession,
    team_id: str,
    decision_id: int,
    role: str,
    user_id: str | None,
    assigned_by: str,
) -> OwnerAssignment:
    now = utcnow()
    await session.exec(
        insert_for(session, OwnerAssignment)
        .values(
            team_id=team_id,
            decision_id=decision_id,
            role=role,
            user_id=user_id,
            assigned_by=assigned_by,
            assigned_at=now,
        )
        .on_conflict_do_update(
            index_elements=["decision_id", "role"],
            set_={"user_id": user_id, "assigned_by": assigned_by, "assigned_at": now},
        )
    )
    query = select(OwnerAssignment).where(
        OwnerAssignment.team_id == team_id,
        OwnerAssignment.decision_id == decision_id,
        OwnerAssignment.role == role,
    )
    return (await session.exec(query.execution_options(populate_existing=True))).one()


async def list_owners(
    *, session: AsyncSession, team_id: str, decision_id: int
) -> Sequence[OwnerAssignment]:
    query = of_decision(OwnerAssignment, team_id, decision_id)
    return (await session.exec(query.execution_options(populate_existing=True))).all()


async def withdraw_answer(
    *, session: AsyncSession, team_id: str, decision_id: int, question: str, user_id: str
) -> Answer | None:
    """Remove a user's answer, keeping the change in the audit trail. None: there was none."""
    query = select(Answer).where(
        Answer.team_id == team_id,
        Answer.decision_id == decision_id,
        Answer.question == question,
        Answer.user_id == user_id,
    )
    answer = (await session.exec(query.with_for_update())).first()
    if answer is None:
        return None
    session.add(
        AnswerAudit(
            team_id=team_id,
            decision_id=decision_id,
            question=question,
            user_id=user_id,
            old_value=answer.value,
            new_value=None,
            changed_at=utcnow(),
        )
    )
    await session.delete(answer)
    await session.flush()
    return answer


async def owner_of(
    *, session: AsyncSession, team_id: str, decision_id: int, role: str
) -> str | None:
    query = of_decision(OwnerAssignment, team_id, decision_id).where(OwnerAssignment.role == role)
    found = (await session.exec(query.execution_options(populate_existing=True))).first()
    return found.user_id if found else None
