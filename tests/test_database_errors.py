"""A database that can't be reached, opened or migrated at start: one line on stderr that names
the database (never its password) and what to check, exit 2, no traceback. The commands run as
real subprocesses."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from storage.db import reason
from tests.test_cli import assert_one_line_error, run

PASSWORD = "secretpw"
UNREACHABLE = f"postgresql://u:{PASSWORD}@127.0.0.1:1/x"
COMMANDS = [("db", "upgrade"), ("sweep",), ("serve", "--http")]
SLACK = {"SLACK_BOT_TOKEN": "xoxb-test", "SLACK_SIGNING_SECRET": "not-checked-here"}


def start(command: tuple[str, ...], database_url: str, cwd: Path):
    return run(*command, env={**SLACK, "DATABASE_URL": database_url}, cwd=cwd)


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_an_unreachable_postgresql_is_one_line_naming_the_host_never_the_password(
    command, tmp_path: Path
):
    result = start(command, UNREACHABLE, tmp_path)
    assert_one_line_error(result, "cannot reach PostgreSQL at 127.0.0.1:1", "database x", "user u")
    assert "check DATABASE_URL" in result.stderr and "server is running" in result.stderr
    assert PASSWORD not in result.stderr + result.stdout


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_a_sqlite_file_in_a_directory_that_cannot_exist_is_one_line(command, tmp_path: Path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory\n")
    path = blocker / "data" / "ragft.db"
    result = start(command, f"sqlite:///{path}", tmp_path)
    assert_one_line_error(result, f"the SQLite file {path}", "directory", "writable")


def test_a_read_only_sqlite_database_that_needs_migrating_is_one_line(tmp_path: Path):
    path = tmp_path / "ragft.db"
    sqlite3.connect(path).close()  # an empty database: every table still to be created
    # As if the file weren't writable by ragft's user (root ignores file modes, so say it in
    # the URL): SQLite opens it read-only either way.
    result = start(("db", "upgrade"), f"sqlite:///file:{path}?mode=ro&uri=true", tmp_path)
    assert_one_line_error(result, f"SQLite file {path}", "readonly", "writable")


def test_a_database_migrated_by_a_newer_ragft_is_one_line(tmp_path: Path):
    assert run("db", "upgrade", cwd=tmp_path).returncode == 0
    with sqlite3.connect(tmp_path / "ragft.db") as db:
        db.execute("UPDATE alembic_version SET version_num = '9999_from_the_future'")
    result = run("db", "upgrade", cwd=tmp_path)
    assert_one_line_error(result, "cannot migrate", "9999_from_the_future", "newer version")


def test_a_database_error_that_quotes_the_password_is_masked():
    error = RuntimeError(f'password "{PASSWORD}" rejected\ndetail: {PASSWORD}')
    assert reason(error, UNREACHABLE) == 'password "***" rejected'
    assert reason(TimeoutError(), UNREACHABLE) == "it did not answer in time"
