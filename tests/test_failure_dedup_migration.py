"""Migration 0007 on a database that already holds failures, duplicates included: every row is
kept (the counts a team saw don't change), marked as from Slack, and new copies are skipped."""

from __future__ import annotations

from alembic import command
from sqlalchemy import text
from sqlmodel import select

from storage.db import create_engine, session_factory
from storage.migrate import alembic_config, upgrade
from storage.models import FailureExample
from storage.repositories import failure_repo


async def test_upgrade_backfills_keys_and_keeps_old_duplicates(empty_db_url: str):
    engine = create_engine(empty_db_url)

    def to_0002(connection):
        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, "0002")

    try:
        async with engine.begin() as conn:
            await conn.run_sync(to_0002)
            await conn.execute(
                text(
                    "INSERT INTO decision (team_id, channel_id, title, facilitator_id, status,"
                    " created_at, review_cadence_days, message_ts, prompt_tokens,"
                    " completion_tokens, nudge_evidence) VALUES ('T1', 'C1', 'Old', 'U1', 'open',"
                    " CURRENT_TIMESTAMP, 90, '{}', 0, 0, '{}')"
                )
            )
            for why in ("quoted old prices", "Quoted old prices.", "too verbose"):
                await conn.execute(
                    text(
                        "INSERT INTO failureexample (team_id, decision_id, logged_by, explanation,"
                        " category, category_source, logged_at) VALUES ('T1', 1, 'U1', :why,"
                        " 'knowledge', 'heuristic', CURRENT_TIMESTAMP)"
                    ),
                    {"why": why},
                )
        await upgrade(engine)
        sessions = session_factory(engine)
        async with sessions() as session:
            rows = (await session.exec(select(FailureExample))).all()
        assert len(rows) == 3 and {r.source for r in rows} == {"slack"}
        assert len({r.dedup_key for r in rows}) == 3
        async with sessions() as session, session.begin():
            stored = await failure_repo.add_failures(
                session=session,
                team_id="T1",
                decision_id=1,
                logged_by="U2",
                failures=[
                    failure_repo.NewFailure("QUOTED old prices", "knowledge", "heuristic"),
                    failure_repo.NewFailure("too verbose!", "behavior", "heuristic"),
                    failure_repo.NewFailure("a new one", "behavior", "heuristic"),
                ],
            )
        assert (stored.added, stored.duplicates) == (1, 2)
    finally:
        await engine.dispose()
