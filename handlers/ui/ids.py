"""Action, block and callback ids. Payload values carry the decision id, so a message clicked
after a restart still works: handlers load everything else from storage."""

from __future__ import annotations

import re
from enum import StrEnum

SEPARATOR = "|"


class ActionId(StrEnum):
    ANSWER = "answer"
    SETTLE = "settle"
    ADD_FAILURES = "failures_add"
    REVIEW_FAILURES = "failures_review"
    CORRECT_FAILURE = "failure_correct"
    OWNER = "owner"
    LABELED_EXAMPLES = "labeled_examples"
    DECIDE = "decide"
    CONFIRM_DECIDE = "decide_confirm"
    CANCEL_DECIDE = "decide_cancel"
    ACCEPT = "verdict_accept"
    OVERRIDE = "verdict_override"
    RUN_CONTEXT_TEST = "context_test_run"
    JUDGE_CONTEXT_TEST = "context_test_judge"
    KEEP_SUMMARY = "summary_keep"
    EDIT_SUMMARY = "summary_edit"
    REVIEWED = "review_done"
    SNOOZE = "review_snooze"
    RERUN = "review_rerun"
    CADENCE = "review_cadence"
    COSTS = "verdict_costs"
    HOME_OPEN_THREAD = "home_open_thread"
    HOME_EXPORT = "home_export"
    HOME_LOG_FAILURE = "home_log_failure"
    HOME_RERUN = "home_rerun"
    START_ANALYSIS = "analysis_start"
    ANALYSIS_CATEGORY = "analysis_category"
    ANALYSIS_NOTE = "analysis_note"
    ANALYSIS_NEXT = "analysis_next"
    START_CONFIRMED = "start_confirmed"
    WITHDRAW_CONFIRMED = "withdraw_confirmed"
    DELETE_CONFIRMED = "delete_confirmed"
    CANCEL = "confirm_cancel"
    PICK_DECISION = "pick_decision"
    """A decision picked for a command that named none, when several were open."""
    WITHDRAW_ANSWER = "answer_withdraw"
    CLEAR_OWNER = "owner_clear"


class CallbackId(StrEnum):
    ADD_FAILURES = "failures_add"
    REVIEW_FAILURES = "failures_review"
    LABELED_EXAMPLES = "labeled_examples"
    OVERRIDE = "verdict_override"
    CONTEXT_TEST = "context_test"
    SUMMARY = "summary"
    LOG_FAILURE = "log_failure"
    """The message shortcut "Log AI failure" and the modal it opens."""
    COSTS = "costs"
    ANALYSIS_NOTE = "analysis_note"


class BlockId(StrEnum):
    """Prefixes of the block ids of bot messages (a block id may add ``|``-separated parts)."""

    ANSWER = "answer"
    FAILURES = "failures"
    OWNER = "owner"
    REVIEW = "review"
    CONTEXT_TEST = "context_test"
    SUMMARY = "summary"
    FAILURE = "failure"
    VERDICT = "verdict"
    ANALYSIS = "analysis"


class InputId(StrEnum):
    """block_id and action_id of modal inputs (the same string for both)."""

    PASTE = "paste"
    OUTPUT = "output"
    EXPLANATION = "explanation"
    COUNT = "count"
    CHOICE = "choice"
    REASON = "reason"
    TEST_QUESTION = "test_question"
    TEST_CONTEXT = "test_context"
    TEST_EXPECTED = "test_expected"
    SUMMARY = "summary"
    DECISION = "decision"
    COST = "cost"
    """Prefix of the Costs modal's inputs: ``cost|<assumption key>``."""
    NOTE = "note"


def action_id(action: ActionId, *suffix: object) -> str:
    """Action ids must be unique within a block, so buttons add a suffix."""
    return SEPARATOR.join([action, *map(str, suffix)])


def matcher(action: ActionId) -> re.Pattern[str]:
    return re.compile(rf"^{re.escape(action)}(\{SEPARATOR}.*)?$")


def pack(*parts: object) -> str:
    return SEPARATOR.join(map(str, parts))


def unpack(value: str, count: int) -> list[str]:
    parts = value.split(SEPARATOR, count - 1)
    if len(parts) != count:
        raise ValueError(f"malformed payload value {value!r}")
    return parts
