"""The verdict message posted when a decision is made: the team's outcome leads, then the rule's
verdict and what it was made on (all as at the decision)."""

from __future__ import annotations

from bot.domain.lifecycle import DecisionStatus
from bot.domain.outcome import outcome_headline, outcome_label, outcome_phrase
from bot.domain.questions import VERDICT_LABELS, Verdict
from bot.services.state import DecisionState
from handlers.ui.blocks import (
    BlockDict,
    Message,
    actions,
    button,
    condition_line,
    divider,
    header,
    render,
    section,
)
from handlers.ui.cost_modal import cost_summary
from handlers.ui.ids import ActionId, BlockId, action_id
from handlers.ui.mrkdwn import HEADER, fit, mention, safe, slack_date
from handlers.ui.record_lines import amendment_lines


def verdict_message(state: DecisionState) -> Message:
    decision = state.decision
    rec = state.recommendation
    verdict = Verdict(decision.verdict or rec.verdict)
    outcome = state.outcome or verdict
    reasons = "\n".join(f"• {safe(r.text, 400)}" for r in rec.reasons) or "• No answers yet."
    steps = "\n".join(f"{i}. {safe(s, 400)}" for i, s in enumerate(rec.next_steps, 1))
    when = f" on {slack_date(decision.decided_at)}" if decision.decided_at else ""
    blocks: list[BlockDict] = [
        header(fit(outcome_headline(outcome, verdict), HEADER)),
        section(
            f"Decision #{state.id}, *{safe(decision.title, 200)}*, decided by "
            f"{mention(decision.decided_by)}{when}."
        ),
        section(f"*The rule's verdict:* {VERDICT_LABELS[verdict]}"),
        section("\n".join(condition_line(c) for c in rec.conditions)),
        section(f"*Why*\n{reasons}"),
        section(f"*Next steps*\n{steps}"),
        cost_summary(state),
        divider(),
    ]
    history = [section(line) for line in amendment_lines(state)[-10:]]
    if decision.final_choice is None and decision.status != DecisionStatus.DECIDED:
        blocks.extend(history)
        blocks.append(
            section(
                f"Decision #{state.id} was {decision.status} before the verdict was accepted; "
                "its record is kept as it was."
            )
        )
    elif decision.final_choice is None:
        blocks.extend(history)  # costs amendments only: the outcome isn't chosen yet
        blocks.append(
            section(
                f"{mention(decision.facilitator_id)}, accept the verdict or record a "
                "different choice with your reason. The record keeps both."
            )
        )
        blocks.append(
            actions(
                BlockId.VERDICT,
                [
                    button("Accept verdict", action_id(ActionId.ACCEPT), str(state.id), "primary"),
                    button(
                        "Record a different choice", action_id(ActionId.OVERRIDE), str(state.id)
                    ),
                ],
            )
        )
    else:
        if decision.final_choice == decision.verdict:
            blocks.append(section(f"✅ Accepted by {mention(decision.facilitator_id)}."))
        else:
            blocks.append(
                section(
                    f"📝 {mention(decision.facilitator_id)} chose "
                    f"*{outcome_label(decision.final_choice)}* instead: "
                    f"_{safe(decision.final_choice_reason or '', 1500)}_"
                )
            )
        blocks.extend(history)
        if decision.status == DecisionStatus.DECIDED:
            blocks.append(
                actions(
                    BlockId.VERDICT,
                    [button("Change the outcome", action_id(ActionId.OVERRIDE), str(state.id))],
                )
            )
    reason = decision.final_choice_reason if decision.final_choice != verdict else None
    text = f"Decision for {safe(decision.title, 200)}: " + safe(
        outcome_phrase(outcome, verdict, reason), 1500
    )
    return render(text, blocks)
