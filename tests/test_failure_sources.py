"""Failures from the API and the importer count where Slack-logged ones do; the review says
where they came from, and says so plainly when none arrived. Slack paths skip duplicates."""

from __future__ import annotations

from handlers.ui.ids import CallbackId, InputId
from tests.fakes import signing
from tests.slack_app import CHANNEL, FACILITATOR, text_of
from tests.test_ingest_api import _token, post
from tests.test_routine_slack import in_thread, reminders, sweeper

LINES = [f"quoted the {n} price list from last year" for n in range(1, 23)]


async def _decide(slack, title: str = "Billing assistant"):

    await slack.command(f"start {title}")
    decision_id = (await slack.decision()).id
    await slack.decide(decision_id)
    return await slack.decision(decision_id)


async def test_pasting_the_same_lines_again_keeps_22_and_says_duplicates_skipped(slack):
    await slack.command("Support assistant for billing")
    decision = await slack.decision()
    d = decision.id
    values = {InputId.PASTE: {InputId.PASTE: signing.text_value("\n".join(LINES))}}
    await slack.submit(CallbackId.ADD_FAILURES, values, d)
    assert "Analysis complete: 22 failures analysed." in text_of(await slack.message_of("failures"))

    again = "\n".join([*LINES[:3], "  QUOTED the 1 price list from last year. "])
    values = {InputId.PASTE: {InputId.PASTE: signing.text_value(again)}}
    await slack.submit(CallbackId.ADD_FAILURES, values, d)
    assert "Analysis complete: 22 failures analysed." in text_of(await slack.message_of("failures"))
    told = [text_of(e) for e in slack.ephemerals(FACILITATOR)]
    assert any("4 duplicates skipped" in t and "Nothing added" in t for t in told), told

    mixed = "\n".join([LINES[0], LINES[1], LINES[2], "a brand new failure about tone"])
    values = {InputId.PASTE: {InputId.PASTE: signing.text_value(mixed)}}
    await slack.submit(CallbackId.ADD_FAILURES, values, d)
    told = text_of(slack.ephemerals(FACILITATOR)[-1])
    assert "Added 1 failure" in told and "3 duplicates skipped" in told

    await slack.command(f"log {d} {LINES[5]}")
    assert "1 duplicate skipped" in text_of(slack.replies(FACILITATOR)[-1])

    bot_answer = {"type": "message", "ts": "1717000100.000100", "text": "Refunds take 60 days."}
    await slack.action(
        signing.message_shortcut(callback_id=CallbackId.LOG_FAILURE, message=bot_answer)
    )
    view = slack.fake.calls_to("views.open")[-1].args["view"]
    values = {
        InputId.DECISION: {InputId.DECISION: signing.select_value(str(d))},
        InputId.OUTPUT: {InputId.OUTPUT: signing.text_value("Refunds take 60 days.")},
        InputId.EXPLANATION: {InputId.EXPLANATION: signing.text_value("wrong refund window")},
    }
    submit = signing.view_submission(
        callback_id=CallbackId.LOG_FAILURE,
        values=values,
        private_metadata=view["private_metadata"],
        user_id=FACILITATOR,
    )
    await slack.post(signing.interactive(submit))
    assert "Logged to" in text_of(slack.ephemerals(FACILITATOR)[-1])
    await slack.post(signing.interactive(submit))
    told = text_of(slack.ephemerals(FACILITATOR)[-1])
    assert "Already logged" in told and "1 duplicate skipped" in told
    assert "Analysis complete: 24 failures analysed." in text_of(await slack.message_of("failures"))


async def test_a_review_counts_api_and_imported_failures_and_says_where_they_came_from(slack):
    decision = await _decide(slack)
    await slack.command("log sounded like a legal brief")
    token = await _token(slack)
    body = {
        "failures": [
            {"decision": decision.id, "explanation": "ignored the JSON format we asked for"},
            {"decision": decision.id, "explanation": "rambling and too long"},
        ]
    }
    assert (await post(slack, body, token)).json()["accepted"] == 2
    [review] = [r for r in await reminders(slack) if r.kind == "quarterly_review"]
    await sweeper(slack).sweep(review.due_at)
    [posted] = [text_of(m) for m in in_thread(slack, decision) if "Quarterly review" in text_of(m)]
    assert "Failures logged this period: 3" in posted
    assert "*Where they came from:* 1 from Slack, 2 from the API · last one" in posted
    assert "No failures were logged" not in posted


async def test_a_review_with_no_failures_says_so_and_points_to_the_api(slack):
    decision = await _decide(slack)
    [review] = [r for r in await reminders(slack) if r.kind == "quarterly_review"]
    await sweeper(slack).sweep(review.due_at)
    [posted] = [text_of(m) for m in in_thread(slack, decision) if "Quarterly review" in text_of(m)]
    assert (
        "No failures were logged this quarter: either the feature is perfect or nobody is "
        "logging." in posted
    )
    assert "POST /api/v1/failures" in posted and "/ragft token create" in posted
    assert CHANNEL
