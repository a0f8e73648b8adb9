"""A workspace as a whole: which org it belongs to, and every row stored for it.

The purge is generic: it reflects the database, so every table with a ``team_id`` column is
covered, including tables added after this was written, and so are rows of tables without one
that point (through foreign keys) at a workspace's rows. Children go before their parents.

Keyword-only. Callers own the transaction: functions never commit.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.db import insert_for
from storage.models import FailureExample, Workspace, utcnow

INSTALLATION_TABLES = ("slack_installations", "slack_bots")
"""slack_sdk's installation store (migration 0006): an org-wide install has no team_id."""


async def record_workspace(
    *, session: AsyncSession, team_id: str, enterprise_id: str | None
) -> None:
    await session.exec(
        insert_for(session, Workspace)
        .values(team_id=team_id, enterprise_id=enterprise_id, seen_at=utcnow())
        .on_conflict_do_update(index_elements=["team_id"], set_={"enterprise_id": enterprise_id})
    )


async def enterprise_of(*, session: AsyncSession, team_id: str) -> str | None:
    row = await session.get(Workspace, team_id)
    return row.enterprise_id if row is not None else None


async def teams_of_enterprise(*, session: AsyncSession, enterprise_id: str) -> list[str]:
    query = sa.select(Workspace.team_id).where(Workspace.enterprise_id == enterprise_id)
    return sorted((await session.execute(query)).scalars().all())


def _teams_installed(connection: Connection, team_ids: list[str]) -> set[str]:
    if "slack_installations" not in set(sa.inspect(connection).get_table_names()):
        return set()
    table = sa.table("slack_installations", sa.column("team_id"))
    query = sa.select(table.c.team_id).where(table.c.team_id.in_(team_ids)).distinct()
    return set(connection.execute(query).scalars().all())


async def teams_with_own_install(*, session: AsyncSession, team_ids: list[str]) -> set[str]:
    """Those of ``team_ids`` that installed ragft themselves (an installation row with their
    team id, which an org-wide install's rows never have)."""
    if not team_ids:
        return set()
    connection = await session.connection()
    return await connection.run_sync(_teams_installed, team_ids)


def _tables(connection: Connection) -> list[sa.Table]:
    """Every table in the database, children before their parents."""
    metadata = sa.MetaData()
    metadata.reflect(bind=connection)
    return list(reversed(metadata.sorted_tables))


def _scope(table: sa.Table, team_id: str, seen: frozenset[str] = frozenset()) -> Any:
    """The WHERE clause for ``team_id``'s rows of ``table``, or None if it holds none."""
    if "team_id" in table.c:
        return table.c.team_id == team_id
    clauses = []
    for fk in table.foreign_keys:
        parent = fk.column.table
        if parent.name in seen or parent is table:
            continue
        parent_scope = _scope(parent, team_id, seen | {table.name})
        if parent_scope is not None:
            clauses.append(fk.parent.in_(sa.select(fk.column).where(parent_scope)))
    return sa.or_(*clauses) if clauses else None


def _count(connection: Connection, team_id: str) -> dict[str, int]:
    counts = {}
    for table in _tables(connection):
        scope = _scope(table, team_id)
        if scope is not None:
            counts[table.name] = connection.execute(
                sa.select(sa.func.count()).select_from(table).where(scope)
            ).scalar_one()
    return counts


def _delete(connection: Connection, team_id: str) -> dict[str, int]:
    counts = {}
    for table in _tables(connection):
        scope = _scope(table, team_id)
        if scope is not None:
            counts[table.name] = connection.execute(table.delete().where(scope)).rowcount
    return counts


async def count_team_rows(*, session: AsyncSession, team_id: str) -> dict[str, int]:
    """Rows per table that a purge of ``team_id`` would delete (tables with none included)."""
    connection = await session.connection()
    return await connection.run_sync(_count, team_id)


async def delete_team_rows(*, session: AsyncSession, team_id: str) -> dict[str, int]:
    """Delete every row of ``team_id``; the rows deleted per table."""
    connection = await session.connection()
    return await connection.run_sync(_delete, team_id)


def _org_installs(connection: Connection, enterprise_id: str, delete: bool) -> dict[str, int]:
    counts = {}
    existing = set(sa.inspect(connection).get_table_names())
    for name in INSTALLATION_TABLES:
        if name not in existing:
            continue
        table = sa.table(name, sa.column("enterprise_id"), sa.column("team_id"))
        scope = sa.and_(table.c.enterprise_id == enterprise_id, table.c.team_id.is_(None))
        if delete:
            counts[name] = connection.execute(table.delete().where(scope)).rowcount
        else:
            query = sa.select(sa.func.count()).select_from(table).where(scope)
            counts[name] = connection.execute(query).scalar_one()
    return counts


def _delete_org_installs(connection: Connection, enterprise_id: str) -> dict[str, int]:
    return _org_installs(connection, enterprise_id, True)


def _count_org_installs(connection: Connection, enterprise_id: str) -> dict[str, int]:
    return _org_installs(connection, enterprise_id, False)


async def count_org_installs(*, session: AsyncSession, enterprise_id: str) -> dict[str, int]:
    """The rows ``delete_org_installs`` would delete."""
    connection = await session.connection()
    return await connection.run_sync(_count_org_installs, enterprise_id)


async def delete_org_installs(*, session: AsyncSession, enterprise_id: str) -> dict[str, int]:
    """Delete an org-wide installation's rows (they have an enterprise id and no team id)."""
    connection = await session.connection()
    return await connection.run_sync(_delete_org_installs, enterprise_id)


async def erase_failure_outputs(*, session: AsyncSession, before: datetime) -> int:
    """Forget the outputs and links of failures logged before ``before``; categories, counts
    and explanations stay. How many failures lost something."""
    statement = (
        sa.update(FailureExample)
        .where(
            FailureExample.logged_at < before,  # type: ignore[arg-type]
            sa.or_(
                FailureExample.output.is_not(None),  # type: ignore[union-attr]
                FailureExample.permalink.is_not(None),  # type: ignore[union-attr]
            ),
        )
        .values(output=None, permalink=None)
    )
    return (await session.execute(statement)).rowcount
