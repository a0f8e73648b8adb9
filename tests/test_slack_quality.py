"""The quality bar: signatures, escaping, Block Kit limits, rate limits, concurrency."""

from __future__ import annotations

import asyncio
import json
import time

from sqlmodel import func, select

from handlers.ui.ids import ActionId, CallbackId, InputId
from storage.models import Answer, Decision
from tests.fakes import signing
from tests.slack_app import CHANNEL, mrkdwn_of, text_of
from tests.test_slack_thread import start


async def _decision_count(slack) -> int:
    async with slack.sessions() as session:
        return (await session.exec(select(func.count()).select_from(Decision))).one()


async def test_a_wrong_signature_gets_401_and_changes_nothing(slack):
    body, headers = signing.slash_command(text="start Billing bot", secret="not-the-secret")
    response = await slack.post((body, headers))
    assert response.status_code == 401
    assert await _decision_count(slack) == 0
    assert not slack.fake.calls_to("chat.postMessage")


async def test_a_replayed_request_older_than_five_minutes_gets_401(slack):
    stale = int(time.time()) - 6 * 60
    response = await slack.post(signing.slash_command(text="start Billing bot", timestamp=stale))
    assert response.status_code == 401
    assert await _decision_count(slack) == 0


async def test_an_unsigned_event_changes_nothing(slack):
    body, headers = signing.event(signing.app_mention(text="<@U0BOT00001> fail: x"), event_id="Ev1")
    headers = {k: v for k, v in headers.items() if not k.lower().startswith("x-slack-signature")}
    assert (await slack.post((body, headers))).status_code == 401


async def test_user_text_cannot_ping_or_mention_anyone(slack):
    title = "<!channel> deploy now <@U0BOSS0001> & <https://evil.example|click>"
    await slack.command(f"start {title}")
    decision_id = (await slack.decision()).id
    values = {InputId.PASTE: {InputId.PASTE: signing.text_value("<!here> it was <!everyone>")}}
    await slack.submit(CallbackId.ADD_FAILURES, values, decision_id)
    await slack.decide(decision_id)
    await slack.click(ActionId.REVIEW_FAILURES, str(decision_id))

    posted = [c.args for c in slack.fake.calls if c.method.startswith(("chat.", "views."))]
    assert posted
    for args in posted:
        shown = mrkdwn_of(args) + mrkdwn_of(args.get("view") or {})
        for dangerous in ("<!channel>", "<!here>", "<!everyone>", "<@U0BOSS0001>", "<https://evil"):
            assert dangerous not in shown, (args, dangerous)
    root = text_of(await slack.message_of("root"))
    assert "&lt;!channel&gt; deploy now &lt;@U0BOSS0001&gt; &amp;" in root


async def test_overlong_text_is_cut_to_fit_block_kit_limits(slack):
    title = "T" * 200
    await slack.command(f"start {title}")
    decision = await slack.decision()
    assert decision.title == title  # stored in full
    root = await slack.message_of("root")
    header = next(b for b in root["blocks"] if b["type"] == "header")
    assert len(header["text"]["text"]) <= 150 and header["text"]["text"].endswith("…")

    explanation = "wrong tone " + "x" * 5000
    many = "\n".join(f"{explanation} {i}" for i in range(45))
    values = {InputId.PASTE: {InputId.PASTE: signing.text_value(many)}}
    await slack.submit(CallbackId.ADD_FAILURES, values, decision.id)
    await slack.click(ActionId.REVIEW_FAILURES, str(decision.id))
    view = slack.fake.calls_to("views.open")[-1].args["view"]
    assert len(view["blocks"]) <= 100
    for block in view["blocks"]:
        if block["type"] == "section":
            assert len(block["text"]["text"]) <= 3000
    assert all(not c.response or c.response.get("ok", True) for c in slack.fake.calls)

    await slack.command("Another " + "y" * 250)
    assert "keep it under 200" in slack.replies("U0USER0001")[-1]["text"]


async def test_a_429_is_retried_after_retry_after_and_never_before_the_ack(slack):
    slack.fake.fail_next("chat.postMessage", status=429, retry_after=1)
    started = time.perf_counter()
    response = await slack.command("start Billing bot")  # waits for the work after the ack too
    assert response.status_code == 200
    posts = slack.fake.calls_to("chat.postMessage")
    assert [c.status for c in posts][:2] == [429, 200]
    assert posts[1].at - posts[0].at >= 1.0
    assert time.perf_counter() - started >= 1.0
    assert len(slack.fake.messages(CHANNEL)) == 5


async def test_the_ack_does_not_wait_for_a_rate_limited_slack(slack):
    slack.fake.fail_next("chat.postMessage", status=429, retry_after=2)
    started = time.perf_counter()
    response = await slack.post(signing.slash_command(text="start Billing bot"), settle=False)
    acked_after = time.perf_counter() - started
    assert response.status_code == 200
    assert acked_after < 1.0, f"acked after {acked_after:.2f}s: the 429 retry sat before the ack"
    await slack.idle()
    assert time.perf_counter() - started >= 2.0  # the retry honoured Retry-After
    assert len(slack.fake.messages(CHANNEL)) == 5


async def test_fifty_teammates_clicking_at_once_are_all_recorded_and_shown(slack):
    decision_id = await start(slack)
    users = [f"U0TEAM{i:04d}" for i in range(50)]
    values = ["knowledge", "behavior"]
    responses = await asyncio.gather(
        *(
            slack.answer(decision_id, "problem_type", values[i % 3 == 0], user=user, settle=False)
            for i, user in enumerate(users)
        )
    )
    assert {r.status_code for r in responses} == {200}
    await slack.idle()

    async with slack.sessions() as session:
        count = (
            await session.exec(
                select(func.count()).select_from(Answer).where(Answer.question == "problem_type")
            )
        ).one()
    assert count == 50
    q1 = text_of(await slack.message_of("problem_type"))
    behavior = sum(1 for i in range(50) if i % 3 == 0)
    assert f"*Knowledge* ({50 - behavior}):" in q1 and f"*Behavior* ({behavior}):" in q1
    shown = sum(q1.count(f"<@{u}>") for u in users)
    assert shown == 50
    updates = len(slack.fake.calls_to("chat.update"))
    assert updates < 50, f"{updates} chat.update calls for 50 clicks: refreshes aren't coalesced"


async def test_the_root_message_payload_is_valid_json_for_slack(slack):
    await slack.command("start Billing bot")
    for call in slack.fake.calls_to("chat.postMessage"):
        json.dumps(call.args["blocks"])
        assert len(call.args["blocks"]) <= 50
