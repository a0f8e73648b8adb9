"""the quarterly error analysis: sessions, readings and their history

Revision ID: 0008
Revises: 0009
Create Date: 2026-12-01 13:05:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0008"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

S = sqlmodel.sql.sqltypes.AutoString
T = sqlmodel.sql.sqltypes.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "analysissession",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", S(length=32), nullable=False),
        sa.Column("decision_id", sa.Integer(), nullable=False),
        sa.Column("period_start", T(), nullable=False),
        sa.Column("period_end", T(), nullable=False),
        sa.Column("seed", sa.Integer(), nullable=False),
        sa.Column("failure_ids", sa.JSON(), nullable=False),
        sa.Column("batches_shown", sa.Integer(), nullable=False),
        sa.Column("created_by", S(length=32), nullable=False),
        sa.Column("created_at", T(), nullable=False),
        sa.Column("message_ts", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["decision_id"], ["decision.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("decision_id", "period_end", name="uq_analysis_period"),
    )
    with op.batch_alter_table("analysissession", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_analysissession_decision_id"), ["decision_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_analysissession_team_id"), ["team_id"], unique=False)

    op.create_table(
        "analysisreading",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", S(length=32), nullable=False),
        sa.Column("analysis_id", sa.Integer(), nullable=False),
        sa.Column("failure_id", sa.Integer(), nullable=False),
        sa.Column("category", S(length=16), nullable=True),
        sa.Column("note", S(), nullable=True),
        sa.Column("read_by", S(length=32), nullable=False),
        sa.Column("read_at", T(), nullable=False),
        sa.ForeignKeyConstraint(["analysis_id"], ["analysissession.id"]),
        sa.ForeignKeyConstraint(["failure_id"], ["failureexample.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("analysis_id", "failure_id", name="uq_analysis_reading"),
    )
    with op.batch_alter_table("analysisreading", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_analysisreading_analysis_id"), ["analysis_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_analysisreading_team_id"), ["team_id"], unique=False)

    op.create_table(
        "analysisreadinghistory",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", S(length=32), nullable=False),
        sa.Column("analysis_id", sa.Integer(), nullable=False),
        sa.Column("failure_id", sa.Integer(), nullable=False),
        sa.Column("read_by", S(length=32), nullable=False),
        sa.Column("old_category", S(length=16), nullable=True),
        sa.Column("category", S(length=16), nullable=True),
        sa.Column("note", S(), nullable=True),
        sa.Column("changed_at", T(), nullable=False),
        sa.ForeignKeyConstraint(["analysis_id"], ["analysissession.id"]),
        sa.ForeignKeyConstraint(["failure_id"], ["failureexample.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("analysisreadinghistory", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_analysisreadinghistory_analysis_id"), ["analysis_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_analysisreadinghistory_team_id"), ["team_id"], unique=False
        )


def downgrade() -> None:
    for table in ("analysisreadinghistory", "analysisreading", "analysissession"):
        op.drop_table(table)
