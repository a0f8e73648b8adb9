"""Decision versions and message leases, on SQLite and PostgreSQL.

Every write to what a decision shows bumps its version (the database's triggers, so no write
path can forget); the bot's own bookkeeping (where its messages are) doesn't. A message is
updated only when it shows an older version, and a message held by a process that died is
updated once that process's lease ends.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from bot.services import render_claims, workspace_data
from storage.models import Decision, FailureExample, MessageRender
from storage.repositories import workspace_repo
from tests.slack_app import TEAM, text_of
from tests.test_slack_thread import MARCO, PRIYA, start


async def version_of(slack, decision_id: int) -> int:
    async with slack.sessions() as session:
        row = await session.execute(sa.select(Decision.version).where(Decision.id == decision_id))
        return row.scalar_one()


async def test_every_write_bumps_the_version_and_bookkeeping_does_not(slack):
    decision_id = await start(slack)
    posted = await version_of(slack, decision_id)  # five message ts saved: no bump
    assert posted == 1

    await slack.answer(decision_id, "problem_type", "knowledge", user=PRIYA)
    answered = await version_of(slack, decision_id)
    assert answered > posted
    await slack.answer(decision_id, "problem_type", "behavior", user=PRIYA)  # a change
    changed = await version_of(slack, decision_id)
    assert changed > answered
    await slack.answer(decision_id, "problem_type", "behavior", user=PRIYA)  # the same again
    assert await version_of(slack, decision_id) == changed

    this = Decision.id == decision_id
    async with slack.sessions() as session, session.begin():  # where the messages are: no bump
        await session.execute(sa.update(Decision).where(this).values(message_ts={"root": "1.2"}))
    assert await version_of(slack, decision_id) == changed
    async with slack.sessions() as session, session.begin():  # any write path: a rename in SQL
        await session.execute(sa.update(Decision).where(this).values(title="Billing, renamed"))
    renamed = await version_of(slack, decision_id)
    assert renamed > changed

    async with slack.sessions() as session, session.begin():  # two failures in one statement
        await session.execute(
            sa.insert(FailureExample),
            [
                {
                    "team_id": "T0ABCDEF12",
                    "decision_id": decision_id,
                    "logged_by": PRIYA,
                    "explanation": f"didn't know the {i} price",
                    "category": "knowledge",
                    "category_source": "human",
                    "dedup_key": f"k{i}",
                }
                for i in range(2)
            ],
        )
    assert await version_of(slack, decision_id) > renamed


async def test_a_message_held_by_a_process_that_died_is_updated_when_its_lease_ends(slack):
    decision_id = await start(slack)
    ends = datetime.now(UTC) + timedelta(seconds=1.5)
    async with slack.sessions() as session, session.begin():
        await session.execute(
            sa.update(MessageRender)
            .where(MessageRender.decision_id == decision_id)
            .values(leased_by="another-host:4242:dead", leased_until=ends)
        )
    updates = len(slack.fake.calls_to("chat.update"))

    await slack.answer(decision_id, "problem_type", "knowledge", user=MARCO)
    assert len(slack.fake.calls_to("chat.update")) == updates  # held: not this process's turn
    assert f"<@{MARCO}>" not in text_of(await slack.message_of("problem_type"))

    await slack.fake.wait_for("chat.update", updates + 1, timeout=5)  # the lease ended
    await slack.idle()
    assert f"*Knowledge* (1): <@{MARCO}>" in text_of(await slack.message_of("problem_type"))
    async with slack.sessions() as session:
        held = await session.execute(
            sa.select(sa.func.count())
            .select_from(MessageRender)
            .where(
                MessageRender.decision_id == decision_id,
                MessageRender.leased_by.is_not(None),
                MessageRender.leased_by != "another-host:4242:dead",  # expired, never asked for
            )
        )
        assert held.scalar_one() == 0  # this process handed back what it took over


async def test_a_round_of_updates_for_a_decision_that_is_gone_updates_nothing(slack):
    decision_id = await start(slack)
    await slack.answer(decision_id, "problem_type", "knowledge", user=PRIYA)
    updates = len(slack.fake.calls_to("chat.update"))
    async with slack.sessions() as session:  # the workspace uninstalled, its data purged
        purged = await workspace_data.purge_workspace(session=session, team_id=TEAM)
    assert purged["decision"] == 1

    # a refresh queued before the purge, run after it: nothing to claim, nothing to send
    await slack.runtime.renderer.run(TEAM, decision_id, ["problem_type", "root"])
    assert len(slack.fake.calls_to("chat.update")) == updates


async def waiting_on_a_lock(slack, limit: float = 10.0) -> None:
    """Until another connection waits on a row lock (PostgreSQL); SQLite's claim waits on the
    write lock instead, which has nothing to show, so there a moment is given."""
    if slack.sessions.kw["bind"].dialect.name != "postgresql":
        await asyncio.sleep(0.3)
        return
    waiting = sa.text(
        "SELECT count(*) FROM pg_stat_activity "
        "WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    async with asyncio.timeout(limit):
        while True:
            async with slack.sessions() as session:
                if (await session.execute(waiting)).scalar_one():
                    return
            await asyncio.sleep(0.02)


async def test_a_claim_that_races_a_purge_leaves_nothing_behind_and_raises_nothing(slack):
    """A message with no render row yet (posted before versions were kept) gets one when it is
    first claimed. If the decision's purge commits while the claim runs, the claim must not
    insert rows for it: on PostgreSQL that failed the foreign key with an IntegrityError."""
    decision_id = await start(slack)
    of_it = MessageRender.decision_id == decision_id
    async with slack.sessions() as session, session.begin():  # as before migration 0010
        await session.execute(sa.delete(MessageRender).where(of_it))

    async with slack.sessions() as purging:
        await purging.begin()
        await workspace_repo.delete_team_rows(session=purging, team_id=TEAM)  # not committed yet

        async def claim():
            async with slack.sessions() as session:
                return await render_claims.claim_renders(
                    session=session,
                    team_id=TEAM,
                    decision_id=decision_id,
                    keys=["root", "problem_type"],
                    holder="racing-host:1:1",
                    lease=timedelta(seconds=60),
                )

        claiming = asyncio.create_task(claim())
        await waiting_on_a_lock(slack)  # the claim has read the decision and waits on the purge
        await purging.commit()
        claimed = await claiming

    assert claimed is None or not claimed.shown
    async with slack.sessions() as session:
        left = await session.execute(sa.select(sa.func.count()).where(of_it))
        assert left.scalar_one() == 0
