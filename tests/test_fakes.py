"""Tests of the test fakes, driven by the real slack_sdk, slack_bolt and openai clients."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import openai
import pydantic
import pytest
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from tests.fakes import signing
from tests.fakes.openai_api import FakeOpenAI, Reply
from tests.fakes.slack_api import FakeSlack

PAYLOADS = Path(__file__).resolve().parent / "data" / "slack" / "payloads"  # see its README
PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000")


@pytest.fixture
def slack():
    with FakeSlack() as fake:
        yield fake


@pytest.fixture
def client(slack: FakeSlack) -> AsyncWebClient:
    return AsyncWebClient(token="xoxb-test", base_url=slack.url)


@pytest.fixture
def llm():
    with FakeOpenAI() as fake:
        yield fake


def slack_payload(name: str) -> Any:
    text = (PAYLOADS / name).read_text()
    return json.loads(text) if name.endswith(".json") else text.strip()


def key_paths(obj: Any, prefix: str = "") -> set[str]:
    """Every key path in obj, list indices collapsed to ``[]`` (the payload's key structure)."""
    paths: set[str] = set()
    if isinstance(obj, dict):
        for key, value in obj.items():
            path = f"{prefix}.{key}" if prefix else key
            paths |= {path} | key_paths(value, path)
    elif isinstance(obj, list):
        for item in obj:
            paths |= key_paths(item, f"{prefix}[]")
    return paths


# ------------------------------------------------------------------------ FakeSlack


async def test_post_update_delete_message_via_json(slack: FakeSlack, client: AsyncWebClient):
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*hi*"}}]
    posted = await client.chat_postMessage(
        channel="C0CHAN0001", text="hi", blocks=blocks, thread_ts="1717000000.000100"
    )
    assert posted["ok"] and posted["channel"] == "C0CHAN0001"
    assert posted["message"]["bot_id"] == "B0BOT00001"
    assert posted["message"]["thread_ts"] == "1717000000.000100"

    (call,) = slack.calls_to("chat.postMessage")
    assert call.args == {
        "channel": "C0CHAN0001",
        "text": "hi",
        "blocks": blocks,
        "thread_ts": "1717000000.000100",
    }
    assert call.headers["Authorization"] == "Bearer xoxb-test"
    assert call.token == "xoxb-test"
    assert call.headers["Content-Type"].startswith("application/json")

    second = await client.chat_postMessage(channel="C0CHAN0001", text="again")
    assert float(second["ts"]) > float(posted["ts"])
    ts = posted["ts"]
    assert len(ts.split(".")[1]) == 6

    await client.chat_update(channel="C0CHAN0001", ts=ts, text="edited", blocks=[])
    assert slack.message("C0CHAN0001", ts)["text"] == "edited"
    assert slack.message("C0CHAN0001", ts)["blocks"] == []
    assert [m["text"] for m in slack.messages("C0CHAN0001")] == ["edited", "again"]
    assert [m["ts"] for m in slack.messages(thread_ts="1717000000.000100")] == [ts]

    link = await client.chat_getPermalink(channel="C0CHAN0001", message_ts=ts)
    assert link["permalink"].startswith("https://example-team.slack.com/archives/C0CHAN0001/p")
    assert "thread_ts=1717000000.000100" in link["permalink"]

    await client.chat_delete(channel="C0CHAN0001", ts=ts)
    assert [m["text"] for m in slack.messages()] == ["again"]
    with pytest.raises(SlackApiError) as err:
        await client.chat_update(channel="C0CHAN0001", ts=ts, text="gone")
    assert err.value.response["error"] == "message_not_found"


async def test_form_and_query_args_are_parsed(slack: FakeSlack, client: AsyncWebClient):
    blocks = [{"type": "divider"}]
    await client.api_call(
        "chat.postMessage",
        data={"channel": "C0CHAN0001", "text": "form", "blocks": json.dumps(blocks)},
    )
    await client.api_call("some.newMethod", params={"a": "1"}, http_verb="GET")
    form, unknown = slack.calls
    assert form.args["blocks"] == blocks
    assert form.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert (unknown.method, unknown.args, unknown.http_method) == (
        "some.newMethod",
        {"a": "1"},
        "GET",
    )
    assert unknown.response == {"ok": True}


async def test_auth_test_and_missing_token(slack: FakeSlack, client: AsyncWebClient):
    auth = await client.auth_test()
    assert (auth["user_id"], auth["bot_id"], auth["team_id"]) == (
        "U0BOT00001",
        "B0BOT00001",
        "T0ABCDEF12",
    )
    with pytest.raises(SlackApiError) as err:
        await AsyncWebClient(base_url=slack.url).auth_test()
    assert err.value.response["error"] == "not_authed"


async def test_users_info(slack: FakeSlack, client: AsyncWebClient):
    slack.add_user(
        "U0ADMIN001",
        name="boss",
        real_name="The Boss",
        tz="Europe/Berlin",
        tz_offset=3600,
        is_admin=True,
    )
    user = (await client.users_info(user="U0ADMIN001"))["user"]
    assert user["id"] == "U0ADMIN001" and user["is_admin"] and not user["is_owner"]
    assert (user["tz"], user["tz_offset"], user["real_name"]) == ("Europe/Berlin", 3600, "The Boss")
    assert user["profile"]["display_name"] == "boss"
    call = slack.calls_to("users.info")[0]
    assert call.http_method == "GET" and call.args == {"user": "U0ADMIN001"}

    assert (await client.users_info(user="U0USER0001"))["user"]["name"] == "jdoe"
    assert (await client.users_info(user="U0BOT00001"))["user"]["is_bot"]
    with pytest.raises(SlackApiError) as err:
        await client.users_info(user="U0NOBODY01")
    assert err.value.response["error"] == "user_not_found"


async def test_files_upload_v2_content_and_bytes(slack: FakeSlack, client: AsyncWebClient):
    result = await client.files_upload_v2(
        channel="C0CHAN0001",
        thread_ts="1717000000.000100",
        content="a,b\n1,2\n",
        filename="decision.csv",
        title="Decision export",
        initial_comment="Here you go",
    )
    assert result["file"]["title"] == "Decision export"
    await client.files_upload_v2(
        channel="C0CHAN0001", file=PNG, filename="chart.png", title="Chart"
    )

    csv, png = slack.uploads
    assert csv["content"] == "a,b\n1,2\n" and csv["filename"] == "decision.csv"
    assert (csv["channel_id"], csv["thread_ts"], csv["initial_comment"]) == (
        "C0CHAN0001",
        "1717000000.000100",
        "Here you go",
    )
    assert png["data"] == PNG and png["title"] == "Chart" and png["thread_ts"] is None
    assert [c.method for c in slack.calls] == [
        "files.getUploadURLExternal",
        "upload",
        "files.completeUploadExternal",
    ] * 2
    (shared_file,) = slack.messages(thread_ts="1717000000.000100")
    assert (
        shared_file["text"] == "Here you go" and shared_file["files"][0]["name"] == "decision.csv"
    )


async def test_views_open_update_publish(slack: FakeSlack, client: AsyncWebClient):
    view = {
        "type": "modal",
        "callback_id": "ragft_ask_modal",
        "title": {"type": "plain_text", "text": "Ask RAGFT"},
        "blocks": [],
        "private_metadata": "{}",
    }
    opened = await client.views_open(trigger_id="t1", view=view)
    view_id = opened["view"]["id"]
    assert opened["view"]["callback_id"] == "ragft_ask_modal"
    assert slack.calls_to("views.open")[0].args["view"] == view

    updated = await client.views_update(
        view_id=view_id, view={**view, "blocks": [{"type": "divider"}]}
    )
    assert updated["view"]["id"] == view_id and slack.views[view_id]["blocks"] == [
        {"type": "divider"}
    ]

    with pytest.raises(SlackApiError) as err:
        await client.views_open(trigger_id="t1", view=view)
    assert err.value.response["error"] == "exchanged_trigger_id"
    long_title = {**view, "title": {"type": "plain_text", "text": "x" * 25}}
    with pytest.raises(SlackApiError) as err:
        await client.views_open(trigger_id="t2", view=long_title)
    assert err.value.response["error"] == "invalid_arguments"

    home = {"type": "home", "blocks": [{"type": "divider"}]}
    first = await client.views_publish(user_id="U0USER0001", view=home)
    again = await client.views_publish(user_id="U0USER0001", view=home)
    assert first["view"]["id"] == again["view"]["id"] == slack.home_views["U0USER0001"]["id"]


async def test_rate_limit_is_a_429_and_retry_handler_recovers(slack: FakeSlack):
    slack.fail_next("chat.postMessage", status=429, retry_after=0)
    plain = AsyncWebClient(token="xoxb-test", base_url=slack.url)
    with pytest.raises(SlackApiError) as err:
        await plain.chat_postMessage(channel="C0CHAN0001", text="hi")
    assert err.value.response.status_code == 429
    assert err.value.response.headers["Retry-After"] == "0"
    assert err.value.response["error"] == "ratelimited"

    slack.fail_next("chat.postMessage", status=429, retry_after=0)
    retrying = AsyncWebClient(token="xoxb-test", base_url=slack.url)
    retrying.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=1))
    assert (await retrying.chat_postMessage(channel="C0CHAN0001", text="hi"))["ok"]
    assert [c.status for c in slack.calls_to("chat.postMessage")] == [429, 429, 200]
    assert len(slack.messages()) == 1


