"""Uninstall leaves nothing behind: ``app_uninstalled`` (a workspace, or an org-wide install),
``tokens_revoked``, ``ragft purge`` and ``RAGFT_RETENTION_DAYS``. Real SQLite and PostgreSQL,
the fake Slack, subprocess runs of the CLI."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlmodel import select

from handlers.ui.ids import ActionId, pack
from storage.db import create_engine, session_factory
from storage.migrate import upgrade
from storage.models import FailureExample
from tests.fakes import signing
from tests.oauth_app import DistributedApp, grid_command, grid_event, installations, rows_per_table
from tests.slack_app import FACILITATOR, SlackApp, text_of
from tests.test_cli import assert_one_line_error, run
from tests.test_routine_slack import decided

T1, T2 = "T0WORKSP001", "T0WORKSP002"
ORG, G1, G2 = "E0ORGANIZ01", "T0GRIDWS001", "T0GRIDWS002"


@pytest.fixture
async def dist(fake_slack, engine, sessions):
    app = DistributedApp(fake_slack, engine, sessions)
    yield app
    await app.close()


async def busy_workspace(app: DistributedApp, team: str) -> None:
    """A decided decision with answers, audits, owners' gaps, failures and a due review."""
    await app.command(f"Assistant for {team}", team_id=team)
    decision = await app.latest(team)
    for value in ("knowledge", "behavior"):  # an answer, changed: an audit row each
        await app.click(
            ActionId.ANSWER,
            pack(decision.id, "problem_type", value),
            suffix=("problem_type", value),
            team_id=team,
        )
    await app.decide(decision.id, team_id=team)
    await app.command(f"log {decision.id} quoted old prices | https://example.com/o", team_id=team)


def uninstalled(team: str, event_id: str):
    return signing.event({"type": "app_uninstalled"}, event_id=event_id, team_id=team)


async def test_uninstalling_one_workspace_deletes_all_its_rows_and_nothing_else(
    dist, fake_slack, sessions
):
    for team in (T1, T2):
        await dist.install(team)
        await busy_workspace(dist, team)
    mine, theirs = await rows_per_table(sessions, T1), await rows_per_table(sessions, T2)
    for table in ("decision", "answer", "answeraudit", "failureexample", "reminder"):
        assert mine[table] > 0 and theirs[table] > 0, table
    assert mine["slack_installations"] == 1 and mine["slack_bots"] == 1

    response = await dist.post(uninstalled(T1, "EvUninstall1"))
    assert response.status_code == 200

    assert set((await rows_per_table(sessions, T1)).values()) == {0}
    assert await rows_per_table(sessions, T2) == theirs
    # the other workspace carries on with its own token
    before = len(fake_slack.calls)
    await dist.command("list", team_id=T2)
    assert "Assistant for T0WORKSP002" in text_of(dist.replies(FACILITATOR)[-1])
    await dist.command("start Another assistant", team_id=T2)
    assert {c.token for c in fake_slack.calls[before:] if c.method != "response_url"} == {
        fake_slack.tokens_of(T2)[0]
    }
    assert (await dist.latest(T2)).title == "Another assistant"
    # the uninstalled one is no longer authorised: nothing is answered in its name
    before = len(fake_slack.calls)
    await dist.command("start Yet another", team_id=T1)
    assert not [c for c in fake_slack.calls[before:] if c.method == "chat.postMessage"]
    assert set((await rows_per_table(sessions, T1)).values()) == {0}


async def test_uninstalling_an_org_wide_install_deletes_every_workspace_of_the_org(
    dist, fake_slack, sessions
):
    await dist.install(None, enterprise_id=ORG, is_enterprise_install=True)
    await dist.install(T1)
    await busy_workspace(dist, T1)
    for team in (G1, G2):
        await dist.post(
            grid_command(
                text=f"start Grid {team}",
                team_id=team,
                enterprise_id=ORG,
                response_url=fake_slack.response_url(team),
            )
        )
        assert (await rows_per_table(sessions, team))["decision"] == 1
    outside = await rows_per_table(sessions, T1)

    event = grid_event(
        {"type": "app_uninstalled"}, event_id="EvOrg1", team_id=G1, enterprise_id=ORG
    )
    assert (await dist.post(event)).status_code == 200

    for team in (G1, G2):
        assert set((await rows_per_table(sessions, team)).values()) == {0}, team
    assert await installations(sessions, enterprise_id=ORG) == 0
    assert await rows_per_table(sessions, T1) == outside


