"""The routine follows what the team chose: nudges fitted to the outcome, reviews that name
people and close cleanly. Real databases, the real app, the fake Slack; the sweep runs with an
explicit ``now``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import select

from handlers.ui.ids import ActionId, CallbackId, InputId
from storage.models import Reminder
from tests.fakes import signing
from tests.slack_app import CHANNEL, FACILITATOR, text_of
from tests.test_routine_slack import BEHAVIOR, MARCO, PRIYA, decided, in_thread, sweeper

KNOWLEDGE = [
    "quoted last year's prices, outdated",
    "didn't know about the new refund policy",
    "outdated shipping times",
    "the model didn't know our new plan names",
]


async def chose(slack, choice: str, **answers):
    """Decide, then record ``choice`` as the team's outcome with a reason."""
    decision = await decided(slack, **answers)
    values = {
        InputId.CHOICE: {InputId.CHOICE: signing.select_value(choice)},
        InputId.REASON: {InputId.REASON: signing.text_value("We own the training pipeline")},
    }
    await slack.submit(CallbackId.OVERRIDE, values, decision.id)
    decision = await slack.decision(decision.id)
    assert decision.final_choice == choice
    return decision


def nudges(slack, decision) -> list[str]:
    return [
        text_of(m)
        for m in in_thread(slack, decision)
        if "Time to revisit" in text_of(m) or "is ready to decide" in text_of(m)
    ]


async def log(slack, lines: list[str], n: int, tag: str = "") -> None:
    for i in range(n):
        await slack.command(f"log {lines[i % len(lines)]} {tag}{i}")


async def test_a_fine_tune_decision_never_hears_that_retrieval_may_not_close_the_gap(slack):
    decision = await chose(slack, "fine_tuning")
    now = datetime.now(UTC) + timedelta(minutes=1)
    await log(slack, BEHAVIOR, 25)  # behavior dominates: the RAG rule would fire here
    assert (await sweeper(slack).sweep(now)).sent == []
    assert nudges(slack, decision) == []

    await log(slack, KNOWLEDGE, 30, "k")  # knowledge failures rise since the decision
    report = await sweeper(slack).sweep(now)
    assert len(report.sent) == 1
    [nudge] = nudges(slack, decision)
    assert "retrieval may not close" not in nudge and "behavioral gap" not in nudge
    assert "knowledge failures rising" in nudge and "Revisit retrieval" in nudge
    assert "30 knowledge" in nudge and "Knowledge now outnumbers behavior" in nudge
    assert f"<@{FACILITATOR}>" in nudge


async def test_a_rag_decision_is_nudged_toward_fine_tuning_and_names_the_owners(slack):
    await slack.command("start Billing assistant")
    decision_id = (await slack.decision()).id
    await slack.pick_user(decision_id, "evaluation", PRIYA)
    await slack.decide(decision_id)
    decision = await slack.decision(decision_id)
    assert decision.verdict == "rag" and decision.final_choice is None
    now = datetime.now(UTC) + timedelta(minutes=1)
    await log(slack, KNOWLEDGE, 20)
    assert (await sweeper(slack).sweep(now)).sent == []  # knowledge: RAG is working as meant
    await log(slack, BEHAVIOR, 25, "b")
    assert len((await sweeper(slack).sweep(now)).sent) == 1
    [nudge] = nudges(slack, decision)
    assert "behavioral gap that retrieval may not close" in nudge
    assert "Revisit fine-tuning" in nudge
    assert f"<@{FACILITATOR}>" in nudge and f"<@{PRIYA}>" in nudge


async def test_a_hybrid_decision_names_each_signal(slack):
    decision = await chose(slack, "hybrid")
    now = datetime.now(UTC) + timedelta(minutes=1)
    await log(slack, KNOWLEDGE, 22)
    assert len((await sweeper(slack).sweep(now)).sent) == 1
    [nudge] = nudges(slack, decision)
    assert "*Knowledge signal:*" in nudge and "retrieval half" in nudge
    assert "*Behavior signal:*" not in nudge

    await log(slack, BEHAVIOR, 50, "b")
    assert len((await sweeper(slack).sweep(now)).sent) == 1
    second = nudges(slack, decision)[-1]
    assert "*Behavior signal:*" in second and "fine-tuned half" in second


