"""One decision from /ragft to verdict to export, with three teammates, on SQLite and PostgreSQL."""

from __future__ import annotations

from handlers.ui.ids import ActionId, CallbackId, InputId, pack
from tests.fakes import signing
from tests.slack_app import CHANNEL, text_of

PM, ML, SRE = "U0USER0001", "U0MLENG002", "U0SRE00003"

FAILURES = "\n".join(  # each with its own output: the same failure twice is logged once
    f"{why} | answer {i}"
    for i, why in enumerate(
        ["sounds like a legal brief"] * 9
        + ["ignores the instruction to answer in Spanish"] * 5
        + ["quoted last year's prices"] * 4
        + ["thumbs down, no details"] * 3
    )
)


async def test_whole_journey_to_a_hybrid_decision_and_its_record(slack):
    await slack.command("Contract assistant tone & format", user=PM)
    decision = await slack.decision()
    d = decision.id
    thread = slack.fake.messages(CHANNEL, thread_ts=decision.thread_ts)
    assert len(thread) == 5  # root + four questions

    # Q1: two say behavior, one says both; the facilitator settles on both.
    await slack.answer(d, "problem_type", "behavior", user=ML)
    await slack.answer(d, "problem_type", "behavior", user=SRE)
    await slack.answer(d, "problem_type", "both", user=PM)
    assert "Split: 2 say behavior, 1 says both." in text_of(await slack.message_of("problem_type"))
    await slack.select(ActionId.SETTLE, pack(d, "problem_type", "both"), suffix=("problem_type",))
    await slack.answer(d, "prompt_engineering_tried", "yes", user=ML)

    # Q2: the knowledge changes monthly.
    for user in (PM, ML, SRE):
        await slack.answer(d, "knowledge_change", "monthly", user=user)

    # Q3: 21 failures pasted, plus one logged with a mention in the thread.
    values = {InputId.PASTE: {InputId.PASTE: signing.text_value(FAILURES)}}
    await slack.submit(CallbackId.ADD_FAILURES, values, d, user=ML)
    mention = signing.app_mention(
        text="<@U0BOT00001> fail: way too verbose, a wall of text",
        thread_ts=decision.thread_ts,
        user_id=SRE,
    )
    await slack.event(mention, event_id="Ev0JOURNEY")
    q3 = text_of(await slack.message_of("failures"))
    assert "(*Knowledge* 4 · *Behavior* 15)" in q3 and "*Unclear:* 3," in q3
    assert "Analysis complete: 22 failures analysed. *1 more* to reach 20 explained" in q3

    # Q4: owners and labeled examples.
    await slack.pick_user(d, "training_data", ML)
    await slack.pick_user(d, "evaluation", ML)
    await slack.pick_user(d, "deployment_rollback", SRE, user=SRE)
    count = {InputId.COUNT: {InputId.COUNT: {"type": "number_input", "value": "4200"}}}
    await slack.submit(CallbackId.LABELED_EXAMPLES, count, d, user=ML)

    root = text_of(await slack.message_of("root"))
    assert root.count("✅ *") == 3  # all three conditions hold
    assert "If you decided now:* Hybrid: fine-tune for behavior, retrieve knowledge" in root

    # Someone else can't decide; the facilitator can.
    slack.fake.add_user(SRE)
    await slack.decide(d, user=SRE)
    assert "Only the facilitator" in slack.replies(SRE)[-1]["text"]
    await slack.decide(d, user=PM)
    verdict = text_of(await slack.message_of("verdict"))
    assert "*The rule's verdict:* Hybrid: fine-tune for behavior, retrieve knowledge" in verdict
    assert "· Hybrid $" in verdict and "Year one: RAG $" in verdict
    assert "Fine-tuning addresses at most 68% of the failures you logged" in verdict
    await slack.click(ActionId.ACCEPT, str(d), user=PM)

    slack.fake.add_user(ML, name="Mina")
    slack.fake.add_user(SRE, name="Sol")
    await slack.command(f"export {d}", user=PM)
    [upload] = slack.fake.uploads
    record = upload["content"]
    assert upload["thread_ts"] == decision.thread_ts
    assert upload["filename"] == f"{d:04d}-contract-assistant-tone-format.md"
    assert "\n# Contract assistant tone \\& format\n" in record
    assert 'decision-makers:\n  - "jdoe"\nconsulted:\n  - "Mina"\n  - "Sol"' in record
    assert "Behavior (Mina, Sol); Both (jdoe)" in record
    assert "Team answer: **Both** (settled by the facilitator)" in record
    assert "22 failures explained at the decision: 4 knowledge, 15 behavior, 3 unclear." in record
    assert "  - Deployment & rollback: Sol." in record
    assert "  - High-quality labeled examples: 4,200" in record
    assert "Chosen option: “Hybrid”, because" in record
    assert "The facilitator accepted the rule's verdict." in record
    assert "next review" in record
