"""A workspace's data as a whole: deleting all of it (uninstall, ``ragft purge``), erasing old
failing outputs (``RAGFT_RETENTION_DAYS``), and which Enterprise Grid org a workspace is in.

Each function owns its transaction; a purge is one transaction, so it deletes all or nothing.
What is logged is counts per table, never content.

A purge deletes children before parents, and on PostgreSQL the bot's own writes go on meanwhile
(an uninstall's events and clicks can cross, and ``ragft purge`` runs beside a live bot). A
child row committed after its table was emptied, or a decision created during the purge, fails
a later DELETE on its foreign key; a purge and a writer can also deadlock, and PostgreSQL then
aborts one of them, often the purge. A purge that fails so is rolled back whole and run again,
up to ``PURGE_ATTEMPTS`` times: each attempt sees what the writers committed before it.
(Locking the parent rows first doesn't do: writers whose version triggers lock the decision at
their commit would deadlock with it.)
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime

from sqlalchemy.exc import DBAPIError
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.repositories import workspace_repo

log = logging.getLogger("ragft.data")

PURGE_ATTEMPTS = 5
RACED = frozenset({"23503", "40P01", "40001"})
"""PostgreSQL's foreign_key_violation, deadlock_detected and serialization_failure: what a
write racing a purge makes it fail with."""


async def _purge(
    session: AsyncSession, what: str, work: Callable[[], Awaitable[dict[str, int]]]
) -> dict[str, int]:
    """``work`` in one transaction, run again while a concurrent write makes it fail."""
    for attempt in range(1, PURGE_ATTEMPTS):
        try:
            async with session.begin():
                return await work()
        except DBAPIError as exc:
            if getattr(exc.orig, "sqlstate", None) not in RACED:
                raise
            log.info("purge of %s raced a write (attempt %d), running it again", what, attempt)
    async with session.begin():
        return await work()


def nonzero(counts: dict[str, int]) -> dict[str, int]:
    return {table: count for table, count in counts.items() if count}


async def preview_purge(*, session: AsyncSession, team_id: str) -> dict[str, int]:
    """What ``purge_workspace`` would delete: rows per table."""
    async with session.begin():
        return await workspace_repo.count_team_rows(session=session, team_id=team_id)


async def purge_workspace(*, session: AsyncSession, team_id: str) -> dict[str, int]:
    """Delete every row stored for ``team_id`` (decisions and everything under them, the
    installation and its tokens), in one transaction. The rows deleted per table."""

    async def work() -> dict[str, int]:
        return await workspace_repo.delete_team_rows(session=session, team_id=team_id)

    counts = await _purge(session, f"workspace {team_id}", work)
    log.info("purged workspace %s: %s", team_id, nonzero(counts) or "nothing stored")
    return counts


def _add(totals: dict[str, int], counts: dict[str, int]) -> None:
    for table, count in counts.items():
        totals[table] = totals.get(table, 0) + count


async def _org_teams(
    session: AsyncSession, enterprise_id: str, team_ids: list[str] | None
) -> list[str]:
    """The org's workspaces whose data goes with the org-wide install: those ragft has seen
    (plus ``team_ids``) that have no installation of their own."""
    known = await workspace_repo.teams_of_enterprise(session=session, enterprise_id=enterprise_id)
    teams = sorted(set(known) | set(team_ids or ()))
    own = await workspace_repo.teams_with_own_install(session=session, team_ids=teams)
    if own:
        log.info("org %s: kept %d workspaces with their own install", enterprise_id, len(own))
    return [t for t in teams if t not in own]


async def preview_purge_enterprise(*, session: AsyncSession, enterprise_id: str) -> dict[str, int]:
    """What ``purge_enterprise`` would delete: rows per table."""
    totals: dict[str, int] = {}
    async with session.begin():
        for team_id in await _org_teams(session, enterprise_id, None):
            _add(totals, await workspace_repo.count_team_rows(session=session, team_id=team_id))
        _add(
            totals,
            await workspace_repo.count_org_installs(session=session, enterprise_id=enterprise_id),
        )
    return totals


async def purge_enterprise(
    *, session: AsyncSession, enterprise_id: str, team_ids: list[str] | None = None
) -> dict[str, int]:
    """An org-wide install removed: the org's installation, and every row of each of its
    workspaces (those ragft has seen, plus ``team_ids``), in one transaction. A workspace that
    also installed ragft itself keeps everything: it is still using its own installation."""

    async def work() -> dict[str, int]:
        totals: dict[str, int] = {}
        for team_id in await _org_teams(session, enterprise_id, team_ids):
            _add(totals, await workspace_repo.delete_team_rows(session=session, team_id=team_id))
        installs = await workspace_repo.delete_org_installs(
            session=session, enterprise_id=enterprise_id
        )
        _add(totals, installs)
        return totals

    totals = await _purge(session, f"org {enterprise_id}", work)
    log.info("purged org %s: %s", enterprise_id, nonzero(totals) or "nothing stored")
    return totals


async def purge_revoked_workspaces(*, session: AsyncSession, team_ids: list[str]) -> dict[str, int]:
    """``team_access_revoked``: the org app was removed from these workspaces; each one's
    rows go (not those of a workspace with an installation of its own), in one transaction."""
    teams = sorted(set(team_ids))
    own: set[str] = set()

    async def work() -> dict[str, int]:
        totals: dict[str, int] = {}
        own.clear()
        own.update(await workspace_repo.teams_with_own_install(session=session, team_ids=teams))
        for team_id in (t for t in teams if t not in own):
            _add(totals, await workspace_repo.delete_team_rows(session=session, team_id=team_id))
        return totals

    totals = await _purge(session, f"{len(teams)} workspaces", work)
    log.info(
        "purged %d workspaces the org app lost: %s",
        len(set(team_ids) - own),
        nonzero(totals) or "nothing stored",
    )
    return totals


async def note_workspace(*, session: AsyncSession, team_id: str, enterprise_id: str | None) -> None:
    async with session.begin():
        await workspace_repo.record_workspace(
            session=session, team_id=team_id, enterprise_id=enterprise_id
        )


async def enterprise_of(*, session: AsyncSession, team_id: str) -> str | None:
    async with session.begin():
        return await workspace_repo.enterprise_of(session=session, team_id=team_id)


async def erase_expired_outputs(*, session: AsyncSession, before: datetime) -> int:
    """``RAGFT_RETENTION_DAYS``: failing outputs and links logged before ``before`` are erased;
    their categories and counts stay for the trend."""
    async with session.begin():
        erased = await workspace_repo.erase_failure_outputs(session=session, before=before)
    if erased:
        log.info("retention: erased the outputs and links of %d failures", erased)
    return erased
