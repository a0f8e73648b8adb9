"""The threaded diagnostic, as the team sees it in Slack."""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import select

from handlers.ui.ids import ActionId, CallbackId, InputId, pack
from storage.models import Answer, AnswerAudit, FailureExample
from tests.fakes import signing
from tests.slack_app import CHANNEL, FACILITATOR, text_of

PRIYA, MARCO, SAM = "U0PRIYA001", "U0MARCO002", "U0SAM00003"


async def start(slack, title: str = "Support assistant for billing questions") -> int:
    response = await slack.command(f"start {title}")  # "start": a short title isn't previewed
    assert response.status_code == 200
    return (await slack.decision()).id


async def test_start_posts_root_and_four_questions_in_its_thread(slack):
    response = await slack.command("Support assistant for billing questions")
    assert response.status_code == 200 and response.text == ""  # acked silently, at once

    posts = slack.fake.calls_to("chat.postMessage")
    assert len(posts) == 5
    root, questions = posts[0], posts[1:]
    decision = await slack.decision()
    root_ts = decision.thread_ts
    assert "thread_ts" not in root.args
    assert all(q.args["thread_ts"] == root_ts for q in questions)

    root_text = text_of(slack.fake.message(CHANNEL, root_ts))
    assert "Support assistant for billing questions" in root_text
    assert f"<@{FACILITATOR}> is facilitating decision #{decision.id}" in root_text
    assert "Q3 failures 0/20" in root_text
    assert "If you decided now:* Start with RAG" in root_text

    q1, q2, q3, q4 = (text_of(q.args) for q in questions)
    assert "perfect-context test" in q1 and "Knowledge" in q1 and "Not tested yet" in q1
    assert "Weekly or faster means RAG" in q2
    assert "Pull 20–30" in q3 and "20 more" in q3
    assert "Nobody yet" in q4 and "Not given yet" in q4


async def test_answers_are_attributed_changeable_and_idempotent(slack):
    decision_id = await start(slack)
    await slack.answer(decision_id, "problem_type", "knowledge", user=PRIYA)
    await slack.answer(decision_id, "problem_type", "knowledge", user=PRIYA)  # double click
    await slack.answer(decision_id, "problem_type", "behavior", user=MARCO)
    await slack.answer(decision_id, "problem_type", "knowledge", user=MARCO)  # changed mind

    q1 = text_of(await slack.message_of("problem_type"))
    assert f"*Knowledge* (2): <@{PRIYA}>, <@{MARCO}>" in q1
    assert "Behavior* (" not in q1
    assert "Team answer:* Knowledge (majority)" in q1
    root = text_of(await slack.message_of("root"))
    assert "✅ Q1 problem type" in root

    async with slack.sessions() as session:
        answers = (await session.exec(select(Answer))).all()
        audit = (await session.exec(select(AnswerAudit).order_by(AnswerAudit.id))).all()
    assert sorted((a.user_id, a.value) for a in answers) == [
        (MARCO, "knowledge"),
        (PRIYA, "knowledge"),
    ]
    assert [(a.user_id, a.old_value, a.new_value) for a in audit] == [
        (PRIYA, None, "knowledge"),
        (MARCO, None, "behavior"),
        (MARCO, "behavior", "knowledge"),
    ]


async def test_disagreement_is_flagged_and_a_tie_stays_unresolved(slack):
    decision_id = await start(slack)
    await slack.answer(decision_id, "problem_type", "knowledge", user=PRIYA)
    await slack.answer(decision_id, "problem_type", "behavior", user=MARCO)
    q1 = text_of(await slack.message_of("problem_type"))
    assert "Split: 1 says knowledge, 1 says behavior. Talk it through." in q1
    assert "unresolved" in q1
    assert "❔ *Fails even with perfect context*" in text_of(await slack.message_of("root"))

    await slack.answer(decision_id, "problem_type", "knowledge", user=SAM)
    q1 = text_of(await slack.message_of("problem_type"))
    assert "Split: 2 say knowledge, 1 says behavior. Talk it through." in q1
    assert "Team answer:* Knowledge (majority)" in q1


