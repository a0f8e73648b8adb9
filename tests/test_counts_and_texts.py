"""Counts and texts that add up: Q3's explained tally, and the wording defects a new team hit.
The real app through signed requests and the fake Slack, on SQLite and PostgreSQL."""

from __future__ import annotations

from tests.slack_app import text_of
from tests.test_routine_outcomes import KNOWLEDGE
from tests.test_routine_slack import BEHAVIOR

UNCLEAR = ["it was just bad somehow", "thumbs down, no details", "users complained"]


async def test_q3_counts_unclear_failures_toward_the_twenty_but_never_as_explained(slack):
    await slack.command("start Billing assistant")
    decision_id = (await slack.decision()).id
    for i in range(8):
        await slack.command(f"log {decision_id} {KNOWLEDGE[i % 4]} {i}")
        await slack.command(f"log {decision_id} {BEHAVIOR[i % 5]} {i}")
    for i, why in enumerate(UNCLEAR):
        await slack.command(f"log {decision_id} {why} {i}")
    q3 = text_of(await slack.message_of("failures"))
    assert "*Explained:* 16 (*Knowledge* 8 · *Behavior* 8)" in q3
    assert "*Unclear:* 3, counted toward the 20 analysed but not as explained" in q3
    assert "19 of 20 failures analysed. *4 more* to reach 20 explained failures." in q3

    await slack.command(f"log {decision_id} {KNOWLEDGE[0]} again")
    await slack.command(f"log {decision_id} {BEHAVIOR[0]} again")
    q3 = text_of(await slack.message_of("failures"))
    assert "Analysis complete: 21 failures analysed. *2 more* to reach 20 explained" in q3

    await slack.command(f"status {decision_id}")
    from tests.slack_app import FACILITATOR

    status = text_of(slack.replies(FACILITATOR)[-1])
    assert "*2 more* to reach 20 explained failures" in status


# Text defects ---------------------------------------------------------------------------------


async def test_the_log_confirmation_keeps_its_sentences_apart(slack):
    from tests.slack_app import FACILITATOR
    from tests.test_routine_slack import decided

    await decided(slack)
    await slack.command("log quoted last year's refund policy again")
    told = slack.replies(FACILITATOR)[-1]["text"]
    assert "again It counts" not in told
    assert "*Knowledge*: quoted last year's refund policy again\nIt counts in the next" in told


async def test_review_and_correct_says_who_categorised_in_plain_words(slack):
    from handlers.ui.ids import ActionId

    await slack.command("start Billing assistant")
    decision_id = (await slack.decision()).id
    await slack.command(f"log {decision_id} quoted last year's prices")
    await slack.click(ActionId.REVIEW_FAILURES, str(decision_id))
    view = slack.fake.calls_to("views.open")[-1].args["view"]
    shown = text_of({"blocks": view["blocks"]})
    assert "categorised by ragft's built-in rules" in shown
    assert "heuristic" not in shown


async def test_a_decided_decision_points_to_rerun_and_drops_talk_it_through(slack):
    from tests.slack_app import FACILITATOR
    from tests.test_routine_slack import MARCO, PRIYA

    await slack.command("start Billing assistant")
    decision_id = (await slack.decision()).id
    await slack.answer(decision_id, "problem_type", "knowledge", user=PRIYA)
    await slack.answer(decision_id, "problem_type", "behavior", user=MARCO)
    assert "Talk it through." in text_of(await slack.message_of("problem_type"))
    await slack.decide(decision_id)
    q1 = text_of(await slack.message_of("problem_type"))
    assert "Split: 1 says knowledge, 1 says behavior." in q1 and "Talk it through" not in q1

    await slack.answer(decision_id, "problem_type", "both", user=PRIYA)  # a stale button
    told = slack.replies(PRIYA)[-1]["text"]
    assert "*Re-run the diagnostic*" in told and "/ragft <title>" not in told
    decision = await slack.decision(decision_id)
    from tests.test_routine_slack import in_thread

    [note] = [m for m in in_thread(slack, decision) if "First review" in text_of(m)]
    assert "Re-run the diagnostic" in text_of(note)  # where the ephemeral points
    assert FACILITATOR


async def test_superseded_links_to_the_decision_that_replaced_it(slack):
    from handlers.ui.ids import ActionId
    from tests.test_routine_slack import decided, in_thread

    old = await decided(slack)
    await slack.click(ActionId.RERUN, str(old.id))
    new = await slack.decision()
    await slack.decide(new.id)
    [note] = [m for m in in_thread(slack, old) if "superseded by" in text_of(m)]
    assert f"|decision #{new.id}>" in note["text"] and "<https://" in note["text"]


async def test_a_direct_message_is_not_told_to_invite_the_bot(slack):
    from tests.slack_app import FACILITATOR

    slack.fake.set_channel("D0DIRECT01", is_private=True, is_member=False)
    await slack.command("start Billing assistant", channel="D0DIRECT01")
    told = slack.replies(FACILITATOR)[-1]["text"]
    assert "/invite @ragft" not in told.split("(for a private one")[0]
    assert "can't post in this direct message" in told and "in a channel" in told


# NUL and control characters ---------------------------------------------------------------------


async def _explanations(slack) -> list[str]:
    from sqlmodel import select

    from storage.models import FailureExample

    async with slack.sessions() as session:
        rows = (await session.exec(select(FailureExample).order_by(FailureExample.id))).all()
    return [row.explanation for row in rows]


async def test_a_nul_line_in_a_paste_loses_nothing_and_controls_are_stripped(slack):
    """On PostgreSQL a NUL byte rejected the whole input; every surface strips control
    characters (newline and tab stay) before anything is stored."""
    from handlers.ui.ids import CallbackId, InputId
    from tests.fakes import signing

    await slack.command("start Billing assistant")
    decision = await slack.decision()
    pasted = "\n".join(
        [
            "quoted last year's prices",
            "ignored the JSON\x00 format we asked for",
            "too verbose\x07 and rambling",
        ]
    )
    values = {
        InputId.PASTE: {InputId.PASTE: signing.text_value(pasted)},
        InputId.OUTPUT: {InputId.OUTPUT: signing.text_value("")},
        InputId.EXPLANATION: {InputId.EXPLANATION: signing.text_value("")},
    }
    response = await slack.submit(CallbackId.ADD_FAILURES, values, decision.id)
    assert response.status_code == 200 and response.text == ""
    assert await _explanations(slack) == [
        "quoted last year's prices",
        "ignored the JSON format we asked for",
        "too verbose and rambling",
    ]

    mention = signing.app_mention(
        text="<@U0BOT00001> fail: outdated\x00 refund policy\x1b", thread_ts=decision.thread_ts
    )
    await slack.event(mention, event_id="Ev0NUL0001")
    await slack.command(f"log {decision.id} wrong\x00 tone\x7f entirely")
    explanations = await _explanations(slack)
    assert explanations[3:] == ["outdated refund policy", "wrong tone entirely"]
    q3 = text_of(await slack.message_of("failures"))
    assert "5 of 20 failures analysed" in q3
