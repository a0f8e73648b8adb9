"""The states a decision, a reminder and a perfect-context test move through, and the kinds of
reminder. Stored as plain strings (their values)."""

from __future__ import annotations

from enum import StrEnum


class DecisionStatus(StrEnum):
    OPEN = "open"
    DECIDED = "decided"
    SUPERSEDED = "superseded"
    WITHDRAWN = "withdrawn"
    ARCHIVED = "archived"


class ReminderKind(StrEnum):
    QUARTERLY_REVIEW = "quarterly_review"
    REVISIT = "revisit"
    STALLED = "stalled"
    """An open decision with no activity for a week: one reminder to its facilitator."""
    NOT_READY_FOLLOW_UP = "not_ready_follow_up"
    """Decide said "not ready": a follow-up for the facilitator 14 days later."""
    VERDICT = "verdict"
    """The verdict message, delivered through the sweep when posting it failed (an outbox)."""


KIND_APPLIES_TO: dict[ReminderKind, frozenset[DecisionStatus]] = {
    ReminderKind.QUARTERLY_REVIEW: frozenset({DecisionStatus.DECIDED}),
    ReminderKind.REVISIT: frozenset({DecisionStatus.DECIDED, DecisionStatus.OPEN}),
    # OPEN: a decision the rule called not ready hears once 20 failures are explained.
    ReminderKind.STALLED: frozenset({DecisionStatus.OPEN}),
    ReminderKind.NOT_READY_FOLLOW_UP: frozenset({DecisionStatus.OPEN}),
    ReminderKind.VERDICT: frozenset({DecisionStatus.DECIDED, DecisionStatus.SUPERSEDED}),
}
"""The decision states in which a reminder of each kind is still wanted; otherwise it is
cancelled when it comes due."""


class ReminderStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"
    CANCELLED = "cancelled"


class ContextTestStatus(StrEnum):
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