async def test_only_the_facilitator_settles_the_teams_answer(slack):
    decision_id = await start(slack)
    await slack.answer(decision_id, "problem_type", "knowledge", user=PRIYA)
    await slack.answer(decision_id, "problem_type", "behavior", user=MARCO)

    await slack.select(
        ActionId.SETTLE,
        pack(decision_id, "problem_type", "knowledge"),
        user=MARCO,
        suffix=("problem_type",),
    )
    [told] = slack.replies(MARCO)
    assert told["response_type"] == "ephemeral"
    assert f"Only the facilitator, <@{FACILITATOR}>" in told["text"]
    assert "unresolved" in text_of(await slack.message_of("problem_type"))

    await slack.select(
        ActionId.SETTLE, pack(decision_id, "problem_type", "behavior"), suffix=("problem_type",)
    )
    q1 = text_of(await slack.message_of("problem_type"))
    assert "Team answer:* Behavior (settled by the facilitator)" in q1
    assert "The facilitator settled it." in q1
    root = text_of(await slack.message_of("root"))
    assert "✅ *Fails even with perfect context*" in root


async def test_failures_pasted_in_the_modal_are_categorised_and_tallied(slack):
    decision_id = await start(slack)
    await slack.click(ActionId.ADD_FAILURES, str(decision_id))
    [opened] = slack.fake.calls_to("views.open")
    assert opened.args["view"]["callback_id"] == CallbackId.ADD_FAILURES

    pasted = "\n".join(
        [
            "quoted last year's prices | https://example.slack.com/archives/C1/p123",
            "- sounds like a legal brief",
            "",
            "thumbs down, no details",
            "didn't know about the new refund policy",
        ]
    )
    values = {
        InputId.PASTE: {InputId.PASTE: signing.text_value(pasted)},
        InputId.OUTPUT: {InputId.OUTPUT: signing.text_value("Ciao! Ecco la risposta…")},
        InputId.EXPLANATION: {
            InputId.EXPLANATION: signing.text_value("ignores the instruction to answer in Spanish")
        },
    }
    response = await slack.submit(CallbackId.ADD_FAILURES, values, decision_id, user=PRIYA)
    assert response.status_code == 200 and response.text == ""

    q3 = text_of(await slack.message_of("failures"))
    assert "(*Knowledge* 2 · *Behavior* 2)" in q3 and "*Unclear:* 1," in q3
    assert "*16 more* to reach 20 explained failures" in q3  # unclear ones apart
    [told] = slack.ephemerals(PRIYA)
    assert "Added 5 failures" in told["text"] and "2 knowledge" in told["text"]

    async with slack.sessions() as session:
        rows = (await session.exec(select(FailureExample).order_by(FailureExample.id))).all()
    assert rows[0].permalink == "https://example.slack.com/archives/C1/p123"
    assert rows[1].explanation == "sounds like a legal brief"
    assert rows[-1].output == "Ciao! Ecco la risposta…"
    assert {r.category_source for r in rows} == {"heuristic"}


async def test_an_empty_failures_modal_is_answered_inline(slack):
    decision_id = await start(slack)
    values = {
        InputId.PASTE: {InputId.PASTE: signing.text_value("")},
        InputId.OUTPUT: {InputId.OUTPUT: signing.text_value("some output")},
        InputId.EXPLANATION: {InputId.EXPLANATION: signing.text_value("")},
    }
    response = await slack.submit(CallbackId.ADD_FAILURES, values, decision_id)
    assert response.json() == {
        "response_action": "errors",
        "errors": {InputId.EXPLANATION: "Say why this output failed."},
    }