async def test_fail_next_error_and_server_error(slack: FakeSlack, client: AsyncWebClient):
    slack.fail_next("users.info", error="fatal_error", times=2)
    slack.fail_next("users.info", status=500)
    for expected in ("fatal_error", "fatal_error", "internal_error"):
        with pytest.raises(SlackApiError) as err:
            await client.users_info(user="U0USER0001")
        assert err.value.response["error"] == expected
    assert err.value.response.status_code == 500
    assert (await client.users_info(user="U0USER0001"))["ok"]
    with pytest.raises(ValueError):
        slack.fail_next("users.info")


async def test_not_in_channel_then_join(slack: FakeSlack, client: AsyncWebClient):
    slack.set_channel("C0PUBLIC01", is_member=False, name="general")
    with pytest.raises(SlackApiError) as err:
        await client.chat_postMessage(channel="C0PUBLIC01", text="hi")
    assert err.value.response["error"] == "not_in_channel"
    joined = await client.conversations_join(channel="C0PUBLIC01")
    assert joined["channel"]["is_member"] and joined["channel"]["name"] == "general"
    assert (await client.chat_postMessage(channel="C0PUBLIC01", text="hi"))["ok"]

    slack.set_channel("C0SECRET01", is_private=True, is_member=False)
    with pytest.raises(SlackApiError) as err:
        await client.conversations_join(channel="C0SECRET01")
    assert err.value.response["error"] == "method_not_supported_for_channel_type"
    with pytest.raises(SlackApiError) as err:
        await client.chat_postEphemeral(channel="C0SECRET01", user="U0USER0001", text="x")
    assert err.value.response["error"] == "not_in_channel"

    ephemeral = await client.chat_postEphemeral(
        channel="C0CHAN0001", user="U0USER0001", text="psst"
    )
    assert slack.ephemerals[0]["message_ts"] == ephemeral["message_ts"]
    assert slack.ephemerals[0]["text"] == "psst"


