"""The states a decision, a reminder and a perfect-context test move through, and the kinds of
reminder. Stored as plain strings (their values)."""

from __future__ import annotations

from enum import StrEnum


class DecisionStatus(StrEnum):
    OPEN = "open"
    DECIDED = "decided"
    SUPERSEDED = "superseded"
    ARCHIVED = "archived"


class ReminderKind(StrEnum):
    QUARTERLY_REVIEW = "quarterly_review"
    REVISIT = "revisit"


class ReminderStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"
    CANCELLED = "cancelled"


class ContextTestStatus(StrEnum):
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
