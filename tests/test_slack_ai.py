"""The model-assisted steps as the team sees them in Slack, with the real openai SDK talking to a
fake OpenAI-compatible server."""

from __future__ import annotations

import json
import re
import time
from typing import Any

import pytest
from sqlmodel import select

from bot.llm.client import build_llm
from handlers.ui.ids import ActionId, CallbackId, InputId, pack
from storage.models import Answer, ContextTest, Decision, FailureExample
from tests.fakes import signing
from tests.fakes.openai_api import FakeOpenAI, Reply
from tests.slack_app import CHANNEL, FACILITATOR, TEAM, SlackApp, text_of

PRIYA, MARCO = "U0PRIYA001", "U0MARCO002"
KEY = "sk-test-secret-key-0001"
SUMMARY = "The team found that billing answers go stale weekly; behavior was rarely the issue."


def model(request: dict[str, Any]) -> Any:
    """A well-behaved model for every call ragft makes."""
    name = request["response_format"]["json_schema"]["name"]
    user = request["messages"][-1]["content"]
    if name == "CategorisedBatch":
        lines = re.findall(r"^(\d+)\. (.*)$", user, re.M)
        return {
            "items": [
                {
                    "index": int(i),
                    "category": "knowledge" if "price" in text or "policy" in text else "behavior",
                    "rationale": f"Model: it's about “{text[:30]}” <!channel>",
                }
                for i, text in lines
            ]
        }
    if name == "ModelAnswer":
        if "Reference information" in user:
            return {"answer": "Refunds are allowed within 30 days, prorated. <!channel>"}
        return {"answer": "Refunds are usually allowed within 14 days."}
    if name == "Judgement":
        return {"verdict": "right_with_context", "rationale": "The answer names the 30 days."}
    if name == "ContextSummary":
        return {"paragraph": SUMMARY}
    raise AssertionError(f"unexpected call {name}")


@pytest.fixture
def fake_openai():
    with FakeOpenAI() as fake:
        fake.respond_with(model)
        yield fake


@pytest.fixture
async def ai_slack(fake_slack, engine, sessions, fake_openai):
    app = SlackApp(
        fake_slack, engine, sessions, openai_api_key=KEY, openai_base_url=fake_openai.base_url
    )
    yield app
    await app.close()
    if app.runtime.llm is not None:
        await app.runtime.llm.close()


async def start(slack: SlackApp, title: str = "Billing assistant") -> int:
    await slack.command(f"start {title}")
    return (await slack.decision()).id


def sent_to_model(fake: FakeOpenAI) -> str:
    return json.dumps(fake.requests) + json.dumps(fake.request_headers)


def assert_private(fake: FakeOpenAI) -> None:
    """Only the team's words went to the model: no Slack tokens, ids or signing secrets."""
    sent = sent_to_model(fake)
    for secret in ("xoxb-", signing.SIGNING_SECRET, TEAM, CHANNEL, FACILITATOR, PRIYA, MARCO):
        assert secret not in sent, secret
    assert not re.search(r"\bU0[A-Z0-9]{6,}", sent)
    for request in fake.requests:
        assert set(request) == {"model", "messages", "response_format", "max_tokens", "stream"}
        assert [m["role"] for m in request["messages"]] == ["system", "user"]


def failures_values(pasted: str) -> dict[str, Any]:
    return {InputId.PASTE: {InputId.PASTE: signing.text_value(pasted)}}


def thread_messages(slack: SlackApp, decision: Decision) -> list[dict[str, Any]]:
    return slack.fake.messages(CHANNEL, thread_ts=decision.thread_ts)


# Categorising ------------------------------------------------------------------------------------


