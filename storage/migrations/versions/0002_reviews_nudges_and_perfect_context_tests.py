"""reviews, nudges and perfect-context tests

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 22:32:59.341752

"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "contexttest",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("decision_id", sa.Integer(), nullable=False),
        sa.Column("requested_by", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("question", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("context", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("expected", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("answer_without", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("answer_with", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("model_judgement", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
        sa.Column("model_rationale", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("team_judgement", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
        sa.Column("judged_by", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("error", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("message_ts", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("completed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["decision_id"],
            ["decision.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("contexttest", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_contexttest_decision_id"), ["decision_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_contexttest_team_id"), ["team_id"], unique=False)

    with op.batch_alter_table("decision", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("last_reviewed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
        )
        batch_op.add_column(
            sa.Column(
                "last_reviewed_by", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True
            )
        )
        batch_op.add_column(
            # Existing decisions get empty evidence; without a default the upgrade would fail.
            sa.Column("nudge_evidence", sa.JSON(), nullable=False, server_default=sa.text("'{}'"))
        )

    with op.batch_alter_table("reminder", schema=None) as batch_op:
        batch_op.create_index(
            "uq_reminder_pending",
            ["decision_id", "kind"],
            unique=True,
            sqlite_where=sa.text("status = 'pending'"),
            postgresql_where=sa.text("status = 'pending'"),
        )


def downgrade() -> None:
    with op.batch_alter_table("reminder", schema=None) as batch_op:
        batch_op.drop_index("uq_reminder_pending")

    with op.batch_alter_table("decision", schema=None) as batch_op:
        batch_op.drop_column("nudge_evidence")
        batch_op.drop_column("last_reviewed_by")
        batch_op.drop_column("last_reviewed_at")

    with op.batch_alter_table("contexttest", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contexttest_team_id"))
        batch_op.drop_index(batch_op.f("ix_contexttest_decision_id"))

    op.drop_table("contexttest")
