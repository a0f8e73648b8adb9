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


async def test_a_burst_of_ragft_is_posted_a_few_threads_at_a_time_every_one(slack):
    """Each listener only queues its command; the queue starts and posts at most THREAD_POSTS
    threads at once until every decision's thread is up."""
    import asyncio

    from sqlmodel import select

    from handlers.runtime import THREAD_POSTS
    from storage.models import Decision

    burst = THREAD_POSTS * 2 + 3
    slack.fake.slow("chat.postMessage", 0.2)
    responses = await asyncio.gather(
        *(
            slack.post(
                signing.slash_command(
                    text=f"start Support assistant number {i}",
                    user_id=FACILITATOR,
                    channel_id=CHANNEL,
                    response_url=slack.fake.response_url(f"cmd-{i}"),
                ),
                settle=False,
            )
            for i in range(burst)
        )
    )
    assert [r.status_code for r in responses] == [200] * burst
    most = 0
    while len(slack.fake.calls_to("chat.postMessage")) < 5 * burst:
        most = max(most, slack.fake.in_flight())
        await asyncio.sleep(0.02)
    assert 1 < most <= THREAD_POSTS  # five posts of a thread go one after the other
    await slack.idle()
    async with slack.sessions() as session:
        decisions = (await session.exec(select(Decision))).all()
    assert len(decisions) == burst
    assert all(d.thread_ts and len(d.message_ts) == 5 for d in decisions)
    assert len({d.title for d in decisions}) == burst
