"""After the decision, as the team sees it in Slack: logging failures, cadence, the quarterly
review and its buttons, revisit nudges. Real databases, the real app, the fake Slack Web API;
the sweeper runs with an explicit ``now``, so nobody waits 90 days."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import select

from bot.reminders.sweeper import Sweeper
from handlers.reminder_delivery import build_deliverer, sweep_runtime
from handlers.ui.ids import ActionId, CallbackId, InputId, pack
from storage.models import Answer, Decision, FailureExample, OwnerAssignment, Reminder
from tests.fakes import signing
from tests.slack_app import CHANNEL, FACILITATOR, text_of

PRIYA, MARCO = "U0PRIYA001", "U0MARCO002"
PNG = b"\x89PNG\r\n\x1a\n"
BEHAVIOR = [
    "too verbose and ignored the format",
    "sounds like a legal brief, wrong tone",
    "ignored the JSON format we asked for",
    "rambling and too long",
    "tone was rude to the customer",
]


def sweeper(slack, **kw) -> Sweeper:
    return Sweeper(
        slack.sessions, build_deliverer(sweep_runtime(slack.settings, slack.sessions)), **kw
    )


async def decided(slack, title: str = "Billing assistant", **answers) -> Decision:
    await slack.command(f"start {title}")
    decision_id = (await slack.decision()).id
    for question, value in answers.items():
        await slack.answer(decision_id, question, value, user=PRIYA)
    await slack.decide(decision_id)
    return await slack.decision(decision_id)


async def reminders(slack, decision_id: int | None = None) -> list[Reminder]:
    async with slack.sessions() as session:
        query = select(Reminder).order_by(Reminder.id)
        if decision_id is not None:
            query = query.where(Reminder.decision_id == decision_id)
        return list((await session.exec(query)).all())


def in_thread(slack, decision: Decision) -> list[dict]:
    return [
        m
        for m in slack.fake.messages(CHANNEL, thread_ts=decision.thread_ts)
        if m["ts"] != decision.thread_ts
    ]


# Scheduling ------------------------------------------------------------------------------------


async def test_deciding_schedules_the_first_review_at_ten_on_a_weekday_in_the_facilitators_tz(
    slack,
):
    slack.fake.add_user(FACILITATOR, name="jdoe", tz="Asia/Tokyo", tz_offset=32400)
    decision = await decided(slack)
    [reminder] = await reminders(slack)
    assert reminder.kind == "quarterly_review" and reminder.status == "pending"
    local = reminder.due_at.astimezone(ZoneInfo("Asia/Tokyo"))
    assert (local.hour, local.minute) == (10, 0) and local.weekday() < 5
    assert abs(reminder.due_at - (decision.decided_at + timedelta(days=90))) < timedelta(days=3)
    assert decision.next_review_at == reminder.due_at

    note = next(m for m in in_thread(slack, decision) if "First review" in text_of(m))
    assert "10:00" in text_of(note)
    assert "Next review" in text_of(await slack.message_of("root"))


async def test_cadence_command_shows_and_changes_the_schedule(slack):
    decision = await decided(slack)
    await slack.command("cadence")
    shown = slack.replies(FACILITATOR)[-1]
    assert f"Decision #{decision.id} is reviewed *quarterly* (90 days)" in shown["text"]

    await slack.command(f"cadence {decision.id} monthly")
    told = slack.replies(FACILITATOR)[-1]["text"]
    assert "reviewed *monthly* (30 days)" in told
    [reminder] = await reminders(slack)
    fresh = await slack.decision(decision.id)
    assert fresh.review_cadence_days == 30 and fresh.next_review_at == reminder.due_at
    assert timedelta(days=26) < reminder.due_at - decision.decided_at < timedelta(days=34)

    await slack.command("cadence fortnightly")
    assert "isn't a review cadence" in slack.replies(FACILITATOR)[-1]["text"]


async def test_the_cadence_select_on_the_schedule_note_changes_it(slack):
    decision = await decided(slack)
    await slack.select(ActionId.CADENCE, pack(decision.id, 182))
    [reminder] = await reminders(slack)
    assert (await slack.decision(decision.id)).review_cadence_days == 182
    assert reminder.due_at - decision.decided_at > timedelta(days=178)
    assert "half-yearly" in slack.replies(FACILITATOR)[-1]["text"]


# Logging failures ------------------------------------------------------------------------------


async def test_log_command_logs_to_the_named_decision_and_escapes_what_was_typed(slack):
    first = await decided(slack, "First")
    await slack.command("Second, still open")  # the default now; see test_lifecycle.py
    await slack.command(f"log {first.id} too verbose &lt;b&gt; and ignored the format <!channel>")
    told = slack.replies(FACILITATOR)[-1]["text"]
    assert f"Logged to #{first.id}" in told and "*Behavior*" in told
    # Slack encodes &, <, > in command text; we store what was typed and escape it to show it.
    assert "&lt;!channel&gt;" in told and "<!channel>" not in told
    assert "&lt;b&gt;" in told and "<b>" not in told
    async with slack.sessions() as session:
        [failure] = (await session.exec(select(FailureExample))).all()
    assert failure.decision_id == first.id and failure.category == "behavior"
    # A decided decision gets a revisit check for the next sweep.
    assert [r.kind for r in await reminders(slack, first.id)] == ["quarterly_review", "revisit"]


async def test_message_shortcut_opens_a_prefilled_modal_and_logs_with_the_permalink(slack):
    decision = await decided(slack)
    bot_answer = {"type": "message", "ts": "1717000100.000100", "text": "Refunds take 60 days."}
    await slack.action(
        signing.message_shortcut(
            callback_id=CallbackId.LOG_FAILURE, message=bot_answer, user_id=MARCO
        )
    )
    [opened] = slack.fake.calls_to("views.open")
    view = opened.args["view"]
    assert (
        view["callback_id"] == CallbackId.LOG_FAILURE and view["title"]["text"] == "Log AI failure"
    )
    blocks = {b.get("block_id"): b for b in view["blocks"]}
    assert blocks[InputId.OUTPUT]["element"]["initial_value"] == "Refunds take 60 days."
    assert blocks[InputId.DECISION]["element"]["initial_option"]["value"] == str(decision.id)
    assert "/archives/" in text_of({"blocks": view["blocks"]})

    values = {
        InputId.DECISION: {InputId.DECISION: signing.select_value(str(decision.id))},
        InputId.OUTPUT: {InputId.OUTPUT: signing.text_value("Refunds take 60 days.")},
        InputId.EXPLANATION: {InputId.EXPLANATION: signing.text_value("")},
    }
    submit = signing.view_submission(
        callback_id=CallbackId.LOG_FAILURE,
        values=values,
        private_metadata=view["private_metadata"],
        user_id=MARCO,
    )
    rejected = await slack.post(signing.interactive(submit))
    assert rejected.json()["response_action"] == "errors"

    values[InputId.EXPLANATION] = {
        InputId.EXPLANATION: signing.text_value("quoted last year's refund policy")
    }
    submit["view"]["state"]["values"] = values
    await slack.post(signing.interactive(submit))
    async with slack.sessions() as session:
        [failure] = (await session.exec(select(FailureExample))).all()
    assert failure.category == "knowledge" and failure.logged_by == MARCO
    assert failure.permalink.startswith("https://") and "/archives/" in failure.permalink
    assert failure.output == "Refunds take 60 days."
    [told] = slack.ephemerals(MARCO)
    assert f"Logged to #{decision.id}" in told["text"]


async def test_shortcut_without_any_decision_says_how_to_start_one(slack):
    message = {"type": "message", "ts": "1717000100.000100", "text": "hi"}
    await slack.action(
        signing.message_shortcut(callback_id=CallbackId.LOG_FAILURE, message=message)
    )
    assert not slack.fake.calls_to("views.open")
    assert any("no decisions" in c.args["text"] for c in slack.fake.calls if "text" in c.args)


# The review ------------------------------------------------------------------------------------


async def test_a_due_review_posts_tally_trend_chart_conditions_and_a_pointer(slack):
    slack.fake.add_user(PRIYA, name="priya", deleted=True)
    await slack.command("start Billing assistant")
    decision_id = (await slack.decision()).id
    await slack.pick_user(decision_id, "evaluation", PRIYA)
    await slack.decide(decision_id)
    decision = await slack.decision(decision_id)
    for why in [*BEHAVIOR[:3], "quoted last year's prices"]:
        await slack.command(f"log {why}")
    [review] = [r for r in await reminders(slack) if r.kind == "quarterly_review"]

    report = await sweeper(slack).sweep(review.due_at)
    assert len(report.sent) == 1 and f"#{decision_id} review" in report.sent[0]

    thread = [text_of(m) for m in in_thread(slack, decision)]
    [posted] = [t for t in thread if "Quarterly review" in t]
    assert "Failures logged this period: 4" in posted
    assert "*Knowledge* 1 (▲1) · *Behavior* 3 (▲3) · *Unclear* 0 (±0)" in posted
    assert "*Behavioral share:* 75% this period" in posted
    assert "Fails even with perfect context" in posted and "Team can own fine-tuning" in posted
    assert f"<@{PRIYA}>, the *Evaluation* owner, has left the workspace" in posted
    for label in ("Reviewed", "Snooze a week", "Re-run the diagnostic"):
        assert label in posted

    [upload] = slack.fake.uploads
    assert upload["data"].startswith(PNG) and upload["thread_ts"] == decision.thread_ts
    assert upload["size"] < 100_000
    pointers = [m for m in slack.fake.messages(CHANNEL) if "review of decision" in text_of(m)]
    assert len(pointers) == 1 and not pointers[0]["thread_ts"]

    rows = {r.id: r for r in await reminders(slack)}
    assert rows[review.id].status == "sent" and rows[review.id].sent_at is not None
    [following] = [r for r in rows.values() if r.kind == "quarterly_review" and r.id != review.id]
    assert following.status == "pending" and following.due_at > review.due_at + timedelta(days=80)

    again = await sweeper(slack).sweep(review.due_at)
    assert again.sent == []
    assert len([t for t in thread if "Quarterly review" in t]) == 1


async def test_reviewed_and_snooze_buttons_reschedule_and_say_who(slack):
    decision = await decided(slack)
    await slack.click(ActionId.REVIEWED, str(decision.id), user=MARCO)
    fresh = await slack.decision(decision.id)
    assert fresh.last_reviewed_by == MARCO and fresh.last_reviewed_at is not None
    [reminder] = await reminders(slack)
    assert reminder.due_at - fresh.last_reviewed_at > timedelta(days=85)
    assert any(f"Reviewed by <@{MARCO}>" in text_of(m) for m in in_thread(slack, decision))

    await slack.click(ActionId.SNOOZE, str(decision.id), user=MARCO)
    [reminder] = await reminders(slack)
    assert timedelta(days=4) < reminder.due_at - datetime.now(UTC) < timedelta(days=10)
    assert (await slack.decision(decision.id)).next_review_at == reminder.due_at
    assert any("snoozed the review for a week" in text_of(m) for m in in_thread(slack, decision))

    await slack.command(f"status {decision.id}")
    status = text_of(slack.replies(FACILITATOR)[-1])
    assert f"Last reviewed* by <@{MARCO}>" in status and "Review cadence:* Quarterly" in status


async def test_rerun_starts_a_prefilled_decision_that_supersedes_the_old_one_once_decided(slack):
    await slack.command("start Billing assistant")
    old_id = (await slack.decision()).id
    await slack.answer(old_id, "problem_type", "behavior", user=PRIYA)
    await slack.answer(old_id, "knowledge_change", "stable", user=MARCO)
    await slack.pick_user(old_id, "evaluation", MARCO)
    await slack.command(f"log {old_id} {BEHAVIOR[0]}")
    await slack.decide(old_id)

    await slack.click(ActionId.RERUN, str(old_id), user=MARCO)
    new = await slack.decision()
    assert new.id != old_id and new.supersedes_id == old_id and new.status == "open"
    assert new.facilitator_id == MARCO and new.thread_ts
    async with slack.sessions() as session:
        answers = (await session.exec(select(Answer).where(Answer.decision_id == new.id))).all()
        owners = (
            await session.exec(select(OwnerAssignment).where(OwnerAssignment.decision_id == new.id))
        ).all()
        failures = (
            await session.exec(select(FailureExample).where(FailureExample.decision_id == new.id))
        ).all()
    assert {(a.question, a.user_id, a.value) for a in answers} == {
        ("problem_type", PRIYA, "behavior"),
        ("knowledge_change", MARCO, "stable"),
    }
    assert [(o.role, o.user_id) for o in owners] == [("evaluation", MARCO)]
    assert len(failures) == 1
    assert "Behavior* (1)" in text_of(await slack.message_of("problem_type", new.id))

    await slack.click(ActionId.RERUN, str(old_id), user=PRIYA)  # a second click: no second copy
    assert (await slack.decision()).id == new.id
    assert "already being re-run" in slack.replies(PRIYA)[-1]["text"]

    await slack.decide(new.id, user=MARCO)
    old = await slack.decision(old_id)
    assert old.status == "superseded" and old.next_review_at is None
    assert {r.status for r in await reminders(slack, old_id)} == {"cancelled"}
    assert [r.status for r in await reminders(slack, new.id)] == ["pending"]


# Revisit nudges --------------------------------------------------------------------------------


async def test_a_behavioral_gap_nudges_once_and_again_only_when_the_evidence_moves(slack):
    decision = await decided(slack)
    now = datetime.now(UTC) + timedelta(minutes=1)
    for i in range(19):
        await slack.command(f"log {BEHAVIOR[i % 5]} #{i}")
    assert (await sweeper(slack).sweep(now)).sent == []  # 19: not yet

    await slack.command("log quoted last year's prices")
    report = await sweeper(slack).sweep(now)
    assert len(report.sent) == 1 and "revisit nudge" in report.sent[0]
    nudges = [m for m in in_thread(slack, decision) if "Time to revisit" in text_of(m)]
    assert len(nudges) == 1
    text = text_of(nudges[0])
    assert "20 failures analysed since the decision: 19 behavior, 1 knowledge" in text
    assert "Re-run the diagnostic" in text
    assert (await slack.decision(decision.id)).nudge_evidence["analysed"] == 20

    await slack.command(f"log {BEHAVIOR[0]} again")
    assert (await sweeper(slack).sweep(now)).sent == []  # not enough new evidence
    for i in range(19):
        await slack.command(f"log {BEHAVIOR[i % 5]} round two {i}")
    report = await sweeper(slack).sweep(now)
    assert len(report.sent) == 1
    nudges = [m for m in in_thread(slack, decision) if "Time to revisit" in text_of(m)]
    assert len(nudges) == 2 and "At the last nudge it was 20 failures" in text_of(nudges[-1])
