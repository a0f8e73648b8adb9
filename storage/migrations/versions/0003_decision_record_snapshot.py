"""the decision record: a snapshot frozen at the decision, and amendments (of its outcome or costs)

Revision ID: 0003
Revises: 0008
Create Date: 2026-12-01 13:20:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0003"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "decisionrecord",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("decision_id", sa.Integer(), nullable=False),
        sa.Column("snapshot", sa.JSON(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["decision_id"], ["decision.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("decision_id"),
    )
    with op.batch_alter_table("decisionrecord", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_decisionrecord_team_id"), ["team_id"], unique=False)

    op.create_table(
        "recordamendment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("decision_id", sa.Integer(), nullable=False),
        sa.Column("amended_by", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("amended_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("from_outcome", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("to_outcome", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column(
            "kind",
            sqlmodel.sql.sqltypes.AutoString(length=16),
            server_default="outcome",
            nullable=False,
        ),
        sa.ForeignKeyConstraint(["decision_id"], ["decision.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("recordamendment", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_recordamendment_decision_id"), ["decision_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_recordamendment_team_id"), ["team_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("recordamendment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_recordamendment_team_id"))
        batch_op.drop_index(batch_op.f("ix_recordamendment_decision_id"))
    op.drop_table("recordamendment")
    with op.batch_alter_table("decisionrecord", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_decisionrecord_team_id"))
    op.drop_table("decisionrecord")