async def test_pasted_failures_are_categorised_by_the_model_in_one_request(ai_slack, fake_openai):
    decision_id = await start(ai_slack)
    pasted = "quoted last year's prices\nsounds like a legal brief\nmissed the new refund policy"
    await ai_slack.submit(CallbackId.ADD_FAILURES, failures_values(pasted), decision_id, user=PRIYA)

    [request] = fake_openai.requests
    assert "0. quoted last year's prices" in request["messages"][-1]["content"]
    assert_private(fake_openai)
    async with ai_slack.sessions() as session:
        rows = (await session.exec(select(FailureExample).order_by(FailureExample.id))).all()
        decision = await session.get(Decision, decision_id)
    assert [(r.category, r.category_source) for r in rows] == [
        ("knowledge", "llm"),
        ("behavior", "llm"),
        ("knowledge", "llm"),
    ]
    assert rows[0].rationale.startswith("Model: it's about")
    assert decision.prompt_tokens > 0 and decision.completion_tokens > 0

    q3 = text_of(await ai_slack.message_of("failures"))
    assert "(*Knowledge* 2 · *Behavior* 1)" in q3 and "*Unclear:* 0," in q3
    # The thread showed the work, then the result in the same message.
    [working] = [c for c in ai_slack.fake.calls_to("chat.postMessage") if "⏳" in c.args["text"]]
    assert "Categorising 3 failures" in working.args["text"]
    shown = ai_slack.fake.message(CHANNEL, working.response["ts"])
    assert (
        "🤖 Categorised 3 failures" in shown["text"] and "2 knowledge, 1 behavior" in shown["text"]
    )

    # The rationale is shown on demand, escaped, in Review & correct.
    await ai_slack.click(ActionId.REVIEW_FAILURES, str(decision_id))
    view = ai_slack.fake.calls_to("views.open")[-1].args["view"]
    review = text_of({"blocks": view["blocks"]})
    assert "Model: it's about" in review and "categorised by the model" in review
    assert "&lt;!channel&gt;" in review and "<!channel>" not in review

    await ai_slack.command("status")
    [status] = ai_slack.replies(FACILITATOR)
    assert re.search(
        r"\*Model usage:\* [\d,]+ tokens \([\d,]+ prompt, [\d,]+ completion\)", str(status)
    )


async def test_a_human_correction_wins_over_the_model(ai_slack):
    decision_id = await start(ai_slack)
    await ai_slack.submit(CallbackId.ADD_FAILURES, failures_values("wrong price"), decision_id)
    async with ai_slack.sessions() as session:
        row = (await session.exec(select(FailureExample))).one()
    payload = signing.block_action(
        action_id="failure_correct",
        block_id=pack("failure", row.id),
        element_type="static_select",
        selected_option={
            "text": {"type": "plain_text", "text": "B"},
            "value": pack(row.id, "behavior"),
        },
        user_id=MARCO,
    )
    payload["view"] = {
        "id": "V1",
        "private_metadata": json.dumps({"decision_id": decision_id, "channel_id": CHANNEL}),
    }
    await ai_slack.action(payload)
    async with ai_slack.sessions() as session:
        row = (await session.exec(select(FailureExample))).one()
    assert (row.category, row.category_source, row.corrected_by) == ("behavior", "human", MARCO)
    assert row.rationale.startswith("Model:")  # kept for the record; the human's category wins


async def test_a_failing_model_falls_back_and_says_so(ai_slack, fake_openai):
    fake_openai.respond_with(Reply(status=500, headers={"retry-after-ms": "5"}))
    decision_id = await start(ai_slack)
    await ai_slack.submit(
        CallbackId.ADD_FAILURES, failures_values("quoted last year's prices"), decision_id
    )

    assert len(fake_openai.requests) == 3  # the first try and two retries
    async with ai_slack.sessions() as session:
        row = (await session.exec(select(FailureExample))).one()
    assert (row.category, row.category_source) == ("knowledge", "heuristic")
    result = [m for m in thread_messages(ai_slack, await ai_slack.decision()) if "🤖" in m["text"]]
    assert "ragft's built-in rules categorised those" in result[0]["text"]
    assert not any("went wrong" in e["text"] for e in ai_slack.fake.ephemerals)


async def test_a_thread_mention_is_categorised_by_the_model(ai_slack, fake_openai):
    decision_id = await start(ai_slack)
    thread_ts = (await ai_slack.decision()).thread_ts
    mention = signing.app_mention(
        text="<@U0BOT00001> fail: quoted last year's prices", thread_ts=thread_ts, user_id=PRIYA
    )
    await ai_slack.event(mention, event_id="Ev0AI0001")
    assert len(fake_openai.requests) == 1
    assert_private(fake_openai)
    [told] = ai_slack.ephemerals(PRIYA)
    assert "Logged as *knowledge*: Model: it's about" in told["text"]
    q3 = text_of(await ai_slack.message_of("failures", decision_id))
    assert "*Knowledge* 1" in q3


# The perfect-context test ------------------------------------------------------------------------


def context_test_values(question="Can I get a refund after 20 days?") -> dict[str, Any]:
    return {
        InputId.TEST_QUESTION: {InputId.TEST_QUESTION: signing.text_value(question)},
        InputId.TEST_CONTEXT: {
            InputId.TEST_CONTEXT: signing.text_value("Refund policy: 30 days, prorated.")
        },
        InputId.TEST_EXPECTED: {InputId.TEST_EXPECTED: signing.text_value("30 days, prorated")},
    }