async def test_conversations_replies_merges_seeded_and_posted(
    slack: FakeSlack, client: AsyncWebClient
):
    parent = {
        "type": "message",
        "user": "U0USER0001",
        "text": "question",
        "ts": "1717000000.000100",
        "thread_ts": "1717000000.000100",
    }
    slack.set_replies("C0CHAN0001", "1717000000.000100", [parent])
    await client.chat_postMessage(
        channel="C0CHAN0001", thread_ts="1717000000.000100", text="answer"
    )
    replies = await client.conversations_replies(channel="C0CHAN0001", ts="1717000000.000100")
    assert [m["text"] for m in replies["messages"]] == ["question", "answer"]
    assert replies["has_more"] is False
    info = await client.conversations_info(channel="C0CHAN0001")
    assert info["channel"]["id"] == "C0CHAN0001"


async def test_delay_and_wait_for(client: AsyncWebClient):
    with FakeSlack(delay=0.2) as slow:
        slow_client = AsyncWebClient(token="xoxb-test", base_url=slow.url)
        started = time.monotonic()
        task = asyncio.create_task(slow_client.chat_postMessage(channel="C0CHAN0001", text="x"))
        calls = await slow.wait_for("chat.postMessage", predicate=lambda c: c.args["text"] == "x")
        await task
        assert time.monotonic() - started >= 0.2
        assert calls[0].at <= time.time()
        with pytest.raises(AssertionError, match="all recorded calls"):
            await slow.wait_for("chat.update", timeout=0.05)


