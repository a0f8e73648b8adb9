"""The rule's wording: every sentence the engine produces, so product can edit it in one place."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.domain.questions import (
    ANALYSIS_TARGET,
    MIN_LABELED_EXAMPLES,
    OWNER_ROLE_LABELS,
    KnowledgeChange,
    OwnerRole,
    ProblemType,
)

if TYPE_CHECKING:
    from bot.domain.rule import FailureCounts

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


def role_name(role: OwnerRole) -> str:
    return OWNER_ROLE_LABELS[role].lower()


def join(items: list[str], conjunction: str = "or") -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + f" {conjunction} " + items[-1]


def step_collect_failures(needed: int) -> str:
    return (
        f"Collect at least {ANALYSIS_TARGET} failing outputs and explain each "
        f"({needed} more to go)."
    )


def reason_change(change: KnowledgeChange) -> str:
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


def reason_incomplete(analysed: int) -> str:
    if analysed == 0:
        return (
            "No failures reviewed yet; fine-tuning needs evidence of a behavioral gap from at "
            f"least {ANALYSIS_TARGET} reviewed failures."
        )
    return (
        f"Only {analysed} of {ANALYSIS_TARGET} failures reviewed; that's not enough evidence "
        "of a behavioral gap to justify fine-tuning."
    )


def reason_split(f: FailureCounts) -> str:
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


def reason_not_ready(f: FailureCounts) -> str:
    return (
        f"{f.unclear} of {f.analysed} failures can't be explained; until most of them can, "
        "any choice between RAG and fine-tuning is a guess."
    )


def steps_not_ready(f: FailureCounts) -> list[str]:
    return [
        f"Re-read the {f.unclear} unexplained failures and write one sentence on why each "
        "failed: missing knowledge, or wrong behavior.",
        STEP_ADD_LOGGING,
        "Re-run this check once at least half of your failures are explained.",
    ]


def reason_examples(n: int | None) -> str:
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


def step_team_gaps(missing: list[OwnerRole], n: int | None) -> str:
    gaps = []
    if missing:
        gaps.append("name an owner for " + join([role_name(r) for r in missing], "and"))
    if n is None or n < MIN_LABELED_EXAMPLES:
        gaps.append(f"get to at least {MIN_LABELED_EXAMPLES:,} labeled examples")
    return "Before reconsidering fine-tuning: " + "; ".join(gaps) + "."


def reason_team_ready(n: int) -> str:
    return (
        "Your team owns training data, evaluation and deployment & rollback, "
        f"and has {n:,} labeled examples."
    )