async def test_without_a_key_the_test_button_explains_how_to_turn_it_on(slack):
    decision_id = await start(slack)
    q1 = await slack.message_of("problem_type")
    assert "Run the test for me" in text_of(q1)
    await slack.click(ActionId.RUN_CONTEXT_TEST, str(decision_id), user=PRIYA)
    [told] = slack.replies(PRIYA)
    assert told["response_type"] == "ephemeral" and "OPENAI_API_KEY" in told["text"]
    assert slack.fake.calls_to("views.open") == []


async def test_the_perfect_context_test_runs_and_the_teams_judgement_answers_q1(
    ai_slack, fake_openai
):
    decision_id = await start(ai_slack)
    await ai_slack.click(ActionId.RUN_CONTEXT_TEST, str(decision_id), user=PRIYA)
    [opened] = ai_slack.fake.calls_to("views.open")
    view = opened.args["view"]
    assert view["callback_id"] == CallbackId.CONTEXT_TEST
    assert [b["block_id"] for b in view["blocks"] if b["type"] == "input"] == [
        InputId.TEST_QUESTION,
        InputId.TEST_CONTEXT,
        InputId.TEST_EXPECTED,
    ]

    empty = context_test_values(question="  ")
    response = await ai_slack.submit(CallbackId.CONTEXT_TEST, empty, decision_id, user=PRIYA)
    assert response.json()["errors"] == {InputId.TEST_QUESTION: "Fill this in."}
    assert fake_openai.requests == []

    await ai_slack.submit(CallbackId.CONTEXT_TEST, context_test_values(), decision_id, user=PRIYA)
    names = sorted(r["response_format"]["json_schema"]["name"] for r in fake_openai.requests)
    assert names == ["Judgement", "ModelAnswer", "ModelAnswer"]
    assert_private(fake_openai)
    async with ai_slack.sessions() as session:
        test = (await session.exec(select(ContextTest))).one()
    assert (test.status, test.requested_by, test.model_judgement) == ("done", PRIYA, "knowledge")
    assert test.answer_without == "Refunds are usually allowed within 14 days."

    # Both answers side by side in the thread, replacing the working message.
    result = ai_slack.fake.message(CHANNEL, test.message_ts)
    fields = next(b["fields"] for b in result["blocks"] if b.get("fields"))
    assert fields[0]["text"] == "*Without the context*\nRefunds are usually allowed within 14 days."
    assert "*With the context*\nRefunds are allowed within 30 days" in fields[1]["text"]
    assert "&lt;!channel&gt;" in fields[1]["text"]  # model output is escaped: no pings
    shown = text_of(result)
    assert "suggests *right with context*" in shown and "the team judges" in shown
    assert "Running" not in shown
    q1 = text_of(await ai_slack.message_of("problem_type"))
    assert f"from <@{PRIYA}> is waiting for the team's judgement" in q1

    await ai_slack.click(
        ActionId.JUDGE_CONTEXT_TEST, pack(test.id, "knowledge"), user=MARCO, suffix=("knowledge",)
    )
    async with ai_slack.sessions() as session:
        test = (await session.exec(select(ContextTest))).one()
        answers = (await session.exec(select(Answer))).all()
        decision = await session.get(Decision, decision_id)
    assert (test.team_judgement, test.judged_by) == ("knowledge", MARCO)
    assert [(a.user_id, a.question, a.value) for a in answers] == [
        (MARCO, "problem_type", "knowledge")
    ]
    assert decision.prompt_tokens > 0
    q1 = text_of(await ai_slack.message_of("problem_type"))
    assert f"*right with context* (knowledge): <@{MARCO}>" in q1
    assert f"*Knowledge* (1): <@{MARCO}>" in q1
    assert f"*right with context* (knowledge): <@{MARCO}>" in text_of(
        ai_slack.fake.message(CHANNEL, test.message_ts)
    )

    # Every judgement shows, with which way the team leans, not only the last person's.
    for judge in (PRIYA, "U0CAROL003"):
        await ai_slack.click(
            ActionId.JUDGE_CONTEXT_TEST, pack(test.id, "behavior"), user=judge, suffix=("behavior",)
        )
    shown = text_of(ai_slack.fake.message(CHANNEL, test.message_ts))
    assert f"*still wrong* (behavior): <@{PRIYA}>, <@U0CAROL003>" in shown
    assert f"*right with context* (knowledge): <@{MARCO}>" in shown
    assert "The team leans *still wrong* (behavior), 2 to 1." in shown
    q1 = text_of(await ai_slack.message_of("problem_type"))
    assert f"<@{PRIYA}>, <@U0CAROL003>" in q1 and "leans *still wrong*" in q1


