"""Messages and modals of the routine: the review, its pointer, revisit nudges, the schedule
note after deciding, and the "Log AI failure" modal."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    DividerBlock,
    HeaderBlock,
    InputBlock,
    Option,
    PlainTextInputElement,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from bot.domain.nudges import Nudge
from bot.domain.outcome import outcome_label, outcome_phrase
from bot.domain.questions import OWNER_ROLE_LABELS, VERDICT_LABELS, OwnerRole, Verdict
from bot.domain.review_schedule import CADENCE_DAYS
from bot.domain.tallies import percent, quarters_text, trend_line
from bot.services.review_evidence import Evidence
from bot.services.state import DecisionState
from handlers.ui.analysis_messages import start_button
from handlers.ui.arrivals import arrivals_line, nothing_logged_text
from handlers.ui.blocks import Message, button, condition_line, context, render, section
from handlers.ui.ids import ActionId, BlockId, CallbackId, InputId, action_id, pack
from handlers.ui.mrkdwn import (
    HEADER,
    MODAL_TITLE,
    OPTION,
    fit,
    mention,
    mentions,
    safe,
    slack_date,
)
from storage.models import Decision

CADENCE_LABELS: dict[int, str] = {days: str(c).capitalize() for c, days in CADENCE_DAYS.items()}


def cadence_label(days: int) -> str:
    return CADENCE_LABELS.get(days, f"Every {days} days")


def cadence_select(decision_id: int, days: int) -> StaticSelectElement:
    options = [
        Option(text=label, value=pack(decision_id, value))
        for value, label in CADENCE_LABELS.items()
    ]
    initial = next((o for o in options if o.value == pack(decision_id, days)), None)
    return StaticSelectElement(
        placeholder="Review cadence",
        action_id=action_id(ActionId.CADENCE),
        options=options,
        initial_option=initial,
    )


def people(state: DecisionState) -> str:
    """The facilitator and the named owners, @-mentioned: the people a review or nudge is for."""
    users = [state.decision.facilitator_id, *(u for u in state.owners.values() if u)]
    return mentions(list(dict.fromkeys(users)))


def _verdict(decision: Decision) -> str:
    chosen = decision.final_choice or decision.verdict
    return f"*{outcome_phrase(chosen, decision.verdict)}*" if chosen else "no verdict"


# After deciding ----------------------------------------------------------------------------------


def schedule_message(state: DecisionState) -> Message:
    decision = state.decision
    when = slack_date(decision.next_review_at) if decision.next_review_at else "not scheduled"
    blocks: list[Block] = [
        section(
            f"📅 *First review:* {when}, 10:00 in {mention(decision.facilitator_id)}'s timezone. "
            "I'll post it in this thread with the failures logged by then.",
            accessory=cadence_select(state.id, decision.review_cadence_days),
        ),
        context(
            "Log failures as they happen: the *Log AI failure* shortcut on any message, or "
            f"`/ragft log {state.id} <why it failed>`. I'll nudge you to revisit if the evidence "
            "turns against this choice."
        ),
        ActionsBlock(
            elements=[button("Re-run the diagnostic", action_id(ActionId.RERUN), str(state.id))]
        ),
    ]
    day = f"{decision.next_review_at:%b %-d, %Y}" if decision.next_review_at else "not scheduled"
    return render(f"First review of #{state.id}: {day}", blocks)


# The review --------------------------------------------------------------------------------------


def review_message(
    state: DecisionState,
    evidence: Evidence,
    *,
    now: datetime,
    departed: Sequence[tuple[OwnerRole, str]] = (),
    chart_attached: bool = True,
    reviewed: tuple[str, datetime] | None = None,
) -> Message:
    """The review; once ``reviewed`` (who, when), its buttons give way to who reviewed it."""
    decision = state.decision
    rec = state.rule_now  # the review weighs today's evidence against the outcome on record
    kind = cadence_label(decision.review_cadence_days)
    current, previous = evidence.current, evidence.previous
    shares = (
        f"*Behavioral share:* {percent(current.behavior_share)} this period "
        f"(previous: {percent(previous.behavior_share)}), "
        f"{percent(evidence.since_decision.behavior_share)} since the decision"
    )
    blocks: list[Block] = [
        HeaderBlock(text=fit(f"{kind} review: {decision.title}", HEADER)),
        section(
            f"Decision #{state.id}, *{safe(decision.title, 200)}*: {_verdict(decision)}, decided "
            f"{slack_date(decision.decided_at or now)}. {people(state)}: time to look at what "
            f"failed since {slack_date(evidence.current_start)}."
        ),
        section(
            f"*Failures logged this period: {current.analysed}* "
            f"(previous period: {previous.analysed})\n{trend_line(current, previous)}\n{shares}"
            + _arrivals(evidence)
        ),
        section(
            "*By quarter*"
            + (" (chart below)" if chart_attached else "")
            + f"\n```{quarters_text(evidence.quarters)}```"
        ),
        section(
            "*The three conditions, with today's evidence*\n"
            + "\n".join(condition_line(c) for c in rec.conditions)
        ),
    ]
    now_says = VERDICT_LABELS[rec.verdict]
    outcome = state.outcome
    if outcome and rec.verdict != outcome:
        blocks.append(
            section(
                f"⚠️ *The rule now says:* {now_says}, but the team chose "
                f"{outcome_label(outcome)}. Consider re-running the diagnostic."
            )
        )
    else:
        blocks.append(section(f"*The rule still says:* {now_says}"))
    for role, user in departed:
        blocks.append(
            section(
                f"⚠️ {mention(user)}, the *{OWNER_ROLE_LABELS[role]}* owner, has left the "
                "workspace. Name a new owner in a re-run."
            )
        )
    blocks.append(DividerBlock())
    if reviewed is not None:
        who, when = reviewed
        blocks.append(section(f"✅ *Reviewed by {mention(who)} on {slack_date(when)}.*"))
        text = f"{cadence_label(decision.review_cadence_days)} review of #{state.id}: reviewed"
        return render(text, blocks)
    blocks.append(
        ActionsBlock(
            block_id=pack(BlockId.REVIEW, state.id),
            elements=[
                button("Reviewed", action_id(ActionId.REVIEWED), str(state.id), "primary"),
                button("Snooze a week", action_id(ActionId.SNOOZE), str(state.id)),
                button("Re-run the diagnostic", action_id(ActionId.RERUN), str(state.id)),
                start_button(state.id, now),
                cadence_select(state.id, decision.review_cadence_days),
            ],
        )
    )
    if decision.last_reviewed_at:
        blocks.append(
            context(
                f"Last reviewed by {mention(decision.last_reviewed_by)} on "
                f"{slack_date(decision.last_reviewed_at)}."
            )
        )
    text = (
        f"{kind} review of #{state.id} {safe(decision.title, 150)}: {current.analysed} failures "
        f"this period, {percent(current.behavior_share)} behavioral"
    )
    return render(text, blocks)


def _arrivals(evidence: Evidence) -> str:
    """Where this period's failures came from; or, when none arrived, that plainly."""
    if not any(evidence.sources.values()):
        return "\n" + nothing_logged_text()
    line = arrivals_line(evidence.sources, evidence.last_logged_at)
    return f"\n{line}" if line else ""


