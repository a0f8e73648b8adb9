"""Distribution mode: installing through Bolt's OAuth flow against the fake Slack, each
workspace on its own token and its own data, Enterprise Grid org-wide installs, and the sweep
sending each workspace's reminders with that workspace's token. Real SQLite and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.reminders.sweeper import Sweeper
from handlers.oauth_setup import BOT_SCOPES, manifest_bot_scopes
from handlers.reminder_delivery import build_deliverer, sweep_runtime
from tests.fakes.slack_api import OAUTH_CLIENT_ID
from tests.oauth_app import (
    DistributedApp,
    grid_command,
    installations,
    query_of,
    rows_per_table,
)
from tests.slack_app import CHANNEL, FACILITATOR, text_of

ROOT = Path(__file__).resolve().parents[1]
T1, T2 = "T0WORKSP001", "T0WORKSP002"
ORG, G1, G2 = "E0ORGANIZ01", "T0GRIDWS001", "T0GRIDWS002"


@pytest.fixture
async def dist(fake_slack, engine, sessions):
    app = DistributedApp(fake_slack, engine, sessions)
    yield app
    await app.close()


def tokens_used(fake, since: int = 0) -> set[str | None]:
    return {c.token for c in fake.calls[since:] if c.method not in ("response_url",)}


def test_the_install_asks_for_exactly_the_manifests_bot_scopes():
    manifest = json.loads((ROOT / "manifest.json").read_text())
    assert manifest_bot_scopes() == manifest["oauth_config"]["scopes"]["bot"]
    assert list(BOT_SCOPES) == manifest["oauth_config"]["scopes"]["bot"]
    assert manifest["oauth_config"]["redirect_urls"][0].endswith("/slack/oauth_redirect")


async def test_the_migration_creates_the_installation_tables(engine):
    async with engine.connect() as connection:
        names = await connection.run_sync(lambda sync: sa.inspect(sync).get_table_names())
    assert {"slack_installations", "slack_bots", "slack_oauth_states", "workspace"} <= set(names)


async def test_the_install_page_links_to_the_authorize_url_with_the_manifest_scopes(dist):
    page = await dist.http.get("/slack/install")
    assert page.status_code == 200 and "Add to Slack" in page.text
    link = dist.add_to_slack_link(page.text)
    assert link.startswith(dist.fake.authorize_url + "?")
    query = query_of(link)
    assert query["client_id"] == [OAUTH_CLIENT_ID]
    assert query["scope"] == [",".join(manifest_bot_scopes())]
    assert query["state"][0]


async def test_a_redirect_without_the_state_cookie_installs_nothing(dist, sessions):
    await dist.http.get("/slack/install")
    response = await dist.http.get("/slack/oauth_redirect?code=forged&state=forged")
    assert response.status_code == 400
    assert dist.fake.calls_to("oauth.v2.access") == []
    assert await installations(sessions) == 0


async def test_events_are_still_verified_in_distribution_mode(dist):
    response = await dist.http.post("/slack/events", content=b"payload=%7B%7D")
    assert response.status_code == 401
    assert (await dist.http.post("/slack/install")).status_code == 405


async def test_two_workspaces_install_and_each_works_with_its_own_token_and_data(
    dist, fake_slack, sessions
):
    for team in (T1, T2):
        done = await dist.install(team)
        assert done.status_code == 200, done.text
    [exchange1, exchange2] = fake_slack.calls_to("oauth.v2.access")
    assert exchange1.args["code"] != exchange2.args["code"]
    assert await installations(sessions, team_id=T1) == 1
    assert await installations(sessions, team_id=T2) == 1
    [token1], [token2] = fake_slack.tokens_of(T1), fake_slack.tokens_of(T2)

    decisions = {}
    for team, token in ((T1, token1), (T2, token2)):
        before = len(fake_slack.calls)
        decisions[team] = await dist.decide_in(team, f"Assistant for {team}")
        assert decisions[team].status == "decided"
        # every Slack call of the request and of the work after its ack used this team's token
        assert tokens_used(fake_slack, before) == {token}
        posted = [c for c in fake_slack.calls[before:] if c.method == "chat.postMessage"]
        assert posted and all(c.token == token for c in posted)

    # T2 can neither see nor touch T1's decision
    one, two = decisions[T1], decisions[T2]
    await dist.command("list", team_id=T2)
    listing = text_of(dist.replies(FACILITATOR)[-1])
    assert f"Assistant for {T2}" in listing and f"Assistant for {T1}" not in listing
    await dist.command(f"status {one.id}", team_id=T2)
    assert f"no decision #{one.id}" in text_of(dist.replies(FACILITATOR)[-1])
    from handlers.ui.ids import ActionId

    await dist.command("A second one for T2", team_id=T2)  # open: Decide would act on it
    replies = len(dist.replies(FACILITATOR))
    await dist.click(ActionId.DECIDE, str(one.id), team_id=T2)
    assert len(dist.replies(FACILITATOR)) > replies or dist.ephemerals(FACILITATOR)
    assert (await dist.latest(T1)).decided_at == one.decided_at
    assert (await dist.latest(T2)).title == "A second one for T2"
    assert (await dist.latest(T2)).status == "open"
    assert two.status == "decided"
    assert (await rows_per_table(sessions, T1))["decision"] == 1


async def test_an_org_wide_enterprise_grid_install_serves_each_workspace_apart(
    dist, fake_slack, sessions
):
    done = await dist.install(None, enterprise_id=ORG, is_enterprise_install=True)
    assert done.status_code == 200, done.text
    assert await installations(sessions, enterprise_id=ORG, team_id=None) == 1
    [token] = fake_slack.tokens_of(None, ORG)

    for team in (G1, G2):
        before = len(fake_slack.calls)
        await dist.post(
            grid_command(
                text=f"Grid assistant {team}",
                team_id=team,
                enterprise_id=ORG,
                response_url=fake_slack.response_url(f"cmd-{team}"),
            )
        )
        assert tokens_used(fake_slack, before) == {token}
        decision = await dist.latest(team)
        assert decision.title == f"Grid assistant {team}"

    # same org, same token, still two workspaces: neither sees the other's decision
    await dist.post(
        grid_command(
            text="list",
            team_id=G2,
            enterprise_id=ORG,
            response_url=fake_slack.response_url("list-G2"),
        )
    )
    [reply] = [c.args for c in fake_slack.calls if c.path == "list-G2"]
    assert "Grid assistant T0GRIDWS002" in text_of(reply)
    assert "Grid assistant T0GRIDWS001" not in text_of(reply)


async def test_the_sweep_sends_each_workspaces_reminders_with_its_token(dist, fake_slack, sessions):
    await dist.install(T1)
    await dist.install(None, enterprise_id=ORG, is_enterprise_install=True)
    one = await dist.decide_in(T1, "Workspace reminders")
    await dist.post(
        grid_command(
            text="start Org reminders",
            team_id=G1,
            enterprise_id=ORG,
            response_url=fake_slack.response_url("cmd-G1"),
        )
    )
    grid = await dist.latest(G1)
    from handlers.ui.ids import ActionId
    from tests.fakes import signing

    for press in (ActionId.DECIDE, ActionId.CONFIRM_DECIDE):  # Decide, then Confirm
        payload = signing.block_action(action_id=str(press), value=str(grid.id), team_id=G1)
        payload["enterprise"] = {"id": ORG, "name": "Example Org"}
        payload["is_enterprise_install"] = True
        await dist.action(payload)
    grid = await dist.latest(G1)
    assert grid.status == "decided" and one.status == "decided"

    fake_slack.clear()
    sweeper = Sweeper(sessions, build_deliverer(sweep_runtime(dist.settings, sessions)))
    far = max(one.next_review_at, grid.next_review_at)
    report = await sweeper.sweep(far)
    assert len(report.sent) == 2, report
    [token1], [org_token] = fake_slack.tokens_of(T1), fake_slack.tokens_of(None, ORG)
    for decision in (one, grid):
        thread = fake_slack.messages(CHANNEL, thread_ts=decision.thread_ts)
        assert any("Quarterly review" in text_of(m) for m in thread)
    posts = fake_slack.calls_to("chat.postMessage")
    by_thread = {c.args.get("thread_ts"): c.token for c in posts if c.args.get("thread_ts")}
    assert by_thread[one.thread_ts] == token1
    assert by_thread[grid.thread_ts] == org_token
    assert None not in tokens_used(fake_slack)


def test_serve_in_distribution_mode_says_what_is_missing_in_one_line(tmp_path):
    from tests.test_cli import assert_one_line_error, run

    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}", "SLACK_CLIENT_ID": OAUTH_CLIENT_ID}
    result = run("serve", "--http", env=env)
    assert_one_line_error(
        result, "distribution mode", "SLACK_CLIENT_SECRET", "SLACK_SIGNING_SECRET"
    )
    socket = {**env, "SLACK_CLIENT_SECRET": "s", "SLACK_APP_TOKEN": "xapp-1"}
    assert_one_line_error(run("serve", env=socket), "ragft serve --http")


async def test_work_started_after_the_ack_keeps_the_requests_workspace_client(dist):
    import asyncio

    from slack_sdk.web.async_client import AsyncWebClient

    rt = dist.runtime
    seen: dict[str, str | None] = {}

    async def request(team: str) -> None:
        rt.bind(AsyncWebClient(token=f"xoxb-{team}"))

        async def after_ack() -> None:
            await asyncio.sleep(0.01)  # the other request binds its own meanwhile
            seen[team] = rt.client.token

        await asyncio.sleep(0)
        asyncio.get_running_loop().create_task(after_ack())

    await asyncio.gather(asyncio.create_task(request(T1)), asyncio.create_task(request(T2)))
    await dist.idle()
    assert seen == {T1: f"xoxb-{T1}", T2: f"xoxb-{T2}"}
    assert rt.client is rt.default_client and rt.client.token is None


async def test_with_a_state_secret_the_state_is_signed_not_stored(fake_slack, engine, sessions):
    app = DistributedApp(fake_slack, engine, sessions, slack_state_secret="a-long-state-secret")
    try:
        page = await app.http.get("/slack/install")
        state = query_of(app.add_to_slack_link(page.text))["state"][0]
        assert state.count(".") == 2  # a signed token, nothing kept server-side
        async with sessions() as session:
            stored = await session.execute(sa.text("SELECT count(*) FROM slack_oauth_states"))
            assert stored.scalar_one() == 0
        assert (await app.install(T1)).status_code == 200
        assert await installations(sessions, team_id=T1) == 1
    finally:
        await app.close()


async def test_the_oauth_paths_exist_only_in_distribution_mode(slack):
    assert (await slack.http.get("/slack/install")).status_code == 404
    assert (await slack.http.get("/slack/oauth_redirect?code=x&state=y")).status_code == 404


async def test_failures_sent_to_the_api_update_the_thread_with_the_workspaces_token(
    dist, fake_slack
):
    import re

    for team in (T1, T2):
        await dist.install(team)
    decision = await dist.decide_in(T1, "Support assistant for billing")
    await dist.command("token create zendesk", team_id=T1)
    [api_token] = re.findall(r"ragft_[A-Za-z0-9_-]{20,}", text_of(dist.replies(FACILITATOR)[-1]))
    before = len(fake_slack.calls)
    response = await dist.http.post(
        "/api/v1/failures",
        content=json.dumps({"decision": decision.id, "explanation": "quoted last year's prices"}),
        headers={"Authorization": f"Bearer {api_token}"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["accepted"] == 1
    await dist.idle()
    updates = [c for c in fake_slack.calls[before:] if c.method == "chat.update"]
    assert updates, [c.method for c in fake_slack.calls[before:]]
    assert {c.token for c in updates} == {fake_slack.tokens_of(T1)[0]}
    assert all(c.response.get("ok") for c in updates)
    shown = [text_of(c.args) for c in updates]  # the decided record shows what came after it
    assert any("1 more failures logged (knowledge 1" in text for text in shown), shown