async def test_a_failed_test_replaces_the_working_message_with_a_clear_error(ai_slack, fake_openai):
    fake_openai.respond_with(Reply(status=401))
    decision_id = await start(ai_slack)
    await ai_slack.submit(CallbackId.CONTEXT_TEST, context_test_values(), decision_id, user=PRIYA)
    async with ai_slack.sessions() as session:
        test = (await session.exec(select(ContextTest))).one()
    assert (test.status, test.error) == ("failed", "the model answered HTTP 401")
    shown = text_of(ai_slack.fake.message(CHANNEL, test.message_ts))
    assert "couldn't run: the model answered HTTP 401" in shown and "Nothing was recorded" in shown
    assert KEY not in shown
    assert "waiting" not in text_of(await ai_slack.message_of("problem_type"))


# The record's Context paragraph ------------------------------------------------------------------


def seed_discussion(slack: SlackApp, decision: Decision) -> None:
    slack.fake.set_replies(
        CHANNEL,
        decision.thread_ts,
        [
            {"type": "message", "ts": "1900000000.000001", "user": PRIYA,
             "text": f"<@{MARCO}> our prices page changes weekly, see <https://x.test/p|the page>"},
            {"type": "message", "ts": "1900000000.000002", "user": MARCO, "bot_id": "B0OTHER",
             "text": "BOT NOISE from another app"},
            {"type": "message", "ts": "1900000000.000003", "user": MARCO, "subtype": "channel_join",
             "text": f"<@{MARCO}> has joined the channel"},
            {"type": "message", "ts": "1900000000.000004", "user": MARCO,
             "text": "Tone was fine in every transcript I read."},
        ],
    )  # fmt: skip


async def test_deciding_drafts_the_context_from_human_messages_for_the_facilitator(
    ai_slack, fake_openai
):
    decision_id = await start(ai_slack)
    seed_discussion(ai_slack, await ai_slack.decision())
    await ai_slack.decide(decision_id)

    [request] = fake_openai.requests
    sent = request["messages"][-1]["content"]
    assert "- @someone our prices page changes weekly, see the page" in sent
    assert "- Tone was fine in every transcript I read." in sent
    assert "BOT NOISE" not in sent and "has joined" not in sent
    assert "Billing assistant" in sent
    assert "Q1." not in sent and "Verdict:" not in sent  # the bot's own messages are skipped
    assert_private(fake_openai)

    drafted = [m for m in thread_messages(ai_slack, await ai_slack.decision()) if "📝" in m["text"]]
    assert len(drafted) == 1 and "can keep or edit it" in text_of(drafted[0])
    [draft] = ai_slack.ephemerals(FACILITATOR)
    assert SUMMARY in text_of(draft)
    keep = next(
        e for b in draft["blocks"] if b["type"] == "actions" for e in b["elements"]
        if e["action_id"] == ActionId.KEEP_SUMMARY
    )  # fmt: skip
    async with ai_slack.sessions() as session:
        assert (await session.get(Decision, decision_id)).context_summary is None  # not yet

    await ai_slack.click(ActionId.KEEP_SUMMARY, keep["value"], user=MARCO)
    assert "Only the facilitator" in ai_slack.replies(MARCO)[-1]["text"]
    await ai_slack.click(ActionId.KEEP_SUMMARY, keep["value"])
    assert "Saved the *Context* paragraph" in ai_slack.replies(FACILITATOR)[-1]["text"]
    async with ai_slack.sessions() as session:
        decision = await session.get(Decision, decision_id)
    assert decision.context_summary == SUMMARY
    assert decision.prompt_tokens > 0

    await ai_slack.command(f"export {decision_id}")
    [upload] = ai_slack.fake.uploads
    assert f"## Context and Problem Statement\n\n{SUMMARY}" in upload["content"]


async def test_the_facilitator_can_edit_the_draft_before_it_is_kept(ai_slack):
    decision_id = await start(ai_slack)
    seed_discussion(ai_slack, await ai_slack.decision())
    await ai_slack.decide(decision_id)
    [draft] = ai_slack.ephemerals(FACILITATOR)
    edit = next(
        e for b in draft["blocks"] if b["type"] == "actions" for e in b["elements"]
        if e["action_id"] == ActionId.EDIT_SUMMARY
    )  # fmt: skip
    await ai_slack.click(ActionId.EDIT_SUMMARY, edit["value"])
    modal = ai_slack.fake.calls_to("views.open")[-1].args["view"]
    assert modal["callback_id"] == CallbackId.SUMMARY
    assert modal["blocks"][0]["element"]["initial_value"] == SUMMARY

    values = {InputId.SUMMARY: {InputId.SUMMARY: signing.text_value("Our own words. <!here>")}}
    await ai_slack.submit(CallbackId.SUMMARY, values, decision_id)
    async with ai_slack.sessions() as session:
        assert (
            await session.get(Decision, decision_id)
        ).context_summary == "Our own words. <!here>"
    assert "Saved" in ai_slack.ephemerals(FACILITATOR)[-1]["text"]