def pointer_message(state: DecisionState, link: str) -> Message:
    decision = state.decision
    kind = cadence_label(decision.review_cadence_days).lower()
    text = (
        f"📋 The {kind} review of decision #{state.id}, *{safe(decision.title, 200)}*, "
        f"is in <{link}|its thread>."
    )
    return render(f"The {kind} review of #{state.id} is in its thread", [section(text)])


def reviewed_note(decision: Decision, user_id: str) -> str:
    when = slack_date(decision.next_review_at) if decision.next_review_at else "not scheduled"
    return f"✅ Reviewed by {mention(user_id)}. Next review: {when}."


def snoozed_note(decision: Decision, user_id: str) -> str:
    when = slack_date(decision.next_review_at) if decision.next_review_at else "later"
    return f"💤 {mention(user_id)} snoozed the review for a week: it comes back {when}."


# Nudges ------------------------------------------------------------------------------------------


def nudge_message(state: DecisionState, nudge: Nudge) -> Message:
    what = "\n".join(f"• {safe(reason, 500)}" for reason in nudge.reasons)
    if nudge.outcome == Verdict.NOT_READY:
        blocks: list[Block] = [
            section(
                f"✅ *Decision #{state.id} is ready to decide.* {people(state)}\n{what}\n"
                "Press *Decide* on the decision's root message: the rule now has the "
                "evidence it needs."
            )
        ]
        return render(f"Decision #{state.id}: 20 failures explained, time to decide", blocks)
    blocks = [
        section(
            f"🔁 *Time to revisit decision #{state.id}?* {people(state)}\nThe failures logged "
            f"since you chose *{_verdict(state.decision)}* {nudge.headline}.\n{what}"
        ),
        section(
            "Re-run the diagnostic with today's evidence: it starts a new decision with your "
            "previous answers filled in.",
            accessory=button(
                "Re-run the diagnostic", action_id(ActionId.RERUN), str(state.id), "primary"
            ),
        ),
    ]
    return render(f"Time to revisit decision #{state.id}? The evidence changed", blocks)


# Logging a failure from any message -------------------------------------------------------------


def _decision_option(decision: Decision) -> Option:
    label = f"#{decision.id} {decision.title}"
    if decision.status != "decided":
        label += f" ({decision.status})"
    return Option(text=fit(label, OPTION), value=str(decision.id))


def log_failure_modal(
    *,
    decisions: Sequence[Decision],
    default: Decision,
    output: str,
    permalink: str | None,
    channel_id: str,
) -> dict[str, Any]:
    options = [_decision_option(d) for d in decisions]
    initial = next(o for o in options if o.value == str(default.id))
    where = f"<{permalink}|the message>" if permalink else "the message"
    blocks: list[Block] = [
        section(f"Log a failing AI output from {where}. It's categorised when you save it."),
        InputBlock(
            block_id=InputId.DECISION,
            label="Which decision it belongs to",
            element=StaticSelectElement(
                action_id=InputId.DECISION, options=options, initial_option=initial
            ),
        ),
        InputBlock(
            block_id=InputId.OUTPUT,
            label="The failing output",
            optional=True,
            element=PlainTextInputElement(
                action_id=InputId.OUTPUT,
                multiline=True,
                initial_value=output[:3000] or None,
                max_length=3000,
            ),
        ),
        InputBlock(
            block_id=InputId.EXPLANATION,
            label="Why it failed",
            element=PlainTextInputElement(
                action_id=InputId.EXPLANATION,
                placeholder="e.g. quoted last year's refund policy",
                max_length=1000,
            ),
        ),
    ]
    meta = json.dumps({"permalink": permalink, "channel_id": channel_id})
    return View(
        type="modal",
        callback_id=CallbackId.LOG_FAILURE,
        title=fit("Log AI failure", MODAL_TITLE),
        submit="Log it",
        close="Cancel",
        private_metadata=meta,
        blocks=blocks,
    ).to_dict()
