"""Modals: adding failures, reviewing them, labeled examples, recording a different choice."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from slack_sdk.models.blocks import (
    Block,
    InputBlock,
    NumberInputElement,
    Option,
    PlainTextInputElement,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from bot.domain.outcome import OUTCOME_LABELS
from bot.domain.questions import (
    FAILURE_CATEGORY_LABELS,
    OWNER_ROLE_LABELS,
    VERDICT_LABELS,
    CategorySource,
    FailureCategory,
    OwnerRole,
    Verdict,
)
from bot.services.state import DecisionState
from handlers.ui.blocks import button, context, section
from handlers.ui.ids import ActionId, BlockId, CallbackId, InputId, action_id, pack
from handlers.ui.mrkdwn import MODAL_BLOCKS, MODAL_TITLE, fit, mention, safe
from storage.models import FailureExample


def metadata(decision_id: int | None, channel_id: str, **extra: Any) -> str:
    """A modal's ``private_metadata``: the decision, and the channel it was opened from, which
    the submission is checked against (see ``handlers.payloads.ModalMeta``)."""
    data = {"decision_id": decision_id, "channel_id": channel_id, **extra}
    return json.dumps({key: value for key, value in data.items() if value is not None})


def modal_view(
    callback: CallbackId, title: str, blocks: list[Block], meta: str, submit: str | None
):
    if len(blocks) > MODAL_BLOCKS:
        raise ValueError(f"{len(blocks)} blocks; Slack allows {MODAL_BLOCKS} per modal")
    return View(
        type="modal",
        callback_id=callback,
        title=fit(title, MODAL_TITLE),
        submit=submit,
        close="Close" if submit is None else "Cancel",
        private_metadata=meta,
        blocks=blocks,
    ).to_dict()


def text_input(
    input_id: InputId,
    label: str,
    *,
    multiline: bool,
    optional: bool,
    hint: str | None = None,
    placeholder: str | None = None,
    initial: str | None = None,
    max_length: int = 3000,
) -> InputBlock:
    return InputBlock(
        block_id=input_id,
        label=label,
        optional=optional,
        hint=hint,
        element=PlainTextInputElement(
            action_id=input_id,
            multiline=multiline,
            placeholder=placeholder,
            initial_value=initial,
            max_length=max_length,
        ),
    )


def add_failures_modal(decision_id: int, title: str, channel_id: str) -> dict[str, Any]:
    blocks: list[Block] = [
        section(f"Failing outputs for *{safe(title, 200)}*. Paste many at once, or add one."),
        text_input(
            InputId.PASTE,
            "Paste failures, one per line",
            multiline=True,
            optional=True,
            placeholder="quoted last year's prices | https://…\nsounds like a legal brief",
            hint="Each line: why that output failed. Optionally add ` | ` and the output or link.",
        ),
        context("*Or add one failure*"),
        text_input(
            InputId.OUTPUT,
            "The failing output or a link",
            multiline=True,
            optional=True,
            max_length=3000,
        ),
        text_input(
            InputId.EXPLANATION,
            "Why it failed",
            multiline=False,
            optional=True,
            placeholder="e.g. didn't know the new refund policy",
            max_length=1000,
        ),
    ]
    return modal_view(
        CallbackId.ADD_FAILURES, "Add failures", blocks, metadata(decision_id, channel_id), "Add"
    )


def labeled_examples_modal(
    decision_id: int, current: int | None, channel_id: str
) -> dict[str, Any]:
    element = NumberInputElement(
        action_id=InputId.COUNT,
        is_decimal_allowed=False,
        min_value="0",
        initial_value=str(current) if current is not None else None,
    )
    blocks: list[Block] = [
        InputBlock(
            block_id=InputId.COUNT,
            label="High-quality labeled examples",
            element=element,
            hint="Examples you could train on today. Fine-tuning needs at least 1,000.",
        )
    ]
    return modal_view(
        CallbackId.LABELED_EXAMPLES,
        "Labeled examples",
        blocks,
        metadata(decision_id, channel_id),
        "Save",
    )


def override_modal(
    decision_id: int, verdict: Verdict, channel_id: str, outcome: Verdict | None = None
) -> dict[str, Any]:
    """A different choice than the verdict; once the team has chosen, an amendment of it.
    "Not ready" is never offered: it isn't an outcome."""
    current = outcome or verdict
    options = [
        Option(text=fit(label, 75), value=choice)
        for choice, label in OUTCOME_LABELS.items()
        if choice != current
    ]
    intro = f"The rule's verdict is *{VERDICT_LABELS[verdict]}*. The record keeps both."
    if outcome is not None:
        intro = (
            f"The outcome on record is *{OUTCOME_LABELS[outcome]}* (the rule said "
            f"{VERDICT_LABELS[verdict]}). Changing it is an amendment: the record keeps who, "
            "when, from, to and why."
        )
    blocks: list[Block] = [
        section(intro),
        InputBlock(
            block_id=InputId.CHOICE,
            label="What the team chose",
            element=StaticSelectElement(action_id=InputId.CHOICE, options=options),
        ),
        text_input(InputId.REASON, "Why", multiline=True, optional=False, max_length=2000),
    ]
    return modal_view(
        CallbackId.OVERRIDE, "A different choice", blocks, metadata(decision_id, channel_id), "Save"
    )