async def test_a_teammate_corrects_a_category_and_the_correction_is_kept(slack):
    decision_id = await start(slack)
    values = {InputId.PASTE: {InputId.PASTE: signing.text_value("thumbs down, no details")}}
    await slack.submit(CallbackId.ADD_FAILURES, values, decision_id)
    await slack.click(ActionId.REVIEW_FAILURES, str(decision_id))
    view = slack.fake.calls_to("views.open")[-1].args["view"]
    assert "thumbs down, no details" in text_of({"blocks": view["blocks"]})
    failure_block = next(b for b in view["blocks"] if b.get("block_id", "").startswith("failure"))
    failure_id = failure_block["block_id"].split("|")[1]

    payload = signing.block_action(
        action_id=failure_block["accessory"]["action_id"],
        block_id=failure_block["block_id"],
        element_type="static_select",
        selected_option={
            "text": {"type": "plain_text", "text": "Behavior"},
            "value": pack(failure_id, "behavior"),
        },
        user_id=MARCO,
    )
    payload["container"] = {"type": "view", "view_id": "V1"}
    payload["view"] = {"id": "V1", "private_metadata": view["private_metadata"]}
    await slack.action(payload)

    q3 = text_of(await slack.message_of("failures"))
    assert "(*Knowledge* 0 · *Behavior* 1)" in q3 and "*Unclear:* 0," in q3
    async with slack.sessions() as session:
        row = (await session.exec(select(FailureExample))).one()
    assert (row.category, row.category_source, row.corrected_by) == ("behavior", "human", MARCO)


async def test_failures_from_thread_mentions_count_once_even_when_retried(slack):
    decision_id = await start(slack)
    thread_ts = (await slack.decision()).thread_ts
    mention = signing.app_mention(
        text="<@U0BOT00001> fail: it quoted last year's prices", thread_ts=thread_ts, user_id=SAM
    )
    assert (await slack.event(mention, event_id="Ev0FAIL1")).status_code == 200
    await slack.event(mention, event_id="Ev0FAIL1", retry_num=1)
    await slack.event(mention, event_id="Ev0FAIL1", retry_num=2)

    q3 = text_of(await slack.message_of("failures", decision_id))
    assert "(*Knowledge* 1 · *Behavior* 0)" in q3 and "*Unclear:* 0," in q3
    [told] = slack.ephemerals(SAM)
    assert "Logged as *knowledge*" in told["text"]
    assert len(slack.fake.calls_to("reactions.add")) == 1

    chatter = signing.app_mention(text="<@U0BOT00001> thoughts?", thread_ts=thread_ts, user_id=SAM)
    await slack.event(chatter, event_id="Ev0CHAT1")
    assert "fail:" in slack.ephemerals(SAM)[-1]["text"]


async def test_a_mention_whose_save_failed_is_logged_when_slack_retries_it(slack):
    """The database refuses the first delivery's save (a trigger stands in for a disk or
    connection failure); Slack's retry of the same event must not be dropped as a duplicate."""
    decision_id = await start(slack)
    thread_ts = (await slack.decision()).thread_ts
    postgres = slack.sessions.kw["bind"].dialect.name == "postgresql"
    refuse = (
        [
            "CREATE FUNCTION refuse_failures() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'disk full'; END $$",
            "CREATE TRIGGER refuse BEFORE INSERT ON failureexample "
            "FOR EACH ROW EXECUTE FUNCTION refuse_failures()",
        ]
        if postgres
        else [
            "CREATE TRIGGER refuse BEFORE INSERT ON failureexample "
            "BEGIN SELECT RAISE(ABORT, 'disk full'); END"
        ]
    )
    async with slack.sessions() as session, session.begin():
        for statement in refuse:
            await session.exec(sa.text(statement))
    mention = signing.app_mention(
        text="<@U0BOT00001> fail: it quoted last year's prices", thread_ts=thread_ts, user_id=SAM
    )
    assert (await slack.event(mention, event_id="Ev0SAVE1")).status_code == 200
    await slack.idle()
    assert "Knowledge* 0" in text_of(await slack.message_of("failures", decision_id))

    async with slack.sessions() as session, session.begin():
        await session.exec(
            sa.text("DROP TRIGGER refuse ON failureexample" if postgres else "DROP TRIGGER refuse")
        )
    await slack.event(mention, event_id="Ev0SAVE1", retry_num=1)

    q3 = text_of(await slack.message_of("failures", decision_id))
    assert "(*Knowledge* 1 · *Behavior* 0)" in q3
    assert "Logged as *knowledge*" in slack.ephemerals(SAM)[-1]["text"]
    assert len(slack.fake.calls_to("reactions.add")) == 1


