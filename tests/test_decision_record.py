"""The decision record: frozen at the decision, the team's outcome on top, amendments, not
ready, the confirmation step, a verdict that survives Slack errors, and a safe export. Signed
requests into the real app, the fake Slack, SQLite and PostgreSQL."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from sqlmodel import select

from handlers.ui.ids import ActionId, CallbackId, InputId
from storage.models import Reminder
from tests.fakes import signing
from tests.slack_app import CHANNEL, FACILITATOR, text_of
from tests.test_slack_thread import MARCO, PRIYA, SAM, start
from tests.test_sweep import sweeper


async def paste(slack, decision_id: int, *lines: str) -> None:
    values = {InputId.PASTE: {InputId.PASTE: signing.text_value("\n".join(lines))}}
    await slack.submit(CallbackId.ADD_FAILURES, values, decision_id)


async def override(slack, decision_id: int, choice: str, reason: str):
    values = {
        InputId.CHOICE: {InputId.CHOICE: signing.select_value(choice)},
        InputId.REASON: {InputId.REASON: signing.text_value(reason)},
    }
    return await slack.submit(CallbackId.OVERRIDE, values, decision_id)


async def export(slack, decision_id: int) -> str:
    await slack.command(f"export {decision_id}")
    return slack.fake.uploads[-1]["content"]


async def status(slack, decision_id: int) -> str:
    await slack.command(f"status {decision_id}")
    return text_of(slack.replies(FACILITATOR)[-1])


async def reminders(slack, kind: str) -> list[Reminder]:
    async with slack.sessions() as session:
        query = select(Reminder).where(Reminder.kind == kind).order_by(Reminder.id)
        return list((await session.exec(query)).all())


def later(minutes: int = 0, days: int = 0) -> datetime:
    return datetime.now(UTC) + timedelta(minutes=minutes, days=days)


# 1. Frozen at the decision ---------------------------------------------------------------------


async def test_the_record_stays_as_it_was_at_the_decision(slack):
    slack.fake.add_user(PRIYA, name="Priya")
    slack.fake.add_user(MARCO, name="Marco")
    decision_id = await start(slack)
    await slack.answer(decision_id, "problem_type", "knowledge", user=PRIYA)
    await slack.pick_user(decision_id, "evaluation", MARCO)
    await paste(slack, decision_id, "quoted last year's prices", "sounds like a legal brief")
    await slack.decide(decision_id)

    await slack.command(f"log {decision_id} didn't know the new refund policy")
    await slack.command(f"log {decision_id} wrong tone with the customer")
    await paste(slack, decision_id, "too verbose for a chat reply")

    record = await export(slack, decision_id)
    # the failures the decision was made on, then those since
    assert "2 failures explained at the decision: 1 knowledge, 1 behavior, 0 unclear." in record
    assert "Since the decision: 3 more (1 knowledge, 2 behavior, 0 unclear)." in record
    assert "Knowledge (Priya)" in record and "  - Evaluation: Marco." in record

    shown = await status(slack, decision_id)
    assert (
        "*Failures logged* (at the decision)\n*Explained:* 2 (*Knowledge* 1 · *Behavior* 1)\n"
        "*Unclear:* 0"
    ) in shown
    assert "*Since the decision:* 3 more failures logged" in shown

    root = text_of(await slack.message_of("root"))
    assert "failures 2/20" in root
    assert "*Since the decision:* 3 more failures logged" in root
    failures = text_of(await slack.message_of("failures"))
    assert "*Knowledge* 1 · *Behavior* 1" in failures and "3 more logged" in failures
    verdict = text_of(await slack.message_of("verdict"))
    assert "2 knowledge and 1 behavior" not in verdict  # still the reasons of the decision


# 2. The team's choice is the outcome on record ------------------------------------------------


async def test_the_teams_choice_leads_everywhere(slack):
    decision_id = await start(slack)
    await slack.decide(decision_id)
    await slack.click(ActionId.OVERRIDE, str(decision_id))
    view = slack.fake.calls_to("views.open")[-1].args["view"]
    offered = [o["value"] for o in view["blocks"][1]["element"]["options"]]
    assert offered == ["fine_tuning", "hybrid"]  # never "not ready"

    response = await override(slack, decision_id, "not_ready", "we aren't sure")
    assert "isn't a choice the team can make" in response.json()["errors"][InputId.CHOICE]
    assert (await slack.decision()).final_choice is None

    await override(slack, decision_id, "hybrid", "Legal wants a fixed tone")
    said = "Hybrid (the rule said Start with RAG"
    verdict = await slack.message_of("verdict")
    assert verdict["blocks"][0]["text"]["text"] == "Decision: Hybrid (the rule said Start with RAG)"
    assert f"{said}: Legal wants a fixed tone)" in verdict["text"]  # the notification
    root = text_of(await slack.message_of("root"))
    assert "*Decided:* *Hybrid* (the rule said Start with RAG: Legal wants a fixed tone)" in root

    await slack.command("list")
    assert f"decided: {said})" in text_of(slack.replies(FACILITATOR)[-1])
    assert "*Decision:* *Hybrid* (the rule said Start with RAG" in await status(slack, decision_id)
    record = await export(slack, decision_id)
    assert "Chosen option: “Hybrid”, because" in record
    assert "The rule said “Start with RAG”; the team chose Hybrid." in record
    assert "Why: Legal wants a fixed tone" in record

    [review] = await reminders(slack, "quarterly_review")
    await sweeper(slack).sweep(review.due_at)
    shown = text_of(slack.fake.messages(CHANNEL)[-2])  # the review, then its channel pointer
    assert f"*{said})*" in shown
    assert "*The rule now says:* Start with RAG, but the team chose Hybrid" in shown


# 3. Not ready is not an outcome -----------------------------------------------------------------


async def test_deciding_on_not_ready_keeps_it_open_and_follows_up_in_two_weeks(slack):
    decision_id = await start(slack)
    await paste(slack, decision_id, *[f"output number {n} was off" for n in range(16)])
    await paste(slack, decision_id, *[f"quoted last year's prices, case {n}" for n in range(4)])
    await slack.decide(decision_id)

    decision = await slack.decision()
    assert decision.status == "open" and decision.verdict is None
    assert "verdict" not in decision.message_ts
    posted = text_of(slack.fake.messages(CHANNEL, thread_ts=decision.thread_ts)[-1])
    assert "Not decided yet" in posted and "What's missing" in posted
    assert "Re-read the 16 unexplained failures" in posted
    assert "stays open" in slack.replies(FACILITATOR)[-1]["text"]
    [follow_up] = await reminders(slack, "not_ready_follow_up")
    assert abs(follow_up.due_at - later(days=14)) < timedelta(minutes=5)
    assert "Decide" in text_of(await slack.message_of("root"))  # still open, still decidable

    report = await sweeper(slack).sweep(follow_up.due_at)
    assert len(report.sent) == 1
    reminder = text_of(slack.fake.messages(CHANNEL, thread_ts=decision.thread_ts)[-1])
    assert f"<@{FACILITATOR}>, 14 days ago decision #{decision_id}" in reminder
    assert "still says *Not ready" in reminder
    then = (await sweeper(slack).sweep(later(days=30))).sent
    assert not [line for line in then if "not-ready follow-up" in line]  # once
    assert [line for line in then if "stalled reminder" in line]  # stalling is watched again


# 4. Amendments ----------------------------------------------------------------------------------


async def test_changing_the_outcome_later_is_an_amendment_in_the_history(slack):
    decision_id = await start(slack)
    await slack.decide(decision_id)
    await slack.click(ActionId.ACCEPT, str(decision_id))
    assert "Change the outcome" in text_of(await slack.message_of("verdict"))

    await slack.click(ActionId.OVERRIDE, str(decision_id), user=MARCO)
    assert "Only the facilitator" in slack.replies(MARCO)[-1]["text"]
    response = await override(slack, decision_id, "hybrid", "")
    assert response.json()["response_action"] == "errors"

    await override(slack, decision_id, "hybrid", "Tone failures <b>dominate</b> now")
    decision = await slack.decision()
    assert (decision.verdict, decision.final_choice) == ("rag", "hybrid")
    record = await export(slack, decision_id)
    assert "- Amendments:" in record
    assert "by jdoe: RAG → Hybrid. Why: Tone failures \\<b\\>dominate\\</b\\> now" in record
    shown = await status(slack, decision_id)
    assert f"*Amended* by <@{FACILITATOR}>" in shown and "RAG → *Hybrid*" in shown
    assert "Tone failures &lt;b&gt;dominate&lt;/b&gt; now" in shown
    assert "RAG → *Hybrid*" in text_of(await slack.message_of("verdict"))


# 5. Decide asks for confirmation -----------------------------------------------------------------


async def test_decide_asks_first_and_only_confirm_decides(slack):
    decision_id = await start(slack)
    await slack.answer(decision_id, "problem_type", "behavior", user=PRIYA)
    await slack.answer(decision_id, "knowledge_change", "stable", user=PRIYA)
    await slack.click(ActionId.DECIDE, str(decision_id))

    [asked] = slack.replies(FACILITATOR)
    shown = text_of(asked)
    assert asked["response_type"] == "ephemeral"
    assert "The rule gives: *Start with RAG*" in shown
    assert "*Unmet conditions*" in shown and "Team can own fine-tuning" in shown
    assert "Q3 and Q4 are unanswered; decide anyway?" in shown
    assert "Confirm" in shown and "Cancel" in shown
    assert (await slack.decision()).status == "open"
    assert not [m for m in slack.fake.messages(CHANNEL) if "rule's verdict:" in text_of(m)]

    await slack.click(ActionId.CANCEL_DECIDE, str(decision_id))
    assert "Not decided" in slack.replies(FACILITATOR)[-1]["text"]
    assert (await slack.decision()).status == "open"

    slack.fake.add_user(PRIYA, is_admin=True)  # the admin path is the same
    await slack.click(ActionId.DECIDE, str(decision_id), user=PRIYA)
    assert "decide anyway?" in text_of(slack.replies(PRIYA)[-1])
    assert (await slack.decision()).status == "open"
    await slack.click(ActionId.CONFIRM_DECIDE, str(decision_id), user=PRIYA)
    decision = await slack.decision()
    assert (decision.status, decision.decided_by) == ("decided", PRIYA)

    slack.fake.add_user(MARCO, is_admin=False)
    await slack.click(ActionId.CONFIRM_DECIDE, str(decision_id), user=MARCO)
    assert "already decided" in slack.replies(MARCO)[-1]["text"]


# 6. A verdict that survives a Slack error --------------------------------------------------------


async def test_a_verdict_slack_refused_is_posted_once_by_the_sweep_and_still_works(slack):
    decision_id = await start(slack)
    slack.fake.fail_next("chat.postMessage", status=500)
    await slack.decide(decision_id)

    told = slack.replies(FACILITATOR)[-1]["text"]
    assert "is decided, but Slack said" in told and "post it in this thread again" in told
    decision = await slack.decision()
    assert "verdict" not in decision.message_ts
    assert "*Decided:* *RAG* (the rule's verdict)" in text_of(await slack.message_of("root"))
    [outbox] = await reminders(slack, "verdict")
    assert outbox.status == "pending"

    assert (await sweeper(slack).sweep(later())).sent == []  # not before it's due
    report = await sweeper(slack).sweep(later(minutes=3))
    assert len(report.sent) == 1
    await sweeper(slack).sweep(later(minutes=30))
    verdicts = [m for m in slack.fake.messages(CHANNEL) if "rule's verdict:" in text_of(m)]
    assert len(verdicts) == 1
    assert (await slack.decision()).message_ts["verdict"] == verdicts[0]["ts"]

    await slack.click(ActionId.ACCEPT, str(decision_id))
    assert f"Accepted by <@{FACILITATOR}>" in text_of(await slack.message_of("verdict"))


async def test_a_verdict_posted_by_the_app_leaves_no_outbox_row(slack):
    decision_id = await start(slack)
    await slack.decide(decision_id)
    assert await reminders(slack, "verdict") == []
    await sweeper(slack).sweep(later(minutes=30))
    verdicts = [m for m in slack.fake.messages(CHANNEL) if "rule's verdict:" in text_of(m)]
    assert len(verdicts) == 1


# 7. Only message_not_found retires a message ---------------------------------------------------


async def test_a_deleted_question_is_posted_again_and_stays_answerable(slack):
    decision_id = await start(slack)
    before = (await slack.decision()).message_ts["problem_type"]
    slack.fake.fail_next("chat.update", error="message_not_found")
    await slack.answer(decision_id, "problem_type", "knowledge", user=PRIYA)

    decision = await slack.decision()
    again = decision.message_ts["problem_type"]
    assert again != before
    reposted = slack.fake.message(CHANNEL, again)
    assert reposted["thread_ts"] == decision.thread_ts
    assert f"<@{PRIYA}>" in text_of(reposted)

    await slack.answer(decision_id, "problem_type", "behavior", user=MARCO)
    assert f"<@{MARCO}>" in text_of(slack.fake.message(CHANNEL, again))


async def test_a_channel_or_transient_error_never_stops_refreshes(slack):
    decision_id = await start(slack)
    ts = (await slack.decision()).message_ts["problem_type"]
    for error in ("is_archived", "channel_not_found"):
        slack.fake.fail_next("chat.update", error=error)
        await slack.answer(decision_id, "problem_type", "knowledge", user=PRIYA)
        assert (await slack.decision()).message_ts["problem_type"] == ts
        await slack.answer(decision_id, "problem_type", "behavior", user=PRIYA)
    slack.fake.fail_next("chat.update", status=500)
    await slack.answer(decision_id, "problem_type", "knowledge", user=MARCO)
    assert (await slack.decision()).message_ts["problem_type"] == ts
    await slack.answer(decision_id, "problem_type", "both", user=SAM)
    shown = text_of(slack.fake.message(CHANNEL, ts))
    assert f"<@{MARCO}>" in shown and f"<@{SAM}>" in shown


async def test_a_refused_update_waits_for_the_next_change_and_a_transient_one_is_retried(slack):
    refused = await start(slack, "Refused by Slack")
    refused_ts = (await slack.decision(refused)).message_ts["problem_type"]
    retried = await start(slack, "Slack had a hiccup")
    retried_ts = (await slack.decision(retried)).message_ts["problem_type"]

    def updates_of(ts: str) -> int:
        return sum(1 for c in slack.fake.calls_to("chat.update") if c.args.get("ts") == ts)

    slack.fake.fail_next("chat.update", error="cant_update_message", times=2)  # Q1 and root
    await slack.answer(refused, "problem_type", "knowledge", user=PRIYA)
    slack.fake.fail_next("chat.update", error="internal_error", times=2)
    await slack.answer(retried, "problem_type", "knowledge", user=PRIYA)
    tried = updates_of(refused_ts)
    assert f"<@{PRIYA}>" not in text_of(slack.fake.message(CHANNEL, retried_ts))

    await slack.fake.wait_for(  # RETRY_FAILED: 10 s
        "chat.update",
        timeout=15,
        predicate=lambda c: c.args.get("ts") == retried_ts and (c.response or {}).get("ok"),
    )
    assert updates_of(refused_ts) == tried  # the same refusal is not asked for again
    assert f"<@{PRIYA}>" not in text_of(slack.fake.message(CHANNEL, refused_ts))

    await slack.answer(refused, "problem_type", "behavior", user=MARCO)  # a change: tried again
    shown = text_of(slack.fake.message(CHANNEL, refused_ts))
    assert f"<@{PRIYA}>" in shown and f"<@{MARCO}>" in shown


# 8. The exported Markdown is escaped ---------------------------------------------------------


async def test_user_text_cannot_add_headings_html_or_links_to_the_export(slack):
    title = "Bot ## Verdict: Fine-tune <script>alert(1)</script> [click](https://evil.example)"
    decision_id = await start(slack, title)
    await slack.decide(decision_id)
    await override(slack, decision_id, "hybrid", "fine\n## Verdict: Fine-tune\n<img src=x>")

    record = await export(slack, decision_id)
    headings = [line for line in record.splitlines() if line.startswith("## ")]
    assert "## Verdict: Fine-tune" not in headings and headings.count("## Decision Outcome") == 1
    assert not re.search(r"(?<!\\)<(script|img)", record)  # every < of user text escaped
    assert "[click](" not in record
    assert "\\## Verdict: Fine-tune" in record and "\\<script\\>" in record
