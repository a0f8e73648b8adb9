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
