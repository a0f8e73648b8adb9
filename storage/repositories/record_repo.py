"""The frozen decision record (its snapshot) and its amendments (outcome or costs). Keyword-only,
scoped by Slack ``team_id``. Callers own the transaction: functions flush but never commit."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import DecisionRecord, RecordAmendment
from storage.repositories.scoping import decision_rows, of_decision


async def save_snapshot(
    *, session: AsyncSession, team_id: str, decision_id: int, snapshot: dict[str, Any]
) -> DecisionRecord:
    record = DecisionRecord(team_id=team_id, decision_id=decision_id, snapshot=snapshot)
    session.add(record)
    await session.flush()
    return record


async def get_snapshot(
    *, session: AsyncSession, team_id: str, decision_id: int
) -> dict[str, Any] | None:
    found = (await session.exec(of_decision(DecisionRecord, team_id, decision_id))).first()
    return found.snapshot if found is not None else None


async def replace_snapshot(
    *, session: AsyncSession, team_id: str, decision_id: int, snapshot: dict[str, Any]
) -> None:
    """Store the record again, for an amendment: the caller records what changed."""
    found = (await session.exec(of_decision(DecisionRecord, team_id, decision_id))).one()
    found.snapshot = snapshot
    session.add(found)
    await session.flush()


async def add_amendment(
    *,
    session: AsyncSession,
    team_id: str,
    decision_id: int,
    amended_by: str,
    amended_at: datetime,
    from_outcome: str,
    to_outcome: str,
    reason: str,
    kind: str = "outcome",
) -> RecordAmendment:
    amendment = RecordAmendment(
        team_id=team_id,
        decision_id=decision_id,
        amended_by=amended_by,
        amended_at=amended_at,
        from_outcome=from_outcome,
        to_outcome=to_outcome,
        reason=reason,
        kind=kind,
    )
    session.add(amendment)
    await session.flush()
    return amendment


async def list_amendments(
    *, session: AsyncSession, team_id: str, decision_id: int
) -> Sequence[RecordAmendment]:
    return await decision_rows(
        session,
        RecordAmendment,
        team_id=team_id,
        decision_id=decision_id,
        oldest_first_by=RecordAmendment.amended_at,
    )
