"""Deciding, accepting or overriding the verdict, and the /ragft subcommands."""

from __future__ import annotations

from sqlmodel import select

from handlers.ui.ids import ActionId, CallbackId, InputId
from storage.models import Decision
from tests.fakes import signing
from tests.slack_app import CHANNEL, FACILITATOR, text_of
from tests.test_slack_thread import MARCO, PRIYA, start


async def test_only_the_facilitator_or_an_admin_can_decide(slack):
    decision_id = await start(slack)
    slack.fake.add_user(MARCO, is_admin=False)
    await slack.click(ActionId.DECIDE, str(decision_id), user=MARCO)
    [told] = slack.replies(MARCO)
    assert told["response_type"] == "ephemeral"
    assert "Only the facilitator" in told["text"] and "Nothing has changed" in told["text"]
    assert (await slack.decision()).status == "open"
    assert "verdict" not in (await slack.decision()).message_ts

    slack.fake.add_user(PRIYA, is_admin=True)
    await slack.decide(decision_id, user=PRIYA)
    decision = await slack.decision()
    assert (decision.status, decision.verdict, decision.decided_by) == ("decided", "rag", PRIYA)


async def test_deciding_posts_the_verdict_and_freezes_the_questions(slack):
    decision_id = await start(slack)
    await slack.answer(decision_id, "problem_type", "knowledge", user=PRIYA)
    await slack.answer(decision_id, "knowledge_change", "weekly", user=MARCO)
    await slack.decide(decision_id)

    verdict = await slack.message_of("verdict")
    assert verdict["thread_ts"] == (await slack.decision()).thread_ts
    shown = text_of(verdict)
    assert "Decision: RAG (the rule's verdict)" in shown
    assert "*The rule's verdict:* Start with RAG" in shown
    assert "Ship RAG. Log failures aggressively." in shown
    assert "Year one: RAG $24.9k–$75.8k · Fine-tuning $57.3k–$247k" in shown
    assert "Accept verdict" in shown and "Record a different choice" in shown

    root = text_of(await slack.message_of("root"))
    assert "*Decided:* *RAG* (the rule's verdict)" in root and "Decide" not in root.split("\n")
    q1 = await slack.message_of("problem_type")
    assert not [b for b in q1["blocks"] if b["type"] == "actions"]

    await slack.answer(decision_id, "problem_type", "behavior", user=PRIYA)
    assert "already decided" in slack.replies(PRIYA)[-1]["text"]


async def test_the_facilitator_accepts_or_records_a_different_choice(slack):
    decision_id = await start(slack)
    await slack.decide(decision_id)

    await slack.click(ActionId.OVERRIDE, str(decision_id), user=MARCO)
    assert "Only the facilitator" in slack.replies(MARCO)[-1]["text"]
    assert not slack.fake.calls_to("views.open")

    await slack.click(ActionId.OVERRIDE, str(decision_id))
    view = slack.fake.calls_to("views.open")[-1].args["view"]
    assert view["callback_id"] == CallbackId.OVERRIDE
    no_reason = {
        InputId.CHOICE: {InputId.CHOICE: signing.select_value("hybrid")},
        InputId.REASON: {InputId.REASON: signing.text_value("")},
    }
    response = await slack.submit(CallbackId.OVERRIDE, no_reason, decision_id)
    assert response.json()["response_action"] == "errors"

    values = {
        InputId.CHOICE: {InputId.CHOICE: signing.select_value("hybrid")},
        InputId.REASON: {InputId.REASON: signing.text_value("Tone matters & <!here> legal asked")},
    }
    await slack.submit(CallbackId.OVERRIDE, values, decision_id)
    decision = await slack.decision()
    assert (decision.verdict, decision.final_choice) == ("rag", "hybrid")
    assert decision.final_choice_reason == "Tone matters & <!here> legal asked"
    shown = text_of(await slack.message_of("verdict"))
    assert "chose *Hybrid* instead" in shown
    assert "Tone matters &amp; &lt;!here&gt; legal asked" in shown
    assert "Accept verdict" not in shown