def test_sync_client_and_clear(slack: FakeSlack):
    WebClient(token="xoxb-test", base_url=slack.url).chat_postMessage(
        channel="C0CHAN0001", text="x"
    )
    assert slack.wait_for_sync("chat.postMessage")[0].args["text"] == "x"
    slack.clear()
    assert slack.calls == [] and len(slack.messages()) == 1


def test_subprocess_can_call_the_fake(slack: FakeSlack):
    script = (
        "import sys, urllib.request\n"
        "req = urllib.request.Request(sys.argv[1] + 'chat.postMessage',"
        " data=b'channel=C1&text=sub', headers={'Authorization': 'Bearer xoxb-sub'})\n"
        "print(urllib.request.urlopen(req).read().decode())\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script, slack.url],
        capture_output=True,
        text=True,
        check=True,
        timeout=20,
    )
    assert json.loads(out.stdout)["ok"]
    assert slack.calls_to("chat.postMessage")[0].token == "xoxb-sub"


async def test_response_url_is_recorded(slack: FakeSlack):
    webhook = AsyncWebhookClient(slack.response_url("cmd1"))
    response = await webhook.send(text="only you", response_type="ephemeral")
    assert response.status_code == 200
    (call,) = slack.calls_to("response_url")
    assert call.path == "cmd1" and call.args == {"text": "only you", "response_type": "ephemeral"}


# -------------------------------------------------------------------------- signing

SLACK_DOC_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
SLACK_DOC_BODY = (
    "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V"
    "&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text="
    "&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN"
    "&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
)


def test_sign_reproduces_slack_documented_vector():
    headers = signing.sign(SLACK_DOC_BODY, secret=SLACK_DOC_SECRET, timestamp=1531420618)
    assert headers == {
        "X-Slack-Request-Timestamp": "1531420618",
        "X-Slack-Signature": "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503",
    }
    assert (
        signing.sign(SLACK_DOC_BODY.encode(), secret=SLACK_DOC_SECRET, timestamp=1531420618)
        == headers
    )


@pytest.mark.parametrize(
    "build",
    [
        lambda: signing.slash_command(text="help"),
        lambda: signing.interactive(signing.block_action(action_id="a")),
        lambda: signing.event(signing.app_mention(text="<@U0BOT00001> hi"), event_id="Ev1"),
        lambda: signing.url_verification(),
    ],
)
def test_builders_sign_what_slack_sdk_verifies(build):
    body, headers = build()
    assert SignatureVerifier(signing.SIGNING_SECRET).is_valid_request(body, headers)
    assert not SignatureVerifier("wrong-secret").is_valid_request(body, headers)


