"""The quarterly error analysis in the review's thread: its start, each batch of 10 failures
to read, the saturation note after a batch, and the note form."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    InputBlock,
    PlainTextInputElement,
)
from slack_sdk.models.views import View

from bot.domain.failure_modes import BATCH_SIZE, FailureMode
from bot.domain.questions import FAILURE_CATEGORY_LABELS, CategorySource, FailureCategory
from bot.services.analysis_views import BatchDone, BatchView, ReadItem
from bot.services.error_analysis import NOTE_LIMIT
from handlers.ui.blocks import Message, button, context, render, section
from handlers.ui.ids import ActionId, BlockId, CallbackId, InputId, action_id, pack
from handlers.ui.mrkdwn import MODAL_TITLE, fit, mention, safe, slack_date

SOURCE_WORDS = {
    CategorySource.LLM: "the model's call",
    CategorySource.HEURISTIC: "the built-in rules' call",
    CategorySource.HUMAN: "set by a person",
}


def start_button(decision_id: int, period_end: datetime) -> ButtonElement:
    """*Start error analysis*, for the review of the period ending at ``period_end``."""
    value = pack(decision_id, period_end.isoformat())
    return button("Start error analysis", action_id(ActionId.START_ANALYSIS), value)


def _label(category: str) -> str:
    return FAILURE_CATEGORY_LABELS[FailureCategory(category)]


def intro_message(view: BatchView, user_id: str) -> Message:
    a = view.analysis
    text = (
        f"🔎 {mention(user_id)} started the *error analysis* of this review: {view.total} "
        f"failures logged between {slack_date(a.period_start)} and {slack_date(a.period_end)}, "
        "in random order, the ones the model or the rules categorised first.\n"
        f"Read them {BATCH_SIZE} at a time. For each one, confirm or change its category with "
        "one click, and add a short note naming the failure mode in your own words. Several of "
        "you can read at once; the last click on a failure wins."
    )
    return render(f"Error analysis of #{view.decision.id} started", [section(text)])


def _link(permalink: str | None) -> str:
    ok = permalink and permalink.startswith(("https://", "http://"))
    return f"\n<{permalink}|The failing output>" if ok and not set("|<> ") & set(permalink) else ""


def _item_text(item: ReadItem) -> str:
    failure, reading = item.failure, item.reading
    lines = [f"*{item.position + 1}.* {safe(failure.explanation, 800)}"]
    if failure.output:
        lines.append("> " + safe(" ".join(failure.output.split()), 500))
    link = _link(failure.permalink)
    if link:
        lines.append(link.strip())
    source = SOURCE_WORDS.get(CategorySource(failure.category_source), "")
    if item.read and failure.corrected_by:
        lines.append(f"✅ *{_label(failure.category)}*, set by {mention(failure.corrected_by)}")
    else:
        lines.append(f"Now: *{_label(failure.category)}* ({source}). Confirm it or change it.")
    if reading is not None and reading.note:
        lines.append(f"📝 _{safe(reading.note, 400)}_")
    return "\n".join(lines)


def _item_buttons(view: BatchView, item: ReadItem) -> ActionsBlock:
    fid = item.failure.id
    current = item.failure.category
    buttons = [
        button(
            label,
            action_id(ActionId.ANALYSIS_CATEGORY, category),
            pack(view.id, fid, category),
            "primary" if category == current else None,
        )
        for category, label in FAILURE_CATEGORY_LABELS.items()
    ]
    has_note = item.reading is not None and item.reading.note
    buttons.append(
        button(
            "Edit the note" if has_note else "Add a note",
            action_id(ActionId.ANALYSIS_NOTE),
            pack(view.id, fid),
        )
    )
    return ActionsBlock(block_id=pack(BlockId.ANALYSIS, view.id, fid), elements=buttons)


def batch_message(view: BatchView) -> Message:
    first = view.batch * BATCH_SIZE + 1
    last = first + len(view.items) - 1
    blocks: list[Block] = [
        section(
            f"🔎 *Error analysis, batch {view.batch + 1} of {view.batches}* "
            f"(failures {first}–{last} of {view.total})"
        )
    ]
    for item in view.items:
        blocks.append(section(_item_text(item)))
        blocks.append(_item_buttons(view, item))
    read = sum(1 for item in view.items if item.read)
    if view.batch < view.analysis.batches_shown - 1:
        blocks.append(context(f"Batch {view.batch + 1} is closed. Changes here still count."))
    elif view.done:
        label = "Finish the analysis" if view.is_last else f"Next {BATCH_SIZE}"
        blocks.append(
            ActionsBlock(
                block_id=pack(BlockId.ANALYSIS, view.id, "next"),
                elements=[
                    button(label, action_id(ActionId.ANALYSIS_NEXT), pack(view.id, view.batch))
                ],
            )
        )
    else:
        control = "Finish the analysis" if view.is_last else f"Next {BATCH_SIZE}"
        blocks.append(
            context(
                f"{read} of {len(view.items)} read. *{control}* appears once every failure "
                "here has a confirmed or changed category."
            )
        )
    text = f"Error analysis of #{view.decision.id}: batch {view.batch + 1}, {read} read"
    return render(text, blocks)


def _mode_line(n: int, mode: FailureMode) -> str:
    count = f"{mode.count} failure" + ("" if mode.count == 1 else "s")
    return f"{n}. {safe(mode.label, 200)}: {count}, *{_label(mode.category)}*"


def batch_done_message(done: BatchDone, user_id: str) -> Message:
    s = done.saturation
    new = f"*{s.new} new failure mode{'' if s.new == 1 else 's'}*"
    lines = [
        f"📊 {mention(user_id)} closed batch {s.batch + 1}. It added {new}; "
        f"{s.total_modes} so far, from {done.read} of {done.total} failures read."
    ]
    if done.new:
        lines.append("New: " + "; ".join(f"_{safe(m.label, 150)}_" for m in done.new))
    if s.read_enough:
        lines.append(
            "✋ No new failure modes in this batch: the team has *probably read enough*. Stop "
            "here, or read on to be sure."
        )
    elif s.notes_in_batch == 0:
        lines.append(
            "No notes in this batch, so I can't tell whether new kinds of failure still turn "
            "up. Add a note naming each failure's mode."
        )
    blocks: list[Block] = [section("\n".join(lines))]
    if done.top:
        top = "\n".join(_mode_line(n, m) for n, m in enumerate(done.top, 1))
        blocks.append(section(f"*Top failure modes*\n{top}"))
    if done.next is None:
        blocks.append(
            context(
                f"That was the last batch: all {done.total} failures of the period are read. "
                "The categories now count as set by the team in the review and the nudges."
            )
        )
    text = f"Batch {s.batch + 1} added {s.new} new failure modes"
    return render(text + (": probably read enough" if s.read_enough else ""), blocks)


def note_modal(
    analysis_id: int, failure_id: int, channel_id: str, explanation: str, note: str | None
) -> dict[str, Any]:
    meta = json.dumps(
        {"analysis_id": analysis_id, "failure_id": failure_id, "channel_id": channel_id}
    )
    blocks: list[Block] = [
        section(f"*Why it failed:* {safe(explanation, 1500)}"),
        InputBlock(
            block_id=InputId.NOTE,
            label="The failure mode, in your words",
            optional=True,
            element=PlainTextInputElement(
                action_id=InputId.NOTE,
                placeholder="e.g. quotes an outdated policy",
                initial_value=note or None,
                max_length=NOTE_LIMIT,
            ),
        ),
        context("Notes worded alike count as one failure mode. Leave it empty to clear it."),
    ]
    return View(
        type="modal",
        callback_id=CallbackId.ANALYSIS_NOTE,
        title=fit("Name the failure mode", MODAL_TITLE),
        submit="Save",
        close="Cancel",
        private_metadata=meta,
        blocks=blocks,
    ).to_dict()
