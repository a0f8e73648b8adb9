"""failure sources, deduplication keys, external ids, and API tokens

Revision ID: 0007
Revises: 0003
Create Date: 2026-12-01 13:10:00

Existing failures are marked as from Slack and get their deduplication key. Duplicates logged
before deduplication existed are kept (the counts a team saw don't change): the first of each
keeps the real key, later copies a key that never matches.
"""

import hashlib
import re
import unicodedata
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0007"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# A frozen copy of bot.domain.failure_dedup as of this revision.
_SPACE = re.compile(r"\s+")
_EDGE = " \t.,;:!?-–—\"'`*_()[]"


def _normalise(text: str | None) -> str:
    if not text:
        return ""
    text = unicodedata.normalize("NFKC", text).casefold()
    return _SPACE.sub(" ", text).strip(_EDGE)


def _key(explanation: str | None, output: str | None, link: str | None) -> str:
    evidence = _normalise(output) or _normalise(link).rstrip("/")
    raw = _normalise(explanation) + "\x1f" + evidence
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def _legacy(key: str, row_id: int) -> str:
    return hashlib.sha256(f"{key}#legacy-{row_id}".encode()).hexdigest()


def upgrade() -> None:
    op.create_table(
        "apitoken",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("label", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("token_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("created_by", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("last_used_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("revoked_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("apitoken", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_apitoken_team_id"), ["team_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_apitoken_token_hash"), ["token_hash"], unique=True)

    with op.batch_alter_table("failureexample", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "source",
                sqlmodel.sql.sqltypes.AutoString(length=16),
                nullable=False,
                server_default="slack",
            )
        )
        batch_op.add_column(
            sa.Column("external_id", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True)
        )
        batch_op.add_column(
            sa.Column(
                "dedup_key",
                sqlmodel.sql.sqltypes.AutoString(length=64),
                nullable=False,
                server_default="",
            )
        )

    bind = op.get_bind()
    rows = bind.execute(
        sa.text(
            "SELECT id, decision_id, explanation, output, permalink FROM failureexample ORDER BY id"
        )
    ).all()
    seen: set[tuple[int, str]] = set()
    updates = []
    for row in rows:
        key = _key(row.explanation, row.output, row.permalink)
        if (row.decision_id, key) in seen:
            key = _legacy(key, row.id)
        seen.add((row.decision_id, key))
        updates.append({"id": row.id, "key": key})
    if updates:
        bind.execute(sa.text("UPDATE failureexample SET dedup_key = :key WHERE id = :id"), updates)

    with op.batch_alter_table("failureexample", schema=None) as batch_op:
        batch_op.create_unique_constraint("uq_failure_dedup", ["decision_id", "dedup_key"])
        batch_op.create_unique_constraint("uq_failure_external_id", ["decision_id", "external_id"])


def downgrade() -> None:
    with op.batch_alter_table("failureexample", schema=None) as batch_op:
        batch_op.drop_constraint("uq_failure_external_id", type_="unique")
        batch_op.drop_constraint("uq_failure_dedup", type_="unique")
        batch_op.drop_column("dedup_key")
        batch_op.drop_column("external_id")
        batch_op.drop_column("source")

    with op.batch_alter_table("apitoken", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_apitoken_token_hash"))
        batch_op.drop_index(batch_op.f("ix_apitoken_team_id"))

    op.drop_table("apitoken")
