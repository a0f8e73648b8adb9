"""The stalled-decision reminder: who answered what, what's missing, and what to do next."""

from __future__ import annotations

from slack_sdk.models.blocks import Block

from bot.domain.questions import (
    ANSWER_LABELS,
    CHOICE_LABELS,
    OWNER_ROLE_LABELS,
    QUESTIONS_BY_KEY,
    AnswerKey,
)
from bot.services.state import DecisionState
from handlers.ui.blocks import Message, render, section
from handlers.ui.mrkdwn import mention, mentions, safe
from handlers.ui.question_messages import QUESTION_PROGRESS


def _answered(state: DecisionState) -> list[str]:
    lines = []
    for key, choice in state.choices.items():
        if not choice.votes:
            continue
        labels = CHOICE_LABELS[key]
        votes = " · ".join(
            f"{labels.get(value, value)}: {mentions(users)}"
            for value, users in choice.votes.items()
        )
        lines.append(f"• *{ANSWER_LABELS[key]}:* {votes}")
    f = state.failures
    if f.analysed:
        lines.append(
            f"• *Failures:* {f.analysed} logged (knowledge {f.knowledge} · behavior "
            f"{f.behavior} · unclear {f.unclear})"
        )
    owners = [f"{OWNER_ROLE_LABELS[role]}: {mention(u)}" for role, u in state.owners.items() if u]
    if owners:
        lines.append(f"• *Owners:* {' · '.join(owners)}")
    if state.labeled_examples is not None:
        lines.append(
            f"• *{ANSWER_LABELS[AnswerKey.LABELED_EXAMPLES]}:* {state.labeled_examples:,}, from "
            f"{mention(state.labeled_examples_by)}"
        )
    return lines


def _missing(state: DecisionState) -> list[str]:
    missing = []
    for key, progress in QUESTION_PROGRESS.items():
        done, label = progress(state)
        if not done:
            missing.append(f"Q{QUESTIONS_BY_KEY[key].number} {label}")
    return missing


def stalled_message(state: DecisionState, idle_days: int, thread_link: str | None) -> Message:
    decision = state.decision
    where = f"<{thread_link}|this thread>" if thread_link else "this thread"
    answered = _answered(state)
    missing = _missing(state)
    blocks: list[Block] = [
        section(
            f"⏳ {mention(decision.facilitator_id)}, decision #{state.id}, "
            f"*{safe(decision.title, 200)}*, has had no activity for {idle_days} days."
        ),
        section(
            "*Who answered what*\n"
            + ("\n".join(answered) if answered else "_Nobody has answered yet._")
        ),
        section(
            "*Still missing:* "
            + (", ".join(missing) if missing else "nothing: every question has an answer")
        ),
    ]
    if missing:
        step = (
            f"Ask the team to answer the missing questions in {where} (mention them), add "
            "failures with *Add failures* on Q3, or press *Decide* on the root message if you "
            "already know enough."
        )
    else:
        step = f"Every question has an answer: press *Decide* on the root message in {where}."
    blocks.append(section(f"*Next:* {step} `/ragft status {state.id}` shows where it stands."))
    return render(f"Decision #{state.id} has stalled: no activity for {idle_days} days", blocks)