async def test_not_ready_hears_once_twenty_failures_are_explained(slack):
    await slack.command("start Billing assistant")
    decision_id = (await slack.decision()).id
    for i in range(20):
        await slack.command(f"log {decision_id} it was just bad somehow {i}")
    await slack.decide(decision_id)
    decision = await slack.decision(decision_id)
    assert decision.status == "open" and decision.verdict is None  # not ready: nothing decided
    now = datetime.now(UTC) + timedelta(minutes=1)
    await log(slack, KNOWLEDGE, 10)
    await log(slack, BEHAVIOR, 9, "b")
    assert (await sweeper(slack).sweep(now)).sent == []  # 19 explained: not yet
    assert nudges(slack, decision) == []
    await slack.command(f"log {decision_id} {BEHAVIOR[0]} last")
    assert len((await sweeper(slack).sweep(now)).sent) == 1
    [nudge] = nudges(slack, decision)
    assert "You now have 20 explained failures" in nudge and "decide" in nudge
    assert "retrieval may not close" not in nudge
    await log(slack, BEHAVIOR, 20, "c")
    assert (await sweeper(slack).sweep(now)).sent == []  # said once


# Reviews --------------------------------------------------------------------------------------


async def review_posted(slack):
    await slack.command("start Billing assistant")
    decision_id = (await slack.decision()).id
    await slack.pick_user(decision_id, "training_data", PRIYA)
    await slack.decide(decision_id)
    decision = await slack.decision(decision_id)
    await slack.command(f"log {BEHAVIOR[0]}")
    async with slack.sessions() as session:
        [review] = (
            await session.exec(select(Reminder).where(Reminder.kind == "quarterly_review"))
        ).all()
    await sweeper(slack).sweep(review.due_at)
    [posted] = [m for m in in_thread(slack, decision) if "Quarterly review" in text_of(m)]
    return decision, posted


async def test_a_review_mentions_the_facilitator_and_the_owners(slack):
    _, posted = await review_posted(slack)
    assert f"<@{FACILITATOR}>" in posted["text"] or f"<@{FACILITATOR}>" in text_of(posted)
    assert f"<@{PRIYA}>" in text_of(posted)


async def test_reviewed_closes_the_review_and_a_stale_snooze_is_refused(slack):
    decision, posted = await review_posted(slack)
    on_review = {"message_ts": posted["ts"], "thread_ts": decision.thread_ts}
    await slack.click(ActionId.REVIEWED, str(decision.id), user=MARCO, **on_review)
    shown = slack.fake.message(CHANNEL, posted["ts"])
    text = text_of(shown)
    assert f"Reviewed by <@{MARCO}> on" in text
    assert not [b for b in shown["blocks"] if b["type"] == "actions"]
    assert "Snooze a week" not in text and "Failures logged this period: 1" in text
    fresh = await slack.decision(decision.id)
    async with slack.sessions() as session:
        [pending] = (
            await session.exec(
                select(Reminder).where(
                    Reminder.kind == "quarterly_review", Reminder.status == "pending"
                )
            )
        ).all()
    assert pending.due_at - fresh.last_reviewed_at > timedelta(days=85)

    snoozes = len(slack.fake.calls_to("chat.postMessage"))
    await slack.click(ActionId.SNOOZE, str(decision.id), user=PRIYA, **on_review)
    assert "already marked reviewed" in slack.replies(PRIYA)[-1]["text"]
    after = await slack.decision(decision.id)
    assert after.last_reviewed_by == MARCO and after.next_review_at == fresh.next_review_at
    assert len(slack.fake.calls_to("chat.postMessage")) == snoozes  # no "snoozed" note
    await slack.click(ActionId.REVIEWED, str(decision.id), user=PRIYA, **on_review)
    assert "already marked reviewed" in slack.replies(PRIYA)[-1]["text"]
    assert (await slack.decision(decision.id)).last_reviewed_by == MARCO


async def test_snoozing_an_unreviewed_review_still_works(slack):
    decision, posted = await review_posted(slack)
    on_review = {"message_ts": posted["ts"], "thread_ts": decision.thread_ts}
    await slack.click(ActionId.SNOOZE, str(decision.id), user=PRIYA, **on_review)
    assert any("snoozed the review for a week" in text_of(m) for m in in_thread(slack, decision))
    fresh = await slack.decision(decision.id)
    assert fresh.next_review_at - datetime.now(UTC) < timedelta(days=10)


async def test_a_review_warns_when_the_rule_disagrees_with_the_teams_choice(slack):
    decision = await chose(slack, "hybrid")
    async with slack.sessions() as session:
        [review] = (
            await session.exec(select(Reminder).where(Reminder.kind == "quarterly_review"))
        ).all()
    await sweeper(slack).sweep(review.due_at)
    [posted] = [text_of(m) for m in in_thread(slack, decision) if "Quarterly review" in text_of(m)]
    assert "*Hybrid (the rule said Start with RAG)*, decided" in posted
    assert "⚠️ *The rule now says:* Start with RAG, but the team chose Hybrid" in posted
    assert "rule still says" not in posted
