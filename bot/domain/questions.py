"""The four-question diagnostic: answer values and the framework's guidance text.

Pure data. Slack views, the CLI and the engine all read from here so the wording stays in one place.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from bot.domain.errors import UserError


class ProblemType(StrEnum):
    KNOWLEDGE = "knowledge"
    BEHAVIOR = "behavior"
    BOTH = "both"
    UNTESTED = "untested"


class KnowledgeChange(StrEnum):
    DAILY = "daily"
    WEEKLY = "weekly"
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    STABLE = "stable"


class FailureCategory(StrEnum):
    KNOWLEDGE = "knowledge"
    BEHAVIOR = "behavior"
    UNCLEAR = "unclear"


class CategorySource(StrEnum):
    HUMAN = "human"
    LLM = "llm"
    HEURISTIC = "heuristic"


class OwnerRole(StrEnum):
    TRAINING_DATA = "training_data"
    EVALUATION = "evaluation"
    DEPLOYMENT_ROLLBACK = "deployment_rollback"
    MAINTENANCE = "maintenance"


REQUIRED_OWNER_ROLES: tuple[OwnerRole, ...] = (
    OwnerRole.TRAINING_DATA,
    OwnerRole.EVALUATION,
    OwnerRole.DEPLOYMENT_ROLLBACK,
)

OWNER_ROLE_LABELS: dict[OwnerRole, str] = {
    OwnerRole.TRAINING_DATA: "Training-data pipeline",
    OwnerRole.EVALUATION: "Evaluation",
    OwnerRole.DEPLOYMENT_ROLLBACK: "Deployment & rollback",
    OwnerRole.MAINTENANCE: "Maintenance (optional)",
}


class Verdict(StrEnum):
    RAG = "rag"
    FINE_TUNING = "fine_tuning"
    HYBRID = "hybrid"
    NOT_READY = "not_ready"


VERDICT_LABELS: dict[Verdict, str] = {
    Verdict.RAG: "Start with RAG",
    Verdict.FINE_TUNING: "Fine-tune",
    Verdict.HYBRID: "Hybrid: fine-tune for behavior, retrieve knowledge",
    Verdict.NOT_READY: "Not ready: explain your failures first",
}


class QuestionKey(StrEnum):
    PROBLEM_TYPE = "problem_type"
    KNOWLEDGE_CHANGE = "knowledge_change"
    FAILURES = "failures"
    OWNERS = "owners"


@dataclass(frozen=True)
class Option:
    value: str
    label: str
    hint: str = ""


@dataclass(frozen=True)
class Question:
    key: QuestionKey
    number: int
    title: str
    prompt: str
    guidance: str
    options: tuple[Option, ...] = ()


PROBLEM_TYPE_OPTIONS = (
    Option(ProblemType.KNOWLEDGE, "Knowledge", "right once it has the information"),
    Option(ProblemType.BEHAVIOR, "Behavior", "still wrong with perfect context"),
    Option(ProblemType.BOTH, "Both", "some of each"),
    Option(ProblemType.UNTESTED, "Not tested yet", "we haven't run the test"),
)

KNOWLEDGE_CHANGE_OPTIONS = (
    Option(KnowledgeChange.DAILY, "Daily", "or faster"),
    Option(KnowledgeChange.WEEKLY, "Weekly"),
    Option(KnowledgeChange.MONTHLY, "Monthly"),
    Option(KnowledgeChange.QUARTERLY, "Quarterly"),
    Option(KnowledgeChange.STABLE, "Stable", "rarely changes"),
)

FAILURE_CATEGORY_LABELS: dict[FailureCategory, str] = {
    FailureCategory.KNOWLEDGE: "Knowledge",
    FailureCategory.BEHAVIOR: "Behavior",
    FailureCategory.UNCLEAR: "Unclear",
}

ANALYSIS_TARGET = 20
"""Failures that must be explained before the analysis counts as complete."""

MIN_LABELED_EXAMPLES = 1000
"""Labeled examples a team needs before it can realistically own fine-tuning."""

QUESTIONS: tuple[Question, ...] = (
    Question(
        key=QuestionKey.PROBLEM_TYPE,
        number=1,
        title="Knowledge problem or behavior problem?",
        prompt=(
            "Give the model the missing information in the prompt and ask your question. "
            "Does it get it right?"
        ),
        guidance=(
            "Run the perfect-context test: paste the facts it needs straight into the prompt. "
            "Right now? It's a knowledge problem, and retrieval fixes it. Still wrong? "
            "It's a behavior problem: fine-tuning may help, but try prompt engineering first."
        ),
        options=PROBLEM_TYPE_OPTIONS,
    ),
    Question(
        key=QuestionKey.KNOWLEDGE_CHANGE,
        number=2,
        title="How often does the knowledge change?",
        prompt="How often does the knowledge it needs change?",
        guidance=(
            "Weekly or faster means RAG. Fine-tuning on data that will be stale in a month "
            "is a maintenance trap."
        ),
        options=KNOWLEDGE_CHANGE_OPTIONS,
    ),
    Question(
        key=QuestionKey.FAILURES,
        number=3,
        title="Can you explain the failures?",
        prompt=(
            "Pull 20–30 outputs that aren't working. Read them, and describe in plain language "
            "why each one failed."
        ),
        guidance=(
            "\u201cDidn't know X\u201d or \u201coutdated\u201d points to retrieval. "
            "\u201cWrong tone or format\u201d points to behavior. "
            "If you can't say why, you're not ready to decide."
        ),
    ),
    Question(
        key=QuestionKey.OWNERS,
        number=4,
        title="What does your team realistically own?",
        prompt=(
            "Who owns the training-data pipeline, evaluation, and deployment & rollback? "
            "How many high-quality labeled examples do you have?"
        ),
        guidance=(
            "Fine-tuning needs thousands of labeled examples and someone accountable for every "
            "model version you ship. An empty role is a gap, not a detail."
        ),
    ),
)

QUESTIONS_BY_KEY: dict[QuestionKey, Question] = {q.key: q for q in QUESTIONS}


class AnswerKey(StrEnum):
    """What a teammate can answer; each answer belongs to one question's message."""

    PROBLEM_TYPE = "problem_type"
    PROMPT_ENGINEERING = "prompt_engineering_tried"
    KNOWLEDGE_CHANGE = "knowledge_change"
    LABELED_EXAMPLES = "labeled_examples"


