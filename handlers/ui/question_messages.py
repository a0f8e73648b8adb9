"""The question messages of a decision thread, one builder per question
(``QUESTION_BUILDERS``): adding a question means one builder here."""

from __future__ import annotations

from collections.abc import Callable

from bot.domain.questions import (
    ANALYSIS_TARGET,
    CHOICE_LABELS,
    MIN_LABELED_EXAMPLES,
    OWNER_ROLE_LABELS,
    QUESTIONS_BY_KEY,
    REQUIRED_OWNER_ROLES,
    AnswerKey,
    MessageKey,
    OwnerRole,
    QuestionKey,
)
from bot.domain.team_choice import TeamChoice, split_summary
from bot.services.state import DecisionState
from handlers.ui.blocks import (
    BlockDict,
    Message,
    actions,
    button,
    context,
    option,
    render,
    section,
    static_select,
    user_select,
)
from handlers.ui.ids import ActionId, BlockId, action_id, pack
from handlers.ui.judgements import judgement_lines
from handlers.ui.mrkdwn import OPTION, SECTION_TEXT, fit, mention, mentions, safe


def _question_intro(key: QuestionKey) -> list[BlockDict]:
    q = QUESTIONS_BY_KEY[key]
    return [section(f"*Q{q.number}. {q.title}*\n{q.prompt}"), context(q.guidance)]


def _votes_line(choice: TeamChoice, labels: dict[str, str]) -> str:
    if not choice.votes:
        return "_No answers yet._"
    share = (SECTION_TEXT - 400) // len(choice.votes) - 30  # each line fits, and the rest
    return "\n".join(
        f"*{labels.get(value, value)}* ({len(users)}): {mentions(users, chars=share)}"
        for value, users in choice.votes.items()
    )


def _team_line(choice: TeamChoice, labels: dict[str, str]) -> str:
    if choice.value is None:
        return "*Team answer:* unresolved (a tie counts as unknown)" if choice.tie else ""
    how = "settled by the facilitator" if choice.settled else "majority"
    return f"*Team answer:* {labels[choice.value]} ({how})"


def _choice_blocks(state: DecisionState, key: str, open_: bool) -> list[BlockDict]:
    labels = CHOICE_LABELS[AnswerKey(key)]
    choice = state.choices[AnswerKey(key)]
    blocks: list[BlockDict] = []
    if open_:
        elements = [
            button(label, action_id(ActionId.ANSWER, key, value), pack(state.id, key, value))
            for value, label in labels.items()
        ]
        if choice.votes:  # undo: only the clicker's own answer goes
            withdraw = action_id(ActionId.WITHDRAW_ANSWER, key)
            elements.append(button("Withdraw my answer", withdraw, pack(state.id, key)))
        blocks.append(actions(pack(BlockId.ANSWER, key), elements))
    lines = [_votes_line(choice, labels)]
    if split := split_summary(choice, labels):
        # Once decided, nobody can talk it through here any more: the split is the record.
        lines.append(f"⚠️ {split}" if open_ else f"⚠️ {split.removesuffix(' Talk it through.')}")
    if team := _team_line(choice, labels):
        lines.append(team)
    settle = None
    if open_ and key != AnswerKey.PROMPT_ENGINEERING and choice.votes:
        options = [
            option(fit(label, OPTION), pack(state.id, key, value))
            for value, label in labels.items()
        ]
        options.append(option("Let the majority decide", pack(state.id, key, "")))
        settle = static_select("Facilitator: settle it", action_id(ActionId.SETTLE, key), options)
    blocks.append(section("\n".join(lines), accessory=settle))
    return blocks


def question_message(state: DecisionState, key: QuestionKey | MessageKey) -> Message:
    question = QuestionKey(key)
    q = QUESTIONS_BY_KEY[question]
    blocks = _question_intro(question) + QUESTION_BUILDERS[question](state)
    return render(f"Q{q.number}. {q.title}", blocks)


CONTEXT_TEST_EVIDENCE_SHOWN = 3


def _context_test_lines(state: DecisionState) -> list[str]:
    """Evidence from the perfect-context tests the bot ran, latest first."""
    lines = []
    for test in reversed(state.context_tests):
        if judged := judgement_lines(test):
            who, lean = judged
            lines.append(
                f"🧪 Perfect-context test (“{safe(' '.join(test.question.split()), 80)}”): "
                f"{who}. {lean}"
            )
        elif test.status == "done":
            lines.append(
                f"🧪 Perfect-context test from {mention(test.requested_by)} is waiting for the "
                "team's judgement in this thread."
            )
        elif test.status == "running":
            lines.append(f"🧪 Running a perfect-context test for {mention(test.requested_by)}…")
    return lines[:CONTEXT_TEST_EVIDENCE_SHOWN]


