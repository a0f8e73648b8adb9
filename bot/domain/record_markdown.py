"""The decision record as Markdown, for ``/ragft export``. Pure: it renders ``RecordFacts``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.domain.costs import CostEstimate
from bot.domain.decision_snapshot import Amendment, AmendmentKind
from bot.domain.failure_modes import ModeCount
from bot.domain.markdown_escape import escape_block, escape_inline
from bot.domain.outcome import outcome_headline, outcome_label
from bot.domain.questions import (
    ANSWER_LABELS,
    ANSWER_MESSAGE,
    CHOICE_LABELS,
    OWNER_ROLE_LABELS,
    QUESTIONS,
    REQUIRED_OWNER_ROLES,
    VERDICT_LABELS,
    AnswerKey,
    OwnerRole,
    QuestionKey,
    Verdict,
)
from bot.domain.rule import CONDITION_LABELS, FailureCounts, Recommendation
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


def _date(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d") if moment else "—"


def _user(user_id: str | None) -> str:
    return f"<@{user_id}>" if user_id else "— nobody —"


def _choice_section(state: RecordFacts, key: AnswerKey) -> list[str]:
    labels = CHOICE_LABELS[key]
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


def _failure_modes_section(modes: Sequence[ModeCount]) -> list[str]:
    if not modes:
        return []
    out = [
        "",
        "## Failure modes found",
        "",
        "| Failure mode | Category | Failures |",
        "|---|---|---:|",
    ]
    for mode in modes:
        label = " ".join(mode.label.split()).replace("|", "\\|").replace("<", "&lt;")
        out.append(f"| {label} | {mode.category.capitalize()} | {mode.count} |")
    return out


def render_record(state: RecordFacts) -> str:
    decision = state
    rec = state.recommendation
    verdict = Verdict(decision.verdict) if decision.verdict else rec.verdict
    deciders = state.participants
    out = [
        f"# Decision record #{state.id}: {escape_inline(decision.title)}",
        "",
        f"- **Status:** {decision.status}",
        f"- **Started:** {_date(decision.created_at)} by {_user(decision.facilitator_id)}",
        f"- **Decided:** {_date(decision.decided_at)}"
        + (f" by {_user(decision.decided_by)}" if decision.decided_by else ""),
        f"- **Deciders:** {', '.join(_user(u) for u in deciders)}",
    ]
    if state.outcome:
        out.append(f"- **{outcome_headline(state.outcome, decision.verdict)}**")
    out.append("")
    for question in QUESTIONS:
        out += [f"## Q{question.number}. {question.title}", "", f"_{question.prompt}_", ""]
        choices = [key for key in CHOICE_LABELS if ANSWER_MESSAGE[key] == question.key]
        for n, key in enumerate(choices):
            out += ["", f"{ANSWER_LABELS[key]}:"] if n else []
            out += _choice_section(state, key)
        if question.key == QuestionKey.FAILURES:
            f = state.failures
            out += [
                "| Knowledge | Behavior | Unclear | Total |",
                "|---:|---:|---:|---:|",
                f"| {f.knowledge} | {f.behavior} | {f.unclear} | {f.analysed} |",
            ]
        elif question.key == QuestionKey.OWNERS:
            for role, label in OWNER_ROLE_LABELS.items():
                gap = (
                    " (gap)" if role in REQUIRED_OWNER_ROLES and not state.owners.get(role) else ""
                )
                out.append(f"- {label}: {_user(state.owners.get(role))}{gap}")
            count = (
                f"{state.labeled_examples:,}" if state.labeled_examples is not None else "unknown"
            )
            by = state.labeled_examples_by
            source = f" (from {_user(by)})" if by else ""
            out.append(f"- Labeled examples: {count}{source}")
        out.append("")
    out += _outcome_section(state)
    out += [f"## Verdict: {VERDICT_LABELS[verdict]}", ""]
    for condition in rec.conditions:
        mark = "✓" if condition.holds else ("✗" if condition.known else "?")
        out.append(f"- {mark} {CONDITION_LABELS[condition.condition]}: {condition.why}")
    out += ["", "### Reasons", ""] + [f"- {r.text}" for r in rec.reasons]
    out += ["", "### Next steps", ""] + [f"{i}. {s}" for i, s in enumerate(rec.next_steps, 1)]
    if decision.context_summary:
        out += ["", "## Context", "", escape_block(decision.context_summary)]
    out += _failure_modes_section(state.failure_modes)
    out += ["", "## First-year cost", "", "| Approach | First year |", "|---|---:|"]
    out += [f"| {name} | {amount} |" for name, amount in state.costs.as_table_rows()]
    out += _since_section(state)
    out += ["", f"**Next review:** {_date(decision.next_review_at)}", ""]
    return "\n".join(out)


def _outcome_section(state: RecordFacts) -> list[str]:
    """The team's outcome, leading the rule's verdict, and the record's amendments."""
    if not state.outcome:
        return []
    out = [f"## Decision: {outcome_label(state.outcome)}", ""]
    if state.verdict and state.outcome != state.verdict:
        out.append(
            f"The team chose {outcome_label(state.outcome)}; the rule said "
            f"{VERDICT_LABELS[Verdict(state.verdict)]}."
        )
        if state.final_choice_reason:
            out += ["", f"**Why:** {escape_block(state.final_choice_reason)}"]
    elif state.final_choice:
        out.append("The facilitator accepted the rule's verdict.")
    else:
        out.append("The rule's verdict, not yet accepted by the facilitator.")
    if state.amendments:
        out += ["", "### Amendments", ""]
        out += [_amendment_line(a) for a in state.amendments]
    out.append("")
    return out


def _amendment_line(a: Amendment) -> str:
    if a.kind == AmendmentKind.COSTS:
        return (
            f"- Costs amended by {_user(a.amended_by)} on {_date(a.amended_at)}: "
            f"{escape_inline(a.reason)}."
        )
    return (
        f"- {_date(a.amended_at)} by {_user(a.amended_by)}: "
        f"{outcome_label(a.from_outcome)} → {outcome_label(a.to_outcome)}. "
        f"Why: {escape_inline(a.reason)}"
    )


def _since_section(state: RecordFacts) -> list[str]:
    f = state.since_decision
    if f is None:
        return []
    return [
        "",
        "## Since the decision",
        "",
        "This record shows the decision as it was made. Since then:",
        "",
        f"- {f.analysed} more failures logged: {f.knowledge} knowledge, {f.behavior} behavior, "
        f"{f.unclear} unclear.",
    ]
