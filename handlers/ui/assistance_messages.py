"""Messages and modals for the model-assisted steps. Model output is escaped like user text."""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import ActionsBlock, Block, SectionBlock

from bot.domain.questions import FAILURE_CATEGORY_LABELS, FailureCategory
from bot.services.assistance import JUDGEMENTS, SETUP_HINT
from handlers.ui.blocks import Message, button, context, md, render, section
from handlers.ui.decision_modals import metadata, modal_view, text_input
from handlers.ui.ids import ActionId, BlockId, CallbackId, InputId, action_id, pack
from handlers.ui.judgements import judgement_lines
from handlers.ui.mrkdwn import SECTION_FIELD, mention, safe
from storage.models import ContextTest, Decision

NO_KEY_TEST = (
    "I can run the perfect-context test for you once a model is configured: "
    + SETUP_HINT
    + " Until then, run it by hand: paste the missing information into the prompt yourself, "
    "ask a real question, and answer Q1 with what you saw."
)
NO_KEY_SUMMARY = (
    "I can draft the record's *Context* paragraph from this thread's discussion once a model is "
    "configured: " + SETUP_HINT + " Until then, you can write it yourself."
)


def usage_line(decision: Decision) -> str | None:
    if not decision.prompt_tokens and not decision.completion_tokens:
        return None
    total = decision.prompt_tokens + decision.completion_tokens
    return (
        f"*Model usage:* {total:,} tokens ({decision.prompt_tokens:,} prompt, "
        f"{decision.completion_tokens:,} completion)"
    )


# Working and result lines for categorising -------------------------------------------------------


def categorising_text(count: int, user_id: str) -> str:
    plural = "s" if count != 1 else ""
    return f"⏳ Categorising {count} failure{plural} from {mention(user_id)} with the model…"


def categorised_text(
    categories: list[FailureCategory], offline: int, user_id: str, reason: str | None = None
) -> str:
    counts = {label: 0 for label in FAILURE_CATEGORY_LABELS.values()}
    for category in categories:
        counts[FAILURE_CATEGORY_LABELS[category]] += 1
    tally = ", ".join(f"{n} {label.lower()}" for label, n in counts.items() if n)
    plural = "s" if len(categories) != 1 else ""
    text = f"🤖 Categorised {len(categories)} failure{plural} from {mention(user_id)}: {tally}."
    if offline:
        text += (
            f" The model didn't give a usable answer for {offline} of them, so ragft's "
            "built-in rules categorised those."
        )
    text += " The reasons are under *Review & correct* on Q3; a correction always wins."
    return text


# The perfect-context test ------------------------------------------------------------------------


def context_test_modal(decision_id: int, title: str, channel_id: str) -> dict[str, Any]:
    blocks: list[Block] = [
        section(
            f"The perfect-context test for *{safe(title, 200)}*: I ask the model your question "
            "twice, without and with the missing information, and post both answers in the "
            "thread for the team to judge."
        ),
        text_input(
            InputId.TEST_QUESTION,
            "A real user question",
            multiline=True,
            optional=False,
            placeholder="e.g. Can I get a refund on the annual plan after 20 days?",
            max_length=2000,
        ),
        text_input(
            InputId.TEST_CONTEXT,
            "The missing context, pasted in",
            multiline=True,
            optional=False,
            hint="The document, policy or data the model would need to answer right.",
            max_length=3000,
        ),
        text_input(
            InputId.TEST_EXPECTED,
            "What a right answer must contain",
            multiline=True,
            optional=False,
            placeholder="e.g. refunds within 30 days, prorated, via the billing page",
            max_length=1000,
        ),
        context("Only these three fields are sent to the model."),
    ]
    return modal_view(
        CallbackId.CONTEXT_TEST,
        "Perfect-context test",
        blocks,
        metadata(decision_id, channel_id),
        "Run it",
    )


def _test_header(test: ContextTest) -> list[Block]:
    return [
        section(
            f"🧪 *Perfect-context test* from {mention(test.requested_by)}\n"
            f"*Question:* {safe(test.question, 1000)}\n"
            f"*A right answer must contain:* {safe(test.expected, 800)}"
        )
    ]


def context_test_running(test: ContextTest) -> Message:
    blocks = [
        *_test_header(test),
        context("⏳ Working… asking the model twice, without and with the context."),
    ]
    return render("⏳ Running the perfect-context test…", blocks)


def context_test_failed(test: ContextTest, reason: str) -> Message:
    blocks = [
        *_test_header(test),
        section(
            f"⚠️ The test couldn't run: {safe(reason, 300)}. Nothing was recorded. Try again "
            "with *Run the test for me* on Q1, or run the test by hand."
        ),
    ]
    return render("⚠️ The perfect-context test couldn't run", blocks)


