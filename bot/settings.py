"""Process settings from the environment and ``.env`` (see CONTRACT.md for the names)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./ragft.db"
DEFAULT_SLACK_API_URL = "https://slack.com/api/"
DEFAULT_OPENAI_MODEL = "gpt-4o-mini"

_SCHEME_REWRITES = {
    "sqlite": "sqlite+aiosqlite",
    "postgres": "postgresql+psycopg",
    "postgresql": "postgresql+psycopg",
}
_ACCEPTED_SCHEMES = {"sqlite+aiosqlite", "postgresql+psycopg", "postgresql+asyncpg"}


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
    return f"{scheme}://{rest}"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", env_ignore_empty=True)

    database_url: str = Field(default=DEFAULT_DATABASE_URL)
    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_api_url: str = DEFAULT_SLACK_API_URL
    openai_api_key: SecretStr | None = None
    openai_base_url: str | None = None
    openai_model: str = DEFAULT_OPENAI_MODEL
    port: int = Field(default=3000, ge=1, le=65535)

    @field_validator("database_url")
    @classmethod
    def _normalize_db(cls, value: str) -> str:
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

    def missing_for_serve(self, mode: Literal["http", "socket"]) -> list[str]:
        """The variables ``ragft serve`` still needs in the given mode."""
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
