"""Counts and texts that add up: Q3's explained tally, and the wording defects a new team hit.
The real app through signed requests and the fake Slack, on SQLite and PostgreSQL."""

from __future__ import annotations

from tests.slack_app import text_of
from tests.test_routine_outcomes import KNOWLEDGE
from tests.test_routine_slack import BEHAVIOR

UNCLEAR = ["it was just bad somehow", "thumbs down, no details", "users complained"]


async def test_q3_counts_unclear_failures_toward_the_twenty_but_never_as_explained(slack):
    await slack.command("Billing assistant")
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
