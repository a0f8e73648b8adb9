"""The decision record as Markdown, for ``/ragft export``."""

from __future__ import annotations

from collections.abc import Iterable

from bot.domain.questions import (
    OWNER_ROLE_LABELS,
    QUESTIONS,
    QUESTIONS_BY_KEY,
    REQUIRED_OWNER_ROLES,
    VERDICT_LABELS,
    QuestionKey,
    Verdict,
)
from bot.domain.rule import CONDITION_LABELS
from bot.services.state import LABELED_EXAMPLES, DecisionState
from storage.models import Answer

_CHOICE_LABELS = {
    "problem_type": {o.value: o.label for o in QUESTIONS_BY_KEY[QuestionKey.PROBLEM_TYPE].options},
    "knowledge_change": {
        o.value: o.label for o in QUESTIONS_BY_KEY[QuestionKey.KNOWLEDGE_CHANGE].options
    },
    "prompt_engineering_tried": {"yes": "Yes", "no": "Not yet"},
}


def _date(moment) -> str:
    return moment.strftime("%Y-%m-%d") if moment else "—"


def _user(user_id: str | None) -> str:
    return f"<@{user_id}>" if user_id else "— nobody —"


def _choice_section(state: DecisionState, key: str) -> list[str]:
    labels = _CHOICE_LABELS[key]
    choice = state.choices[key]
    lines = []
    for value, users in choice.votes.items():
        lines.append(f"- {labels.get(value, value)}: {', '.join(_user(u) for u in users)}")
    if not lines:
        lines.append("- No answers.")
    if choice.value is not None:
        how = "settled by the facilitator" if choice.settled else "majority"
        lines.append(f"- **Team answer:** {labels[choice.value]} ({how})")
    elif choice.tie:
        lines.append("- **Team answer:** unresolved (split)")
    return lines


def render_record(state: DecisionState, answers: Iterable[Answer]) -> str:
    decision = state.decision
    rec = state.recommendation
    verdict = Verdict(decision.verdict) if decision.verdict else rec.verdict
    deciders = state.participants
    out = [
        f"# Decision record #{state.id}: {decision.title}",
        "",
        f"- **Status:** {decision.status}",
        f"- **Started:** {_date(decision.created_at)} by {_user(decision.facilitator_id)}",
        f"- **Decided:** {_date(decision.decided_at)}"
        + (f" by {_user(decision.decided_by)}" if decision.decided_by else ""),
        f"- **Deciders:** {', '.join(_user(u) for u in deciders)}",
        "",
    ]
    for question in QUESTIONS:
        out += [f"## Q{question.number}. {question.title}", "", f"_{question.prompt}_", ""]
        if question.key == QuestionKey.PROBLEM_TYPE:
            out += _choice_section(state, "problem_type")
            out += [
                "",
                "Tried prompt engineering:",
                *_choice_section(state, "prompt_engineering_tried"),
            ]
        elif question.key == QuestionKey.KNOWLEDGE_CHANGE:
            out += _choice_section(state, "knowledge_change")
        elif question.key == QuestionKey.FAILURES:
            f = state.failures
            out += [
                "| Knowledge | Behavior | Unclear | Total |",
                "|---:|---:|---:|---:|",
                f"| {f.knowledge} | {f.behavior} | {f.unclear} | {f.analysed} |",
            ]
        else:
            for role, label in OWNER_ROLE_LABELS.items():
                gap = (
                    " (gap)" if role in REQUIRED_OWNER_ROLES and not state.owners.get(role) else ""
                )
                out.append(f"- {label}: {_user(state.owners.get(role))}{gap}")
            by = [a for a in answers if a.question == LABELED_EXAMPLES]
            count = (
                f"{state.labeled_examples:,}" if state.labeled_examples is not None else "unknown"
            )
            source = f" (from {_user(by[-1].user_id)})" if by else ""
            out.append(f"- Labeled examples: {count}{source}")
        out.append("")
    out += [f"## Verdict: {VERDICT_LABELS[verdict]}", ""]
    for condition in rec.conditions:
        mark = "✓" if condition.holds else ("✗" if condition.known else "?")
        out.append(f"- {mark} {CONDITION_LABELS[condition.condition]}: {condition.why}")
    out += ["", "### Reasons", ""] + [f"- {r.text}" for r in rec.reasons]
    out += ["", "### Next steps", ""] + [f"{i}. {s}" for i, s in enumerate(rec.next_steps, 1)]
    if decision.final_choice and decision.final_choice != decision.verdict:
        out += [
            "",
            f"### The team chose: {VERDICT_LABELS[Verdict(decision.final_choice)]}",
            "",
            decision.final_choice_reason or "",
        ]
    elif decision.final_choice:
        out += ["", "The facilitator accepted the verdict."]
    if decision.context_summary:
        out += ["", "## Context", "", decision.context_summary]
    out += ["", "## First-year cost", "", "| Approach | First year |", "|---|---:|"]
    out += [f"| {name} | {amount} |" for name, amount in state.costs.as_table_rows()]
    out += ["", f"**Next review:** {_date(decision.next_review_at)}", ""]
    return "\n".join(out)
