"""The verdict message posted when a decision is made."""

from __future__ import annotations

from slack_sdk.models.blocks import ActionsBlock, Block, DividerBlock, HeaderBlock

from bot.domain.questions import VERDICT_LABELS, Verdict
from bot.services.state import DecisionState
from handlers.ui.blocks import Message, button, condition_line, render, section
from handlers.ui.cost_modal import cost_summary
from handlers.ui.ids import ActionId, BlockId, action_id
from handlers.ui.mrkdwn import HEADER, fit, mention, safe


def verdict_message(state: DecisionState) -> Message:
    decision = state.decision
    rec = state.recommendation
    verdict = Verdict(decision.verdict or rec.verdict)
    reasons = "\n".join(f"• {safe(r.text, 400)}" for r in rec.reasons) or "• No answers yet."
    steps = "\n".join(f"{i}. {safe(s, 400)}" for i, s in enumerate(rec.next_steps, 1))
    blocks: list[Block] = [
        HeaderBlock(text=fit(f"Verdict: {VERDICT_LABELS[verdict]}", HEADER)),
        section(
            f"Decision #{state.id}, *{safe(decision.title, 200)}*, decided by "
            f"{mention(decision.decided_by)}."
        ),
        section("\n".join(condition_line(c) for c in rec.conditions)),
        section(f"*Why*\n{reasons}"),
        section(f"*Next steps*\n{steps}"),
        cost_summary(state),
        DividerBlock(),
    ]
    if decision.final_choice is None:
        blocks.append(
            section(
                f"{mention(decision.facilitator_id)}, accept the verdict or record a "
                "different choice with your reason. The record keeps both."
            )
        )
        blocks.append(
            ActionsBlock(
                block_id=BlockId.VERDICT,
                elements=[
                    button("Accept verdict", action_id(ActionId.ACCEPT), str(state.id), "primary"),
                    button(
                        "Record a different choice", action_id(ActionId.OVERRIDE), str(state.id)
                    ),
                ],
            )
        )
    elif decision.final_choice == decision.verdict:
        blocks.append(section(f"✅ Accepted by {mention(decision.facilitator_id)}."))
    else:
        blocks.append(
            section(
                f"📝 {mention(decision.facilitator_id)} chose "
                f"*{VERDICT_LABELS[Verdict(decision.final_choice)]}* instead: "
                f"_{safe(decision.final_choice_reason or '', 1500)}_"
            )
        )
    return render(f"Verdict for {safe(decision.title, 200)}: {VERDICT_LABELS[verdict]}", blocks)
