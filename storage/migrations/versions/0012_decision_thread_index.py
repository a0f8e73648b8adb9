"""decision thread index: find a thread's decision without scanning its channel's

Every mention in a thread looks up the decision whose thread it is, by team, channel and thread
ts. The team-and-channel index left that lookup reading every decision of the channel, so a
mention got dearer with each decision the channel had ever had. The new index starts with team
and channel, so it serves the channel's queries too and replaces that one.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 08:00:00

"""

from collections.abc import Sequence

from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_decision_thread", "decision", ["team_id", "channel_id", "thread_ts"])
    op.drop_index("ix_decision_team_channel", "decision")


def downgrade() -> None:
    op.create_index("ix_decision_team_channel", "decision", ["team_id", "channel_id"])
    op.drop_index("ix_decision_thread", "decision")
