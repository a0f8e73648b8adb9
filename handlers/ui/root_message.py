"""The root status message of a decision thread."""

from __future__ import annotations

from bot.domain.lifecycle import DecisionStatus
from bot.domain.questions import QUESTIONS, VERDICT_LABELS
from bot.services.state import DecisionState
from handlers.ui.blocks import (
    BlockDict,
    Message,
    button,
    condition_line,
    context,
    header,
    render,
    section,
)
from handlers.ui.ids import ActionId, action_id
from handlers.ui.mrkdwn import HEADER, fit, mention, safe, slack_date
from handlers.ui.question_messages import QUESTION_PROGRESS
from handlers.ui.record_lines import amendment_lines, outcome_text, since_line


def _progress(state: DecisionState) -> str:
    parts = []
    for question in QUESTIONS:
        done, label = QUESTION_PROGRESS[question.key](state)
        parts.append(f"{'✅' if done else '⬜'} Q{question.number} {label}")
    return "   ".join(parts)


def root_message(state: DecisionState) -> Message:
    decision = state.decision
    rec = state.recommendation
    blocks: list[BlockDict] = [
        header(fit(f"RAG or fine-tuning? {decision.title}", HEADER)),
        section(
            f"{mention(decision.facilitator_id)} is facilitating decision #{state.id}. "
            "Anyone in this channel can answer the four questions in the thread: ragft applies "
            "the rule, *start with RAG unless all three conditions below hold*."
        ),
        context(_progress(state)),
        section("\n".join(condition_line(c) for c in rec.conditions)),
    ]
    if decision.status == DecisionStatus.OPEN:
        blocks.append(
            section(
                f"*If you decided now:* {VERDICT_LABELS[rec.verdict]}",
                accessory=button(
                    "Decide", action_id(ActionId.DECIDE), str(state.id), style="primary"
                ),
            )
        )
        blocks.append(
            context("The facilitator or a workspace admin presses *Decide* when the team is ready.")
        )
    else:
        blocks.append(section(_decided_line(state)))
    return render(f"RAG or fine-tuning? {safe(decision.title, 200)}", blocks)


def _decided_line(state: DecisionState) -> str:
    """The outcome on record, as at the decision; what happened since is labelled so."""
    decision = state.decision
    line = f"*{str(decision.status).capitalize()}:* {outcome_text(state) or 'no outcome'}"
    if decision.decided_at:
        line += f"\nDecided by {mention(decision.decided_by)} on {slack_date(decision.decided_at)}"
    for amendment in amendment_lines(state)[-3:]:
        line += f"\n{amendment}"
    if decision.next_review_at:
        line += f"\n*Next review:* {slack_date(decision.next_review_at)}"
    if (since := since_line(state)) and state.since_decision and state.since_decision.analysed:
        line += f"\n{since}"
    return line
