"""SQLModel tables. Every row carries the Slack ``team_id`` it belongs to.

Enum-valued columns are stored as plain strings (the values of the StrEnums in
``bot.domain``) so that migrations never have to alter a database enum type.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import JSON, Field, SQLModel

from bot.domain.failure_dedup import FailureSource, dedup_key
from bot.domain.lifecycle import ContextTestStatus, DecisionStatus, ReminderStatus


def utcnow() -> datetime:
    return datetime.now(UTC)


DEFAULT_REVIEW_CADENCE_DAYS = 90


class Decision(SQLModel, table=True):
    # A channel's decisions, and a thread's (each mention's lookup).
    __table_args__ = (sa.Index("ix_decision_thread", "team_id", "channel_id", "thread_ts"),)

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
    cost_overrides: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    """The facilitator's cost assumptions for this decision: {key: {low, high}} (see
    ``bot.domain.cost_assumptions``); empty means the defaults."""
    version: int = Field(default=1, sa_column_kwargs={"server_default": sa.text("1")})
    """Bumped by the database (triggers of migration 0010) on every write to what the decision's
    messages show: its own columns, bar the message bookkeeping, and the rows of its answers,
    owners, failures, tests, record and analyses. Renders are labelled with it."""


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
    __table_args__ = (
        # Deduplication: one failure per normalised text, and per external id, in a decision.
        sa.UniqueConstraint("decision_id", "dedup_key", name="uq_failure_dedup"),
        sa.UniqueConstraint("decision_id", "external_id", name="uq_failure_external_id"),
    )

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
    source: str = Field(default=FailureSource.SLACK, max_length=16)
    """Where it came from: slack, api or import."""
    external_id: str | None = Field(default=None, max_length=200)
    dedup_key: str = Field(default="", max_length=64)
    """``bot.domain.failure_dedup.dedup_key`` of the explanation and output or link."""


@sa.event.listens_for(FailureExample, "before_insert")
def _fill_dedup_key(mapper: Any, connection: Any, target: FailureExample) -> None:
    """Rows added through the ORM get their key too (the repository sets it on its own)."""
    if not target.dedup_key:
        target.dedup_key = dedup_key(target.explanation, target.output, target.permalink)


class ApiToken(SQLModel, table=True):
    """A workspace's token for the ingestion API; only its sha256 is stored."""

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=32, index=True)
    label: str = Field(max_length=80)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    created_by: str = Field(max_length=32)
    created_at: datetime = Field(default_factory=utcnow)
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None


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
    judgements: dict[str, str] = Field(default_factory=dict, sa_type=JSON)
    """Every teammate's judgement (user id -> knowledge or behavior); a change of mind replaces
    that person's. ``team_judgement`` / ``judged_by`` keep the latest."""
    error: str | None = None
    message_ts: str | None = Field(default=None, max_length=32)
    created_at: datetime = Field(default_factory=utcnow)
    completed_at: datetime | None = None


class AnalysisSession(SQLModel, table=True):
    """A quarterly error analysis: the team reads a review period's failures, 10 at a time."""

    __table_args__ = (sa.UniqueConstraint("decision_id", "period_end", name="uq_analysis_period"),)

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=32, index=True)
    decision_id: int = Field(foreign_key="decision.id", index=True)
    period_start: datetime
    period_end: datetime
    seed: int
    failure_ids: list[int] = Field(default_factory=list, sa_type=JSON)
    """The sample, in reading order (fixed when the session starts)."""
    batches_shown: int = 1
    created_by: str = Field(max_length=32)
    created_at: datetime = Field(default_factory=utcnow)
    message_ts: dict[str, str] = Field(default_factory=dict, sa_type=JSON)
    """ts of each batch's message, keyed by the batch number (from 0)."""


class AnalysisReading(SQLModel, table=True):
    """One failure as the team read it in an analysis: once per failure, the last reader wins."""

    __table_args__ = (sa.UniqueConstraint("analysis_id", "failure_id", name="uq_analysis_reading"),)

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=32, index=True)
    analysis_id: int = Field(foreign_key="analysissession.id", index=True)
    failure_id: int = Field(foreign_key="failureexample.id")
    category: str | None = Field(default=None, max_length=16)
    note: str | None = None
    read_by: str = Field(max_length=32)
    read_at: datetime = Field(default_factory=utcnow)


class AnalysisReadingHistory(SQLModel, table=True):
    """Every click and note of a reading: who set what, when, and what it was before."""

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=32, index=True)
    analysis_id: int = Field(foreign_key="analysissession.id", index=True)
    failure_id: int = Field(foreign_key="failureexample.id")
    read_by: str = Field(max_length=32)
    old_category: str | None = Field(default=None, max_length=16)
    category: str | None = Field(default=None, max_length=16)
    note: str | None = None
    changed_at: datetime = Field(default_factory=utcnow)


class DecisionRecord(SQLModel, table=True):
    """What a decision was made on, frozen when it was decided (``DecisionSnapshot`` JSON)."""

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=32, index=True)
    decision_id: int = Field(foreign_key="decision.id", unique=True)
    snapshot: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    created_at: datetime = Field(default_factory=utcnow)


class RecordAmendment(SQLModel, table=True):
    """A change of a decided decision's record: who, when, from, to, why. ``kind`` "outcome"
    (the outcome changed) or "costs" (the cost assumptions changed: from and to are the outcome
    then, ``reason`` says which assumptions changed from what to what)."""

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=32, index=True)
    decision_id: int = Field(foreign_key="decision.id", index=True)
    amended_by: str = Field(max_length=32)
    amended_at: datetime = Field(default_factory=utcnow)
    from_outcome: str = Field(max_length=16)
    to_outcome: str = Field(max_length=16)
    reason: str
    kind: str = Field(
        default="outcome", max_length=16, sa_column_kwargs={"server_default": "outcome"}
    )


class Workspace(SQLModel, table=True):
    """Which Enterprise Grid org a workspace belongs to (None outside one), as Slack's requests
    said: the sweep needs it to find an org-wide installation's token for a workspace."""

    team_id: str = Field(max_length=32, primary_key=True)
    enterprise_id: str | None = Field(default=None, max_length=32, index=True)
    seen_at: datetime = Field(default_factory=utcnow)


class MessageRender(SQLModel, table=True):
    """What was last shown in one of a decision's posted messages, and who may update it now.

    ``sent_version`` is the decision ``version`` the message was last rendered from; a render
    from an older version is dropped. ``leased_by``/``leased_until``: the one process (of any
    replica) updating the message now, so Slack applies its updates in version order."""

    __table_args__ = (
        sa.Index(
            "ix_messagerender_held",
            "leased_until",
            postgresql_where=sa.text("leased_by IS NOT NULL"),
            sqlite_where=sa.text("leased_by IS NOT NULL"),
        ),
    )

    decision_id: int = Field(foreign_key="decision.id", primary_key=True)
    message_key: str = Field(max_length=16, primary_key=True)
    team_id: str = Field(max_length=32, index=True)
    sent_version: int = 0
    leased_by: str | None = Field(default=None, max_length=64)
    leased_until: datetime | None = None
