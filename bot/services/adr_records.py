"""What an ADR export of a decision needs beyond its frozen record: the failure modes found,
the review routine, and the supersede chain (which decisions it supersedes and which
superseded it). One decision for ``/ragft export``; a whole workspace for ``ragft export``."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.domain.adr_facts import AdrRef
from bot.domain.errors import NotFound
from bot.domain.lifecycle import DecisionStatus
from bot.domain.record_facts import RecordFacts
from bot.services import decision_records, error_analysis, guards
from bot.services.state import state_of
from storage.models import Decision
from storage.repositories import adr_repo, decision_repo

EXPORTED = (DecisionStatus.DECIDED, DecisionStatus.SUPERSEDED, DecisionStatus.WITHDRAWN)
"""What ``ragft export`` writes: every decision that was decided, superseded or withdrawn."""
IN_FORCE_ONCE = (DecisionStatus.DECIDED, DecisionStatus.SUPERSEDED)
MAX_CHAIN = 100


@dataclass(frozen=True)
class AdrSource:
    record: RecordFacts
    channel_id: str
    thread_ts: str | None
    review_cadence_days: int
    last_reviewed_at: datetime | None
    supersedes: AdrRef | None
    superseded_by: AdrRef | None
    chain: tuple[AdrRef, ...]


def _ref(decision: Decision) -> AdrRef:
    assert decision.id is not None
    return AdrRef(decision.id, decision.title)


async def _older(session: AsyncSession, decision: Decision) -> Decision | None:
    """The decision this one superseded (a decided re-run only)."""
    if decision.supersedes_id is None or decision.status not in IN_FORCE_ONCE:
        return None
    old = await decision_repo.get_decision(
        session=session, team_id=decision.team_id, decision_id=decision.supersedes_id
    )
    return old if old is not None and old.status == DecisionStatus.SUPERSEDED else None


async def _newer(session: AsyncSession, decision: Decision) -> Decision | None:
    if decision.status != DecisionStatus.SUPERSEDED or decision.id is None:
        return None
    return await adr_repo.superseded_by(
        session=session, team_id=decision.team_id, decision_id=decision.id, statuses=IN_FORCE_ONCE
    )


async def _source(session: AsyncSession, decision: Decision, record: RecordFacts) -> AdrSource:
    older, newer = await _older(session, decision), await _newer(session, decision)
    back: list[AdrRef] = []
    cursor = older
    while cursor is not None and len(back) < MAX_CHAIN:
        back.append(_ref(cursor))
        cursor = await _older(session, cursor)
    forward: list[AdrRef] = []
    cursor = newer
    while cursor is not None and len(forward) < MAX_CHAIN:
        forward.append(_ref(cursor))
        cursor = await _newer(session, cursor)
    return AdrSource(
        record=record,
        channel_id=decision.channel_id,
        thread_ts=decision.thread_ts,
        review_cadence_days=decision.review_cadence_days,
        last_reviewed_at=decision.last_reviewed_at,
        supersedes=None if older is None else _ref(older),
        superseded_by=None if newer is None else _ref(newer),
        chain=(*back[::-1], _ref(decision), *forward),
    )


async def export_source(
    *, session: AsyncSession, team_id: str, channel_id: str, decision_id: int | None
) -> AdrSource:
    """The given decision of this channel (else the latest here), for ``/ragft export``."""
    state = await decision_records.find_state(
        session=session, team_id=team_id, channel_id=channel_id, decision_id=decision_id
    )
    modes = await error_analysis.failure_modes_found(
        session=session, team_id=team_id, decision_id=state.id
    )
    async with session.begin():
        return await _source(session, state.decision, replace(state.record(), failure_modes=modes))


async def workspaces(*, session: AsyncSession) -> list[str]:
    async with session.begin():
        return await adr_repo.team_ids(session=session)


async def workspace_sources(*, session: AsyncSession, team_id: str) -> list[AdrSource]:
    """Every decided, superseded or withdrawn decision of the workspace, by id."""
    async with session.begin():
        if team_id not in await adr_repo.team_ids(session=session):
            raise NotFound(f"There are no decisions for workspace {team_id} in this database.")
        found = await adr_repo.decisions_in(session=session, team_id=team_id, statuses=EXPORTED)
        ids = [d.id for d in found if d.id is not None]
    sources = []
    for decision_id in ids:
        modes = await error_analysis.failure_modes_found(
            session=session, team_id=team_id, decision_id=decision_id
        )
        async with session.begin():
            decision = await guards.decision_in_team(
                session=session, team_id=team_id, decision_id=decision_id
            )
            state = await state_of(session=session, decision=decision)
            record = replace(state.record(), failure_modes=modes)
            sources.append(await _source(session, decision, record))
    return sources
