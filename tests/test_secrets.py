"""The database password (DATABASE_URL holds it) never shows: not in ``repr(Settings)``, not
in errors about a bad URL, not in what the commands print."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError
from sqlalchemy.engine import make_url

from bot.settings import ConfigError, Settings, load_settings
from tests.test_cli import assert_one_line_error, run

PASSWORD = "secretpw"


def test_db_upgrade_names_the_database_without_its_password(postgres_databases):
    url = make_url(postgres_databases.empty()).set(password=PASSWORD)  # trust auth ignores it
    result = run("db", "upgrade", env={"DATABASE_URL": url.render_as_string(False)})
    assert result.returncode == 0, result.stderr
    assert f":***@{url.host}" in result.stdout and "revision" in result.stdout
    assert PASSWORD not in result.stdout + result.stderr


def test_repr_and_str_of_settings_mask_the_database_password():
    settings = Settings(
        _env_file=None, database_url=f"postgres://ragft:{PASSWORD}@db.example.com:5432/ragft"
    )
    shown = "postgresql+psycopg://ragft:***@db.example.com:5432/ragft"
    for text in (
        repr(settings),
        str(settings),
        f"{settings.database_url}",
        repr(settings.database_url),
        repr(settings.model_dump()),
        settings.model_dump_json(),
    ):
        assert PASSWORD not in text
    assert shown in repr(settings) and str(settings.database_url) == shown
    assert settings.database_url.get_secret_value() == shown.replace("***", PASSWORD)


@pytest.mark.parametrize(
    "bad", [f"postgresql://u:{PASSWORD}@db:notaport/x", f"mysql://u:{PASSWORD}@db/x"]
)
def test_a_bad_database_url_is_reported_without_its_password(bad: str, monkeypatch):
    with pytest.raises(ValidationError) as raised:
        Settings(_env_file=None, database_url=bad)
    assert PASSWORD not in str(raised.value)
    monkeypatch.setenv("DATABASE_URL", bad)
    monkeypatch.chdir(Path(__file__).parent)  # no .env here
    with pytest.raises(ConfigError) as config:
        load_settings()
    assert "DATABASE_URL" in str(config.value) and PASSWORD not in str(config.value)
    result = run("db", "upgrade", env={"DATABASE_URL": bad})
    assert_one_line_error(result, "DATABASE_URL")
    assert PASSWORD not in result.stderr