async def test_owners_and_labeled_examples_show_gaps_until_filled(slack):
    decision_id = await start(slack)
    await slack.pick_user(decision_id, "training_data", PRIYA)
    await slack.pick_user(decision_id, "evaluation", MARCO, user=MARCO)
    q4 = text_of(await slack.message_of("owners"))
    assert f"*Training-data pipeline*\n<@{PRIYA}>" in q4
    assert f"*Evaluation*\n<@{MARCO}>" in q4
    assert "*Deployment & rollback*\n⚠️ *Nobody yet*" in q4

    await slack.click(ActionId.LABELED_EXAMPLES, str(decision_id))
    assert slack.fake.calls_to("views.open")[-1].args["view"]["callback_id"] == "labeled_examples"
    bad = {InputId.COUNT: {InputId.COUNT: {"type": "number_input", "value": "-3"}}}
    response = await slack.submit(CallbackId.LABELED_EXAMPLES, bad, decision_id)
    assert response.json()["response_action"] == "errors"
    good = {InputId.COUNT: {InputId.COUNT: {"type": "number_input", "value": "1200"}}}
    await slack.submit(CallbackId.LABELED_EXAMPLES, good, decision_id, user=SAM)
    q4 = text_of(await slack.message_of("owners"))
    assert f"1,200, from <@{SAM}>" in q4
    root = text_of(await slack.message_of("root"))
    assert "Q4 owners 2/3" in root
    assert "no owner for deployment &amp; rollback" in root  # escaped mrkdwn; Slack shows "&"


async def test_text_slack_sends_encoded_is_stored_as_typed(slack):
    """Slack encodes &, < and > in command and message text; we store what people typed."""
    await slack.command("Q&amp;A bot for &lt;enterprise&gt; plans")
    decision = await slack.decision()
    assert decision.title == "Q&A bot for <enterprise> plans"
    header = (await slack.message_of("root"))["blocks"][0]["text"]["text"]
    assert header == "RAG or fine-tuning? Q&A bot for <enterprise> plans"  # plain text

    mention = signing.app_mention(
        text="<@U0BOT00001> fail: Q&amp;A bot said &lt;10% off for <@U0SAM00003> "
        "| <https://example.slack.com/archives/C1/p9|the answer>",
        thread_ts=decision.thread_ts,
        user_id=PRIYA,
    )
    await slack.event(mention, event_id="Ev0ENCODED")
    async with slack.sessions() as session:
        row = (await session.exec(select(FailureExample))).one()
    assert row.explanation == "Q&A bot said <10% off for @someone"
    assert row.permalink == "https://example.slack.com/archives/C1/p9"


async def test_a_deleted_question_message_does_not_break_later_clicks(slack):
    decision_id = await start(slack)
    q1_ts = (await slack.decision()).message_ts["problem_type"]
    await slack.runtime.client.chat_delete(channel=CHANNEL, ts=q1_ts)  # someone deletes Q1
    await slack.answer(decision_id, "problem_type", "knowledge", user=PRIYA)
    await slack.answer(decision_id, "problem_type", "behavior", user=MARCO)
    assert slack.replies(PRIYA) == [] and slack.replies(MARCO) == []
    decision = await slack.decision()
    again = decision.message_ts["problem_type"]  # posted again in the thread, and kept up to date
    assert again != q1_ts
    shown = text_of(slack.fake.message(CHANNEL, again))
    assert f"<@{PRIYA}>" in shown and f"<@{MARCO}>" in shown
    assert "❔ *Fails even with perfect context*" in text_of(await slack.message_of("root"))
    async with slack.sessions() as session:
        assert len((await session.exec(select(Answer))).all()) == 2
