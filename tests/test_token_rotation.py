"""Token rotation: Bolt refreshes an expiring bot token through ``oauth.v2.access`` at
``SLACK_API_URL`` (the fake Slack), and two replicas refreshing at once make one refresh call,
and both end up with the new, working token. Real SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio

import pytest

from bot.reminders.sweeper import Sweeper
from handlers.reminder_delivery import build_deliverer, sweep_runtime
from storage.db import create_engine, session_factory
from tests.fakes import signing
from tests.oauth_app import DistributedApp
from tests.slack_app import FACILITATOR, text_of

T1 = "T0WORKSP001"
SOON = 600
"""Seconds a token lives: inside Bolt's two-hour refresh window, so the next use refreshes."""


def refreshes(fake) -> list:
    return [
        c for c in fake.calls_to("oauth.v2.access") if c.args.get("grant_type") == "refresh_token"
    ]


@pytest.fixture
async def replicas(fake_slack, db_url):
    """Two ragft processes' worth of app, each with its own engine, on one database."""
    engines = [create_engine(db_url), create_engine(db_url)]
    apps = [DistributedApp(fake_slack, e, session_factory(e)) for e in engines]
    yield apps
    for app in apps:
        await app.close()
    for engine in engines:
        await engine.dispose()


async def test_an_expiring_token_is_refreshed_once_and_used(replicas, fake_slack):
    app = replicas[0]
    await app.install(T1, expires_in=SOON)
    [old] = fake_slack.tokens_of(T1)
    await app.command("start Rotating assistant", team_id=T1)
    assert len(refreshes(fake_slack)) == 1
    assert refreshes(fake_slack)[0].args["refresh_token"].startswith("xoxe-1-")
    [_, new] = fake_slack.tokens_of(T1)
    posts = fake_slack.calls_to("chat.postMessage")
    assert posts and {c.token for c in posts} == {new}
    assert old != new
    # the refreshed token was saved: the next request doesn't refresh again
    await app.command("list", team_id=T1)
    assert len(refreshes(fake_slack)) == 1
    assert "Rotating assistant" in text_of(app.replies(FACILITATOR)[-1])


async def test_two_replicas_refreshing_at_once_make_one_refresh_and_both_work(replicas, fake_slack):
    first, second = replicas
    await first.install(T1)
    await first.command("start Rotating assistant", team_id=T1)
    await first.install(T1, expires_in=SOON)  # reinstalled with rotation on: expires soon
    fake_slack.slow("oauth.v2.access", 0.5)  # so that both replicas are in the refresh at once
    fake_slack.clear()

    def listing(user: str):
        return signing.slash_command(
            text="list",
            team_id=T1,
            user_id=user,
            response_url=fake_slack.response_url(f"cmd-{user}"),
        )

    await asyncio.gather(
        first.post(listing(FACILITATOR), settle=False),
        second.post(listing("U0USER0002"), settle=False),
    )
    await first.idle()
    assert len(refreshes(fake_slack)) == 1
    newest = fake_slack.tokens_of(T1)[-1]
    tests = [c for c in fake_slack.calls_to("auth.test")]
    assert tests and {c.token for c in tests} == {newest}
    assert all(c.response.get("ok") for c in fake_slack.calls if c.method != "response_url")
    for user in (FACILITATOR, "U0USER0002"):
        [reply] = first.replies(user)
        assert "Rotating assistant" in text_of(reply), reply


async def test_the_sweep_refreshes_an_expiring_token_before_it_posts(replicas, fake_slack):
    app = replicas[0]
    await app.install(T1)
    decision = await app.decide_in(T1, "Reviewed with a fresh token")
    await app.install(T1, expires_in=SOON)  # reinstalled with rotation on: expires soon
    fake_slack.clear()
    sweeper = Sweeper(app.sessions, build_deliverer(sweep_runtime(app.settings, app.sessions)))
    report = await sweeper.sweep(decision.next_review_at)
    assert len(report.sent) == 1, report
    assert len(refreshes(fake_slack)) == 1
    newest = fake_slack.tokens_of(T1)[-1]
    posts = fake_slack.calls_to("chat.postMessage")
    assert posts and {c.token for c in posts} == {newest}


