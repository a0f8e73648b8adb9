"""Process settings from the environment and ``.env`` (see CONTRACT.md for the names)."""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./ragft.db"
DEFAULT_SLACK_API_URL = "https://slack.com/api/"
DEFAULT_OPENAI_MODEL = "gpt-4o-mini"
DEFAULT_SLACK_AUTHORIZE_URL = "https://slack.com/oauth/v2/authorize"

_SCHEME_REWRITES = {
    "sqlite": "sqlite+aiosqlite",
    "postgres": "postgresql+psycopg",
    "postgresql": "postgresql+psycopg",
}
_ACCEPTED_SCHEMES = {"sqlite+aiosqlite", "postgresql+psycopg"}
"""The drivers ragft installs and is tested on (another, ``postgresql+asyncpg`` say, would fail
at the first connection with an import error, or take different URL options)."""


class ConfigError(Exception):
    """A misconfiguration, with a message that names every bad or missing value."""


def normalize_database_url(url: str) -> str:
    """Rewrite the URLs hosting platforms hand out to the async drivers ragft uses."""
    url = url.strip()
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise ValueError("must look like sqlite:///path.db or postgresql://user@host/db")
    scheme = _SCHEME_REWRITES.get(scheme.lower(), scheme.lower())
    if scheme not in _ACCEPTED_SCHEMES:
        raise ValueError(
            f"unsupported scheme {url.partition('://')[0]!r}; use sqlite or postgresql"
        )
    normalized = f"{scheme}://{rest}"
    try:
        make_url(normalized)
    except Exception:  # its message quotes the whole URL, password and all
        raise ValueError(
            "is not a database URL: it must look like sqlite:///path.db or "
            "postgresql://user:password@host:5432/db"
        ) from None
    return normalized


def shown_url(url: str) -> str:
    """``url`` with its password replaced by ``***``: safe to print and log."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not parseable: hide everything between :// and @
        scheme, sep, rest = url.partition("://")
        return f"{scheme}{sep}***@{rest.rpartition('@')[2]}" if "@" in rest else url


class DatabaseUrl(SecretStr):
    """``DATABASE_URL``, which may hold a password: ``str()`` and ``repr()`` show it masked
    (``postgresql+psycopg://ragft:***@db:5432/ragft``); ``get_secret_value()`` is the URL."""

    def _display(self) -> str:  # type: ignore[override]
        return shown_url(self.get_secret_value())


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env",
        extra="ignore",
        env_ignore_empty=True,
        hide_input_in_errors=True,  # a bad DATABASE_URL or token is never echoed back
    )

    database_url: DatabaseUrl = Field(default=DatabaseUrl(DEFAULT_DATABASE_URL))
    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_api_url: str = DEFAULT_SLACK_API_URL
    openai_api_key: SecretStr | None = None
    openai_base_url: str | None = None
    openai_model: str = DEFAULT_OPENAI_MODEL
    port: int = Field(default=3000, ge=1, le=65535)
    slack_client_id: str | None = None
    slack_client_secret: SecretStr | None = None
    slack_state_secret: SecretStr | None = None
    slack_authorize_url: str = DEFAULT_SLACK_AUTHORIZE_URL
    ragft_retention_days: int | None = Field(default=None, ge=1)

    @property
    def distribution(self) -> bool:
        """Distribution mode: many workspaces install ragft through Bolt's OAuth flow."""
        return self.slack_client_id is not None or self.slack_client_secret is not None

    @field_validator("database_url", mode="before")
    @classmethod
    def _normalize_db(cls, value: object) -> str:
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        if not isinstance(value, str):
            raise ValueError("must be a URL such as sqlite:///ragft.db or postgresql://…")
        return normalize_database_url(value)

    @field_validator("slack_bot_token")
    @classmethod
    def _bot_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().startswith("xoxb-"):
            raise ValueError("must be a bot token starting with xoxb-")
        return value

    @field_validator("slack_app_token")
    @classmethod
    def _app_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().startswith("xapp-"):
            raise ValueError("must be an app-level token starting with xapp-")
        return value

    @field_validator("slack_api_url")
    @classmethod
    def _api_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http(s) URL such as https://slack.com/api/")
        return value if value.endswith("/") else value + "/"

    @property
    def retention(self) -> timedelta | None:
        """``RAGFT_RETENTION_DAYS`` as a duration; None keeps failing outputs for good."""
        days = self.ragft_retention_days
        return timedelta(days=days) if days is not None else None

    @field_validator("slack_authorize_url")
    @classmethod
    def _authorize_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http(s) URL such as " + DEFAULT_SLACK_AUTHORIZE_URL)
        return value

    def missing_for_serve(self, mode: Literal["http", "socket"]) -> list[str]:
        """The variables ``ragft serve`` still needs in the given mode."""
        if self.distribution:  # installs bring the tokens; the OAuth flow is served over HTTP
            needed = {
                "SLACK_CLIENT_ID": self.slack_client_id,
                "SLACK_CLIENT_SECRET": self.slack_client_secret,
                "SLACK_SIGNING_SECRET": self.slack_signing_secret,
            }
            return [name for name, value in needed.items() if value is None]
        missing = []
        if self.slack_bot_token is None:
            missing.append("SLACK_BOT_TOKEN")
        if mode == "http" and self.slack_signing_secret is None:
            missing.append("SLACK_SIGNING_SECRET")
        if mode == "socket" and self.slack_app_token is None:
            missing.append("SLACK_APP_TOKEN")
        return missing


def load_settings() -> Settings:
    """Read settings, or raise ConfigError listing every bad value in one message."""
    try:
        return Settings()
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            name = str(error["loc"][0]).upper() if error["loc"] else "settings"
            message = error["msg"].removeprefix("Value error, ")
            problems.append(f"{name} {message}")
        raise ConfigError("bad configuration: " + "; ".join(problems)) from None
