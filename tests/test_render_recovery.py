"""Messages a process that died left behind: it stored a write, took the messages' leases to
show it, and died before showing it or handing them back. Once those leases end, a running
process (at start, and every 30 s) brings the messages up to date, so a team that stops
clicking still ends up seeing what the database holds, on one replica or many."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import httpx
import sqlalchemy as sa
from sqlmodel import select

from storage.db import create_engine, session_factory
from storage.models import Answer, Decision, MessageRender
from tests.fakes import signing
from tests.slack_app import TEAM, text_of
from tests.test_shutdown import serving, wait_until  # noqa: F401 (a fixture)
from tests.test_slack_thread import MARCO, start

DEAD = "another-host:4242:dead"
SHOWN = f"*Knowledge* (1): <@{MARCO}>"


async def died_after_storing_an_answer(
    sessions, decision_id: int, *, lease_left: float, team_id: str = TEAM
) -> None:
    """What the dead process left: Marco's answer stored (the version bumped) but not shown,
    and every message of the decision held in its name for ``lease_left`` more seconds."""
    async with sessions() as session, session.begin():
        await session.exec(
            sa.insert(Answer).values(
                team_id=team_id,
                decision_id=decision_id,
                question="problem_type",
                user_id=MARCO,
                value="knowledge",
                updated_at=datetime.now(UTC),
            )
        )
        await session.exec(
            sa.update(MessageRender)
            .where(MessageRender.decision_id == decision_id)
            .values(leased_by=DEAD, leased_until=datetime.now(UTC) + timedelta(seconds=lease_left))
        )


async def held_by_the_dead(sessions, decision_id: int) -> int:
    async with sessions() as session:
        held = await session.exec(
            select(sa.func.count())
            .select_from(MessageRender)
            .where(MessageRender.decision_id == decision_id, MessageRender.leased_by == DEAD)
        )
        return held.one()


async def test_a_message_left_held_by_a_dead_process_is_brought_up_to_date(slack):
    decision_id = await start(slack)
    await died_after_storing_an_answer(slack.sessions, decision_id, lease_left=-1)
    assert SHOWN not in text_of(await slack.message_of("problem_type"))

    assert await slack.runtime.renderer.recover() == 1
    await slack.idle()
    assert SHOWN in text_of(await slack.message_of("problem_type"))
    assert await held_by_the_dead(slack.sessions, decision_id) == 0  # handed back
    assert await slack.runtime.renderer.recover() == 0  # nothing left behind now


async def test_a_lease_that_has_not_ended_is_left_to_its_holder(slack):
    decision_id = await start(slack)
    await died_after_storing_an_answer(slack.sessions, decision_id, lease_left=60)
    updates = len(slack.fake.calls_to("chat.update"))

    assert await slack.runtime.renderer.recover() == 0  # it may still be updating them
    await slack.idle()
    assert len(slack.fake.calls_to("chat.update")) == updates
    assert await held_by_the_dead(slack.sessions, decision_id) == 5


def test_a_restart_after_a_crash_shows_what_the_crashed_process_stored(
    fake_slack,
    db_url,
    serving,  # noqa: F811
):
    server = serving()
    body, headers = signing.slash_command(
        text="start Billing assistant", response_url=fake_slack.response_url("cmd")
    )
    assert httpx.post(f"{server.base}/slack/events", content=body, headers=headers).is_success

    async def after_the_crash() -> Decision:
        engine = create_engine(db_url)
        sessions = session_factory(engine)
        try:
            while True:  # until the thread is posted and its five ts saved
                async with sessions() as session:
                    decision = (await session.exec(select(Decision))).one_or_none()
                if decision is not None and len(decision.message_ts) == 5:
                    break
                await asyncio.sleep(0.05)
            server.kill()  # a crash: no shutdown, no hand-back
            await died_after_storing_an_answer(sessions, decision.id, lease_left=-1)
            return decision
        finally:
            await engine.dispose()

    decision = asyncio.run(asyncio.wait_for(after_the_crash(), 15))
    message = (decision.channel_id, decision.message_ts["problem_type"])
    assert SHOWN not in text_of(fake_slack.message(*message))

    serving()  # the restart
    wait_until(lambda: SHOWN in text_of(fake_slack.message(*message)), "the answer shown")


async def test_in_distribution_mode_recovery_updates_with_the_workspaces_token(
    fake_slack, engine, sessions
):
    from tests.oauth_app import DistributedApp
    from tests.test_oauth import T1, T2

    dist = DistributedApp(fake_slack, engine, sessions)
    try:
        await dist.install(T1)
        await dist.command("start Workspace recovery", team_id=T1)
        decision = await dist.latest(T1)
        await died_after_storing_an_answer(sessions, decision.id, lease_left=-1, team_id=T1)
        fake_slack.clear()

        assert await dist.runtime.renderer.recover() == 1
        await dist.idle()
        message = fake_slack.message(decision.channel_id, decision.message_ts["problem_type"])
        assert SHOWN in text_of(message)
        [token] = fake_slack.tokens_of(T1)
        assert {c.token for c in fake_slack.calls_to("chat.update")} == {token}

        # A workspace with no installation can't be updated: its leases are let go, once.
        await dist.command("start Uninstalled later", team_id=T1)
        other = await dist.latest(T1)
        async with sessions() as session, session.begin():
            await session.exec(
                sa.update(Decision).where(Decision.id == other.id).values(team_id=T2)
            )
            await session.exec(
                sa.update(MessageRender)
                .where(MessageRender.decision_id == other.id)
                .values(team_id=T2)
            )
        await died_after_storing_an_answer(sessions, other.id, lease_left=-1, team_id=T2)
        assert await dist.runtime.renderer.recover() == 1
        assert await held_by_the_dead(sessions, other.id) == 0
        assert await dist.runtime.renderer.recover() == 0
    finally:
        await dist.close()
