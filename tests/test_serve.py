"""``ragft serve`` as an operator runs it: a real process under uvicorn on a loopback port."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.fakes import signing
from tests.test_cli import assert_one_line_error, run

RAGFT = str(Path(sys.executable).with_name("ragft"))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def server(fake_slack, tmp_path: Path):
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "OPENAI_"))}
    env.update(
        SLACK_BOT_TOKEN="xoxb-test-token",
        SLACK_SIGNING_SECRET=signing.SIGNING_SECRET,
        SLACK_API_URL=fake_slack.url,
        DATABASE_URL=f"sqlite:///{tmp_path / 'ragft.db'}",
    )
    process = subprocess.Popen(
        [RAGFT, "serve", "--http", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"server did not become healthy:\n{process.stdout.read()}")
        time.sleep(0.1)
    yield base
    process.send_signal(signal.SIGINT)
    try:
        output, _ = process.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate()
    assert "xoxb-test-token" not in output and signing.SIGNING_SECRET not in output


def test_serve_answers_healthz_and_signed_commands(server, fake_slack, tmp_path: Path):
    health = httpx.get(f"{server}/healthz")
    assert health.status_code == 200 and health.json() == {"ok": True, "database": "ok"}
    assert (tmp_path / "ragft.db").exists()  # migrated on start

    body, headers = signing.slash_command(text="start Billing assistant")
    response = httpx.post(f"{server}/slack/events", content=body, headers=headers)
    assert response.status_code == 200
    fake_slack.wait_for_sync("chat.postMessage", count=5)

    body, headers = signing.slash_command(text="Forged", secret="wrong")
    assert httpx.post(f"{server}/slack/events", content=body, headers=headers).status_code == 401


def test_serve_without_credentials_names_socket_mode_first_then_http(tmp_path: Path):
    result = run("serve", cwd=tmp_path)
    assert_one_line_error(result, "SLACK_BOT_TOKEN", "api.slack.com/apps")
    line = result.stderr
    assert line.index("Socket Mode") < line.index("HTTP mode")
    assert "Socket Mode (no public URL needed) set SLACK_BOT_TOKEN and SLACK_APP_TOKEN" in line
    assert "for HTTP mode, set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET" in line
    assert line.index("SLACK_APP_TOKEN") < line.index("SLACK_SIGNING_SECRET")


def test_serve_with_only_the_bot_token_names_what_each_mode_still_needs(tmp_path: Path):
    result = run("serve", env={"SLACK_BOT_TOKEN": "xoxb-test"}, cwd=tmp_path)
    assert_one_line_error(result, "Socket Mode (no public URL needed) set SLACK_APP_TOKEN;")
    assert "for HTTP mode, set SLACK_SIGNING_SECRET;" in result.stderr


def test_serve_http_without_credentials_names_only_http(tmp_path: Path):
    result = run("serve", "--http", cwd=tmp_path)
    assert_one_line_error(result, "HTTP mode", "SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET")
    assert "Socket Mode" not in result.stderr and "SLACK_APP_TOKEN" not in result.stderr


def test_socket_mode_needs_the_bot_token_too(tmp_path: Path):
    result = run("serve", env={"SLACK_APP_TOKEN": "xapp-1-test"}, cwd=tmp_path)
    assert_one_line_error(result, "cannot serve in Socket Mode: set SLACK_BOT_TOKEN")
    assert "SLACK_SIGNING_SECRET" not in result.stderr


def test_serve_healthz_is_503_within_two_seconds_while_another_writer_holds_the_lock(
    server, tmp_path: Path
):
    writer = sqlite3.connect(tmp_path / "ragft.db", isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    try:
        started = time.monotonic()
        response = httpx.get(f"{server}/healthz", timeout=30)
        seconds = time.monotonic() - started
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    assert response.status_code == 503 and seconds < 2.5
    assert response.json() == {"ok": False, "database": "database is locked"}
    assert httpx.get(f"{server}/healthz").status_code == 200


async def test_serve_builds_no_debug_message_it_will_not_log(sessions):
    """slack_sdk and Bolt build a debug message (a Web API call's whole payload) whenever their
    logger's own level is unset; serve gives each of those loggers the level it logs at."""
    import logging

    from slack_sdk.socket_mode.aiohttp import SocketModeClient
    from slack_sdk.webhook.async_client import AsyncWebhookClient

    from bot.settings import Settings
    from handlers.app import create_app
    from handlers.runtime import close_client
    from handlers.serve import DEBUG_FORMATTING_LOGGERS, quiet_debug_formatting

    loggers = [logging.getLogger(name) for name in DEBUG_FORMATTING_LOGGERS]
    saved = [logger.level for logger in loggers]
    settings = Settings(
        _env_file=None,
        slack_bot_token="xoxb-test-token",
        slack_signing_secret=signing.SIGNING_SECRET,
        database_url="sqlite:///unused.db",
    )
    try:
        quiet_debug_formatting()  # as cmd_serve does: after logging's set-up, before the app
        app, runtime = create_app(settings=settings, sessions=sessions)
        socket = SocketModeClient(app_token="xapp-1-test")
        levels = {
            "Web API client": runtime.client.logger.level,
            "Bolt's client": app.client.logger.level,
            "respond()": AsyncWebhookClient("https://hooks.slack.test/x").logger.level,
            "Bolt": app.logger.level,
            **{  # Bolt copies its logger's level into these as the app is built
                type(m).__name__: m.logger.level
                for m in app._async_middleware_list
                if isinstance(getattr(m, "logger", None), logging.Logger)
            },
            "Socket Mode": socket.logger.level,
        }
        assert {name: level for name, level in levels.items() if level <= logging.DEBUG} == {}
        await socket.close()
        await close_client(runtime.client)
    finally:
        for logger, level in zip(loggers, saved, strict=True):
            logger.setLevel(level)
