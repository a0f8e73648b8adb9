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

from bot.domain.questions import FAILURE_CATEGORY_LABELS, VERDICT_LABELS, FailureCategory, Verdict
from handlers.ui.ids import ActionId, CallbackId, InputId, action_id, pack
from handlers.ui.mrkdwn import MODAL_BLOCKS, MODAL_TITLE, fit, mention, safe
from handlers.ui.thread_messages import context, section
from storage.models import FailureExample


def metadata(decision_id: int, **extra: Any) -> str:
    return json.dumps({"decision_id": decision_id, **extra})


def _view(callback: CallbackId, title: str, blocks: list[Block], meta: str, submit: str | None):
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


def _text_input(
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


def add_failures_modal(decision_id: int, title: str) -> dict[str, Any]:
    blocks: list[Block] = [
        section(f"Failing outputs for *{safe(title, 200)}*. Paste many at once, or add one."),
        _text_input(
            InputId.PASTE,
            "Paste failures, one per line",
            multiline=True,
            optional=True,
            placeholder="quoted last year's prices | https://…\nsounds like a legal brief",
            hint="Each line: why that output failed. Optionally add ` | ` and the output or link.",
        ),
        context("*Or add one failure*"),
        _text_input(
            InputId.OUTPUT,
            "The failing output or a link",
            multiline=True,
            optional=True,
            max_length=3000,
        ),
        _text_input(
            InputId.EXPLANATION,
            "Why it failed",
            multiline=False,
            optional=True,
            placeholder="e.g. didn't know the new refund policy",
            max_length=1000,
        ),
    ]
    return _view(CallbackId.ADD_FAILURES, "Add failures", blocks, metadata(decision_id), "Add")


def labeled_examples_modal(decision_id: int, current: int | None) -> dict[str, Any]:
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
    return _view(
        CallbackId.LABELED_EXAMPLES, "Labeled examples", blocks, metadata(decision_id), "Save"
    )


def override_modal(decision_id: int, verdict: Verdict) -> dict[str, Any]:
    options = [
        Option(text=fit(label, 75), value=choice)
        for choice, label in VERDICT_LABELS.items()
        if choice != verdict
    ]
    blocks: list[Block] = [
        section(f"The rule's verdict is *{VERDICT_LABELS[verdict]}*. The record keeps both."),
        InputBlock(
            block_id=InputId.CHOICE,
            label="What the team chose",
            element=StaticSelectElement(action_id=InputId.CHOICE, options=options),
        ),
        _text_input(InputId.REASON, "Why", multiline=True, optional=False, max_length=2000),
    ]
    return _view(CallbackId.OVERRIDE, "A different choice", blocks, metadata(decision_id), "Save")


def _category_options(failure_id: int) -> list[Option]:
    return [
        Option(text=label, value=pack(failure_id, category))
        for category, label in FAILURE_CATEGORY_LABELS.items()
    ]


def review_failures_modal(
    decision_id: int, failures: Sequence[FailureExample], total: int
) -> dict[str, Any]:
    blocks: list[Block] = []
    if not failures:
        blocks.append(section("No failures logged yet. Use *Add failures* to paste some."))
    for failure in failures:
        options = _category_options(failure.id or 0)
        initial = next(o for o in options if o.value.endswith(failure.category))
        source = (
            "corrected by " + mention(failure.corrected_by)
            if failure.corrected_by
            else (f"categorised by {failure.category_source}")
        )
        detail = f"\n_{safe(failure.rationale, 300)}_" if failure.rationale else ""
        link = f" · <{failure.permalink}|link>" if failure.permalink else ""
        blocks.append(
            section(
                f"{safe(failure.explanation, 800)}{detail}\n"
                f"{FAILURE_CATEGORY_LABELS[FailureCategory(failure.category)]}, {source}{link}",
                block_id=pack("failure", failure.id),
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
    return _view(CallbackId.REVIEW_FAILURES, title, blocks, metadata(decision_id), None)