def test_stale_timestamp_is_rejected_by_slack_sdk():
    body, headers = signing.slash_command(text="help", timestamp=int(time.time()) - 600)
    assert not SignatureVerifier(signing.SIGNING_SECRET).is_valid_request(body, headers)


def test_slash_command_fields():
    body, headers = signing.slash_command(text="status 3", user_id="U0OTHER001", trigger_id="T.1")
    fields = {k: v[0] for k, v in parse_qs(body.decode(), keep_blank_values=True).items()}
    assert fields["text"] == "status 3" and fields["user_id"] == "U0OTHER001"
    assert fields["command"] == "/ragft" and fields["trigger_id"] == "T.1"
    assert headers["Content-Type"] == "application/x-www-form-urlencoded"


def test_event_retry_headers():
    reply = signing.thread_reply(text="follow-up?")
    body, headers = signing.event(reply, event_id="Ev9", retry_num=2, retry_reason="timeout")
    assert headers["X-Slack-Retry-Num"] == "2" and headers["X-Slack-Retry-Reason"] == "timeout"
    assert headers["Content-Type"] == "application/json"
    envelope = json.loads(body)
    assert envelope["event_id"] == "Ev9" and envelope["event"] == reply
    _, first = signing.event(reply, event_id="Ev9")
    assert "X-Slack-Retry-Num" not in first and "X-Slack-Retry-Reason" not in first


def test_generated_ts_are_unique_and_increasing():
    stamps = [signing.thread_reply(text="x")["ts"] for _ in range(50)]
    assert stamps == sorted(stamps, key=float) and len(set(stamps)) == 50


@pytest.mark.parametrize(
    ("embedded", "file", "part"),
    [
        ("BLOCK_ACTIONS", "block_actions_button_in_thread.json", None),
        ("VIEW_SUBMISSION", "view_submission.json", None),
        ("MESSAGE_ACTION", "message_action_shortcut.json", None),
        ("SLASH_COMMAND", "slash_command_ragft.decoded.json", None),
        ("EVENT_ENVELOPE", "event_app_mention_in_thread.json", "envelope"),
        ("APP_MENTION_EVENT", "event_app_mention_in_thread.json", "event"),
        ("THREAD_REPLY_EVENT", "event_message_thread_reply.json", "event"),
        ("APP_HOME_OPENED_EVENT", "event_app_home_opened_first_time_no_view.json", "event"),
    ],
)
def test_embedded_templates_match_slacks_payloads(embedded: str, file: str, part: str | None):
    expected = slack_payload(file)
    if part == "event":
        expected = expected["event"]
    elif part == "envelope":
        expected = {k: v for k, v in expected.items() if k != "event"}
    assert getattr(signing, embedded) == expected


def test_bodies_match_slacks_wire_format():
    decoded = slack_payload("slash_command_ragft.decoded.json")
    body, _ = signing.slash_command(
        text=decoded["text"], response_url=decoded["response_url"], trigger_id=decoded["trigger_id"]
    )
    assert body.decode() == slack_payload("slash_command_ragft.txt")
    body, _ = signing.interactive(slack_payload("block_actions_button_in_thread.json"))
    assert body.decode() == slack_payload("block_actions_button_in_thread.form.txt")