def own_install_command(*, text: str, team_id: str, enterprise_id: str, response_url: str):
    """A slash command from a workspace of an org that installed ragft itself."""
    from urllib.parse import parse_qs, urlencode

    body, _ = signing.slash_command(text=text, team_id=team_id, response_url=response_url)
    fields = {k: v[0] for k, v in parse_qs(body.decode(), keep_blank_values=True).items()}
    fields.update(enterprise_id=enterprise_id, is_enterprise_install="false")
    raw = urlencode(fields).encode()
    return raw, {"Content-Type": signing.FORM, **signing.sign(raw)}


async def test_an_org_wide_uninstall_keeps_a_workspace_that_installed_ragft_itself(
    dist, fake_slack, sessions
):
    await dist.install(None, enterprise_id=ORG, is_enterprise_install=True)
    await dist.install(G2, enterprise_id=ORG)  # G2 also added ragft on its own
    await dist.post(
        grid_command(
            text="start Grid G1",
            team_id=G1,
            enterprise_id=ORG,
            response_url=fake_slack.response_url("g1"),
        )
    )
    await dist.post(
        own_install_command(
            text="start Workspace level G2",
            team_id=G2,
            enterprise_id=ORG,
            response_url=fake_slack.response_url("g2"),
        )
    )
    theirs = await rows_per_table(sessions, G2)
    assert theirs["decision"] == 1 and theirs["slack_installations"] == 1

    event = grid_event(
        {"type": "app_uninstalled"}, event_id="EvOrg2", team_id=G1, enterprise_id=ORG
    )
    assert (await dist.post(event)).status_code == 200

    assert set((await rows_per_table(sessions, G1)).values()) == {0}
    assert await installations(sessions, enterprise_id=ORG, team_id=None) == 0
    assert await rows_per_table(sessions, G2) == theirs
    # and G2 carries on with its own token
    before = len(fake_slack.calls)
    await dist.post(
        own_install_command(
            text="list", team_id=G2, enterprise_id=ORG, response_url=fake_slack.response_url("l")
        )
    )
    assert "Workspace level G2" in text_of(fake_slack.calls_to("response_url")[-1].args)
    assert {c.token for c in fake_slack.calls[before:] if c.method != "response_url"} <= {
        fake_slack.tokens_of(G2, ORG)[0]
    }


async def test_removing_the_org_install_from_one_workspace_deletes_that_workspaces_data(
    dist, fake_slack, sessions
):
    await dist.install(None, enterprise_id=ORG, is_enterprise_install=True)
    for team in (G1, G2):
        await dist.post(
            grid_command(
                text=f"start Grid {team}",
                team_id=team,
                enterprise_id=ORG,
                response_url=fake_slack.response_url(team),
            )
        )
        assert (await rows_per_table(sessions, team))["decision"] == 1
    kept = await rows_per_table(sessions, G2)

    event = grid_event(
        {"type": "team_access_revoked", "team_ids": [G1, "not a team", 7]},
        event_id="EvRevokedTeam1",
        team_id=G1,
        enterprise_id=ORG,
    )
    assert (await dist.post(event)).status_code == 200

    assert set((await rows_per_table(sessions, G1)).values()) == {0}
    assert await rows_per_table(sessions, G2) == kept
    assert await installations(sessions, enterprise_id=ORG, team_id=None) == 1
    # the org's other workspace still works on the org-wide install
    await dist.post(
        grid_command(
            text="list", team_id=G2, enterprise_id=ORG, response_url=fake_slack.response_url("l2")
        )
    )
    assert "Grid T0GRIDWS002" in text_of(fake_slack.calls_to("response_url")[-1].args)


async def test_revoked_tokens_are_deleted_but_the_decisions_stay(dist, sessions):
    await dist.install(T1)
    await busy_workspace(dist, T1)
    event = signing.event(
        {"type": "tokens_revoked", "tokens": {"oauth": [], "bot": ["U0BOT00001"]}},
        event_id="EvRevoked1",
        team_id=T1,
    )
    assert (await dist.post(event)).status_code == 200
    rows = await rows_per_table(sessions, T1)
    assert rows["slack_installations"] == 0 and rows["slack_bots"] == 0
    assert rows["decision"] == 1