async def test_many_requests_at_expiry_on_a_small_pool_make_one_refresh_and_no_errors(
    fake_slack, db_url, backend
):
    """Only one coroutine per process waits on the database lock: the others wait in the
    process, so they don't hold the pool's few connections while the refresh needs one."""
    engine = create_engine(db_url, **({} if backend == "sqlite" else POOL))
    app = DistributedApp(fake_slack, engine, session_factory(engine))
    try:
        await app.install(T1)
        await app.command("start Rotating assistant", team_id=T1)
        await app.install(T1, expires_in=SOON)
        fake_slack.slow("oauth.v2.access", 0.3)
        fake_slack.clear()
        users = [f"U0USER{n:04d}" for n in range(6)]

        def listing(user: str):
            return signing.slash_command(
                text="list", team_id=T1, user_id=user, response_url=fake_slack.response_url(user)
            )

        responses = await asyncio.gather(*(app.post(listing(u), settle=False) for u in users))
        await app.idle()
        assert [r.status_code for r in responses] == [200] * len(users)
        assert len(refreshes(fake_slack)) == 1
        for user in users:
            [reply] = app.replies(user)
            assert "Rotating assistant" in text_of(reply), reply
    finally:
        await app.close()
        await engine.dispose()


POOL = {"pool_size": 3, "max_overflow": 0, "pool_timeout": 3}


async def test_ragft_sweep_beside_serve_spends_the_refresh_token_once(fake_slack, db_url):
    """Two processes: a request to this one refreshes (slowly) while ``ragft sweep`` runs in
    another; the sweep waits for that refresh and uses its token instead of refreshing too
    (on SQLite through a file lock beside the database)."""
    import os
    import sys
    from pathlib import Path

    from tests.fakes.slack_api import OAUTH_CLIENT_ID, OAUTH_CLIENT_SECRET

    engine = create_engine(db_url)
    app = DistributedApp(fake_slack, engine, session_factory(engine))
    try:
        await app.install(T1)
        decision = await app.decide_in(T1, "Reviewed by cron")
        await app.install(T1, expires_in=SOON)
        fake_slack.slow("oauth.v2.access", 6)  # the request holds the lock while cron starts
        fake_slack.clear()
        request = asyncio.create_task(
            app.post(
                signing.slash_command(
                    text="list", team_id=T1, response_url=fake_slack.response_url("serve")
                ),
                settle=False,
            )
        )
        deadline = asyncio.get_running_loop().time() + 10
        while not fake_slack.arrived("oauth.v2.access"):
            assert asyncio.get_running_loop().time() < deadline, "the request never refreshed"
            await asyncio.sleep(0.02)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "OPENAI_"))}
        env.update(
            DATABASE_URL=db_url,
            SLACK_CLIENT_ID=OAUTH_CLIENT_ID,
            SLACK_CLIENT_SECRET=OAUTH_CLIENT_SECRET,
            SLACK_SIGNING_SECRET=signing.SIGNING_SECRET,
            SLACK_API_URL=fake_slack.url,
        )
        ragft = str(Path(sys.executable).with_name("ragft"))
        sweep = await asyncio.create_subprocess_exec(
            ragft,
            "sweep",
            "--now",
            decision.next_review_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(sweep.communicate(), timeout=90)
        assert (await request).status_code == 200
        await app.idle()
        assert sweep.returncode == 0, err.decode()
        assert len(refreshes(fake_slack)) == 1
        newest = fake_slack.tokens_of(T1)[-1]
        posts = fake_slack.calls_to("chat.postMessage")
        assert posts and {c.token for c in posts} == {newest}, out.decode()
        [reply] = [c.args for c in fake_slack.calls_to("response_url") if "serve" in c.path]
        assert "Reviewed by cron" in text_of(reply)
    finally:
        await app.close()
        await engine.dispose()
