"""A decision's cost assumptions: anyone in the channel sees them; the facilitator changes them.
What the facilitator sets is stored on the decision and used wherever its costs show. Once
decided, a change re-freezes the record's costs and is kept in its history as an amendment."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.domain.cost_assumptions import (
    CostAssumptions,
    Range,
    assumptions_for,
    check_overrides,
    overrides_to_json,
)
from bot.domain.cost_changes import assumption_changes, describe_changes
from bot.domain.decision_snapshot import AmendmentKind
from bot.domain.errors import NotAllowed
from bot.services import guards
from bot.services.state import DecisionState, state_of
from storage.models import utcnow
from storage.repositories import record_repo


async def costs_of(
    *, session: AsyncSession, team_id: str, channel_id: str, decision_id: int, user_id: str
) -> tuple[DecisionState, bool]:
    """The decision's state, and whether ``user_id`` may change its cost assumptions."""
    async with session.begin():
        decision = await guards.in_channel(session, team_id, channel_id, decision_id)
        try:
            guards.require_costs_editable(decision, user_id)
            editable = True
        except NotAllowed:
            editable = False
        return await state_of(session=session, decision=decision), editable


async def save_cost_overrides(
    *,
    session: AsyncSession,
    team_id: str,
    channel_id: str,
    decision_id: int,
    user_id: str,
    values: Mapping[str, Range],
    now: datetime | None = None,
) -> DecisionState:
    """Store the values that differ from the defaults for this decision's answers; a value
    equal to its default is no override. On a decided decision the record's costs are frozen
    again with the new assumptions, and what changed is kept as a costs amendment."""
    values = check_overrides(values)
    async with session.begin():
        decision = await guards.in_channel(session, team_id, channel_id, decision_id, lock=True)
        guards.require_costs_editable(decision, user_id)
        state = await state_of(session=session, decision=decision)
        shown = state.costs.assumptions  # the record's, once decided
        defaults = assumptions_for(
            knowledge_change=shown.knowledge_change, labeled_examples=shown.labeled_examples
        )
        changed = {k: v for k, v in values.items() if v != defaults.range(k)}
        decision.cost_overrides = overrides_to_json(changed)
        session.add(decision)
        if state.snapshot is not None:
            after = assumptions_for(
                knowledge_change=shown.knowledge_change,
                labeled_examples=shown.labeled_examples,
                overrides=changed,
            )
            await _amend_costs(state, shown, after, user_id, now or utcnow(), session=session)
        await session.flush()
        return await state_of(session=session, decision=decision)


async def _amend_costs(
    state: DecisionState,
    before: CostAssumptions,
    after: CostAssumptions,
    user_id: str,
    now: datetime,
    *,
    session: AsyncSession,
) -> None:
    """Re-freeze the record's costs and keep the change in its history; nothing if unchanged."""
    changes = assumption_changes(before, after)
    if not changes or state.snapshot is None:
        return
    scope = {"session": session, "team_id": state.decision.team_id, "decision_id": state.id}
    snapshot = state.snapshot.with_cost_assumptions(after)
    await record_repo.replace_snapshot(**scope, snapshot=snapshot.model_dump(mode="json"))
    outcome = state.outcome or str(state.snapshot.verdict)
    await record_repo.add_amendment(
        **scope,
        amended_by=user_id,
        amended_at=now,
        from_outcome=outcome,
        to_outcome=outcome,
        reason=describe_changes(changes),
        kind=AmendmentKind.COSTS,
    )