async def test_a_single_workspace_app_uninstalled_deletes_its_data_too(slack, sessions):
    await decided(slack)
    assert (await rows_per_table(sessions, signing.DEFAULT_TEAM))["decision"] == 1
    await slack.post(uninstalled(signing.DEFAULT_TEAM, "EvUninstall2"))
    assert set((await rows_per_table(sessions, signing.DEFAULT_TEAM)).values()) == {0}


# ragft purge ------------------------------------------------------------------------------------


def seeded(tmp_path, fake_slack, *teams: str) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path / 'purge.db'}"

    async def setup() -> None:
        engine = create_engine(url)
        await upgrade(engine)
        app = SlackApp(fake_slack, engine, session_factory(engine))
        for team in teams:
            await app.command(f"Assistant for {team}", team_id=team)
            decision = await DistributedApp.latest(app, team)  # type: ignore[arg-type]
            await app.decide(decision.id, team_id=team)
            await app.command("log quoted old prices | https://example.com/o", team_id=team)
        await app.close()
        await engine.dispose()

    asyncio.run(setup())
    return url


def counts(url: str, team: str) -> dict[str, int]:
    async def read() -> dict[str, int]:
        engine = create_engine(url)
        try:
            return await rows_per_table(session_factory(engine), team)
        finally:
            await engine.dispose()

    return asyncio.run(read())


def test_purge_without_yes_shows_what_it_would_delete_and_refuses_without_a_terminal(
    tmp_path, fake_slack
):
    url = seeded(tmp_path, fake_slack, T1, T2)
    before = counts(url, T1)
    result = run("purge", "--team", T1, env={"DATABASE_URL": url})
    assert result.returncode == 2, result
    assert "Traceback" not in result.stderr
    [line] = result.stderr.strip().splitlines()
    assert "--yes" in line
    assert f"decision: {before['decision']} rows" in result.stdout
    assert counts(url, T1) == before

    declined = run("purge", "--team", T1, stdin="n\n", env={"DATABASE_URL": url})
    assert declined.returncode == 2 and counts(url, T1) == before


@pytest.mark.parametrize(("answer", "code"), [("y", 0), ("n", 1)])
def test_purge_asks_on_a_terminal_and_deletes_only_on_yes(tmp_path, fake_slack, answer, code):
    import os
    import pty
    import subprocess

    from tests.test_cli import RAGFT, ROOT

    url = seeded(tmp_path, fake_slack, T1)
    before = counts(url, T1)
    keyboard, terminal = pty.openpty()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "OPENAI_"))}
    process = subprocess.Popen(
        [*RAGFT, "purge", "--team", T1],
        stdin=terminal,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**env, "DATABASE_URL": url},
        cwd=ROOT,
    )
    os.close(terminal)
    os.write(keyboard, f"{answer}\n".encode())
    out, err = process.communicate(timeout=60)
    os.close(keyboard)
    assert process.returncode == code, err
    assert "Delete all of it?" in out and f"decision: {before['decision']} rows" in out
    if answer == "y":
        assert f"Deleted workspace {T1}" in out and set(counts(url, T1).values()) == {0}
    else:
        assert "Nothing deleted." in out and counts(url, T1) == before


def test_purge_yes_deletes_the_workspace_and_leaves_the_others(tmp_path, fake_slack):
    url = seeded(tmp_path, fake_slack, T1, T2)
    theirs = counts(url, T2)
    result = run("purge", "--team", T1, "--yes", env={"DATABASE_URL": url})
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"Deleted workspace {T1}: ") and "decision 1" in result.stdout
    assert set(counts(url, T1).values()) == {0}
    assert counts(url, T2) == theirs
    again = run("purge", "--team", T1, env={"DATABASE_URL": url})
    assert again.returncode == 0 and "Nothing is stored" in again.stdout


def test_purge_rejects_a_bad_team_id(tmp_path):
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"}
    assert_one_line_error(run("purge", "--team", "not a team", env=env), "--team")
    result = run("purge", env=env)
    assert result.returncode == 2 and "--team" in result.stderr


