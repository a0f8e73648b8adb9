"""What a decision was made on, frozen when it is decided: the answers and who gave them, the
failure counts, owners and labeled examples, the three conditions, the rule's verdict, the
costs, and who decided when. Stored as JSON; everything that shows a decided decision reads it
instead of the live data. Pure (pydantic)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from bot.domain.cost_assumptions import (
    OVERRIDE_KEYS,
    CostAssumptions,
    assumptions_for,
    overrides_from_json,
    overrides_to_json,
)
from bot.domain.costs import CostEstimate, estimate
from bot.domain.questions import AnswerKey, OwnerRole, QuestionKey, Verdict
from bot.domain.rule import Condition, ConditionResult, FailureCounts, Reason, Recommendation
from bot.domain.team_choice import TeamChoice

SNAPSHOT_VERSION = 1

OUTCOMES: tuple[Verdict, ...] = (Verdict.RAG, Verdict.FINE_TUNING, Verdict.HYBRID)
"""What a team can choose. "Not ready" is the rule's answer when failures can't be explained,
never an outcome."""


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ChoiceAtDecision(_Frozen):
    value: str | None
    votes: dict[str, list[str]]
    settled: bool
    split: bool
    tie: bool

    def team_choice(self) -> TeamChoice:
        votes = {value: tuple(users) for value, users in self.votes.items()}
        return TeamChoice(
            value=self.value, votes=votes, settled=self.settled, split=self.split, tie=self.tie
        )


class ConditionAtDecision(_Frozen):
    condition: Condition
    holds: bool
    known: bool
    why: str


class ReasonAtDecision(_Frozen):
    text: str
    answer: QuestionKey


class CostsAtDecision(_Frozen):
    """Every cost assumption as it was at the decision (overrides included), and the answers
    the model reads; with the failure counts they give back the same estimate."""

    assumptions: dict[str, dict[str, float]]
    knowledge_change: str | None
    labeled_examples: int


class DecisionSnapshot(_Frozen):
    version: int = SNAPSHOT_VERSION
    choices: dict[AnswerKey, ChoiceAtDecision]
    knowledge: int = Field(ge=0)
    behavior: int = Field(ge=0)
    unclear: int = Field(ge=0)
    owners: dict[OwnerRole, str | None]
    labeled_examples: int | None
    labeled_examples_by: str | None
    verdict: Verdict
    conditions: list[ConditionAtDecision]
    reasons: list[ReasonAtDecision]
    next_steps: list[str]
    analysis_complete: bool
    inconclusive: bool
    costs: CostsAtDecision
    participants: list[str]
    decided_by: str
    decided_at: datetime

    @property
    def failures(self) -> FailureCounts:
        return FailureCounts(knowledge=self.knowledge, behavior=self.behavior, unclear=self.unclear)

    def team_choices(self) -> dict[AnswerKey, TeamChoice]:
        return {key: choice.team_choice() for key, choice in self.choices.items()}

    def recommendation(self) -> Recommendation:
        return Recommendation(
            verdict=self.verdict,
            conditions=tuple(
                ConditionResult(condition=c.condition, holds=c.holds, known=c.known, why=c.why)
                for c in self.conditions
            ),
            reasons=tuple(Reason(text=r.text, answer=r.answer) for r in self.reasons),
            next_steps=tuple(self.next_steps),
            analysis_complete=self.analysis_complete,
            inconclusive=self.inconclusive,
            failures=self.failures,
        )

    def cost_assumptions(self) -> CostAssumptions:
        c = self.costs
        return assumptions_for(
            knowledge_change=c.knowledge_change,
            labeled_examples=c.labeled_examples,
            overrides=overrides_from_json(c.assumptions),
        )

    def cost_estimate(self) -> CostEstimate:
        return estimate(self.cost_assumptions(), self.failures)

    def with_cost_assumptions(self, assumptions: CostAssumptions) -> DecisionSnapshot:
        """The same record with only its costs frozen again, on ``assumptions`` (a costs
        amendment); the answers the costs read stay as they were at the decision."""
        return self.model_copy(update={"costs": _costs_at(assumptions)})


def _costs_at(a: CostAssumptions) -> CostsAtDecision:
    return CostsAtDecision(
        assumptions=overrides_to_json({key: a.range(key) for key in OVERRIDE_KEYS}),
        knowledge_change=None if a.knowledge_change is None else str(a.knowledge_change),
        labeled_examples=a.labeled_examples,
    )


def take_snapshot(
    *,
    choices: Mapping[AnswerKey, TeamChoice],
    failures: FailureCounts,
    owners: Mapping[OwnerRole, str | None],
    labeled_examples: int | None,
    labeled_examples_by: str | None,
    recommendation: Recommendation,
    costs: CostEstimate,
    participants: Sequence[str],
    decided_by: str,
    decided_at: datetime,
) -> DecisionSnapshot:
    return DecisionSnapshot(
        choices={
            key: ChoiceAtDecision(
                value=c.value,
                votes={value: list(users) for value, users in c.votes.items()},
                settled=c.settled,
                split=c.split,
                tie=c.tie,
            )
            for key, c in choices.items()
        },
        knowledge=failures.knowledge,
        behavior=failures.behavior,
        unclear=failures.unclear,
        owners=dict(owners),
        labeled_examples=labeled_examples,
        labeled_examples_by=labeled_examples_by,
        verdict=recommendation.verdict,
        conditions=[
            ConditionAtDecision(condition=c.condition, holds=c.holds, known=c.known, why=c.why)
            for c in recommendation.conditions
        ],
        reasons=[ReasonAtDecision(text=r.text, answer=r.answer) for r in recommendation.reasons],
        next_steps=list(recommendation.next_steps),
        analysis_complete=recommendation.analysis_complete,
        inconclusive=recommendation.inconclusive,
        costs=_costs_at(costs.assumptions),
        participants=list(participants),
        decided_by=decided_by,
        decided_at=decided_at,
    )


class AmendmentKind(StrEnum):
    OUTCOME = "outcome"
    """The team's outcome changed; ``reason`` is the facilitator's why."""
    COSTS = "costs"
    """The cost assumptions changed; from and to are the outcome then, ``reason`` says which
    assumptions changed from what to what."""


class Amendment(_Frozen):
    """A change of the record after the decision: who, when, from, to, why."""

    amended_by: str
    amended_at: datetime
    from_outcome: Verdict
    to_outcome: Verdict
    reason: str
    kind: AmendmentKind = AmendmentKind.OUTCOME
