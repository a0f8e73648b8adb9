"""abandoned render leases: an index on the leases still held

A running process looks every 30 s for messages whose lease ended without being handed back
(its process died mid-update). Leases are handed back after each update, so only a few rows
hold one at any time; a partial index over those keeps the look from scanning every posted
message.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 23:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

HELD = sa.text("leased_by IS NOT NULL")


def upgrade() -> None:
    op.create_index(
        "ix_messagerender_held",
        "messagerender",
        ["leased_until"],
        postgresql_where=HELD,
        sqlite_where=HELD,
    )


def downgrade() -> None:
    op.drop_index("ix_messagerender_held", "messagerender")
