"""Deciding, step by step: the ephemeral confirmation after *Decide*, the reply when the rule
says "not ready", and the follow-up reminder 14 days later."""

from __future__ import annotations

from datetime import datetime

from slack_sdk.models.blocks import ActionsBlock, Block

from bot.domain.outcome import FOLLOW_UP_DAYS, unanswered_line
from bot.domain.questions import QUESTIONS, VERDICT_LABELS, Verdict
from bot.services.deciding import fingerprint
from bot.services.state import DecisionState
from handlers.ui.blocks import Message, button, condition_line, render, section
from handlers.ui.ids import ActionId, action_id, pack
from handlers.ui.mrkdwn import mention, safe, slack_date
from handlers.ui.question_messages import QUESTION_PROGRESS, failure_tally

CHANGED_NOTE = (
    "⚠️ Not decided: answers or failures changed since that confirmation. Here is what the rule "
    "sees now."
)


def unanswered(state: DecisionState) -> list[int]:
    """The numbers of the questions not answered yet (as the root's progress shows them)."""
    return [q.number for q in QUESTIONS if not QUESTION_PROGRESS[q.key](state)[0]]


def confirm_message(state: DecisionState, *, changed: bool = False) -> Message:
    """``changed``: Confirm was pressed on an older confirmation, and what the rule sees has
    changed since; this one shows it now."""
    rec = state.recommendation
    lines = [f"*Decide #{state.id}, {safe(state.decision.title, 200)}?*"]
    if changed:
        lines.insert(0, CHANGED_NOTE)
    lines.append(f"The rule gives: *{VERDICT_LABELS[rec.verdict]}*")
    unmet = [c for c in rec.conditions if not c.holds]
    if unmet:
        lines.append("*Unmet conditions*\n" + "\n".join(condition_line(c) for c in unmet))
    if rec.verdict == Verdict.NOT_READY:
        lines.append(
            "The failures can't be explained yet, so this won't decide: the decision stays open "
            f"and I'll remind {mention(state.decision.facilitator_id)} in {FOLLOW_UP_DAYS} days."
        )
    question = unanswered_line(unanswered(state)) or "All four questions are answered. Decide?"
    lines.append(f"*{question}*")
    blocks: list[Block] = [
        section("\n\n".join(lines)),
        ActionsBlock(
            elements=[
                button(
                    "Confirm",
                    action_id(ActionId.CONFIRM_DECIDE),
                    pack(state.id, fingerprint(state)),
                    "primary",
                ),
                button("Cancel", action_id(ActionId.CANCEL_DECIDE), str(state.id)),
            ]
        ),
    ]
    return render(f"Decide #{state.id}? The rule gives {VERDICT_LABELS[rec.verdict]}.", blocks)


def _missing_work(state: DecisionState) -> str:
    steps = "\n".join(
        f"{i}. {safe(s, 400)}" for i, s in enumerate(state.recommendation.next_steps, 1)
    )
    return f"*What's missing*\n{steps}\n\n*Failures so far*\n{failure_tally(state)}"


def not_ready_message(state: DecisionState, follow_up_at: datetime) -> Message:
    """Posted in the thread when Decide meets "not ready": nothing is decided."""
    facilitator = mention(state.decision.facilitator_id)
    reasons = " ".join(safe(r.text, 400) for r in state.recommendation.reasons)
    blocks: list[Block] = [
        section(
            f"⏸️ *Not decided yet:* the rule says *{VERDICT_LABELS[Verdict.NOT_READY]}*. "
            f"{reasons} Decision #{state.id} stays open."
        ),
        section(_missing_work(state)),
        section(
            f"I'll remind {facilitator} on {slack_date(follow_up_at)}. Press *Decide* again once "
            "most failures are explained."
        ),
    ]
    return render(f"Not decided yet: decision #{state.id} is not ready", blocks)


def not_ready_follow_up(state: DecisionState) -> Message:
    """The follow-up for the facilitator, 14 days after Decide said "not ready"."""
    facilitator = mention(state.decision.facilitator_id)
    rec = state.recommendation
    if rec.verdict == Verdict.NOT_READY:
        now = f"The rule still says *{VERDICT_LABELS[Verdict.NOT_READY]}*."
        body = _missing_work(state)
    else:
        now = f"The rule now gives *{VERDICT_LABELS[rec.verdict]}*: you can decide."
        body = f"*Failures so far*\n{failure_tally(state)}"
    blocks: list[Block] = [
        section(
            f"⏰ {facilitator}, {FOLLOW_UP_DAYS} days ago decision #{state.id}, "
            f"*{safe(state.decision.title, 200)}*, wasn't ready to decide. {now}"
        ),
        section(body),
    ]
    return render(f"Decision #{state.id}: {FOLLOW_UP_DAYS} days since it wasn't ready", blocks)