def test_payload_builders_have_slacks_key_structure():
    button = slack_payload("block_actions_button_in_thread.json")
    built = signing.block_action(
        action_id="ragft_helpful",
        value="q:42:up",
        block_id="fb",
        state_values=button["state"]["values"],
    )
    assert key_paths(button) - key_paths(built) == {"actions[].style"}
    assert key_paths(built) <= key_paths(button)

    select = slack_payload("block_actions_static_select_in_thread.json")
    built = signing.block_action(
        action_id="ragft_pick_source",
        element_type="static_select",
        block_id="fb",
        value="src_wiki",
        state_values=select["state"]["values"],
    )
    assert key_paths(select) - key_paths(built) == {
        f"actions[].placeholder{k}" for k in ("", ".type", ".text", ".emoji")
    }
    assert key_paths(built) <= key_paths(select)

    submission = slack_payload("view_submission.json")
    built = signing.view_submission(
        callback_id="ragft_ask_modal",
        values=submission["view"]["state"]["values"],
        blocks=submission["view"]["blocks"],
    )
    assert key_paths(built) == key_paths(submission)

    shortcut = slack_payload("message_action_shortcut.json")
    built = signing.message_shortcut(
        callback_id="ragft_ask_about_message", message=shortcut["message"]
    )
    assert key_paths(built) == key_paths(shortcut)

    for name, ev in [
        (
            "event_app_mention_in_thread.json",
            signing.app_mention(
                text="<@U0BOT00001> and for GovSlack?", thread_ts="1717000000.000100"
            ),
        ),
        (
            "event_app_mention.json",
            signing.app_mention(text="<@U0BOT00001> what is our retry policy?"),
        ),
        ("event_message_thread_reply.json", signing.thread_reply(text="follow-up")),
        ("event_app_home_opened_first_time_no_view.json", signing.app_home_opened()),
        (
            "event_app_home_opened.json",
            signing.app_home_opened(
                view=slack_payload("event_app_home_opened.json")["event"]["view"]
            ),
        ),
    ]:
        body, _ = signing.event(ev, event_id="Ev1")
        assert key_paths(json.loads(body)) == key_paths(slack_payload(name)), name


async def test_bolt_accepts_and_routes_every_builder(slack: FakeSlack):
    """The real AsyncApp verifies the signatures and routes each payload to its listener."""
    app = AsyncApp(
        client=AsyncWebClient(token="xoxb-test", base_url=slack.url),
        signing_secret=signing.SIGNING_SECRET,
    )
    seen: list[str] = []

    @app.command("/ragft")
    async def on_command(ack, command):
        await ack(f"got {command['text']}")
        seen.append("command")

    @app.action("ragft_helpful")
    async def on_action(ack, body):
        await ack()
        seen.append(f"action:{body['actions'][0]['value']}")

    @app.view("ragft_ask_modal")
    async def on_view(ack, view):
        await ack()
        seen.append(f"view:{view['state']['values']['q']['q_input']['value']}")

    @app.shortcut("ragft_ask_about_message")
    async def on_shortcut(ack, shortcut):
        await ack()
        seen.append(f"shortcut:{shortcut['message']['text']}")

    @app.event("app_mention")
    async def on_mention(event, say):
        await say(text="hello", thread_ts=event.get("thread_ts") or event["ts"])
        seen.append("mention")

    requests = [
        signing.slash_command(text="help"),
        signing.interactive(signing.block_action(action_id="ragft_helpful", value="q:42:up")),
        signing.interactive(
            signing.view_submission(
                callback_id="ragft_ask_modal", values={"q": {"q_input": signing.text_value("Why?")}}
            )
        ),
        signing.interactive(
            signing.message_shortcut(
                callback_id="ragft_ask_about_message",
                message={"type": "message", "text": "m", "ts": "1.2"},
            )
        ),
        signing.event(
            signing.app_mention(text="<@U0BOT00001> hi", thread_ts="1717000000.000100"),
            event_id="Ev1",
        ),
    ]
    for body, headers in requests:
        response = await app.async_dispatch(AsyncBoltRequest(body=body.decode(), headers=headers))
        assert response.status == 200, response.body
    await slack.wait_for("chat.postMessage")
    assert slack.calls[0].method == "auth.test"  # Bolt authorizes with auth.test first
    assert seen[:4] == ["command", "action:q:42:up", "view:Why?", "shortcut:m"]
    assert slack.messages()[0]["thread_ts"] == "1717000000.000100"

    body, headers = signing.slash_command(text="help", secret="wrong")
    response = await app.async_dispatch(AsyncBoltRequest(body=body.decode(), headers=headers))
    assert response.status == 401


# ------------------------------------------------------------------------- FakeOpenAI