def _problem_type_blocks(state: DecisionState) -> list[BlockDict]:
    open_ = state.is_open
    blocks = _choice_blocks(state, AnswerKey.PROBLEM_TYPE, open_)
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
    blocks.extend(_choice_blocks(state, AnswerKey.PROMPT_ENGINEERING, open_))
    return blocks


def _knowledge_change_blocks(state: DecisionState) -> list[BlockDict]:
    return _choice_blocks(state, AnswerKey.KNOWLEDGE_CHANGE, state.is_open)


def failure_tally(state: DecisionState) -> str:
    """Explained failures (knowledge plus behavior), with unclear ones apart: they count toward
    the 20 analysed, never as explained."""
    f = state.failures
    explained = f.knowledge + f.behavior
    lines = [
        f"*Explained:* {explained} (*Knowledge* {f.knowledge} · *Behavior* {f.behavior})",
        f"*Unclear:* {f.unclear}, counted toward the {ANALYSIS_TARGET} analysed but not as "
        "explained",
    ]
    if f.analysed >= ANALYSIS_TARGET:
        status = f"Analysis complete: {f.analysed} failures analysed."
    else:
        status = f"{f.analysed} of {ANALYSIS_TARGET} failures analysed."
    if explained < ANALYSIS_TARGET:
        status += (
            f" *{ANALYSIS_TARGET - explained} more* to reach {ANALYSIS_TARGET} explained failures."
        )
    lines.append(status)
    return "\n".join(lines)


def _failures_blocks(state: DecisionState) -> list[BlockDict]:
    blocks: list[BlockDict] = [section(failure_tally(state))]
    if state.since_decision is not None:  # the tally above is the one the decision was made on
        blocks.append(
            context(
                f"At the decision. *Since the decision:* {state.since_decision.analysed} more "
                "logged (see `/ragft status`)."
            )
        )
    elements = [
        button("Add failures", action_id(ActionId.ADD_FAILURES), str(state.id), style="primary"),
        button("Review & correct", action_id(ActionId.REVIEW_FAILURES), str(state.id)),
    ]
    blocks.append(actions(BlockId.FAILURES, elements))
    blocks.append(
        context(
            "Or reply in this thread with `@ragft fail: why it failed | the output or a link`. "
            "Each one is categorised as it's saved; correct any category under *Review*."
        )
    )
    return blocks


def _owners_blocks(state: DecisionState) -> list[BlockDict]:
    blocks: list[BlockDict] = []
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
            picker = user_select("Pick an owner", action_id(ActionId.OWNER, role), owner or None)
        blocks.append(
            section(
                f"*{OWNER_ROLE_LABELS[role]}*\n{shown}",
                block_id=pack(BlockId.OWNER, state.id, role),
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


QUESTION_BUILDERS: dict[QuestionKey, Callable[[DecisionState], list[BlockDict]]] = {
    QuestionKey.PROBLEM_TYPE: _problem_type_blocks,
    QuestionKey.KNOWLEDGE_CHANGE: _knowledge_change_blocks,
    QuestionKey.FAILURES: _failures_blocks,
    QuestionKey.OWNERS: _owners_blocks,
}
"""The blocks below each question's intro (from the domain's registry)."""


def _counts(state: DecisionState) -> tuple[int, int]:
    return state.failures.analysed, sum(1 for r in REQUIRED_OWNER_ROLES if state.owners.get(r))


QUESTION_PROGRESS: dict[QuestionKey, Callable[[DecisionState], tuple[bool, str]]] = {
    QuestionKey.PROBLEM_TYPE: lambda s: (
        s.choices[AnswerKey.PROBLEM_TYPE].value is not None,
        "problem type",
    ),
    QuestionKey.KNOWLEDGE_CHANGE: lambda s: (
        s.choices[AnswerKey.KNOWLEDGE_CHANGE].value is not None,
        "change rate",
    ),
    QuestionKey.FAILURES: lambda s: (
        _counts(s)[0] >= ANALYSIS_TARGET,
        f"failures {_counts(s)[0]}/{ANALYSIS_TARGET}",
    ),
    QuestionKey.OWNERS: lambda s: (
        _counts(s)[1] == len(REQUIRED_OWNER_ROLES) and s.labeled_examples is not None,
        f"owners {_counts(s)[1]}/{len(REQUIRED_OWNER_ROLES)}",
    ),
}
"""Each question's line in the root message's progress: (done, what it says)."""