class MessageKey(StrEnum):
    """The messages the bot keeps up to date for a decision (``Decision.message_ts`` keys)."""

    ROOT = "root"
    PROBLEM_TYPE = "problem_type"
    KNOWLEDGE_CHANGE = "knowledge_change"
    FAILURES = "failures"
    OWNERS = "owners"
    VERDICT = "verdict"


QUESTION_MESSAGES: tuple[MessageKey, ...] = tuple(MessageKey(q.key) for q in QUESTIONS)
"""The question messages, in thread order."""

CHOICE_OPTIONS: dict[AnswerKey, tuple[Option, ...]] = {
    AnswerKey.PROBLEM_TYPE: PROBLEM_TYPE_OPTIONS,
    AnswerKey.PROMPT_ENGINEERING: (Option("yes", "Yes"), Option("no", "Not yet")),
    AnswerKey.KNOWLEDGE_CHANGE: KNOWLEDGE_CHANGE_OPTIONS,
}
"""The multiple-choice answers: the team's answer is the settled one, else the majority."""

CHOICE_LABELS: dict[AnswerKey, dict[str, str]] = {
    key: {o.value: o.label for o in options} for key, options in CHOICE_OPTIONS.items()
}
SETTLEABLE: tuple[AnswerKey, ...] = (AnswerKey.PROBLEM_TYPE, AnswerKey.KNOWLEDGE_CHANGE)
"""Answers the facilitator can settle for the team."""

ANSWER_MESSAGE: dict[AnswerKey, MessageKey] = {
    AnswerKey.PROBLEM_TYPE: MessageKey.PROBLEM_TYPE,
    AnswerKey.PROMPT_ENGINEERING: MessageKey.PROBLEM_TYPE,
    AnswerKey.KNOWLEDGE_CHANGE: MessageKey.KNOWLEDGE_CHANGE,
    AnswerKey.LABELED_EXAMPLES: MessageKey.OWNERS,
}
"""Which question message shows each answer."""

ANSWER_LABELS: dict[AnswerKey, str] = {
    AnswerKey.PROBLEM_TYPE: "Knowledge or behavior",
    AnswerKey.PROMPT_ENGINEERING: "Tried prompt engineering",
    AnswerKey.KNOWLEDGE_CHANGE: "How often the knowledge changes",
    AnswerKey.LABELED_EXAMPLES: "High-quality labeled examples",
}

MAX_LABELED_EXAMPLES = 100_000_000


class InvalidAnswer(UserError):
    pass


def choice_answer(key: object, value: object) -> tuple[AnswerKey, str]:
    """A multiple-choice answer from a payload, checked against the registry."""
    try:
        answer = AnswerKey(key)
    except ValueError:
        raise InvalidAnswer(f"`{key}` isn't one of the questions.") from None
    if answer not in CHOICE_LABELS or value not in CHOICE_LABELS[answer]:
        raise InvalidAnswer(f"`{value}` isn't an answer to that question.")
    return answer, str(value)


def parse_count(raw: str | None) -> int:
    """A count typed by a person: plain digits (thousands separators allowed), non-negative, and
    below ``MAX_LABELED_EXAMPLES``. ``²`` or ``١٢`` are not numbers here."""
    text = (raw or "").replace(",", "").replace("_", "").strip()
    if not text.isascii() or not text.isdigit() or int(text) > MAX_LABELED_EXAMPLES:
        raise InvalidAnswer("Enter the number of labeled examples as a whole number, like 1200.")
    return int(text)
