"""A decision's cost assumptions: anyone in the channel sees them; the facilitator changes them.
What the facilitator sets is stored on the decision and used wherever its costs show."""

from __future__ import annotations

from collections.abc import Mapping

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.domain.cost_assumptions import (
    Range,
    assumptions_for,
    check_overrides,
    overrides_to_json,
)
from bot.domain.errors import NotAllowed
from bot.services import guards
from bot.services.state import DecisionState, state_of


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
) -> DecisionState:
    """Store the values that differ from the defaults for this decision's answers; a value
    equal to its default is no override."""
    values = check_overrides(values)
    async with session.begin():
        decision = await guards.in_channel(session, team_id, channel_id, decision_id, lock=True)
        guards.require_costs_editable(decision, user_id)
        state = await state_of(session=session, decision=decision)
        defaults = assumptions_for(
            knowledge_change=state.answers.knowledge_change,
            labeled_examples=state.answers.labeled_examples,
        )
        changed = {k: v for k, v in values.items() if v != defaults.range(k)}
        decision.cost_overrides = overrides_to_json(changed)
        session.add(decision)
        await session.flush()
        return await state_of(session=session, decision=decision)
