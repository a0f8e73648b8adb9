"""Ephemeral confirmations and pickers: starting a decision whose title may be a typo,
withdrawing, deleting, and choosing the decision a command meant. Also the thread notes that
say what changed."""

from __future__ import annotations

import secrets
from collections.abc import Sequence

from slack_sdk.models.blocks import ActionsBlock, Block

from bot.domain.questions import OWNER_ROLE_LABELS, OwnerRole
from bot.services.default_decision import Choice
from bot.services.lifecycle_actions import Removal
from handlers.ui.blocks import Message, button, context, render, section
from handlers.ui.ids import ActionId, action_id, pack
from handlers.ui.mrkdwn import fit, mention, safe, slack_date
from storage.models import Decision

BUTTON_VALUE = 2000
"""Slack's limit on a button's value."""


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _cancel() -> dict:
    return button("Cancel", action_id(ActionId.CANCEL), "cancel")


START_NONCE_BYTES = 16
"""The Start button's value opens with this many random bytes (hex): pressed twice, it starts
one decision (``lifecycle_actions.start_once``)."""


def start_preview(title: str, suggestion: str | None, *, unknown: bool = False) -> Message:
    """``Start a decision titled "remove 1" here?``, with the command it may have been."""
    blocks: list[Block] = []
    if unknown:
        blocks.append(section(f"`{safe(title, 100)}` isn't a ragft command."))
    blocks.append(section(f'Start a decision titled "{safe(title, 200)}" here?'))
    if suggestion:
        blocks.append(context(f"Did you mean `/ragft {safe(suggestion, 200)}`?"))
    blocks.append(
        ActionsBlock(
            elements=[
                button(
                    "Start",
                    action_id(ActionId.START_CONFIRMED),
                    pack(secrets.token_hex(START_NONCE_BYTES), title),
                    style="primary",
                ),
                _cancel(),
            ]
        )
    )
    return render(f'Start a decision titled "{safe(title, 200)}" here?', blocks)


def _named(decision: Decision) -> str:
    return f"#{decision.id} *{safe(decision.title, 200)}*"


def withdraw_confirm(decision: Decision) -> Message:
    text = (
        f"Withdraw {_named(decision)} ({decision.status})? It stops taking answers, its reviews "
        "and reminders are cancelled, and its thread says so. The record is kept, marked "
        "withdrawn."
    )
    confirm = button(
        f"Withdraw #{decision.id}",
        action_id(ActionId.WITHDRAW_CONFIRMED),
        str(decision.id),
        style="danger",
    )
    return render(
        f"Withdraw decision #{decision.id}?",
        [section(text), ActionsBlock(elements=[confirm, _cancel()])],
    )


def delete_confirm(removal: Removal) -> Message:
    decision = removal.decision
    text = (
        f"Delete {_named(decision)} for good? This erases its "
        f"{_plural(removal.answers, 'answer')}, {_plural(removal.failures, 'failure')} and "
        f"{_plural(removal.reminders, 'pending reminder')}, its owners and its record, and "
        "deletes ragft's messages in its thread. It can't be undone."
    )
    if removal.restores is not None:
        text += (
            f" It re-ran {_named(removal.restores)}, which it superseded: that one is decided "
            "again, and its reviews resume."
        )
    confirm = button(
        f"Delete #{decision.id}",
        action_id(ActionId.DELETE_CONFIRMED),
        str(decision.id),
        style="danger",
    )
    return render(
        f"Delete decision #{decision.id}?",
        [
            section(text),
            context(f"To keep the record instead, `/ragft withdraw {decision.id}`."),
            ActionsBlock(elements=[confirm, _cancel()]),
        ],
    )


def decision_picker(choices: Sequence[Choice], command_text: str) -> Message:
    """Several open decisions could be meant: one button per decision completes the command."""
    intro = section("Several decisions are open in this channel. Which one did you mean?")
    buttons = []
    for decision in choices:
        value = pack(decision.id, command_text)
        if len(value) > BUTTON_VALUE:
            buttons = []
            break
        label = fit(f"#{decision.id} {decision.title}", 75)
        buttons.append(button(label, action_id(ActionId.PICK_DECISION, decision.id), value))
    if not buttons:
        hint = "Add its number to the command, e.g. `/ragft status 12`. `/ragft list` shows them."
        return render("Which decision?", [intro, context(hint)])
    blocks: list[Block] = [intro, ActionsBlock(elements=[*buttons, _cancel()])]
    blocks.append(context("Or add its number to the command, e.g. `/ragft status 12`."))
    return render("Which decision?", blocks)


def renamed_note(decision: Decision, old_title: str, user_id: str) -> str:
    return (
        f"{mention(user_id)} renamed this decision from “{safe(old_title, 200)}” to "
        f"“{safe(decision.title, 200)}”."
    )


def withdrawn_note(decision: Decision, user_id: str) -> str:
    return (
        f"{mention(user_id)} withdrew decision #{decision.id}. It takes no more answers, and its "
        "reviews and reminders are cancelled. The record is kept."
    )


def deleted_text(decision_id: int, title: str, kept: int, restored: Decision | None = None) -> str:
    text = f"Deleted decision #{decision_id} “{safe(title, 200)}” and everything stored for it."
    if restored is not None:
        text += (
            f" It had superseded decision #{restored.id} “{safe(restored.title, 200)}”, which is"
            " decided again"
        )
        if restored.next_review_at is not None:
            text += f"; its next review is on {slack_date(restored.next_review_at)}"
        text += "."
    if kept:
        text += f" {_plural(kept, 'message')} in Slack couldn't be deleted; remove them by hand."
    return text


def owner_note(role: OwnerRole, old: str | None, new: str | None, user_id: str) -> str | None:
    """A thread note when a named owner is replaced or cleared (filling a gap needs none)."""
    label = OWNER_ROLE_LABELS[role]
    if old is None:
        return None
    if new is None:
        return f"{mention(user_id)} cleared {mention(old)} as *{label}* owner."
    return f"{mention(user_id)} replaced {mention(old)} with {mention(new)} as *{label}* owner."
