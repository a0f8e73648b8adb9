"""What a newcomer meets first: ``ragft --version``, ``.env.example``, and a start-up without
Bolt's false warning about the token."""

from __future__ import annotations

import logging
import re
import shutil
from importlib.metadata import version
from pathlib import Path

from bot.settings import Settings
from handlers.app import create_app
from handlers.runtime import close_client
from tests.test_cli import ROOT, run

EXAMPLE = ROOT / ".env.example"
CONTRACT_VARIABLES = [  # CONTRACT.md, "Environment"
    "DATABASE_URL",
    "SLACK_BOT_TOKEN",
    "SLACK_SIGNING_SECRET",
    "SLACK_APP_TOKEN",
    "SLACK_API_URL",
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "OPENAI_MODEL",
    "PORT",
    "SLACK_CLIENT_ID",
    "SLACK_CLIENT_SECRET",
    "SLACK_STATE_SECRET",
    "SLACK_AUTHORIZE_URL",
    "RAGFT_RETENTION_DAYS",
]


def test_version_prints_the_installed_package_version():
    result = run("--version")
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"ragft {version('ragft')}\n"


def example_variables() -> list[str]:
    return re.findall(r"^# ([A-Z][A-Z0-9_]*)=", EXAMPLE.read_text(), flags=re.MULTILINE)


def test_env_example_shows_every_setting():
    shown = set(example_variables())
    fields = {name.upper() for name in Settings.model_fields}
    assert fields - shown == set(), "add them to .env.example"
    assert set(CONTRACT_VARIABLES) - shown == set()


def test_env_example_comments_out_every_line_and_explains_every_variable():
    lines = EXAMPLE.read_text().splitlines()
    setting = re.compile(r"# [A-Z][A-Z0-9_]*=")
    for number, line in enumerate(lines):
        assert not line or line.startswith("#"), f"line {number + 1} is not commented: {line}"
        if setting.match(line):  # a comment that is prose, not a setting, comes right before
            above = next(text for text in reversed(lines[:number]) if not setting.match(text))
            assert above.startswith("# ") and len(above) > 10, f"explain {line}"


def test_a_copy_of_env_example_as_env_gives_the_defaults(tmp_path: Path, monkeypatch):
    shutil.copy(EXAMPLE, tmp_path / ".env")
    monkeypatch.chdir(tmp_path)
    for name in CONTRACT_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    assert Settings() == Settings(_env_file=None)


async def test_building_the_app_with_the_token_in_the_environment_logs_no_bolt_warning(
    caplog, monkeypatch, fake_slack
):
    # Bolt reads SLACK_BOT_TOKEN itself whenever it is set, as in every real deployment.
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-from-the-environment")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "from-the-environment")
    settings = Settings(_env_file=None, slack_api_url=fake_slack.url)
    with caplog.at_level(logging.DEBUG):
        app, runtime = create_app(settings=settings, sessions=None)
        logging.getLogger("ragft").warning("ragft's own warnings still get through")
    try:
        warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
        assert warnings == ["ragft's own warnings still get through"]
        assert app.client.token == "xoxb-from-the-environment"  # the token ragft's client uses
    finally:
        await close_client(runtime.client)
