"""What a decision was made on, frozen when it is decided: the answers and who gave them, the
failure counts, owners and labeled examples, the three conditions, the rule's verdict, the
costs, and who decided when. Stored as JSON; everything that shows a decided decision reads it
instead of the live data. Pure (pydantic)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from bot.domain.costs import CostAssumptions, CostEstimate, Range
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


class RangeAtDecision(_Frozen):
    low: float
    high: float


class CostsAtDecision(_Frozen):
    assumptions: dict[str, Any]
    labeling: RangeAtDecision
    rag_running: RangeAtDecision
    fine_tuning_first_year: RangeAtDecision
    rag_first_year: RangeAtDecision
    hybrid_first_year: RangeAtDecision


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

    def cost_estimate(self) -> CostEstimate:
        c = self.costs

        def r(value: RangeAtDecision) -> Range:
            return Range(value.low, value.high)

        return CostEstimate(
            assumptions=CostAssumptions(**c.assumptions),
            labeling=r(c.labeling),
            rag_running=r(c.rag_running),
            fine_tuning_first_year=r(c.fine_tuning_first_year),
            rag_first_year=r(c.rag_first_year),
            hybrid_first_year=r(c.hybrid_first_year),
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
    def rng(value: Range) -> RangeAtDecision:
        return RangeAtDecision(low=value.low, high=value.high)

    a = costs.assumptions
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
        costs=CostsAtDecision(
            assumptions={name: getattr(a, name) for name in a.__dataclass_fields__},
            labeling=rng(costs.labeling),
            rag_running=rng(costs.rag_running),
            fine_tuning_first_year=rng(costs.fine_tuning_first_year),
            rag_first_year=rng(costs.rag_first_year),
            hybrid_first_year=rng(costs.hybrid_first_year),
        ),
        participants=list(participants),
        decided_by=decided_by,
        decided_at=decided_at,
    )


class Amendment(_Frozen):
    """A change of the outcome after the decision: who, when, from, to, why."""

    amended_by: str
    amended_at: datetime
    from_outcome: Verdict
    to_outcome: Verdict
    reason: str