def context_test_result(test: ContextTest, decision_open: bool) -> Message:
    assert test.id is not None
    without = safe(test.answer_without or "", SECTION_FIELD - 40)
    with_ = safe(test.answer_with or "", SECTION_FIELD - 40)
    blocks: list[Block] = [
        *_test_header(test),
        SectionBlock(
            fields=[md(f"*Without the context*\n{without}"), md(f"*With the context*\n{with_}")]
        ),
    ]
    if test.model_judgement in JUDGEMENTS:
        rationale = f" {safe(test.model_rationale, 300)}" if test.model_rationale else ""
        blocks.append(
            context(
                f"🤖 The model's own grading suggests *{JUDGEMENTS[test.model_judgement]}*."
                f"{rationale} It's a suggestion: the team judges."
            )
        )
    if judged := judgement_lines(test):
        who, lean = judged
        blocks.append(
            section(f"✅ *Judged:* {who}\n{lean} Each judgement is recorded as evidence on Q1.")
        )
    if decision_open:
        blocks.append(
            section(
                "*Is the answer with the context right?* Your judgement counts as your answer "
                "to Q1."
            )
        )
        blocks.append(
            ActionsBlock(
                block_id=pack(BlockId.CONTEXT_TEST, test.id),
                elements=[
                    button(
                        "Right with context",
                        action_id(ActionId.JUDGE_CONTEXT_TEST, "knowledge"),
                        pack(test.id, "knowledge"),
                        style="primary",
                    ),
                    button(
                        "Still wrong",
                        action_id(ActionId.JUDGE_CONTEXT_TEST, "behavior"),
                        pack(test.id, "behavior"),
                    ),
                ],
            )
        )
    return render("🧪 Perfect-context test: both answers are in", blocks)


# The record's Context paragraph ------------------------------------------------------------------


def summary_working() -> Message:
    return render(
        "⏳ Drafting the Context paragraph…",
        [
            context(
                "⏳ Working… drafting the *Context* paragraph for the decision record from this "
                "thread's discussion."
            )
        ],
    )


def summary_drafted(facilitator_id: str) -> Message:
    text = (
        f"📝 Drafted the *Context* paragraph for the decision record. {mention(facilitator_id)} "
        "can keep or edit it before it goes into the export."
    )
    return render("📝 Drafted the Context paragraph", [context(text)])


def summary_failed(facilitator_id: str, reason: str) -> Message:
    text = (
        f"⚠️ Couldn't draft the *Context* paragraph: {safe(reason, 300)}. "
        f"{mention(facilitator_id)} can write it instead."
    )
    return render("⚠️ Couldn't draft the Context paragraph", [context(text)])


def summary_draft(decision_id: int, draft: str) -> Message:
    quoted = "\n".join(f">{line}" for line in safe(draft, 2500).splitlines() if line.strip())
    blocks: list[Block] = [
        section(f"*Draft Context paragraph for decision #{decision_id}'s record*\n{quoted}"),
        context("Drafted by the model from the thread's messages. Keep it or edit it first."),
        ActionsBlock(
            block_id=pack(BlockId.SUMMARY, decision_id),
            elements=[
                button(
                    "Keep", action_id(ActionId.KEEP_SUMMARY), pack(decision_id, draft), "primary"
                ),
                button("Edit", action_id(ActionId.EDIT_SUMMARY), pack(decision_id, draft)),
            ],
        ),
    ]
    return render("Draft Context paragraph for the decision record", blocks)


def summary_write_yourself(decision_id: int, note: str) -> Message:
    blocks: list[Block] = [
        section(note),
        ActionsBlock(
            block_id=pack(BlockId.SUMMARY, decision_id),
            elements=[
                button(
                    "Write the Context paragraph",
                    action_id(ActionId.EDIT_SUMMARY),
                    pack(decision_id, ""),
                )
            ],
        ),
    ]
    return render("The decision record's Context paragraph", blocks)


def summary_saved(decision_id: int) -> str:
    return (
        f"✅ Saved the *Context* paragraph to decision #{decision_id}'s record. "
        f"`/ragft export {decision_id}` includes it."
    )


def summary_modal(decision_id: int, initial: str, channel_id: str) -> dict[str, Any]:
    blocks: list[Block] = [
        text_input(
            InputId.SUMMARY,
            "Context",
            multiline=True,
            optional=False,
            initial=initial or None,
            hint="What the team discussed: the problem, the evidence and the concerns.",
            max_length=3000,
        )
    ]
    return modal_view(
        CallbackId.SUMMARY, "Context paragraph", blocks, metadata(decision_id, channel_id), "Save"
    )