# RAGFT_RETENTION_DAYS --------------------------------------------------------------------------


def failures(url: str) -> list[FailureExample]:
    async def read() -> list[FailureExample]:
        engine = create_engine(url)
        try:
            async with session_factory(engine)() as session:
                query = select(FailureExample).order_by(FailureExample.id)
                return list((await session.exec(query)).all())
        finally:
            await engine.dispose()

    return asyncio.run(read())


def test_the_sweep_erases_old_failing_outputs_and_links_but_keeps_the_counts(tmp_path, fake_slack):
    url = seeded(tmp_path, fake_slack, T1)
    [failure] = failures(url)
    assert failure.output or failure.permalink
    later = (failure.logged_at + timedelta(days=31)).isoformat()
    env = {"DATABASE_URL": url, "SLACK_BOT_TOKEN": "xoxb-test", "SLACK_API_URL": fake_slack.url}

    kept = run("sweep", "--now", later, env=env)  # off by default
    assert kept.returncode == 0, kept.stderr
    assert failures(url)[0].permalink == failure.permalink

    early = run("sweep", "--now", later, env={**env, "RAGFT_RETENTION_DAYS": "40"})
    assert early.returncode == 0 and failures(url)[0].permalink == failure.permalink

    result = run("sweep", "--now", later, env={**env, "RAGFT_RETENTION_DAYS": "30"})
    assert result.returncode == 0, result.stderr
    assert "erased the outputs and links of 1 failures older than 30 days" in result.stdout
    [erased] = failures(url)
    assert erased.output is None and erased.permalink is None
    assert erased.category == failure.category and erased.explanation == failure.explanation


def test_a_bad_retention_setting_is_one_line(tmp_path):
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}", "SLACK_BOT_TOKEN": "xoxb-test"}
    assert_one_line_error(run("sweep", env={**env, "RAGFT_RETENTION_DAYS": "0"}), "RETENTION")


def seeded_org(tmp_path, fake_slack) -> str:
    """An org-wide install used by G1, and G2 of the same org on an install of its own."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'org.db'}"

    async def setup() -> None:
        engine = create_engine(url)
        await upgrade(engine)
        app = DistributedApp(fake_slack, engine, session_factory(engine))
        await app.install(None, enterprise_id=ORG, is_enterprise_install=True)
        await app.install(G2, enterprise_id=ORG)
        await app.post(
            grid_command(
                text="start Grid G1",
                team_id=G1,
                enterprise_id=ORG,
                response_url=fake_slack.response_url("g1"),
            )
        )
        await app.post(
            own_install_command(
                text="start Workspace level G2",
                team_id=G2,
                enterprise_id=ORG,
                response_url=fake_slack.response_url("g2"),
            )
        )
        await app.close()
        await engine.dispose()

    asyncio.run(setup())
    return url


def org_installs(url: str) -> int:
    async def read() -> int:
        engine = create_engine(url)
        try:
            return await installations(session_factory(engine), enterprise_id=ORG, team_id=None)
        finally:
            await engine.dispose()

    return asyncio.run(read())


def test_purge_of_an_org_id_deletes_the_org_wide_install_and_its_workspaces(tmp_path, fake_slack):
    url = seeded_org(tmp_path, fake_slack)
    g1, g2 = counts(url, G1), counts(url, G2)
    assert g1["decision"] == 1 and g2["decision"] == 1 and org_installs(url) == 1

    asked = run("purge", "--team", ORG, env={"DATABASE_URL": url})
    assert asked.returncode == 2 and "--yes" in asked.stderr, asked
    assert f"This deletes everything stored for org {ORG}" in asked.stdout
    assert "decision: 1 rows" in asked.stdout and "slack_installations: 1 rows" in asked.stdout
    assert counts(url, G1) == g1 and org_installs(url) == 1

    result = run("purge", "--team", ORG, "--yes", env={"DATABASE_URL": url})
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"Deleted org {ORG}") and "decision 1" in result.stdout
    assert set(counts(url, G1).values()) == {0} and org_installs(url) == 0
    assert counts(url, G2) == g2  # it installed ragft itself
    again = run("purge", "--team", ORG, env={"DATABASE_URL": url})
    assert again.returncode == 0 and f"Nothing is stored for org {ORG}" in again.stdout
