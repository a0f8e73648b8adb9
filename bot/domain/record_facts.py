"""What a decision record shows of a decision, for the ADR renderers (``bot.domain.adr_*``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.domain.costs import CostEstimate
from bot.domain.decision_snapshot import Amendment
from bot.domain.failure_modes import ModeCount
from bot.domain.questions import AnswerKey, OwnerRole
from bot.domain.rule import FailureCounts, Recommendation
from bot.domain.team_choice import TeamChoice


@dataclass(frozen=True)
class RecordFacts:
    """What the record shows of a decision: as it was at the decision once decided (the frozen
    snapshot), with what happened since kept apart."""

    id: int
    title: str
    status: str
    created_at: datetime
    facilitator_id: str
    decided_at: datetime | None
    decided_by: str | None
    verdict: str | None
    final_choice: str | None
    final_choice_reason: str | None
    context_summary: str | None
    next_review_at: datetime | None
    choices: Mapping[AnswerKey, TeamChoice]
    failures: FailureCounts
    owners: Mapping[OwnerRole, str | None]
    labeled_examples: int | None
    labeled_examples_by: str | None
    participants: Sequence[str]
    recommendation: Recommendation
    costs: CostEstimate
    failure_modes: Sequence[ModeCount] = ()
    """What the team's error analyses named, most frequent first."""
    outcome: str | None = None
    """What the team chose (None while open)."""
    amendments: Sequence[Amendment] = ()
    since_decision: FailureCounts | None = None
    """Failures logged since the decision."""