class Verdict(pydantic.BaseModel):
    category: str
    confidence: float


def openai_client(llm: FakeOpenAI, **kwargs: Any) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=llm.base_url, api_key="test", **kwargs)


async def parse(client: openai.AsyncOpenAI):
    return await client.chat.completions.parse(
        model="gpt-test",
        messages=[{"role": "user", "content": "classify: the bot forgot the refund policy"}],
        response_format=Verdict,
    )


async def test_structured_output_parse(llm: FakeOpenAI):
    llm.respond_with(lambda req: {"category": "knowledge", "confidence": 0.9})
    async with openai_client(llm) as client:
        result = await parse(client)
    message = result.choices[0].message
    assert message.parsed == Verdict(category="knowledge", confidence=0.9)
    assert result.choices[0].finish_reason == "stop" and result.usage.total_tokens > 0
    (request,) = llm.requests
    assert request["model"] == "gpt-test"
    assert request["response_format"]["type"] == "json_schema"
    assert request["response_format"]["json_schema"]["name"] == "Verdict"
    assert llm.request_headers[0]["Authorization"] == "Bearer test"


async def test_queue_then_handler_and_async_handler(llm: FakeOpenAI):
    async def handler(req):
        return {"category": "behavior", "confidence": 0.5}

    llm.respond_with(handler)
    llm.queue({"category": "unclear", "confidence": 0.1})
    async with openai_client(llm) as client:
        first, second = await parse(client), await parse(client)
    assert first.choices[0].message.parsed.category == "unclear"
    assert second.choices[0].message.parsed.category == "behavior"


async def test_rate_limit_then_success_is_retried(llm: FakeOpenAI):
    llm.queue(Reply(status=429, headers={"Retry-After": "0.05"}))
    llm.respond_with({"category": "knowledge", "confidence": 1})
    async with openai_client(llm) as client:
        result = await parse(client)
    assert result.choices[0].message.parsed.category == "knowledge"
    assert len(llm.requests) == 2


async def test_server_error_every_time_raises_after_retries(llm: FakeOpenAI):
    llm.respond_with(Reply(status=500, headers={"retry-after-ms": "10"}))
    async with openai_client(llm, max_retries=2) as client:
        with pytest.raises(openai.InternalServerError):
            await parse(client)
    assert len(llm.requests) == 3


async def test_malformed_content_fails_validation(llm: FakeOpenAI):
    llm.queue("{not json", {"category": "knowledge"})
    async with openai_client(llm) as client:
        for _ in range(2):
            with pytest.raises(pydantic.ValidationError):
                await parse(client)


async def test_length_and_refusal_replies(llm: FakeOpenAI):
    llm.queue(Reply(content='{"category": "kn', finish_reason="length"), Reply(refusal="no"))
    async with openai_client(llm) as client:
        with pytest.raises(openai.LengthFinishReasonError):
            await parse(client)
        refused = (await parse(client)).choices[0].message
    assert refused.parsed is None and refused.refusal == "no"


async def test_slow_reply_times_out(llm: FakeOpenAI):
    llm.respond_with(Reply(delay=5, content={"category": "knowledge", "confidence": 1}))
    started = time.monotonic()
    async with openai_client(llm, timeout=0.2, max_retries=0) as client:
        with pytest.raises(openai.APITimeoutError):
            await parse(client)
    assert time.monotonic() - started < 2


async def test_unscripted_and_broken_handlers_fail_fast(llm: FakeOpenAI):
    async with openai_client(llm) as client:
        with pytest.raises(openai.BadRequestError, match="no reply queued"):
            await parse(client)
        llm.respond_with(lambda req: 1 / 0)
        with pytest.raises(openai.InternalServerError):
            await parse(client)
        assert len(llm.requests) == 2 and "ZeroDivisionError" in llm.errors[-1]
        models = await client.models.list()
        assert [m.id for m in models.data] == ["gpt-fake"]
