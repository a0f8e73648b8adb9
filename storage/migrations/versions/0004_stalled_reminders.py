"""stalled reminders for open decisions, and every perfect-context judgement

Revision ID: 0004
Revises: 0007

Open decisions get the stalled check that new ones get when they start (due a week after their
last answer, owner or failure, or now if that has passed). Perfect-context tests keep every
teammate's judgement (user id -> judgement), not only the latest; the latest one so far is
carried over.
"""

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0004"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WEEK = timedelta(days=7)


def _aware(moment: datetime | str | None) -> datetime | None:
    if moment is None:
        return None
    if isinstance(moment, str):  # SQLite hands raw SQL's datetimes back as text
        moment = datetime.fromisoformat(moment)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def upgrade() -> None:
    with op.batch_alter_table("contexttest", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("judgements", sa.JSON(), nullable=False, server_default=sa.text("'{}'"))
        )
    bind = op.get_bind()
    tests = sa.table(
        "contexttest",
        sa.column("id", sa.Integer),
        sa.column("team_judgement", sa.String),
        sa.column("judged_by", sa.String),
        sa.column("judgements", sa.JSON),
    )
    judged = bind.execute(
        sa.select(tests.c.id, tests.c.team_judgement, tests.c.judged_by).where(
            tests.c.team_judgement.is_not(None), tests.c.judged_by.is_not(None)
        )
    ).all()
    for test_id, judgement, judge in judged:
        bind.execute(
            tests.update().where(tests.c.id == test_id).values(judgements={judge: judgement})
        )

    now = datetime.now(UTC)
    decisions = bind.execute(
        sa.text("SELECT id, team_id, created_at FROM decision WHERE status = 'open'")
    ).all()
    reminders = sa.table(
        "reminder",
        sa.column("team_id", sa.String),
        sa.column("decision_id", sa.Integer),
        sa.column("kind", sa.String),
        sa.column("due_at", sqlmodel.sql.sqltypes.UTCDateTime()),
        sa.column("status", sa.String),
        sa.column("attempts", sa.Integer),
        sa.column("payload", sa.JSON),
    )
    for decision_id, team_id, created_at in decisions:
        exists = bind.execute(
            sa.text(
                "SELECT 1 FROM reminder WHERE decision_id = :d AND kind = 'stalled' "
                "AND status = 'pending'"
            ),
            {"d": decision_id},
        ).first()
        if exists:
            continue
        last = _aware(created_at) or now
        for table, column in (
            ("answer", "updated_at"),
            ("ownerassignment", "assigned_at"),
            ("failureexample", "logged_at"),
        ):
            value = bind.execute(
                sa.text(f"SELECT MAX({column}) FROM {table} WHERE decision_id = :d"),
                {"d": decision_id},
            ).scalar()
            if value is not None:
                last = max(last, _aware(value) or last)
        bind.execute(
            reminders.insert().values(
                team_id=team_id,
                decision_id=decision_id,
                kind="stalled",
                due_at=max(last + WEEK, now),
                status="pending",
                attempts=0,
                payload={},
            )
        )


def downgrade() -> None:
    op.execute("DELETE FROM reminder WHERE kind = 'stalled'")
    with op.batch_alter_table("contexttest", schema=None) as batch_op:
        batch_op.drop_column("judgements")
