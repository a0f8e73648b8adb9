"""decision cost overrides: the facilitator's cost assumptions per decision

Revision ID: 0009
Revises: 0002
Create Date: 2026-12-01 13:10:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A plain ADD COLUMN: batch mode would rebuild the decision table on SQLite, which fails once
    # other tables' rows point at it. Existing decisions keep the defaults.
    op.add_column(
        "decision",
        sa.Column("cost_overrides", sa.JSON(), nullable=False, server_default=sa.text("'{}'")),
    )


def downgrade() -> None:
    with op.batch_alter_table("decision", schema=None) as batch_op:
        batch_op.drop_column("cost_overrides")
