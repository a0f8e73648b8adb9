"""``ragft export --out DIR [--team T] [--format …]``: a workspace's decisions as ADR files,
run as a user runs it (a subprocess), against decisions made through the real app, the fake
Slack (names via users.info), SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import re

import yaml

from handlers.ui.ids import ActionId
from storage.models import Decision
from tests.test_adr_export import USER_ID, decided_with_answers, front_matter, name_everyone
from tests.test_cli import assert_one_line_error, run
from tests.test_slack_thread import MARCO, start


async def ragft(*args: str, env: dict[str, str]):
    return await asyncio.to_thread(run, "export", *args, env=env)


async def set_decision(slack, decision_id: int, **values) -> None:
    async with slack.sessions() as session, session.begin():
        decision = await session.get(Decision, decision_id)
        for key, value in values.items():
            setattr(decision, key, value)
        session.add(decision)


async def three_records(slack) -> tuple[int, int, int, int]:
    """A decision superseded by its decided re-run, a withdrawn one, and an open one."""
    name_everyone(slack)
    old = await decided_with_answers(slack, "Billing assistant")
    await slack.click(ActionId.RERUN, str(old), user=MARCO)
    new = (await slack.decision()).id
    await slack.decide(new, user=MARCO)
    withdrawn = await start(slack, "Contract tone")
    await set_decision(slack, withdrawn, status="withdrawn")
    still_open = await start(slack, "Search assistant")
    return old, new, withdrawn, still_open


async def test_export_writes_the_workspace_with_links_and_updates_in_place(slack, db_url, tmp_path):
    old, new, withdrawn, _open = await three_records(slack)
    out = tmp_path / "docs" / "decisions"
    out.mkdir(parents=True)
    theirs = out / "0001-record-architecture-decisions.md"
    theirs.write_text("# 1. Record architecture decisions\n")
    env = {"DATABASE_URL": db_url, "SLACK_BOT_TOKEN": "xoxb-test", "SLACK_API_URL": slack.fake.url}

    result = await ragft("--out", str(out), env=env)  # one workspace: no --team needed
    assert result.returncode == 0, result.stderr
    names = {
        old: f"{old:04d}-billing-assistant.md",
        new: f"{new:04d}-billing-assistant.md",
        withdrawn: f"{withdrawn:04d}-contract-tone.md",
    }
    assert sorted(p.name for p in out.iterdir()) == sorted([theirs.name, *names.values()])
    assert theirs.read_text() == "# 1. Record architecture decisions\n"  # never touched
    assert f"3 ADR files (madr) in {out}: 3 written, 0 unchanged, 0 removed" in result.stdout

    files = {i: (out / name).read_text() for i, name in names.items()}
    assert front_matter(files[old])["status"] == f"superseded by ADR-{new:04d}"
    assert f"Superseded by [Billing assistant]({names[new]})" in files[old]
    assert f"Supersedes [Billing assistant]({names[old]})" in files[new]
    assert front_matter(files[new])["status"] == "accepted"
    assert front_matter(files[withdrawn])["status"] == "rejected"
    assert front_matter(files[new])["decision-makers"] == ["Marco"]
    for content in files.values():
        assert not USER_ID.search(content)

    again = await ragft("--out", str(out), env=env)
    assert "3 ADR files (madr) in" in again.stdout and "0 written, 3 unchanged" in again.stdout

    await set_decision(slack, new, title="Billing assistant, revisited")
    renamed = await ragft("--out", str(out), "--format", "log4brains", env=env)
    assert renamed.returncode == 0, renamed.stderr
    assert f"removed {out / names[new]} (the decision was renamed)" in renamed.stdout
    new_name = f"{new:04d}-billing-assistant-revisited.md"
    listed = sorted(p.name for p in out.iterdir())
    assert listed == sorted([theirs.name, names[old], names[withdrawn], new_name])
    log4brains = (out / names[old]).read_text()
    stem = new_name.removesuffix(".md")
    assert f"- Status: superseded by [{stem}]({new_name})" in log4brains
    assert not (out / names[old]).read_text().startswith("---")


async def test_without_a_token_people_are_numbered_teammates(slack, db_url, tmp_path):
    await three_records(slack)
    result = await ragft(
        "--out", str(tmp_path), "--format", "adr-tools", env={"DATABASE_URL": db_url}
    )
    assert result.returncode == 0, result.stderr
    assert "people are written as “teammate N”" in result.stderr
    for path in tmp_path.glob("*.md"):
        content = path.read_text()
        assert re.match(r"# \d+\. ", content) and not USER_ID.search(content)
        assert "teammate 1" in content


async def test_bad_dir_and_ambiguous_workspace_are_one_line_errors(slack, db_url, tmp_path):
    team = (await slack.decision(await decided_with_answers(slack))).team_id
    env = {"DATABASE_URL": db_url}
    a_file = tmp_path / "notes.txt"
    a_file.write_text("x")
    assert_one_line_error(await ragft("--out", str(a_file), env=env), "not a directory")
    assert_one_line_error(
        await ragft("--out", str(tmp_path), "--team", "T0NOPE", env=env), "no decisions", "T0NOPE"
    )
    assert_one_line_error(
        await ragft("--out", str(tmp_path), "--format", "docx", env=env), "--format"
    )

    async with slack.sessions() as session, session.begin():
        session.add(Decision(team_id="T0SECOND", channel_id="C1", title="x", facilitator_id="U1"))
    result = await ragft("--out", str(tmp_path), env=env)
    assert_one_line_error(result, "2 workspaces", "--team")
    chosen = await ragft("--out", str(tmp_path), "--team", team, env=env)
    assert chosen.returncode == 0, chosen.stderr
    assert [
        yaml.safe_load(p.read_text().split("---")[1])["status"] for p in tmp_path.glob("*.md")
    ] == ["accepted"]
    assert not list(tmp_path.glob(".ragft-*"))


async def test_slack_out_of_reach_still_exports_with_teammates(slack, db_url, tmp_path):
    await three_records(slack)
    env = {
        "DATABASE_URL": db_url,
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_API_URL": "http://127.0.0.1:9/api/",  # nothing listens there
    }
    result = await ragft("--out", str(tmp_path), env=env)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    contents = [p.read_text() for p in tmp_path.glob("*.md")]
    assert len(contents) == 3
    for content in contents:
        assert "teammate 1" in content and not USER_ID.search(content)
