"""The messages of a decision thread: the root status message, one per question, the verdict."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    Option,
    SectionBlock,
    StaticSelectElement,
    UserSelectElement,
)

from bot.domain.questions import (
    ANALYSIS_TARGET,
    MIN_LABELED_EXAMPLES,
    OWNER_ROLE_LABELS,
    QUESTIONS_BY_KEY,
    REQUIRED_OWNER_ROLES,
    VERDICT_LABELS,
    OwnerRole,
    QuestionKey,
    Verdict,
)
from bot.domain.rule import CONDITION_LABELS, ConditionResult
from bot.domain.team_choice import TeamChoice, split_summary
from bot.services.assistance import JUDGEMENTS
from bot.services.state import LABELED_EXAMPLES, PROMPT_ENGINEERING, DecisionState
from handlers.ui.ids import ActionId, action_id, pack
from handlers.ui.mrkdwn import (
    BUTTON,
    HEADER,
    MESSAGE_BLOCKS,
    OPTION,
    SECTION_TEXT,
    fit,
    mention,
    mentions,
    safe,
    slack_date,
)
from storage.models import DecisionStatus


@dataclass(frozen=True)
class Message:
    text: str
    """Notification and screen-reader fallback."""
    blocks: list[dict[str, Any]]


def render(text: str, blocks: list[Block]) -> Message:
    if len(blocks) > MESSAGE_BLOCKS:
        raise ValueError(f"{len(blocks)} blocks; Slack allows {MESSAGE_BLOCKS} per message")
    return Message(text=fit(text, 3000), blocks=[block.to_dict() for block in blocks])


def md(text: str) -> MarkdownTextObject:
    return MarkdownTextObject(text=fit(text, SECTION_TEXT))


def section(text: str, **kwargs: Any) -> SectionBlock:
    return SectionBlock(text=md(text), **kwargs)


def context(text: str) -> ContextBlock:
    return ContextBlock(elements=[md(text)])


def button(text: str, action: str, value: str, style: str | None = None) -> ButtonElement:
    return ButtonElement(text=fit(text, BUTTON), action_id=action, value=value, style=style)


OPTION_LABELS: dict[str, dict[str, str]] = {
    key: {o.value: o.label for o in QUESTIONS_BY_KEY[QuestionKey(key)].options}
    for key in ("problem_type", "knowledge_change")
}
OPTION_LABELS[PROMPT_ENGINEERING] = {"yes": "Yes", "no": "Not yet"}

MARKS = {True: "✅", False: "❌", None: "❔"}

# Root message ------------------------------------------------------------------------------------


def _condition_line(result: ConditionResult) -> str:
    mark = MARKS[result.holds] if result.known else MARKS[None]
    return f"{mark} *{CONDITION_LABELS[result.condition]}*: {safe(result.why, 300)}"


def _progress(state: DecisionState) -> str:
    def mark(done: bool) -> str:
        return "✅" if done else "⬜"

    failures = state.failures.analysed
    owners = sum(1 for role in REQUIRED_OWNER_ROLES if state.owners.get(role))
    return "   ".join(
        [
            f"{mark(state.choices['problem_type'].value is not None)} Q1 problem type",
            f"{mark(state.choices['knowledge_change'].value is not None)} Q2 change rate",
            f"{mark(failures >= ANALYSIS_TARGET)} Q3 failures {failures}/{ANALYSIS_TARGET}",
            f"{mark(owners == 3 and state.labeled_examples is not None)} Q4 owners {owners}/3",
        ]
    )


def root_message(state: DecisionState) -> Message:
    decision = state.decision
    rec = state.recommendation
    blocks: list[Block] = [
        HeaderBlock(text=fit(f"RAG or fine-tuning? {decision.title}", HEADER)),
        section(
            f"{mention(decision.facilitator_id)} is facilitating decision #{state.id}. "
            "Anyone in this channel can answer the four questions in the thread: ragft applies "
            "the rule, *start with RAG unless all three conditions below hold*."
        ),
        context(_progress(state)),
        section("\n".join(_condition_line(c) for c in rec.conditions)),
    ]
    if decision.status == DecisionStatus.OPEN:
        blocks.append(
            section(
                f"*If you decided now:* {VERDICT_LABELS[rec.verdict]}",
                accessory=button(
                    "Decide", action_id(ActionId.DECIDE), str(state.id), style="primary"
                ),
            )
        )
        blocks.append(
            context("The facilitator or a workspace admin presses *Decide* when the team is ready.")
        )
    else:
        blocks.append(section(_decided_line(state)))
    return render(f"RAG or fine-tuning? {safe(decision.title, 200)}", blocks)


def _decided_line(state: DecisionState) -> str:
    decision = state.decision
    verdict = Verdict(decision.verdict) if decision.verdict else None
    label = VERDICT_LABELS[verdict] if verdict else "no verdict"
    line = f"*{str(decision.status).capitalize()}:* {label}"
    if decision.decided_at:
        line += f", by {mention(decision.decided_by)} on {slack_date(decision.decided_at)}"
    if decision.final_choice and decision.final_choice != decision.verdict:
        line += (
            f"\n*The team chose:* {VERDICT_LABELS[Verdict(decision.final_choice)]}. "
            f"_{safe(decision.final_choice_reason or '', 500)}_"
        )
    if decision.next_review_at:
        line += f"\n*Next review:* {slack_date(decision.next_review_at)}"
    return line


# Question messages -------------------------------------------------------------------------------


def _question_intro(key: QuestionKey) -> list[Block]:
    q = QUESTIONS_BY_KEY[key]
    return [section(f"*Q{q.number}. {q.title}*\n{q.prompt}"), context(q.guidance)]


def _votes_line(choice: TeamChoice, labels: dict[str, str]) -> str:
    if not choice.votes:
        return "_No answers yet._"
    return "\n".join(
        f"*{labels.get(value, value)}* ({len(users)}): {mentions(users)}"
        for value, users in choice.votes.items()
    )


def _team_line(choice: TeamChoice, labels: dict[str, str]) -> str:
    if choice.value is None:
        return "*Team answer:* unresolved (a tie counts as unknown)" if choice.tie else ""
    how = "settled by the facilitator" if choice.settled else "majority"
    return f"*Team answer:* {labels[choice.value]} ({how})"


def _choice_blocks(state: DecisionState, key: str, open_: bool) -> list[Block]:
    labels = OPTION_LABELS[key]
    choice = state.choices[key]
    blocks: list[Block] = []
    if open_:
        blocks.append(
            ActionsBlock(
                block_id=pack("answer", key),
                elements=[
                    button(
                        label, action_id(ActionId.ANSWER, key, value), pack(state.id, key, value)
                    )
                    for value, label in labels.items()
                ],
            )
        )
    lines = [_votes_line(choice, labels)]
    if split := split_summary(choice, labels):
        lines.append(f"⚠️ {split}")
    if team := _team_line(choice, labels):
        lines.append(team)
    settle = None
    if open_ and key != PROMPT_ENGINEERING and choice.votes:
        options = [
            Option(text=fit(label, OPTION), value=pack(state.id, key, value))
            for value, label in labels.items()
        ]
        options.append(Option(text="Let the majority decide", value=pack(state.id, key, "")))
        settle = StaticSelectElement(
            placeholder="Facilitator: settle it",
            action_id=action_id(ActionId.SETTLE, key),
            options=options,
        )
    blocks.append(section("\n".join(lines), accessory=settle))
    return blocks


def question_message(state: DecisionState, key: QuestionKey) -> Message:
    builders = {
        QuestionKey.PROBLEM_TYPE: _problem_type_blocks,
        QuestionKey.KNOWLEDGE_CHANGE: _knowledge_change_blocks,
        QuestionKey.FAILURES: _failures_blocks,
        QuestionKey.OWNERS: _owners_blocks,
    }
    q = QUESTIONS_BY_KEY[key]
    blocks = _question_intro(key) + builders[key](state)
    return render(f"Q{q.number}. {q.title}", blocks)


CONTEXT_TEST_EVIDENCE_SHOWN = 3


def _context_test_lines(state: DecisionState) -> list[str]:
    """Evidence from the perfect-context tests the bot ran, latest first."""
    lines = []
    for test in reversed(state.context_tests):
        if test.team_judgement in JUDGEMENTS:
            lines.append(
                f"🧪 Perfect-context test by {mention(test.judged_by)}: "
                f"*{JUDGEMENTS[test.team_judgement]}* "
                f"(“{safe(' '.join(test.question.split()), 80)}”)"
            )
        elif test.status == "done":
            lines.append(
                f"🧪 Perfect-context test from {mention(test.requested_by)} is waiting for the "
                "team's judgement in this thread."
            )
        elif test.status == "running":
            lines.append(f"🧪 Running a perfect-context test for {mention(test.requested_by)}…")
    return lines[:CONTEXT_TEST_EVIDENCE_SHOWN]


def _problem_type_blocks(state: DecisionState) -> list[Block]:
    open_ = state.is_open
    blocks = _choice_blocks(state, "problem_type", open_)
    evidence = _context_test_lines(state)
    if open_:
        blocks.append(
            section(
                "\n".join(
                    [
                        "*Not sure?* Give me a real user question and the missing context, and "
                        "I'll ask the model with and without it.",
                        *evidence,
                    ]
                ),
                accessory=button(
                    "Run the test for me", action_id(ActionId.RUN_CONTEXT_TEST), str(state.id)
                ),
            )
        )
    elif evidence:
        blocks.append(section("\n".join(evidence)))
    blocks.append(context("*Tried prompt engineering yet?* Behavior problems often yield to it."))
    blocks.extend(_choice_blocks(state, PROMPT_ENGINEERING, open_))
    return blocks


def _knowledge_change_blocks(state: DecisionState) -> list[Block]:
    return _choice_blocks(state, "knowledge_change", state.is_open)


def failure_tally(state: DecisionState) -> str:
    f = state.failures
    tally = f"*Knowledge* {f.knowledge} · *Behavior* {f.behavior} · *Unclear* {f.unclear}"
    needed = ANALYSIS_TARGET - f.analysed
    if needed > 0:
        return f"{tally}\n*{needed} more* to reach {ANALYSIS_TARGET} explained failures."
    return f"{tally}\nAnalysis complete: {f.analysed} failures reviewed."


def _failures_blocks(state: DecisionState) -> list[Block]:
    blocks: list[Block] = [section(failure_tally(state))]
    elements = [
        button("Add failures", action_id(ActionId.ADD_FAILURES), str(state.id), style="primary"),
        button("Review & correct", action_id(ActionId.REVIEW_FAILURES), str(state.id)),
    ]
    blocks.append(ActionsBlock(block_id="failures", elements=elements))
    blocks.append(
        context(
            "Or reply in this thread with `@ragft fail: why it failed | the output or a link`. "
            "Each one is categorised as it's saved; correct any category under *Review*."
        )
    )
    return blocks


def _owners_blocks(state: DecisionState) -> list[Block]:
    blocks: list[Block] = []
    for role in OwnerRole:
        owner = state.owners.get(role)
        required = role in REQUIRED_OWNER_ROLES
        if owner:
            shown = mention(owner)
        elif required:
            shown = "⚠️ *Nobody yet*: a gap for fine-tuning"
        else:
            shown = "_nobody (optional)_"
        picker = None
        if state.is_open:
            picker = UserSelectElement(
                placeholder="Pick an owner",
                action_id=action_id(ActionId.OWNER, role),
                initial_user=owner or None,
            )
        blocks.append(
            section(
                f"*{OWNER_ROLE_LABELS[role]}*\n{shown}",
                block_id=pack("owner", state.id, role),
                accessory=picker,
            )
        )
    if state.labeled_examples is None:
        count = "⚠️ *Not given yet*"
    else:
        enough = "" if state.labeled_examples >= MIN_LABELED_EXAMPLES else " (below 1,000)"
        count = f"{state.labeled_examples:,}{enough}, from {mention(state.labeled_examples_by)}"
    blocks.append(
        section(
            f"*High-quality labeled examples*\n{count}",
            accessory=button("Set the number", action_id(ActionId.LABELED_EXAMPLES), str(state.id))
            if state.is_open
            else None,
        )
    )
    return blocks


# Verdict -----------------------------------------------------------------------------------------


def verdict_message(state: DecisionState) -> Message:
    decision = state.decision
    rec = state.recommendation
    verdict = Verdict(decision.verdict or rec.verdict)
    reasons = "\n".join(f"• {safe(r.text, 400)}" for r in rec.reasons) or "• No answers yet."
    steps = "\n".join(f"{i}. {safe(s, 400)}" for i, s in enumerate(rec.next_steps, 1))
    costs = "\n".join(f"*{name}:* {amount}" for name, amount in state.costs.as_table_rows())
    blocks: list[Block] = [
        HeaderBlock(text=fit(f"Verdict: {VERDICT_LABELS[verdict]}", HEADER)),
        section(
            f"Decision #{state.id}, *{safe(decision.title, 200)}*, decided by "
            f"{mention(decision.decided_by)}."
        ),
        section("\n".join(_condition_line(c) for c in rec.conditions)),
        section(f"*Why*\n{reasons}"),
        section(f"*Next steps*\n{steps}"),
        section(f"*First-year cost*\n{costs}"),
        context(
            "Assumes 10,000 labeled examples at $2–$8 each, less what you have, and RAG at "
            "$2k–$5k a month. Training and hosting compute are not included."
        ),
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
                block_id="verdict",
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


QUESTION_KEYS = tuple(QuestionKey)
MESSAGE_KEYS = ("root", *QUESTION_KEYS, "verdict")
ANSWER_MESSAGE = {
    "problem_type": QuestionKey.PROBLEM_TYPE,
    PROMPT_ENGINEERING: QuestionKey.PROBLEM_TYPE,
    "knowledge_change": QuestionKey.KNOWLEDGE_CHANGE,
    LABELED_EXAMPLES: QuestionKey.OWNERS,
}