async def test_accepting_keeps_the_verdict(slack):
    decision_id = await start(slack)
    await slack.decide(decision_id)
    await slack.click(ActionId.ACCEPT, str(decision_id))
    assert (await slack.decision()).final_choice == "rag"
    assert f"Accepted by <@{FACILITATOR}>" in text_of(await slack.message_of("verdict"))


async def test_help_and_unknown_subcommands_answer_ephemerally(slack):
    await slack.command("help")
    [help_reply] = slack.replies(FACILITATOR)
    assert help_reply["response_type"] == "ephemeral"
    assert "/ragft list" in text_of(help_reply) and "/ragft export" in text_of(help_reply)

    await slack.command("frobnicate")
    unknown = slack.replies(FACILITATOR)[-1]
    assert "`frobnicate` isn't a ragft command" in text_of(unknown)
    assert "/ragft status" in text_of(unknown)
    assert not slack.fake.calls_to("chat.postMessage")

    await slack.command("status abc")
    assert "isn't a decision number" in slack.replies(FACILITATOR)[-1]["text"]


async def test_list_and_status_show_this_channels_decisions(slack):
    await slack.command("list")
    assert "No decisions in this channel yet" in text_of(slack.replies(FACILITATOR)[-1])

    first = await start(slack, "Billing assistant")
    await slack.command("start Contract summariser", channel="C0OTHER001")
    await slack.decide(first)

    await slack.command("list")
    listed = text_of(slack.replies(FACILITATOR)[-1])
    assert f"#{first} Billing assistant" in listed and "decided: RAG (the rule's verdict)" in listed
    assert "Contract summariser" not in listed

    await slack.command("status")
    status = text_of(slack.replies(FACILITATOR)[-1])
    assert f"#{first} status" in status and "Failures logged" in status

    await slack.command("status 999")
    assert "no decision #999" in slack.replies(FACILITATOR)[-1]["text"]


async def test_export_uploads_the_record_to_the_thread(slack):
    slack.fake.add_user(PRIYA, name="Priya")
    slack.fake.add_user(MARCO, name="Marco")
    decision_id = await start(slack, "Billing <assistant>")
    await slack.answer(decision_id, "problem_type", "knowledge", user=PRIYA)
    await slack.pick_user(decision_id, "evaluation", MARCO)
    await slack.decide(decision_id)
    await slack.command(f"export #{decision_id}")

    [upload] = slack.fake.uploads
    decision = await slack.decision()
    assert upload["channel_id"] == CHANNEL and upload["thread_ts"] == decision.thread_ts
    assert upload["filename"] == f"{decision_id:04d}-billing-assistant.md"
    record = upload["content"]
    assert "\n# Billing \\<assistant\\>\n" in record
    assert "Knowledge (Priya)" in record
    assert "  - Evaluation: Marco." in record
    assert "  - Deployment & rollback: nobody (a gap)." in record
    assert "Chosen option: “RAG”" in record
    assert "next review" in record


async def test_clicks_still_work_after_a_restart(slack, fake_slack, engine, sessions):
    from tests.slack_app import SlackApp

    decision_id = await start(slack)
    await slack.close()
    restarted = SlackApp(fake_slack, engine, sessions)
    try:
        await restarted.answer(decision_id, "problem_type", "behavior", user=PRIYA)
        q1 = text_of(await restarted.message_of("problem_type"))
        assert f"*Behavior* (1): <@{PRIYA}>" in q1
    finally:
        await restarted.close()


async def test_the_bot_joins_a_public_channel_it_is_not_in(slack):
    slack.fake.set_channel("C0PUBLIC01", is_member=False)
    await slack.command("start Billing assistant", channel="C0PUBLIC01")
    assert len(slack.fake.calls_to("conversations.join")) == 1
    decision = await slack.decision()
    assert decision.channel_id == "C0PUBLIC01" and decision.thread_ts
    assert len(slack.fake.messages("C0PUBLIC01")) == 5


