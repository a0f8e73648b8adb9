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

from bot.domain.questions import (
    ANALYSIS_TARGET,
    MIN_LABELED_EXAMPLES,
    OWNER_ROLE_LABELS,
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


# --- Wording -------------------------------------------------------------------------------
# Every sentence the engine produces lives here, so product can edit it in one place.

FAST_CHANGE = (KnowledgeChange.DAILY, KnowledgeChange.WEEKLY)
HYBRID_CHANGE = (KnowledgeChange.DAILY, KnowledgeChange.WEEKLY, KnowledgeChange.MONTHLY)
BEHAVIOR_TYPES = (ProblemType.BEHAVIOR, ProblemType.BOTH)

WHY_PROBLEM_TYPE: dict[ProblemType | None, str] = {
    None: "perfect-context test not answered",
    ProblemType.UNTESTED: "perfect-context test not run yet",
    ProblemType.KNOWLEDGE: "right once it has the information",
    ProblemType.BEHAVIOR: "still wrong with perfect context",
    ProblemType.BOTH: "some failures persist with perfect context",
}

REASON_PROBLEM_TYPE: dict[ProblemType | None, str] = {
    None: (
        "The perfect-context test hasn't been answered, so there's no evidence yet that "
        "the model fails for reasons retrieval can't fix."
    ),
    ProblemType.UNTESTED: (
        "The perfect-context test hasn't been run, so there's no evidence yet that the model "
        "fails for reasons retrieval can't fix."
    ),
    ProblemType.KNOWLEDGE: (
        "Knowledge problem: the model gets it right once it has the information, "
        "so retrieval fixes it."
    ),
    ProblemType.BEHAVIOR: (
        "Behavior problem: the model is still wrong with perfect context, "
        "so retrieval alone won't fix it."
    ),
    ProblemType.BOTH: (
        "Some failures persist even with perfect context (behavior) and others are missing "
        "knowledge, so you need both levers."
    ),
}

MISSING_OWNER_REASONS: dict[OwnerRole, str] = {
    OwnerRole.TRAINING_DATA: (
        "No one owns the training-data pipeline; fine-tuning needs thousands of labeled "
        "examples collected, cleaned and kept current."
    ),
    OwnerRole.EVALUATION: (
        "No one owns evaluation; without it you can't tell whether a fine-tuned model is "
        "better or worse than the one it replaces."
    ),
    OwnerRole.DEPLOYMENT_ROLLBACK: (
        "No one owns deployment and rollback; fine-tuning needs an owner for every model "
        "version you ship."
    ),
}

STEP_PERFECT_CONTEXT = (
    "Run the perfect-context test: paste the facts the model needs straight into the prompt "
    "and check whether it gets the answer right."
)
STEP_PROMPT_ENGINEERING = (
    "Behavior problem: try prompt engineering first (clearer instructions, examples of the "
    "tone and format you want) before paying for fine-tuning."
)
STEP_KNOWLEDGE_CHANGE = (
    "Find out how often the knowledge the model needs changes; monthly or faster means keeping "
    "it in retrieval."
)
STEP_SHIP_RAG = "Ship RAG. Log failures aggressively. Review them quarterly."
STEP_REVISIT = "Revisit fine-tuning when the data shows a behavioral gap."
STEP_ERROR_ANALYSIS = "Run error analysis quarterly to confirm the gap is still behavioral."
STEP_HYBRID = "Fine-tune for behavior, retrieve the changing knowledge."
STEP_LABELED_DATA = (
    f"Build the labeled dataset: at least {MIN_LABELED_EXAMPLES:,} high-quality examples of the "
    "behavior you want, aiming for thousands."
)
STEP_EVAL_HARNESS = (
    "Set up an evaluation harness before training: a held-out test set and the metrics that "
    "decide whether a new model version ships."
)
STEP_ROLLBACK = (
    "Write the rollback plan: how each model version is deployed, monitored and reverted."
)
STEP_ADD_LOGGING = (
    "If an output doesn't show why it failed, add logging: capture the prompt, the retrieved "
    "context and the model version for every failure."
)


def _role_name(role: OwnerRole) -> str:
    return OWNER_ROLE_LABELS[role].lower()


def _join(items: list[str], conjunction: str = "or") -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + f" {conjunction} " + items[-1]


def _step_collect_failures(needed: int) -> str:
    return (
        f"Collect at least {ANALYSIS_TARGET} failing outputs and explain each "
        f"({needed} more to go)."
    )


def _reason_change(change: KnowledgeChange) -> str:
    if change in FAST_CHANGE:
        return (
            f"The knowledge changes {change.value}: weekly-or-faster change means retrieval; "
            "a fine-tuned model would be stale within weeks."
        )
    if change == KnowledgeChange.MONTHLY:
        return (
            "The knowledge changes monthly: keep it in retrieval so a fine-tuned model "
            "doesn't go stale."
        )
    if change == KnowledgeChange.QUARTERLY:
        return "The knowledge changes only quarterly, so a fine-tuned model won't go stale fast."
    return "The knowledge is stable, so a fine-tuned model won't go stale."


def _reason_incomplete(analysed: int) -> str:
    if analysed == 0:
        return (
            "No failures reviewed yet; fine-tuning needs evidence of a behavioral gap from at "
            f"least {ANALYSIS_TARGET} reviewed failures."
        )
    return (
        f"Only {analysed} of {ANALYSIS_TARGET} failures reviewed; that's not enough evidence "
        "of a behavioral gap to justify fine-tuning."
    )


def _reason_split(f: FailureCounts) -> str:
    if f.behavior > f.knowledge:
        return (
            f"{f.behavior} of {f.analysed} failures are behavior (wrong tone, format or "
            f"reasoning) versus {f.knowledge} knowledge: the gap is behavioral."
        )
    if f.behavior == f.knowledge:
        return (
            f"Behavior and knowledge failures are tied at {f.behavior} each; fine-tuning only "
            "pays off when behavior failures outnumber knowledge ones."
        )
    return (
        f"{f.knowledge} of {f.analysed} failures are missing or outdated knowledge versus "
        f"{f.behavior} behavior: retrieval addresses the bigger share."
    )


def _reason_not_ready(f: FailureCounts) -> str:
    return (
        f"{f.unclear} of {f.analysed} failures can't be explained; until most of them can, "
        "any choice between RAG and fine-tuning is a guess."
    )


def _steps_not_ready(f: FailureCounts) -> list[str]:
    return [
        f"Re-read the {f.unclear} unexplained failures and write one sentence on why each "
        "failed: missing knowledge, or wrong behavior.",
        STEP_ADD_LOGGING,
        "Re-run this check once at least half of your failures are explained.",
    ]


def _reason_examples(n: int | None) -> str:
    if n is None:
        return (
            f"Labeled examples haven't been counted; fine-tuning needs at least "
            f"{MIN_LABELED_EXAMPLES:,}, realistically thousands."
        )
    return (
        f"Only {n:,} labeled examples; fine-tuning needs at least {MIN_LABELED_EXAMPLES:,}, "
        "realistically thousands."
    )


REASON_TEAM_UNKNOWN = (
    "No owners named and labeled examples not counted; fine-tuning needs owners for training "
    f"data, evaluation and deployment & rollback, plus at least {MIN_LABELED_EXAMPLES:,} "
    "labeled examples."
)


def _step_team_gaps(missing: list[OwnerRole], n: int | None) -> str:
    gaps = []
    if missing:
        gaps.append("name an owner for " + _join([_role_name(r) for r in missing], "and"))
    if n is None or n < MIN_LABELED_EXAMPLES:
        gaps.append(f"get to at least {MIN_LABELED_EXAMPLES:,} labeled examples")
    return "Before reconsidering fine-tuning: " + "; ".join(gaps) + "."


def _reason_team_ready(n: int) -> str:
    return (
        "Your team owns training data, evaluation and deployment & rollback, "
        f"and has {n:,} labeled examples."
    )


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
        holds=pt in BEHAVIOR_TYPES,
        known=pt is not None and pt != ProblemType.UNTESTED,
        why=WHY_PROBLEM_TYPE[pt],
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
        gaps.append("no owner for " + _join([_role_name(r) for r in missing]))
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
        return [Reason(_reason_not_ready(f), QuestionKey.FAILURES)]

    reasons = [Reason(REASON_PROBLEM_TYPE[answers.problem_type], QuestionKey.PROBLEM_TYPE)]
    change = answers.knowledge_change
    if change is not None and (change in HYBRID_CHANGE or verdict == Verdict.FINE_TUNING):
        reasons.append(Reason(_reason_change(change), QuestionKey.KNOWLEDGE_CHANGE))
    if results[Condition.BEHAVIORAL_FAILURES_PROVEN].known:
        reasons.append(Reason(_reason_split(f), QuestionKey.FAILURES))
    else:
        reasons.append(Reason(_reason_incomplete(f.analysed), QuestionKey.FAILURES))
    team = results[Condition.TEAM_CAN_OWN_FINE_TUNING]
    if team.holds:
        reasons.append(
            Reason(_reason_team_ready(answers.labeled_examples or 0), QuestionKey.OWNERS)
        )
    elif not team.known:
        reasons.append(Reason(REASON_TEAM_UNKNOWN, QuestionKey.OWNERS))
    else:
        for role in _missing_roles(answers):
            reasons.append(Reason(MISSING_OWNER_REASONS[role], QuestionKey.OWNERS))
        n = answers.labeled_examples
        if n is None or n < MIN_LABELED_EXAMPLES:
            reasons.append(Reason(_reason_examples(n), QuestionKey.OWNERS))
    return reasons


def _next_steps(
    answers: Answers, verdict: Verdict, results: dict[Condition, ConditionResult]
) -> list[str]:
    f = answers.failures
    if verdict == Verdict.NOT_READY:
        return _steps_not_ready(f)

    steps: list[str] = []
    if verdict == Verdict.RAG:
        steps.append(STEP_SHIP_RAG)
    elif verdict == Verdict.HYBRID:
        steps.append(STEP_HYBRID)

    pt = answers.problem_type
    if pt is None or pt == ProblemType.UNTESTED:
        steps.append(STEP_PERFECT_CONTEXT)
    elif pt in BEHAVIOR_TYPES and answers.prompt_engineering_tried is not True:
        steps.append(STEP_PROMPT_ENGINEERING)
    if not results[Condition.BEHAVIORAL_FAILURES_PROVEN].known:
        steps.append(_step_collect_failures(ANALYSIS_TARGET - f.analysed))

    if verdict == Verdict.RAG:
        if (
            results[Condition.FAILS_WITH_PERFECT_CONTEXT].holds
            and not results[Condition.TEAM_CAN_OWN_FINE_TUNING].holds
        ):
            steps.append(_step_team_gaps(_missing_roles(answers), answers.labeled_examples))
        steps.append(STEP_REVISIT)
    else:
        if answers.knowledge_change is None:
            steps.append(STEP_KNOWLEDGE_CHANGE)
        steps += [STEP_LABELED_DATA, STEP_EVAL_HARNESS, STEP_ROLLBACK, STEP_ERROR_ANALYSIS]
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
            answers.problem_type == ProblemType.BOTH or answers.knowledge_change in HYBRID_CHANGE
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
