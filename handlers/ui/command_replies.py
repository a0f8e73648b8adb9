"""Ephemeral replies to ``/ragft`` subcommands."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from slack_sdk.models.blocks import Block, DividerBlock, HeaderBlock

from bot.domain.lifecycle import DecisionStatus, ReminderKind, ReminderStatus
from bot.domain.outcome import outcome_phrase
from bot.domain.questions import VERDICT_LABELS
from bot.domain.tallies import percent
from bot.services.state import DecisionState
from handlers.ui.assistance_messages import usage_line
from handlers.ui.blocks import Message, condition_line, context, render, section
from handlers.ui.mrkdwn import mention, safe, slack_date
from handlers.ui.question_messages import failure_tally
from handlers.ui.record_lines import amendment_lines, outcome_text, since_line
from handlers.ui.review_messages import cadence_label
from storage.models import Decision, Reminder

HELP = """*ragft* helps your team decide between RAG and fine-tuning, then keeps it honest.

*Start a decision*
`/ragft Support assistant for billing questions`: posts four questions in a thread.
Anyone here can answer. A one- or two-word title, or one that looks like a mistyped command,
is shown to you first, to confirm (`/ragft start <title>` skips that).

*Other commands*
`/ragft list`: this channel's decisions, with status and next review
`/ragft status [id]`: where a decision stands
`/ragft export [id] [madr|log4brains|adr-tools]`: upload the decision as an ADR file to its thread
`/ragft log [id] <why it failed>`: log a failing output
`/ragft cadence [id] monthly|quarterly|half-yearly`: how often to review it
`/ragft rename [id] <title>`: rename a decision (facilitator or admin)
`/ragft withdraw [id]`: close a decision, keeping its record (facilitator or admin, confirmed)
`/ragft delete [id]`: erase a decision and its thread (facilitator or admin, confirmed)
`/ragft token create [label]` · `list` · `revoke <label>`: API tokens for sending failures
`/ragft help`: this message

Without an id, a command means this channel's open decision, else its latest decided one;
when several are open, ragft asks which."""


def help_message(note: str | None = None) -> Message:
    blocks: list[Block] = []
    if note:
        blocks.append(section(note))
    blocks.append(section(HELP))
    return render("How to use ragft", blocks)


def _status_word(decision: Decision) -> str:
    """``decided: Hybrid (the rule said Start with RAG)``: the team's outcome leads."""
    outcome = decision.final_choice or decision.verdict
    if outcome:
        return f"{decision.status}: {outcome_phrase(outcome, decision.verdict)}"
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
    if state.snapshot is None:
        blocks: list[Block] = [
            HeaderBlock(text=f"#{state.id} status"),
            section(f"*{safe(decision.title, 300)}* · {_status_word(decision)}"),
            section("\n".join(condition_line(c) for c in rec.conditions)),
            section(f"*The rule says now:* {VERDICT_LABELS[rec.verdict]}"),
            DividerBlock(),
            section(f"*Failures logged*\n{failure_tally(state)}"),
        ]
    else:
        blocks = _decided_status(state)
    if decision.next_review_at:
        blocks.append(section(f"*Next review:* {slack_date(decision.next_review_at)}"))
    if usage := usage_line(decision):
        blocks.append(section(usage))
    blocks.extend(section(line) for line in extra)
    return render(f"Status of decision #{state.id}", blocks)


def _decided_status(state: DecisionState) -> list[Block]:
    """A decided decision's status: its record as at the decision, then what changed since."""
    decision, rec = state.decision, state.recommendation
    outcome = outcome_text(state) or "no outcome"
    when = slack_date(decision.decided_at) if decision.decided_at else "—"
    blocks: list[Block] = [
        HeaderBlock(text=f"#{state.id} status"),
        section(f"*{safe(decision.title, 300)}* · {decision.status}"),
        section(f"*Decision:* {outcome}\nDecided by {mention(decision.decided_by)} on {when}"),
        section(
            "*At the decision*\n"
            + "\n".join(condition_line(c) for c in rec.conditions)
            + f"\n*Failures logged* (at the decision)\n{failure_tally(state)}"
        ),
    ]
    blocks.extend(section(line) for line in amendment_lines(state)[-10:])
    since = [since_line(state) or ""]
    now = state.rule_now.verdict
    if now != rec.verdict:
        since.append(f"On today's data the rule would say {VERDICT_LABELS[now]}.")
    blocks += [DividerBlock(), section(" ".join(since))]
    return blocks


REMINDER_LABELS: dict[str, str] = {
    ReminderKind.QUARTERLY_REVIEW: "review",
    ReminderKind.REVISIT: "revisit nudge",
    ReminderKind.STALLED: "stalled-decision reminder",
    ReminderKind.NOT_READY_FOLLOW_UP: "not-ready follow-up",
    ReminderKind.VERDICT: "verdict message",
}
"""A reminder kind as a person reads it (not its stored name)."""


def routine_lines(decision: Decision, troubled: Sequence[Reminder]) -> list[str]:
    """What ``/ragft status`` adds: cadence, reviews, and reminders that couldn't be sent."""
    lines = [f"*Review cadence:* {cadence_label(decision.review_cadence_days)}"]
    if decision.last_reviewed_at:
        lines.append(
            f"*Last reviewed* by {mention(decision.last_reviewed_by)} on "
            f"{slack_date(decision.last_reviewed_at)}"
        )
    if decision.nudge_evidence.get("at"):
        at = datetime.fromisoformat(decision.nudge_evidence["at"])
        lines.append(
            f"*Last revisit nudge:* {slack_date(at)}, at {decision.nudge_evidence['analysed']} "
            f"failures ({percent(decision.nudge_evidence.get('share'))} behavioral)"
        )
    for reminder in troubled:
        what = REMINDER_LABELS.get(reminder.kind, "reminder")
        error = safe(reminder.last_error or "", 300)
        if reminder.status == ReminderStatus.FAILED:
            again = (
                ", then change the cadence to schedule it again"
                if reminder.kind == ReminderKind.QUARTERLY_REVIEW
                else ""
            )
            lines.append(
                f"⚠️ *The {what} couldn't be posted* after {reminder.attempts} attempts: {error}. "
                f"Check the bot is in this channel{again}."
            )
        else:
            lines.append(
                f"⏳ *The {what} is being retried* (attempt {reminder.attempts} failed: {error}); "
                f"next try {slack_date(reminder.due_at)}."
            )
    return lines


def cadence_text(decision: Decision, *, with_hint: bool = False) -> str:
    days = decision.review_cadence_days
    text = f"Decision #{decision.id} is reviewed *{cadence_label(days).lower()}* ({days} days)."
    if decision.next_review_at:
        text += f" Next review: {slack_date(decision.next_review_at)}."
    elif decision.status == DecisionStatus.OPEN:
        text += " The first review is scheduled when it's decided."
    if with_hint:
        text += f" Change it with `/ragft cadence {decision.id} monthly|quarterly|half-yearly`."
    return text
