"""``ragft failures import``, run as a user runs it: a real subprocess on a real database."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func
from sqlmodel import select

from storage.models import FailureExample
from storage.repositories import decision_repo
from tests.test_cli import assert_one_line_error, run

TEAM, OTHER = "T0IMPORT01", "T0IMPORT02"


async def _decision(sessions, team: str = TEAM) -> int:
    async with sessions() as session, session.begin():
        decision = await decision_repo.create_decision(
            session=session, team_id=team, channel_id="C1", title="Billing", facilitator_id="U1"
        )
        return decision.id


async def _stored(sessions, decision_id: int) -> list[FailureExample]:
    async with sessions() as session:
        query = select(FailureExample).where(FailureExample.decision_id == decision_id)
        return list((await session.exec(query.order_by(FailureExample.id))).all())


def _import(db_url: str, *args: str, stdin: str = ""):
    return run("failures", "import", *args, stdin=stdin, env={"DATABASE_URL": db_url})


CSV = (
    "explanation,output,link,category,external_id\n"
    "quoted last year's prices,,,,t-1\n"
    'sounds like a legal brief,"Hereby, the party of the first part",,,t-2\n'
    ",,,,t-3\n"
    "bad link,,ftp://nope,,\n"
    ",,https://traces.example/9,behavior,t-4\n"
    '"a multi-line\n explanation that is unclear",,,,\n'
    "wrong category,,,vibes,\n"
)


async def test_csv_imports_valid_rows_and_reports_bad_ones_by_line(db_url, sessions, tmp_path):
    d = await _decision(sessions)
    path = tmp_path / "failures.csv"
    path.write_text(CSV)
    result = _import(db_url, str(path), "--decision", str(d))
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("\n") == 1
    summary = result.stdout.strip()
    assert summary.startswith("imported 4, 0 duplicates, 3 rejected: line 4: explanation is empty")
    assert "line 5: link: must be an http or https URL" in summary
    assert "line 9: category" in summary
    assert "Traceback" not in result.stderr and "\r" not in result.stderr  # not a terminal
    stored = await _stored(sessions, d)
    assert {f.source for f in stored} == {"import"}
    by_id = {f.external_id: f for f in stored}
    assert by_id["t-1"].category == "knowledge" and by_id["t-1"].category_source == "heuristic"
    assert by_id["t-4"].category == "behavior" and by_id["t-4"].category_source == "human"
    assert by_id["t-2"].output.startswith("Hereby")

    again = _import(db_url, str(path), "--decision", str(d))
    assert again.stdout.startswith("imported 0, 4 duplicates, 3 rejected")
    assert len(await _stored(sessions, d)) == 4


async def test_jsonl_from_stdin_with_duplicates_and_external_ids(db_url, sessions):
    d = await _decision(sessions)
    lines = [
        {"explanation": "ignored the JSON format", "external_id": "e-1"},
        {"explanation": "ignored the JSON format"},  # same text: a duplicate
        {"explanation": "different text, same id", "external_id": "e-1"},
        {"explanation": "Rambling and too long."},
        "not an object",
        {"explanation": "x", "colour": "red"},
    ]
    text = "\n".join(json.dumps(line) for line in lines) + "\n{broken json\n\n"
    result = _import(db_url, "-", "--decision", str(d), stdin=text)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("imported 2, 2 duplicates, 3 rejected: line 5: not a JSON")
    assert "line 6: unknown field 'colour'" in result.stdout
    assert "line 7: not valid JSON" in result.stdout
    assert "ragft: line 7: not valid JSON" in result.stderr
    assert len(await _stored(sessions, d)) == 2


async def test_bad_files_and_unknown_decisions_exit_2_with_one_line(db_url, sessions, tmp_path):
    d = await _decision(sessions)
    missing = _import(db_url, str(tmp_path / "nope.csv"), "--decision", str(d))
    assert_one_line_error(missing, "nope.csv", "no such file")
    assert_one_line_error(_import(db_url, str(tmp_path), "--decision", str(d)), "directory")
    binary = tmp_path / "dump.bin"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\xff\x00\xfe")
    assert_one_line_error(_import(db_url, str(binary), "--decision", str(d)), "not UTF-8")
    header = tmp_path / "wrong.csv"
    header.write_text("why,what\nx,y\n")
    assert_one_line_error(_import(db_url, str(header), "--decision", str(d)), "CSV header")
    garbage = tmp_path / "garbage.jsonl"
    garbage.write_text("{not json\n{also not\n")
    assert_one_line_error(_import(db_url, str(garbage), "--decision", str(d)), "neither JSONL")
    good = tmp_path / "good.csv"
    good.write_text("explanation\nquoted last year's prices\n")
    assert_one_line_error(_import(db_url, str(good), "--decision", "999"), "no decision #999")
    assert_one_line_error(_import(db_url, str(good)), "--decision")
    assert_one_line_error(
        _import(db_url, str(good), "--decision", str(d), "--team", OTHER), "no such workspace"
    )


async def test_team_is_needed_only_with_several_workspaces(db_url, sessions, tmp_path):
    d = await _decision(sessions)
    theirs = await _decision(sessions, OTHER)
    good = tmp_path / "good.csv"
    good.write_text("explanation\nquoted last year's prices\n")
    assert_one_line_error(_import(db_url, str(good), "--decision", str(d)), "--team")
    assert _import(db_url, str(good), "--decision", str(d), "--team", TEAM).returncode == 0
    # another workspace's decision is not found from this one
    crossed = _import(db_url, str(good), "--decision", str(theirs), "--team", TEAM)
    assert_one_line_error(crossed, f"no decision #{theirs}")
    async with sessions() as session:
        count = (await session.exec(select(func.count()).select_from(FailureExample))).one()
    assert count == 1


@pytest.mark.parametrize("backend", ["sqlite"], indirect=False)
async def test_a_thousand_rows_in_chunks(db_url, sessions, tmp_path: Path):
    d = await _decision(sessions)
    path = tmp_path / "many.jsonl"
    path.write_text("\n".join(json.dumps({"explanation": f"failure {i}"}) for i in range(2500)))
    result = _import(db_url, str(path), "--decision", str(d))
    assert result.stdout.strip() == "imported 2,500, 0 duplicates, 0 rejected"


def _import_on_a_terminal(db_url: str, *args: str) -> tuple[str, str, int]:
    """Run the import with stderr on a pseudo-terminal: (stdout, what the terminal showed, rc)."""
    import os
    import subprocess

    from tests.test_cli import RAGFT

    primary, secondary = os.openpty()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "OPENAI_"))}
    env["DATABASE_URL"] = db_url
    shown = b""
    try:
        result = subprocess.run(
            [*RAGFT, "failures", "import", *args],
            stdout=subprocess.PIPE, stderr=secondary, env=env, text=True, check=False,
        )  # fmt: skip
        os.close(secondary)
        while True:
            try:
                chunk = os.read(primary, 65536)
            except OSError:
                break
            if not chunk:
                break
            shown += chunk
    finally:
        os.close(primary)
    return result.stdout, shown.decode(), result.returncode


@pytest.mark.parametrize("backend", ["sqlite"], indirect=False)
async def test_progress_bar_only_on_a_terminal(db_url, sessions, tmp_path: Path):
    d = await _decision(sessions)
    path = tmp_path / "few.csv"
    path.write_text("explanation\n" + "\n".join(f"failure {i}" for i in range(1500)) + "\n")
    stdout, shown, code = _import_on_a_terminal(db_url, str(path), "--decision", str(d))
    assert code == 0
    assert stdout.strip() == "imported 1,500, 0 duplicates, 0 rejected"
    assert "importing [" in shown and "1,500/1,500" in shown
