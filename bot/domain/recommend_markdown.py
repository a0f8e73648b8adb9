"""Render a recommendation and its costs as a readable Markdown decision summary."""

from __future__ import annotations

from bot.domain.cost_table import costs_markdown
from bot.domain.costs import CostEstimate
from bot.domain.questions import (
    ANALYSIS_TARGET,
    KNOWLEDGE_CHANGE_OPTIONS,
    MIN_LABELED_EXAMPLES,
    OWNER_ROLE_LABELS,
    PROBLEM_TYPE_OPTIONS,
    VERDICT_LABELS,
    OwnerRole,
    Verdict,
)
from bot.domain.rule import CONDITION_LABELS, Answers, ConditionResult, Recommendation

UNTITLED = "Untitled decision"
NOBODY = "— nobody —"
NOT_ANSWERED = "not answered"
_OPTION_LABELS = {o.value: o.label for o in (*PROBLEM_TYPE_OPTIONS, *KNOWLEDGE_CHANGE_OPTIONS)}


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _mark(result: ConditionResult) -> str:
    if not result.known:
        return "?"
    return "✓" if result.holds else "✗"


def _answer_label(value: str | None) -> str:
    return NOT_ANSWERED if value is None else _OPTION_LABELS.get(value, value)


def _yes_no(value: bool | None) -> str:
    return NOT_ANSWERED if value is None else ("yes" if value else "no")


def _answers_section(answers: Answers) -> list[str]:
    return [
        "## Answers",
        "",
        f"- Perfect-context test: {_answer_label(answers.problem_type)}",
        f"- Knowledge changes: {_answer_label(answers.knowledge_change)}",
        f"- Prompt engineering tried: {_yes_no(answers.prompt_engineering_tried)}",
    ]


def _conditions_section(rec: Recommendation) -> list[str]:
    lines = ["## Conditions for fine-tuning", ""]
    for r in rec.conditions:
        lines.append(f"- {_mark(r)} **{CONDITION_LABELS[r.condition]}** — {r.why}")
    return lines


def _list_section(title: str, items: tuple[str, ...], numbered: bool = False) -> list[str]:
    if not items:
        return []
    bullets = [f"{i}. {item}" if numbered else f"- {item}" for i, item in enumerate(items, 1)]
    return [f"## {title}", "", *bullets]


def _failures_section(answers: Answers, rec: Recommendation) -> list[str]:
    f = answers.failures
    if rec.inconclusive:
        status = "inconclusive: more than half can't be explained"
    elif rec.analysis_complete:
        status = "complete"
    else:
        status = f"incomplete: {ANALYSIS_TARGET - f.analysed} more needed"
    return [
        "## Failure analysis",
        "",
        f"{f.analysed} failures reviewed, target {ANALYSIS_TARGET} ({status}).",
        "",
        "| Knowledge | Behavior | Unclear |",
        "|---:|---:|---:|",
        f"| {f.knowledge} | {f.behavior} | {f.unclear} |",
    ]


def _owners_section(answers: Answers) -> list[str]:
    lines = ["## Owners", ""]
    for role in OwnerRole:
        owner = answers.owners.get(role)
        name = owner.strip() if isinstance(owner, str) and owner.strip() else NOBODY
        lines.append(f"- {OWNER_ROLE_LABELS[role]}: {name}")
    n = answers.labeled_examples
    count = "not counted" if n is None else f"{n:,}"
    lines.append(f"- Labeled examples: {count} (need {MIN_LABELED_EXAMPLES:,})")
    return lines


def render_markdown(answers: Answers, recommendation: Recommendation, costs: CostEstimate) -> str:
    rec = recommendation
    title = _one_line(answers.title or "") or UNTITLED
    sections = [
        [f"# {title}", "", f"**Recommendation: {VERDICT_LABELS[Verdict(rec.verdict)]}**"],
        _answers_section(answers),
        _conditions_section(rec),
        _list_section("Why", tuple(r.text for r in rec.reasons)),
        _list_section("Next steps", rec.next_steps, numbered=True),
        _failures_section(answers, rec),
        _owners_section(answers),
        costs_markdown(costs),
    ]
    return "\n\n".join("\n".join(s) for s in sections if s) + "\n"