async def test_a_private_channel_gets_invite_instructions_and_no_orphan(slack):
    slack.fake.set_channel("G0PRIVATE1", is_private=True, is_member=False)
    await slack.command("start Billing assistant", channel="G0PRIVATE1")
    [told] = slack.replies(FACILITATOR)
    assert told["response_type"] == "ephemeral"
    assert "/invite @ragft" in told["text"]
    async with slack.sessions() as session:
        decision = (await session.exec(select(Decision))).one()
    assert decision.status == "archived"
    await slack.command("list", channel="G0PRIVATE1")
    assert "No decisions in this channel yet" in text_of(slack.replies(FACILITATOR)[-1])


async def test_an_error_after_the_ack_does_not_hold_up_the_response(slack):
    """Slack shows "operation timed out" if the HTTP response takes 3 s, even after an ack."""
    import time

    started = time.perf_counter()
    response = await slack.command("status abc")
    assert response.status_code == 200
    assert time.perf_counter() - started < 2.0
    assert "isn't a decision number" in slack.replies(FACILITATOR)[-1]["text"]


async def test_failures_logged_in_the_thread_after_deciding_queue_a_nudge_check(slack):
    from storage.models import Reminder

    decision_id = await start(slack)
    values = {InputId.PASTE: {InputId.PASTE: signing.text_value("sounds like a legal brief")}}
    await slack.submit(CallbackId.ADD_FAILURES, values, decision_id)

    async def revisits() -> list[Reminder]:
        async with slack.sessions() as session:
            query = select(Reminder).where(Reminder.kind == "revisit")
            return list((await session.exec(query)).all())

    assert await revisits() == []  # still open: nothing to revisit yet
    await slack.decide(decision_id)
    await slack.submit(CallbackId.ADD_FAILURES, values, decision_id)
    thread_ts = (await slack.decision()).thread_ts
    mention = signing.app_mention(
        text="<@U0BOT00001> fail: too verbose", thread_ts=thread_ts, user_id=MARCO
    )
    await slack.event(mention, event_id="Ev0NUDGE1")
    [pending] = await revisits()
    assert (pending.decision_id, pending.status) == (decision_id, "pending")


async def test_two_decide_clicks_at_once_post_one_verdict(slack):
    import asyncio

    decision_id = await start(slack)
    slack.fake.add_user(PRIYA, is_admin=True)
    await asyncio.gather(
        slack.click(ActionId.CONFIRM_DECIDE, str(decision_id), settle=False),
        slack.click(ActionId.CONFIRM_DECIDE, str(decision_id), user=PRIYA, settle=False),
    )
    await slack.idle()
    verdicts = [m for m in slack.fake.messages(CHANNEL) if "The rule's verdict:" in text_of(m)]
    assert len(verdicts) == 1
    told = slack.replies(FACILITATOR) + slack.replies(PRIYA)
    assert len([t for t in told if "already decided" in t["text"]]) == 1


async def test_a_failed_verdict_post_still_leaves_the_review_scheduled(slack):
    from storage.models import Reminder

    decision_id = await start(slack)
    slack.fake.fail_next("chat.postMessage", error="fatal_error")
    await slack.decide(decision_id)
    assert "Slack said fatal_error" in slack.replies(FACILITATOR)[-1]["text"]
    decision = await slack.decision()
    assert decision.status == "decided" and decision.next_review_at is not None
    async with slack.sessions() as session:
        found = (await session.exec(select(Reminder).order_by(Reminder.kind))).all()
    assert [(r.kind, r.status) for r in found] == [
        ("quarterly_review", "pending"),
        ("verdict", "pending"),  # the verdict's outbox row: the sweep posts it
    ]


async def test_a_decision_id_cannot_reach_into_another_channel(slack):
    secret = await start(slack, "Private roadmap bot")  # in CHANNEL
    elsewhere = "C0ELSEWHERE"
    for command in (f"status {secret}", f"export {secret}", f"log {secret} wrong tone"):
        await slack.command(command, user=MARCO, channel=elsewhere)
        told = slack.replies(MARCO)[-1]["text"]
        assert f"no decision #{secret} in this channel" in told
        assert "Private roadmap bot" not in told
    assert slack.fake.uploads == []
    async with slack.sessions() as session:
        from storage.models import FailureExample

        assert (await session.exec(select(FailureExample))).all() == []
