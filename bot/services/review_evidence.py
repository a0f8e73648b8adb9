"""The evidence a review and a revisit nudge show: failures since the decision, this period and
the previous one, and per quarter. Read-only."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.domain.lifecycle import ReminderKind, ReminderStatus
from bot.domain.tallies import Tally, per_quarter
from storage.models import Decision
from storage.repositories import failure_repo, reminder_repo


@dataclass(frozen=True)
class Evidence:
    since_decision: Tally
    current: Tally
    """Since the last review (or the decision)."""
    previous: Tally
    """The period before; for the first review, the failures the decision was made on."""
    current_start: datetime
    all_failures: Tally
    """Every failure logged on the decision, before and after deciding."""
    quarters: list[tuple[str, Tally]]
    sources: dict[str, int] = field(default_factory=dict)
    """This period's failures by where they came from (slack, api, import)."""
    last_logged_at: datetime | None = None
    """When the last failure arrived, in any period."""


async def review_periods(
    *, session: AsyncSession, decision: Decision, now: datetime | None = None
) -> tuple[datetime, datetime | None]:
    """(start of this period, start of the previous one; None = everything before). Reviews
    whose period ended at ``now`` or later don't count, so a review posted earlier shows the
    same period when it's shown again."""
    assert decision.id is not None
    since = since_of(decision)
    sent = await reminder_repo.list_for_decision(
        session=session,
        team_id=decision.team_id,
        decision_id=decision.id,
        statuses=[ReminderStatus.SENT],
    )
    ends = sorted(
        datetime.fromisoformat(r.payload["period_end"])
        for r in sent
        if r.kind == ReminderKind.QUARTERLY_REVIEW
        and "period_end" in r.payload
        and (now is None or datetime.fromisoformat(r.payload["period_end"]) < now)
    )
    starts: list[datetime | None] = [None, since, *ends]
    return starts[-1] or since, starts[-2]


def since_of(decision: Decision) -> datetime:
    """When "since the decision" starts: its decision time, or (still open) its start."""
    return decision.decided_at or decision.created_at


async def gather_evidence(*, session: AsyncSession, decision: Decision, now: datetime) -> Evidence:
    assert decision.id is not None
    failures = [
        f
        for f in await failure_repo.list_failures(
            session=session, team_id=decision.team_id, decision_id=decision.id
        )
        if f.logged_at <= now
    ]
    current_start, previous_start = await review_periods(
        session=session, decision=decision, now=now
    )

    def between(start: datetime | None, end: datetime | None) -> Tally:
        return Tally.of(
            f.category
            for f in failures
            if (start is None or f.logged_at >= start) and (end is None or f.logged_at < end)
        )

    sources: dict[str, int] = {}
    for f in failures:
        if f.logged_at >= current_start:
            sources[f.source] = sources.get(f.source, 0) + 1
    return Evidence(
        sources=sources,
        last_logged_at=max((f.logged_at for f in failures), default=None),
        since_decision=between(since_of(decision), None),
        all_failures=between(None, None),
        current=between(current_start, None),
        previous=between(previous_start, current_start),
        current_start=current_start,
        quarters=per_quarter((f.logged_at, f.category) for f in failures),
    )
