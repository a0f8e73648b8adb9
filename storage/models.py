"""SQLModel tables. Every row carries the Slack ``team_id`` it belongs to.

Enum-valued columns are stored as plain strings (the values of the StrEnums in
``bot.domain``) so that migrations never have to alter a database enum type.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import JSON, Field, SQLModel

from bot.domain.lifecycle import ContextTestStatus, DecisionStatus, ReminderStatus


def utcnow() -> datetime:
    return datetime.now(UTC)


DEFAULT_REVIEW_CADENCE_DAYS = 90


class Decision(SQLModel, table=True):
    __table_args__ = (sa.Index("ix_decision_team_channel", "team_id", "channel_id"),)

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=32, index=True)
    channel_id: str = Field(max_length=32)
    thread_ts: str | None = Field(default=None, max_length=32)
    """The ts of the root message; the questions live in its thread."""
    title: str
    facilitator_id: str = Field(max_length=32)
    status: str = Field(default=DecisionStatus.OPEN, max_length=16)
    verdict: str | None = Field(default=None, max_length=16)
    final_choice: str | None = Field(default=None, max_length=16)
    """The facilitator's choice when it differs from the verdict."""
    final_choice_reason: str | None = None
    decided_by: str | None = Field(default=None, max_length=32)
    created_at: datetime = Field(default_factory=utcnow)
    decided_at: datetime | None = None
    review_cadence_days: int = DEFAULT_REVIEW_CADENCE_DAYS
    next_review_at: datetime | None = None
    supersedes_id: int | None = Field(default=None, foreign_key="decision.id")
    settled_problem_type: str | None = Field(default=None, max_length=16)
    settled_knowledge_change: str | None = Field(default=None, max_length=16)
    message_ts: dict[str, str] = Field(default_factory=dict, sa_type=JSON)
    """ts of each message the bot posted for this decision, keyed by what it shows."""
    context_summary: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    last_reviewed_at: datetime | None = None
    last_reviewed_by: str | None = Field(default=None, max_length=32)
    nudge_evidence: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    """The evidence behind the last revisit nudge, so a nudge fires once per change."""


class Answer(SQLModel, table=True):
    """One current answer per (decision, question, user); the latest answer wins."""

    __table_args__ = (
        sa.UniqueConstraint("decision_id", "question", "user_id", name="uq_answer_user"),
    )

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=32, index=True)
    decision_id: int = Field(foreign_key="decision.id", index=True)
    question: str = Field(max_length=32)
    user_id: str = Field(max_length=32)
    value: str
    updated_at: datetime = Field(default_factory=utcnow)


class AnswerAudit(SQLModel, table=True):
    """Every change to an answer: who changed what, and when."""

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=32, index=True)
    decision_id: int = Field(foreign_key="decision.id", index=True)
    question: str = Field(max_length=32)
    user_id: str = Field(max_length=32)
    old_value: str | None = None
    new_value: str | None = None
    changed_at: datetime = Field(default_factory=utcnow)


class OwnerAssignment(SQLModel, table=True):
    __table_args__ = (sa.UniqueConstraint("decision_id", "role", name="uq_owner_role"),)

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=32, index=True)
    decision_id: int = Field(foreign_key="decision.id", index=True)
    role: str = Field(max_length=32)
    user_id: str | None = Field(default=None, max_length=32)
    assigned_by: str = Field(max_length=32)
    assigned_at: datetime = Field(default_factory=utcnow)


class FailureExample(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=32, index=True)
    decision_id: int = Field(foreign_key="decision.id", index=True)
    logged_by: str = Field(max_length=32)
    output: str | None = None
    permalink: str | None = None
    explanation: str
    category: str = Field(max_length=16)
    category_source: str = Field(max_length=16)
    rationale: str | None = None
    corrected_by: str | None = Field(default=None, max_length=32)
    logged_at: datetime = Field(default_factory=utcnow)


class Reminder(SQLModel, table=True):
    __table_args__ = (
        sa.Index("ix_reminder_status_due", "status", "due_at"),
        # At most one pending reminder of each kind per decision: scheduling is an upsert, and
        # two sweepers can never hold two copies of the same review.
        sa.Index(
            "uq_reminder_pending",
            "decision_id",
            "kind",
            unique=True,
            sqlite_where=sa.text("status = 'pending'"),
            postgresql_where=sa.text("status = 'pending'"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=32, index=True)
    decision_id: int = Field(foreign_key="decision.id", index=True)
    kind: str = Field(max_length=32)
    due_at: datetime
    status: str = Field(default=ReminderStatus.PENDING, max_length=16)
    claimed_by: str | None = Field(default=None, max_length=64)
    claimed_at: datetime | None = None
    attempts: int = 0
    last_error: str | None = None
    sent_at: datetime | None = None
    payload: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)


class ProcessedEvent(SQLModel, table=True):
    """Slack event ids already handled, so a retried delivery is processed once."""

    team_id: str = Field(max_length=32, primary_key=True)
    event_id: str = Field(max_length=64, primary_key=True)
    received_at: datetime = Field(default_factory=utcnow)


class ContextTest(SQLModel, table=True):
    """The perfect-context test, run by the bot: evidence for Q1."""

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=32, index=True)
    decision_id: int = Field(foreign_key="decision.id", index=True)
    requested_by: str = Field(max_length=32)
    question: str
    context: str
    expected: str
    status: str = Field(default=ContextTestStatus.RUNNING, max_length=16)
    answer_without: str | None = None
    answer_with: str | None = None
    model_judgement: str | None = Field(default=None, max_length=16)
    """The model's suggestion: knowledge (right with context) or behavior (still wrong)."""
    model_rationale: str | None = None
    team_judgement: str | None = Field(default=None, max_length=16)
    judged_by: str | None = Field(default=None, max_length=32)
    error: str | None = None
    message_ts: str | None = Field(default=None, max_length=32)
    created_at: datetime = Field(default_factory=utcnow)
    completed_at: datetime | None = None


class Workspace(SQLModel, table=True):
    """Which Enterprise Grid org a workspace belongs to (None outside one), as Slack's requests
    said: the sweep needs it to find an org-wide installation's token for a workspace."""

    team_id: str = Field(max_length=32, primary_key=True)
    enterprise_id: str | None = Field(default=None, max_length=32, index=True)
    seen_at: datetime = Field(default_factory=utcnow)
