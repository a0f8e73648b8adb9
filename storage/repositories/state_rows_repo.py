"""What a decision's state is built from (its answers, owners, failure counts and how many
perfect-context tests it has), read in one round trip. Keyword-only, scoped by Slack
``team_id``. Callers own the transaction: nothing here writes.

Every click, mention and refresh loads a state, so this is one ``UNION ALL`` of plain columns
instead of four ORM queries that each build entities."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Answer, ContextTest, FailureExample, OwnerAssignment


class AnswerRow(NamedTuple):
    question: str
    user_id: str
    value: str


class OwnerRow(NamedTuple):
    role: str
    user_id: str | None


@dataclass
class StateRows:
    answers: list[AnswerRow] = field(default_factory=list)
    """Oldest first (ties by id), like ``answer_repo.list_answers``."""
    owners: list[OwnerRow] = field(default_factory=list)
    failure_counts: dict[str, int] = field(default_factory=dict)
    """By category, like ``failure_repo.failure_counts``."""
    context_tests: int = 0


_NONE = sa.null()


def _query() -> Any:
    def of(table: Any) -> Any:
        return sa.and_(
            table.team_id == sa.bindparam("team_id"),
            table.decision_id == sa.bindparam("decision_id"),
        )

    answers = sa.select(
        sa.literal_column("'a'").label("kind"),
        Answer.question.label("k1"),  # type: ignore[attr-defined]
        Answer.user_id.label("k2"),  # type: ignore[attr-defined]
        Answer.value.label("k3"),  # type: ignore[attr-defined]
        sa.literal_column("0").label("n"),
        Answer.updated_at.label("at"),  # type: ignore[attr-defined]
        Answer.id.label("rid"),  # type: ignore[union-attr]
    ).where(of(Answer))
    owners = sa.select(
        sa.literal_column("'o'"),
        OwnerAssignment.role,
        OwnerAssignment.user_id,
        _NONE,
        sa.literal_column("0"),
        _NONE,
        OwnerAssignment.id,
    ).where(of(OwnerAssignment))
    failures = (
        sa.select(
            sa.literal_column("'f'"),
            FailureExample.category,
            _NONE,
            _NONE,
            sa.func.count(),
            _NONE,
            _NONE,
        )
        .where(of(FailureExample))
        .group_by(FailureExample.category)
    )
    tests = sa.select(
        sa.literal_column("'t'"), _NONE, _NONE, _NONE, sa.func.count(), _NONE, _NONE
    ).where(of(ContextTest))
    return sa.union_all(answers, owners, failures, tests)


_QUERY = _query()
"""Built once: the statement is the same for every decision, only the parameters change."""


async def state_rows(*, session: AsyncSession, team_id: str, decision_id: int) -> StateRows:
    rows = StateRows()
    answers: list[tuple[datetime, int, AnswerRow]] = []
    for kind, k1, k2, k3, n, at, rid in await session.exec(
        _QUERY, params={"team_id": team_id, "decision_id": decision_id}
    ):
        if kind == "a":
            answers.append((at, rid, AnswerRow(k1, k2, k3)))
        elif kind == "o":
            rows.owners.append(OwnerRow(k1, k2))
        elif kind == "f":
            rows.failure_counts[k1] = int(n)
        else:
            rows.context_tests = int(n)
    answers.sort(key=lambda item: (item[0], item[1]))
    rows.answers = [answer for _, _, answer in answers]
    return rows
