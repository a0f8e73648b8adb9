"""Clicks that arrive while a decision's thread is still being posted still show."""

from __future__ import annotations

from tests.fakes import signing
from tests.slack_app import CHANNEL, FACILITATOR, text_of

PRIYA, MARCO = "U0PRIYA001", "U0MARCO002"


async def test_a_click_on_q1_while_the_thread_is_still_posting_shows(slack):
    slack.fake.slow("chat.postMessage", 0.3)  # each of the five posts takes a while
    response = await slack.post(
        signing.slash_command(
            text="start Support assistant for billing questions",
            user_id=FACILITATOR,
            channel_id=CHANNEL,
            response_url=slack.fake.response_url("cmd"),
        ),
        settle=False,
    )
    assert response.status_code == 200
    posts = await slack.fake.wait_for("chat.postMessage", 2)  # the root and Q1 are up
    assert len(posts) < 5  # the thread is still being posted
    decision_id = (await slack.decision()).id
    await slack.answer(decision_id, "problem_type", "knowledge", user=PRIYA, settle=False)
    await slack.answer(decision_id, "problem_type", "behavior", user=MARCO, settle=False)
    await slack.idle()

    assert len(slack.fake.calls_to("chat.postMessage")) == 5
    q1 = text_of(await slack.message_of("problem_type"))
    assert f"*Knowledge* (1): <@{PRIYA}>" in q1
    assert f"*Behavior* (1): <@{MARCO}>" in q1
    assert "✅ Q1 problem type" not in text_of(await slack.message_of("root"))  # split, unresolved


async def test_posting_a_thread_without_clicks_updates_nothing(slack):
    response = await slack.command("start Support assistant for billing questions")
    assert response.status_code == 200
    assert len(slack.fake.calls_to("chat.postMessage")) == 5
    assert slack.fake.calls_to("chat.update") == []
