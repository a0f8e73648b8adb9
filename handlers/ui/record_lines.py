"""Lines every message about a decided decision shares: the team's outcome leading the rule's
verdict, the amendments of the record (its outcome or its costs), and what happened since the
decision (labelled so)."""

from __future__ import annotations

from bot.domain.decision_snapshot import Amendment, AmendmentKind
from bot.domain.outcome import outcome_label, outcome_phrase
from bot.services.state import DecisionState
from handlers.ui.mrkdwn import mention, safe, slack_date


def outcome_text(state: DecisionState, reason_limit: int = 500) -> str | None:
    """``*Hybrid* (the rule said Start with RAG: <reason>)`` in mrkdwn; None while open."""
    outcome = state.outcome
    if not outcome:
        return None
    d = state.decision
    reason = safe(d.final_choice_reason, reason_limit) if d.final_choice_reason else None
    phrase = outcome_phrase(outcome, d.verdict, reason)
    label = outcome_label(outcome)
    return f"*{label}*{phrase[len(label) :]}"


def amendment_lines(state: DecisionState) -> list[str]:
    return [_amendment_line(a) for a in state.amendments]


def _amendment_line(a: Amendment) -> str:
    who = f"by {mention(a.amended_by)} on {slack_date(a.amended_at)}"
    if a.kind == AmendmentKind.COSTS:
        return f"💲 *Costs amended* {who}: {safe(a.reason, 1500)}."
    return (
        f"✏️ *Amended* {who}: "
        f"{outcome_label(a.from_outcome)} → *{outcome_label(a.to_outcome)}*. "
        f"_{safe(a.reason, 500)}_"
    )


def since_line(state: DecisionState) -> str | None:
    """``*Since the decision:* 3 more failures logged …``; None without a frozen record."""
    f = state.since_decision
    if f is None:
        return None
    if not f.analysed:
        return "*Since the decision:* no failures logged yet."
    return (
        f"*Since the decision:* {f.analysed} more failures logged "
        f"(knowledge {f.knowledge} · behavior {f.behavior} · unclear {f.unclear})."
    )
