"""Ephemeral replies to ``/ragft`` subcommands."""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.models.blocks import Block, DividerBlock, HeaderBlock

from bot.domain.questions import VERDICT_LABELS, Verdict
from bot.services.state import DecisionState
from handlers.ui.assistance_messages import usage_line
from handlers.ui.mrkdwn import mention, safe, slack_date
from handlers.ui.thread_messages import Message, context, failure_tally, render, section
from handlers.ui.thread_messages import _condition_line as condition_line
from storage.models import Decision

HELP = """*ragft* helps your team decide between RAG and fine-tuning, then keeps it honest.

*Start a decision*
`/ragft Support assistant for billing questions`: posts four questions in a thread.
Anyone here can answer.

*Other commands*
`/ragft list`: this channel's decisions, with status and next review
`/ragft status [id]`: where a decision stands (the latest in this channel by default)
`/ragft export [id]`: upload the decision record as Markdown to its thread
`/ragft log [id] <why it failed>`: log a failing output after the decision
`/ragft cadence [id] monthly|quarterly|half-yearly`: how often to review it
`/ragft help`: this message"""


def help_message(note: str | None = None) -> Message:
    blocks: list[Block] = []
    if note:
        blocks.append(section(note))
    blocks.append(section(HELP))
    return render("How to use ragft", blocks)


def _status_word(decision: Decision) -> str:
    if decision.verdict:
        return f"{decision.status}: {VERDICT_LABELS[Verdict(decision.verdict)]}"
    return str(decision.status)


def list_message(decisions: Sequence[Decision], channel_id: str) -> Message:
    if not decisions:
        return render(
            "No decisions yet",
            [section("No decisions in this channel yet. Start one with `/ragft <title>`.")],
        )
    blocks: list[Block] = [HeaderBlock(text="Decisions in this channel")]
    for decision in decisions[:40]:
        review = (
            f" · next review {slack_date(decision.next_review_at)}"
            if decision.next_review_at
            else ""
        )
        blocks.append(
            section(
                f"*#{decision.id} {safe(decision.title, 200)}*\n{_status_word(decision)} · "
                f"started {slack_date(decision.created_at)} by "
                f"{mention(decision.facilitator_id)}{review}"
            )
        )
    if len(decisions) > 40:
        blocks.append(context("Showing the latest 40."))
    return render(f"{len(decisions)} decisions in this channel", blocks)


def status_message(state: DecisionState, extra: Sequence[str] = ()) -> Message:
    decision = state.decision
    rec = state.recommendation
    blocks: list[Block] = [
        HeaderBlock(text=f"#{state.id} status"),
        section(f"*{safe(decision.title, 300)}* · {_status_word(decision)}"),
        section("\n".join(condition_line(c) for c in rec.conditions)),
        section(f"*The rule says now:* {VERDICT_LABELS[rec.verdict]}"),
        DividerBlock(),
        section(f"*Failures logged*\n{failure_tally(state)}"),
    ]
    if decision.next_review_at:
        blocks.append(section(f"*Next review:* {slack_date(decision.next_review_at)}"))
    if usage := usage_line(decision):
        blocks.append(section(usage))
    blocks.extend(section(line) for line in extra)
    return render(f"Status of decision #{state.id}", blocks)
