"""The decision engine: answers to the four questions in, a recommendation out.

Pure functions, no I/O. The rule is the product's core promise:

* The failure analysis is complete once at least ``ANALYSIS_TARGET`` failures are analysed.
* A complete analysis where more than half the failures are unclear is inconclusive, and the
  verdict is ``not_ready`` no matter what else holds.
* Fine-tuning needs all three conditions: fails with perfect context, behavioral failures proven,
  and a team that can own it. Then it's ``hybrid`` when knowledge also matters (problem type
  ``both``, or knowledge changing monthly or faster), otherwise ``fine_tuning``.
* Everything else is ``rag``. A missing answer is unknown, which counts as "doesn't hold".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from bot.domain import wording
from bot.domain.cost_assumptions import Range
from bot.domain.questions import (
    ANALYSIS_TARGET,
    MIN_LABELED_EXAMPLES,
    REQUIRED_OWNER_ROLES,
    VERDICT_LABELS,
    KnowledgeChange,
    OwnerRole,
    ProblemType,
    QuestionKey,
    Verdict,
)


@dataclass(frozen=True)
class FailureCounts:
    knowledge: int = 0
    behavior: int = 0
    unclear: int = 0

    @property
    def analysed(self) -> int:
        return self.knowledge + self.behavior + self.unclear


@dataclass(frozen=True)
class Answers:
    title: str | None = None
    problem_type: ProblemType | None = None
    knowledge_change: KnowledgeChange | None = None
    prompt_engineering_tried: bool | None = None
    failures: FailureCounts = FailureCounts()
    owners: Mapping[OwnerRole, str | None] = field(default_factory=dict)
    labeled_examples: int | None = None
    cost_overrides: Mapping[str, Range] = field(default_factory=dict)
    """Cost assumptions to use instead of the defaults (``cost_assumptions.OVERRIDE_KEYS``)."""

    def __post_init__(self) -> None:
        # Accept plain strings (e.g. from storage) for the enum answers.
        if self.problem_type is not None:
            object.__setattr__(self, "problem_type", ProblemType(self.problem_type))
        if self.knowledge_change is not None:
            object.__setattr__(self, "knowledge_change", KnowledgeChange(self.knowledge_change))


class Condition(StrEnum):
    FAILS_WITH_PERFECT_CONTEXT = "fails_with_perfect_context"
    BEHAVIORAL_FAILURES_PROVEN = "behavioral_failures_proven"
    TEAM_CAN_OWN_FINE_TUNING = "team_can_own_fine_tuning"


CONDITION_LABELS: dict[Condition, str] = {
    Condition.FAILS_WITH_PERFECT_CONTEXT: "Fails even with perfect context",
    Condition.BEHAVIORAL_FAILURES_PROVEN: "Behavioral failures proven",
    Condition.TEAM_CAN_OWN_FINE_TUNING: "Team can own fine-tuning",
}


@dataclass(frozen=True)
class ConditionResult:
    condition: Condition
    holds: bool
    """What the rule uses; an unknown condition never holds."""
    known: bool
    """False when the answers behind it are missing or incomplete (shown as "?")."""
    why: str


@dataclass(frozen=True)
class Reason:
    text: str
    answer: QuestionKey


@dataclass(frozen=True)
class Recommendation:
    verdict: Verdict
    conditions: tuple[ConditionResult, ...]
    reasons: tuple[Reason, ...]
    next_steps: tuple[str, ...]
    analysis_complete: bool
    inconclusive: bool
    failures: FailureCounts = FailureCounts()

    def condition(self, c: Condition) -> ConditionResult:
        for result in self.conditions:
            if result.condition == c:
                return result
        raise KeyError(c)

    def to_dict(self) -> dict[str, Any]:
        f = self.failures
        return {
            "verdict": self.verdict.value,
            "verdict_label": VERDICT_LABELS[self.verdict],
            "conditions": {r.condition.value: r.holds for r in self.conditions},
            "condition_details": {
                r.condition.value: {"holds": r.holds, "known": r.known, "why": r.why}
                for r in self.conditions
            },
            "reasons": [r.text for r in self.reasons],
            "reason_details": [{"text": r.text, "answer": r.answer.value} for r in self.reasons],
            "next_steps": list(self.next_steps),
            "analysis": {
                "analysed": f.analysed,
                "knowledge": f.knowledge,
                "behavior": f.behavior,
                "unclear": f.unclear,
                "complete": self.analysis_complete,
                "inconclusive": self.inconclusive,
                "needed": max(0, ANALYSIS_TARGET - f.analysed),
            },
        }


# --- Rule ----------------------------------------------------------------------------------


def _owner_named(owners: Mapping[OwnerRole, str | None], role: OwnerRole) -> bool:
    owner = owners.get(role)
    return isinstance(owner, str) and bool(owner.strip())


def _missing_roles(answers: Answers) -> list[OwnerRole]:
    return [r for r in REQUIRED_OWNER_ROLES if not _owner_named(answers.owners, r)]


def _fails_with_perfect_context(answers: Answers) -> ConditionResult:
    pt = answers.problem_type
    return ConditionResult(
        condition=Condition.FAILS_WITH_PERFECT_CONTEXT,
        holds=pt in wording.BEHAVIOR_TYPES,
        known=pt is not None and pt != ProblemType.UNTESTED,
        why=wording.WHY_PROBLEM_TYPE[pt],
    )


def _behavioral_failures_proven(
    f: FailureCounts, complete: bool, inconclusive: bool
) -> ConditionResult:
    if not complete:
        why = (
            f"only {f.analysed} of {ANALYSIS_TARGET} failures reviewed"
            if f.analysed
            else "no failures reviewed yet"
        )
    elif inconclusive:
        why = f"{f.unclear} of {f.analysed} failures unexplained"
    elif f.behavior == f.knowledge:
        why = f"behavior and knowledge tied at {f.behavior}"
    else:
        why = f"{f.behavior} behavior vs {f.knowledge} knowledge failures"
    return ConditionResult(
        condition=Condition.BEHAVIORAL_FAILURES_PROVEN,
        holds=complete and not inconclusive and f.behavior > f.knowledge,
        known=complete,
        why=why,
    )


def _team_can_own(answers: Answers) -> ConditionResult:
    missing = _missing_roles(answers)
    n = answers.labeled_examples
    any_owner = any(_owner_named(answers.owners, r) for r in OwnerRole)
    enough = n is not None and n >= MIN_LABELED_EXAMPLES
    gaps = []
    if missing:
        gaps.append("no owner for " + wording.join([wording.role_name(r) for r in missing]))
    if n is None:
        gaps.append("labeled examples not counted")
    elif not enough:
        gaps.append(f"{n:,} labeled examples (need {MIN_LABELED_EXAMPLES:,})")
    if n is None and not any_owner:
        why = "owners and labeled examples not answered"
    elif gaps:
        why = "; ".join(gaps)
    else:
        why = f"all roles owned, {n:,} labeled examples"
    return ConditionResult(
        condition=Condition.TEAM_CAN_OWN_FINE_TUNING,
        holds=not missing and enough,
        known=n is not None or any_owner,
        why=why,
    )


def _reasons(
    answers: Answers, verdict: Verdict, results: dict[Condition, ConditionResult]
) -> list[Reason]:
    f = answers.failures
    if verdict == Verdict.NOT_READY:
        return [Reason(wording.reason_not_ready(f), QuestionKey.FAILURES)]

    reasons = [Reason(wording.REASON_PROBLEM_TYPE[answers.problem_type], QuestionKey.PROBLEM_TYPE)]
    change = answers.knowledge_change
    if change is not None and (change in wording.HYBRID_CHANGE or verdict == Verdict.FINE_TUNING):
        reasons.append(Reason(wording.reason_change(change), QuestionKey.KNOWLEDGE_CHANGE))
    if results[Condition.BEHAVIORAL_FAILURES_PROVEN].known:
        reasons.append(Reason(wording.reason_split(f), QuestionKey.FAILURES))
    else:
        reasons.append(Reason(wording.reason_incomplete(f.analysed), QuestionKey.FAILURES))
    team = results[Condition.TEAM_CAN_OWN_FINE_TUNING]
    if team.holds:
        reasons.append(
            Reason(wording.reason_team_ready(answers.labeled_examples or 0), QuestionKey.OWNERS)
        )
    elif not team.known:
        reasons.append(Reason(wording.REASON_TEAM_UNKNOWN, QuestionKey.OWNERS))
    else:
        for role in _missing_roles(answers):
            reasons.append(Reason(wording.MISSING_OWNER_REASONS[role], QuestionKey.OWNERS))
        n = answers.labeled_examples
        if n is None or n < MIN_LABELED_EXAMPLES:
            reasons.append(Reason(wording.reason_examples(n), QuestionKey.OWNERS))
    return reasons


def _next_steps(
    answers: Answers, verdict: Verdict, results: dict[Condition, ConditionResult]
) -> list[str]:
    f = answers.failures
    if verdict == Verdict.NOT_READY:
        return wording.steps_not_ready(f)

    steps: list[str] = []
    if verdict == Verdict.RAG:
        steps.append(wording.STEP_SHIP_RAG)
    elif verdict == Verdict.HYBRID:
        steps.append(wording.STEP_HYBRID)

    pt = answers.problem_type
    if pt is None or pt == ProblemType.UNTESTED:
        steps.append(wording.STEP_PERFECT_CONTEXT)
    elif pt in wording.BEHAVIOR_TYPES and answers.prompt_engineering_tried is not True:
        steps.append(wording.STEP_PROMPT_ENGINEERING)
    if not results[Condition.BEHAVIORAL_FAILURES_PROVEN].known:
        steps.append(wording.step_collect_failures(ANALYSIS_TARGET - f.analysed))

    if verdict == Verdict.RAG:
        if (
            results[Condition.FAILS_WITH_PERFECT_CONTEXT].holds
            and not results[Condition.TEAM_CAN_OWN_FINE_TUNING].holds
        ):
            steps.append(wording.step_team_gaps(_missing_roles(answers), answers.labeled_examples))
        steps.append(wording.STEP_REVISIT)
    else:
        if answers.knowledge_change is None:
            steps.append(wording.STEP_KNOWLEDGE_CHANGE)
        steps += [
            wording.STEP_LABELED_DATA,
            wording.STEP_EVAL_HARNESS,
            wording.STEP_ROLLBACK,
            wording.STEP_ERROR_ANALYSIS,
        ]
    return steps


def recommend(answers: Answers) -> Recommendation:
    f = answers.failures
    complete = f.analysed >= ANALYSIS_TARGET
    inconclusive = complete and 2 * f.unclear > f.analysed
    results = {
        r.condition: r
        for r in (
            _fails_with_perfect_context(answers),
            _behavioral_failures_proven(f, complete, inconclusive),
            _team_can_own(answers),
        )
    }

    if inconclusive:
        verdict = Verdict.NOT_READY
    elif all(r.holds for r in results.values()):
        hybrid = (
            answers.problem_type == ProblemType.BOTH
            or answers.knowledge_change in wording.HYBRID_CHANGE
        )
        verdict = Verdict.HYBRID if hybrid else Verdict.FINE_TUNING
    else:
        verdict = Verdict.RAG

    return Recommendation(
        verdict=verdict,
        conditions=tuple(results[c] for c in Condition),
        reasons=tuple(_reasons(answers, verdict, results)),
        next_steps=tuple(_next_steps(answers, verdict, results)),
        analysis_complete=complete,
        inconclusive=inconclusive,
        failures=f,
    )