DELETE_FAILURE = "delete"
"""The value, in a failure's select, of "Delete this failure"."""


def _category_options(failure_id: int) -> list[Option]:
    return [
        Option(text=label, value=pack(failure_id, category))
        for category, label in FAILURE_CATEGORY_LABELS.items()
    ] + [Option(text="🗑 Delete this failure", value=pack(failure_id, DELETE_FAILURE))]


def owners_to_clear(state: DecisionState) -> dict[OwnerRole, str]:
    """The named Q4 owners *Review & correct* offers to clear (an open decision's only)."""
    if not state.is_open:
        return {}
    return {role: user for role, user in state.owners.items() if user}


def _owner_blocks(decision_id: int, owners: dict[OwnerRole, str]) -> list[Block]:
    if not owners:
        return []
    blocks: list[Block] = [context("*Q4 owners*: clear one named by mistake.")]
    for role, user in owners.items():
        blocks.append(
            section(
                f"*{OWNER_ROLE_LABELS[role]}*: {mention(user)}",
                accessory=button(
                    "Clear", action_id(ActionId.CLEAR_OWNER, role), pack(decision_id, role)
                ),
            )
        )
    blocks.append(context("*Q3 failures*: pick a category to correct one, or delete it."))
    return blocks


CATEGORY_SOURCE_LABELS = {
    CategorySource.HEURISTIC: "ragft's built-in rules",
    CategorySource.LLM: "the model",
    CategorySource.HUMAN: "a person",
}
"""Who categorised a failure, as a person reads it (the CLI's JSON keeps the raw source)."""


def review_failures_modal(
    decision_id: int,
    failures: Sequence[FailureExample],
    total: int,
    channel_id: str,
    owners: dict[OwnerRole, str] | None = None,
) -> dict[str, Any]:
    blocks: list[Block] = _owner_blocks(decision_id, owners or {})
    if not failures:
        blocks.append(section("No failures logged yet. Use *Add failures* to paste some."))
    for failure in failures:
        options = _category_options(failure.id or 0)
        initial = next(o for o in options if o.value.endswith(failure.category))
        source = (
            "corrected by " + mention(failure.corrected_by)
            if failure.corrected_by
            else f"categorised by {CATEGORY_SOURCE_LABELS.get(failure.category_source, 'ragft')}"
        )
        detail = f"\n_{safe(failure.rationale, 300)}_" if failure.rationale else ""
        link = f" · <{failure.permalink}|link>" if failure.permalink else ""
        blocks.append(
            section(
                f"{safe(failure.explanation, 800)}{detail}\n"
                f"{FAILURE_CATEGORY_LABELS[FailureCategory(failure.category)]}, {source}{link}",
                block_id=pack(BlockId.FAILURE, failure.id),
                accessory=StaticSelectElement(
                    action_id=action_id(ActionId.CORRECT_FAILURE),
                    options=options,
                    initial_option=initial,
                ),
            )
        )
    if total > len(failures):
        blocks.append(context(f"Showing the latest {len(failures)} of {total}."))
    title = "Review failures"
    return modal_view(
        CallbackId.REVIEW_FAILURES, title, blocks, metadata(decision_id, channel_id), None
    )
