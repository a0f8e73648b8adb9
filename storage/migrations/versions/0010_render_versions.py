"""render versions: a decision version every write bumps, and what each message last showed

The version is kept by the database, so no write path can forget it: triggers bump
``decision.version`` when the decision's shown columns change, and when rows of its answers,
owners, failures, perfect-context tests, record, amendments or analyses are written. Renders
are labelled with it, and ``messagerender`` keeps, per posted message, the version it last
showed and the lease of the one process (of any replica) updating it.

Revision ID: 0010
Revises: 0006
Create Date: 2026-12-01 16:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DIRECT = (
    "answer",
    "ownerassignment",
    "failureexample",
    "contexttest",
    "decisionrecord",
    "recordamendment",
    "analysissession",
)
"""Tables with a ``decision_id`` whose rows a decision's messages, record or reviews show."""
THROUGH_ANALYSIS = ("analysisreading",)
"""Tables that reach the decision through ``analysis_id`` (an analysis session)."""
SHOWN_COLUMNS = (
    "channel_id",
    "title",
    "facilitator_id",
    "status",
    "verdict",
    "final_choice",
    "final_choice_reason",
    "decided_by",
    "decided_at",
    "review_cadence_days",
    "next_review_at",
    "supersedes_id",
    "settled_problem_type",
    "settled_knowledge_change",
    "context_summary",
    "last_reviewed_at",
    "last_reviewed_by",
    "cost_overrides",
)
"""The decision's own columns that change what is shown; not ``message_ts``/``thread_ts``
(where the messages are), token counts or nudge bookkeeping, nor ``version`` itself."""
OPS = ("insert", "update", "delete")


def _decision_of(table: str, row: str) -> str:
    if table in THROUGH_ANALYSIS:
        return f"(SELECT decision_id FROM analysissession WHERE id = {row}.analysis_id)"
    return f"{row}.decision_id"


def _sqlite_upgrade() -> None:
    for table in DIRECT + THROUGH_ANALYSIS:
        for when in OPS:
            rows = {"insert": ("NEW",), "update": ("OLD", "NEW"), "delete": ("OLD",)}[when]
            targets = ", ".join(_decision_of(table, row) for row in rows)
            op.execute(
                f"CREATE TRIGGER ragft_version_{table}_{when} AFTER {when.upper()} ON {table} "
                f"BEGIN UPDATE decision SET version = version + 1 WHERE id IN ({targets}); END"
            )
    op.execute(
        f"CREATE TRIGGER ragft_version_decision AFTER UPDATE OF {', '.join(SHOWN_COLUMNS)} "
        "ON decision BEGIN UPDATE decision SET version = version + 1 WHERE id = NEW.id; END"
    )


def _postgres_function(name: str, decision_of: str) -> None:
    """A row trigger function; ``decision_of`` gives the decision id of ``{row}``."""
    new, old = decision_of.format(row="NEW"), decision_of.format(row="OLD")
    op.execute(
        f"""
        CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP <> 'INSERT' THEN
                UPDATE decision SET version = version + 1 WHERE id = {old};
            END IF;
            IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND {new} IS DISTINCT FROM {old}) THEN
                UPDATE decision SET version = version + 1 WHERE id = {new};
            END IF;
            RETURN NULL;
        END $$
        """
    )


def _postgres_upgrade() -> None:
    # Deferred to the commit: the decision row is then locked for the last instant of the
    # transaction only, not from the first write on, so concurrent answers don't queue on it
    # through each other's round trips. Commit order is version order.
    _postgres_function("ragft_bump_version", "{row}.decision_id")
    _postgres_function(
        "ragft_bump_version_via_analysis",
        "(SELECT s.decision_id FROM analysissession s WHERE s.id = {row}.analysis_id)",
    )
    for table in DIRECT + THROUGH_ANALYSIS:
        function = "ragft_bump_version" if table in DIRECT else "ragft_bump_version_via_analysis"
        for when in OPS:
            op.execute(
                f"CREATE CONSTRAINT TRIGGER ragft_version_{table}_{when} AFTER {when.upper()} "
                f"ON {table} DEFERRABLE INITIALLY DEFERRED FOR EACH ROW "
                f"EXECUTE FUNCTION {function}()"
            )
    op.execute(
        """
        CREATE FUNCTION ragft_bump_own_version() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            NEW.version := OLD.version + 1;
            RETURN NEW;
        END $$
        """
    )
    op.execute(
        f"CREATE TRIGGER ragft_version_decision BEFORE UPDATE OF {', '.join(SHOWN_COLUMNS)} "
        "ON decision FOR EACH ROW EXECUTE FUNCTION ragft_bump_own_version()"
    )


def upgrade() -> None:
    op.add_column(
        "decision",
        sa.Column("version", sa.Integer(), nullable=False, server_default=sa.text("1")),
    )
    op.create_table(
        "messagerender",
        sa.Column("decision_id", sa.Integer(), sa.ForeignKey("decision.id"), primary_key=True),
        sa.Column("message_key", sa.String(16), primary_key=True),
        sa.Column("team_id", sa.String(32), nullable=False),
        sa.Column("sent_version", sa.Integer(), nullable=False, server_default=sa.text("0")),
        sa.Column("leased_by", sa.String(64)),
        sa.Column("leased_until", sa.DateTime()),
    )
    op.create_index("ix_messagerender_team_id", "messagerender", ["team_id"])
    if op.get_bind().dialect.name == "postgresql":
        _postgres_upgrade()
    else:
        _sqlite_upgrade()


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for table in DIRECT + THROUGH_ANALYSIS:
        for when in OPS:
            op.execute(
                f"DROP TRIGGER ragft_version_{table}_{when}" + (f" ON {table}" if postgres else "")
            )
    op.execute("DROP TRIGGER ragft_version_decision" + (" ON decision" if postgres else ""))
    if postgres:
        for name in ("ragft_bump_version", "ragft_bump_version_via_analysis"):
            op.execute(f"DROP FUNCTION {name}()")
        op.execute("DROP FUNCTION ragft_bump_own_version()")
    op.drop_index("ix_messagerender_team_id", "messagerender")
    op.drop_table("messagerender")
    # A plain DROP COLUMN (SQLite 3.35+): batch mode would rebuild the decision table, which
    # fails once other tables' rows point at it.
    op.drop_column("decision", "version")