async def test_without_a_key_deciding_explains_and_offers_to_write_the_context(slack):
    decision_id = await start(slack)
    await slack.decide(decision_id)
    [told] = slack.ephemerals(FACILITATOR)
    assert "OPENAI_API_KEY" in told["text"] or "OPENAI_API_KEY" in text_of(told)
    write = next(
        e for b in told["blocks"] if b["type"] == "actions" for e in b["elements"]
    )  # a working button, not a dead one
    await slack.click(ActionId.EDIT_SUMMARY, write["value"])
    assert slack.fake.calls_to("views.open")[-1].args["view"]["callback_id"] == CallbackId.SUMMARY


async def test_without_history_scopes_the_facilitator_can_still_write_the_context(
    ai_slack, fake_openai
):
    decision_id = await start(ai_slack)
    ai_slack.fake.fail_next("conversations.replies", error="missing_scope")
    await ai_slack.decide(decision_id)
    assert fake_openai.requests == []
    [told] = ai_slack.ephemerals(FACILITATOR)
    assert "couldn't read this thread" in text_of(told) and "missing_scope" in text_of(told)
    assert any(b["type"] == "actions" for b in told["blocks"])
    assert (await ai_slack.decision()).status == "decided"


# Keeping Slack responsive ------------------------------------------------------------------------


async def test_a_model_that_takes_30_s_never_delays_an_ack(ai_slack, fake_openai):
    """Every listener acks at once and shows it's working; the slow call ends in a clear error."""
    fake_openai.respond_with(Reply(delay=30, content={}))
    await ai_slack.runtime.llm.close()
    ai_slack.runtime.llm = build_llm(ai_slack.settings, timeout=1.0, max_retries=0)
    decision_id = await start(ai_slack)
    decision = await ai_slack.decision()
    seed_discussion(ai_slack, decision)

    def submission(callback: str, values: dict[str, Any]) -> Any:
        return signing.interactive(
            signing.view_submission(
                callback_id=callback,
                values=values,
                private_metadata=json.dumps({"decision_id": decision_id, "channel_id": CHANNEL}),
                user_id=PRIYA,
            )
        )

    requests = [
        submission(CallbackId.ADD_FAILURES, failures_values("quoted last year's prices")),
        submission(CallbackId.CONTEXT_TEST, context_test_values()),
        signing.interactive(
            signing.block_action(
                action_id=ActionId.DECIDE,
                value=str(decision_id),
                response_url=ai_slack.fake.response_url("act-decide"),
            )
        ),
        signing.interactive(
            signing.block_action(
                action_id=ActionId.CONFIRM_DECIDE,
                value=str(decision_id),
                response_url=ai_slack.fake.response_url("act-decide"),
            )
        ),
    ]
    acks = []
    for signed in requests:
        started = time.perf_counter()
        response = await ai_slack.post(signed, settle=False)
        acks.append(time.perf_counter() - started)
        assert response.status_code == 200
    print(f"ack latency while the model is pending: {[f'{a * 1000:.0f} ms' for a in acks]}")
    assert max(acks) < 1.0, acks

    await ai_slack.fake.wait_for("chat.postMessage", predicate=lambda c: "⏳" in c.args["text"])
    assert any("⏳" in m["text"] for m in thread_messages(ai_slack, decision))  # visibly working
    await ai_slack.idle(limit=15)

    shown = [m["text"] for m in thread_messages(ai_slack, decision)]
    assert not any("⏳" in text for text in shown)  # every working message was replaced
    assert any("ragft's built-in rules categorised those" in text for text in shown)
    assert any("couldn't run" in text for text in shown)
    assert any("Couldn't draft the Context paragraph" in text for text in shown)
    async with ai_slack.sessions() as session:
        test = (await session.exec(select(ContextTest))).one()
        row = (await session.exec(select(FailureExample))).one()
    assert (test.status, test.error) == ("failed", "the model timed out")
    assert row.category_source == "heuristic"
    assert "timed out" in text_of(ai_slack.ephemerals(FACILITATOR)[-1])
