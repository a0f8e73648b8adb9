"""The trust boundary at POST /slack/events: nothing unsigned, oversized or malformed reaches Bolt.

Every forged request carries a ``response_url`` on the fake Slack (or a channel and user to
answer), so a request that was acted on shows up in ``fake.calls``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Callable
from urllib.parse import parse_qsl, urlencode

import pytest
from slack_bolt.request.async_request import AsyncBoltRequest
from sqlmodel import SQLModel, func, select

from bot.settings import Settings
from handlers import asgi
from handlers.app import create_app
from handlers.runtime import close_client
from tests.fakes import signing
from tests.slack_app import CHANNEL, FACILITATOR, idle

Signed = signing.Signed
FORM = {"Content-Type": signing.FORM}
JSON = {"Content-Type": "application/json"}
TIMESTAMP, SIGNATURE = "X-Slack-Request-Timestamp", "X-Slack-Signature"


def _forged_command(slack) -> Signed:
    url = slack.fake.response_url("evil")
    return signing.slash_command(text="start Billing bot", response_url=url)


def _forged_mention(slack) -> Signed:
    mention = signing.app_mention(text="<@U0BOT00001> fail: x", user_id=FACILITATOR)
    return signing.event(mention, event_id="EvForged1")


def _non_numeric(body: bytes, headers: dict[str, str]) -> Signed:
    return body, {**headers, TIMESTAMP: "not-a-number"}


def _missing_timestamp(body: bytes, headers: dict[str, str]) -> Signed:
    return body, {k: v for k, v in headers.items() if k != TIMESTAMP}


def _stale(body: bytes, headers: dict[str, str]) -> Signed:
    return body, {**headers, **signing.sign(body, timestamp=int(time.time()) - 6 * 60)}


def _bad_signature(body: bytes, headers: dict[str, str]) -> Signed:
    return body, {**headers, **signing.sign(body, secret="not-the-secret")}


def _missing_signature_headers(body: bytes, headers: dict[str, str]) -> Signed:
    return body, {k: v for k, v in headers.items() if k not in (TIMESTAMP, SIGNATURE)}


TAMPERINGS: dict[str, Callable[[bytes, dict[str, str]], Signed]] = {
    "non_numeric_timestamp": _non_numeric,
    "missing_timestamp": _missing_timestamp,
    "stale_timestamp": _stale,
    "bad_signature": _bad_signature,
    "missing_signature_headers": _missing_signature_headers,
}


async def _rows(slack) -> int:
    async with slack.sessions() as session:
        counts = [
            (await session.exec(select(func.count()).select_from(table))).one()
            for table in SQLModel.metadata.sorted_tables
        ]
    return sum(counts)


def assert_no_traceback(caplog: pytest.LogCaptureFixture) -> None:
    assert not [r for r in caplog.records if r.exc_info], caplog.text
    assert "Traceback" not in caplog.text


# ----------------------------------------------------------------------- unsigned: 401


@pytest.mark.parametrize("forge", [_forged_command, _forged_mention], ids=["command", "mention"])
@pytest.mark.parametrize("tamper", TAMPERINGS.values(), ids=TAMPERINGS.keys())
async def test_an_unverified_request_gets_401_and_reaches_nothing(slack, caplog, forge, tamper):
    caplog.set_level(logging.INFO)
    response = await slack.post(tamper(*forge(slack)))
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("text/plain")
    assert slack.fake.calls == []  # no response_url POST, no ephemeral, no DM
    assert await _rows(slack) == 0
    assert_no_traceback(caplog)


UNSIGNED_MALFORMED = {
    "payload_notjson": (b"payload=notjson", FORM),
    "payload_open_brace": (b"payload={", FORM),
    "invalid_json_event": (b'{"type": "event_callback", "event": ', JSON),
    "not_utf8": (b"payload=\xff\xfe", FORM),
}


@pytest.mark.parametrize("forged_headers", [False, True], ids=["no_headers", "non_numeric_ts"])
@pytest.mark.parametrize(
    ("body", "headers"), UNSIGNED_MALFORMED.values(), ids=UNSIGNED_MALFORMED.keys()
)
async def test_an_unsigned_malformed_body_gets_401_without_a_traceback(
    slack, caplog, body, headers, forged_headers
):
    caplog.set_level(logging.INFO)
    if forged_headers:
        headers = {**headers, TIMESTAMP: "not-a-number", SIGNATURE: "v0=" + "0" * 64}
    response = await slack.post((body, headers))
    assert response.status_code == 401
    assert slack.fake.calls == []
    assert_no_traceback(caplog)


async def test_an_unsigned_5mb_body_is_refused_without_a_traceback(slack, caplog):
    caplog.set_level(logging.INFO)
    body = b"payload=" + b"A" * (5 * 1024 * 1024)
    response = await slack.post((body, {**FORM, TIMESTAMP: str(int(time.time()))}))
    assert response.status_code in (401, 413)
    assert slack.fake.calls == []
    assert_no_traceback(caplog)


async def test_a_signed_body_over_the_cap_gets_413(slack, caplog):
    caplog.set_level(logging.INFO)
    body = b"payload=" + b"A" * asgi.MAX_BODY_BYTES
    response = await slack.post((body, {**FORM, **signing.sign(body)}))
    assert response.status_code == 413
    assert slack.fake.calls == []
    assert_no_traceback(caplog)


async def test_a_streamed_body_over_the_cap_is_not_read_to_the_end(slack):
    """No Content-Length: the body is read chunk by chunk and dropped once past the cap."""
    chunk, chunks = b"A" * 65536, 80  # 5 MiB
    body = b"payload=" + chunk * chunks
    sent = 0

    async def stream() -> AsyncIterator[bytes]:
        nonlocal sent
        yield b"payload="
        for _ in range(chunks):
            sent += 1
            yield chunk

    headers = {**FORM, **signing.sign(body)}
    response = await slack.http.post("/slack/events", content=stream(), headers=headers)
    assert response.status_code == 413
    assert sent <= asgi.MAX_BODY_BYTES // len(chunk) + 2
    assert slack.fake.calls == []


@pytest.mark.parametrize("with_command", [False, True], ids=["probe", "probe_with_a_command"])
async def test_slacks_unsigned_ssl_check_gets_200_and_does_nothing(slack, with_command):
    fields = {"ssl_check": "1", "token": "verification_token_deprecated"}
    if with_command:
        command = dict(parse_qsl(_forged_command(slack)[0].decode()))
        fields = {**command, **fields}
    response = await slack.post((urlencode(fields).encode(), FORM))
    assert (response.status_code, response.text) == (200, "")
    assert slack.fake.calls == []
    assert await _rows(slack) == 0


async def test_an_ssl_check_with_bad_signature_headers_gets_401(slack):
    body = b"ssl_check=1&token=x"
    assert (await slack.post((body, {**FORM, TIMESTAMP: "not-a-number"}))).status_code == 401


# ------------------------------------------------------------------ signed but malformed: 400

SIGNED_MALFORMED = {
    "payload_notjson": (b"payload=notjson", FORM),
    "payload_list": (b"payload=%5B1%5D", FORM),
    "payload_open_brace": (b"payload=%7B", FORM),
    "json_list": (b"[]", JSON),
    "json_open_brace": (b"{", JSON),
    "json_string": (b'"event_callback"', JSON),
    "unknown_content_type": (b'{"type": "url_verification", "challenge": "x"}', {}),
    "text_plain": (b"payload=%7B%7D", {"Content-Type": "text/plain"}),
}


@pytest.mark.parametrize(
    ("body", "headers"), SIGNED_MALFORMED.values(), ids=SIGNED_MALFORMED.keys()
)
async def test_a_signed_malformed_body_gets_400_without_a_traceback(slack, caplog, body, headers):
    caplog.set_level(logging.INFO)
    response = await slack.post((body, {**headers, **signing.sign(body)}))
    assert response.status_code == 400
    assert slack.fake.calls == []
    assert await _rows(slack) == 0
    assert_no_traceback(caplog)


# ------------------------------------------------------------------------ still working


async def test_a_signed_slash_command_still_starts_a_thread(slack):
    response = await slack.command("Support assistant for billing questions")
    assert response.status_code == 200
    assert len(slack.fake.calls_to("chat.postMessage")) == 5
    assert (await slack.decision()).channel_id == CHANNEL


async def test_url_verification_still_answers_its_challenge(slack):
    response = await slack.post(signing.url_verification("the-challenge"))
    assert response.status_code == 200
    assert response.json() == {"challenge": "the-challenge"}


async def test_healthz_is_unchanged(slack):
    response = await slack.http.get("/healthz")
    assert (response.status_code, response.json()) == (200, {"ok": True, "database": "ok"})


# --------------------------------------------------------------- the error handler's guard


async def test_the_error_handler_ignores_a_request_bolt_could_not_verify(slack, caplog):
    """Straight into Bolt, past the ASGI check: verification raises, the error handler runs."""
    body, headers = _non_numeric(*_forged_command(slack))
    request = AsyncBoltRequest(body=body.decode(), headers=headers)
    with caplog.at_level(logging.INFO):
        response = await slack.app.async_dispatch(request)
    await slack.idle()
    assert response.status == 500
    assert slack.fake.calls == []
    assert "unverified" in caplog.text


async def test_the_error_handler_still_tells_the_user_over_http(slack):
    slack.fake.fail_next("chat.postMessage", error="fatal_error")
    assert (await slack.command("start Billing bot")).status_code == 200
    [told] = slack.replies(FACILITATOR)
    assert "Slack said fatal_error" in told["text"]


async def test_the_error_handler_still_tells_the_user_in_socket_mode(slack):
    body, _ = signing.slash_command(
        text="start Billing bot", response_url=slack.fake.response_url(f"cmd-{FACILITATOR}")
    )
    fields = dict(parse_qsl(body.decode(), keep_blank_values=True))
    slack.fake.fail_next("chat.postMessage", error="fatal_error")
    await slack.app.async_dispatch(AsyncBoltRequest(body=fields, mode="socket_mode"))
    await slack.idle()
    [told] = slack.replies(FACILITATOR)
    assert "Slack said fatal_error" in told["text"]


async def test_without_a_signing_secret_only_socket_mode_errors_are_answered(fake_slack, sessions):
    """Socket Mode needs no signing secret; an HTTP request to such an app is never trusted."""
    settings = Settings(
        _env_file=None,
        slack_bot_token="xoxb-test-token",
        slack_app_token="xapp-test-token",
        slack_api_url=fake_slack.url,
        database_url="sqlite:///unused.db",
    )
    app, runtime = create_app(settings=settings, sessions=sessions)
    try:
        body, headers = signing.slash_command(
            text="start Billing bot", response_url=fake_slack.response_url("http")
        )
        fake_slack.fail_next("chat.postMessage", error="fatal_error")
        await app.async_dispatch(AsyncBoltRequest(body=body.decode(), headers=headers))
        await idle()
        assert fake_slack.calls_to("chat.postMessage")  # the listener ran, and failed
        assert fake_slack.calls_to("response_url") == []

        fields = dict(parse_qsl(body.decode(), keep_blank_values=True))
        fields["response_url"] = fake_slack.response_url("socket")
        fake_slack.fail_next("chat.postMessage", error="fatal_error")
        await app.async_dispatch(AsyncBoltRequest(body=fields, mode="socket_mode"))
        await idle()
        [told] = fake_slack.calls_to("response_url")
        assert told.path == "socket" and "Slack said fatal_error" in told.args["text"]
    finally:
        await close_client(runtime.client)
