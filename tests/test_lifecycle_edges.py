"""Edges of the lifecycle a reviewer found: deleting a decision or a failure that an error
analysis has read, deleting a decided re-run, a double-clicked Start, a stale Confirm, and
subcommand words opening a title. Signed requests into the real app, the fake Slack, SQLite and
PostgreSQL."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlmodel import func, select

from handlers.ui.ids import ActionId, action_id, pack
from storage.models import AnalysisReading, AnalysisReadingHistory, Decision, Reminder
from tests.fakes import signing
from tests.slack_app import FACILITATOR, text_of
from tests.test_error_analysis import (
    BEHAVIOR,
    KNOWLEDGE,
    batches,
    decided,
    failures,
    items,
    log_all,
    note,
    read,
    send_review,
)
from tests.test_error_analysis import start as start_analysis
from tests.test_lifecycle import _in_modal, _review_modal, add_failures, button_of, posted, press
from tests.test_slack_thread import PRIYA, start


async def _read_one(slack) -> tuple[Any, int]:
    """A decided decision whose error analysis has read (and noted) one failure."""
    decision = await decided(slack)
    await log_all(slack, [f"{k} #{i}" for i in range(3) for k in KNOWLEDGE] + BEHAVIOR)
    await start_analysis(slack, await send_review(slack, decision))
    batch = batches(slack, decision)[0]
    failure_id = items(batch)[0]
    await read(slack, batch, failure_id, (await failures(slack))[failure_id].category)
    await note(slack, batch, failure_id, "the prices page was stale")
    return decision, failure_id


async def _count(slack, table, *where) -> int:
    async with slack.sessions() as session:
        return (await session.exec(select(func.count()).select_from(table).where(*where))).one()


# Deleting what an error analysis read ------------------------------------------------------------


async def test_deleting_a_decision_an_analysis_read_erases_its_readings_too(slack):
    keep, _ = await _read_one(slack)  # the analysis of another decision stays
    decision = await start(slack, "Second decision")
    await slack.decide(decision)
    kept = await _count(slack, AnalysisReading)
    assert kept and await _count(slack, AnalysisReadingHistory)

    await slack.command(f"delete {keep.id}")
    await press(slack, slack.replies(FACILITATOR)[-1], ActionId.DELETE_CONFIRMED)
    assert "Deleted decision" in slack.replies(FACILITATOR)[-1]["text"]
    assert (await slack.decision(keep.id)) is None
    assert await _count(slack, AnalysisReading) == 0
    assert await _count(slack, AnalysisReadingHistory) == 0
    assert (await slack.decision(decision)).title == "Second decision"


async def test_deleting_a_failure_an_analysis_read_removes_its_reading(slack):
    decision, failure_id = await _read_one(slack)
    view, view_id = await _review_modal(slack, decision.id)
    block = next(
        b for b in view["blocks"] if b.get("block_id", "").startswith(f"failure|{failure_id}")
    )
    delete = {"text": {"type": "plain_text", "text": "Delete"}, "value": pack(failure_id, "delete")}
    kw = {"action_id": action_id(ActionId.CORRECT_FAILURE), "block_id": block["block_id"]}
    kw |= {"element_type": "static_select", "selected_option": delete}
    await slack.action(_in_modal(view, view_id, **kw))

    assert failure_id not in await failures(slack)
    assert await _count(slack, AnalysisReading, AnalysisReading.failure_id == failure_id) == 0
    history = AnalysisReadingHistory.failure_id == failure_id
    assert await _count(slack, AnalysisReadingHistory, history) == 0
    await slack.command(f"export {decision.id}")  # the record still renders without it
    assert slack.fake.uploads


# Deleting a decided re-run -----------------------------------------------------------------------


async def test_deleting_a_decided_rerun_puts_the_decision_it_superseded_back(slack):
    old = await start(slack)
    await slack.decide(old)
    await slack.click(ActionId.RERUN, str(old))
    new = (await slack.decision()).id
    await slack.decide(new)
    assert (await slack.decision(old)).status == "superseded"

    await slack.command(f"delete {new}")
    asked = text_of(slack.replies(FACILITATOR)[-1])
    assert f"It re-ran #{old}" in asked and "decided again, and its reviews resume" in asked
    await press(slack, slack.replies(FACILITATOR)[-1], ActionId.DELETE_CONFIRMED)
    said = slack.replies(FACILITATOR)[-1]["text"]
    assert f"superseded decision #{old}" in said and "decided again" in said
    assert "next review is on" in said
    restored = await slack.decision(old)
    assert restored.status == "decided" and restored.next_review_at is not None
    pending = (Reminder.decision_id == old, Reminder.status == "pending")
    assert await _count(slack, Reminder, *pending, Reminder.kind == "quarterly_review") == 1
    await slack.command(f"withdraw {old}")  # it is live again
    assert "can't" not in text_of(slack.replies(FACILITATOR)[-1])


async def test_deleting_an_open_rerun_leaves_its_predecessor_as_it_was(slack):
    old = await start(slack)
    await slack.decide(old)
    before = (await slack.decision(old)).next_review_at
    await slack.click(ActionId.RERUN, str(old))
    new = (await slack.decision()).id
    await slack.command(f"delete {new}")
    assert "re-ran" not in text_of(slack.replies(FACILITATOR)[-1])
    await press(slack, slack.replies(FACILITATOR)[-1], ActionId.DELETE_CONFIRMED)
    assert "decided again" not in slack.replies(FACILITATOR)[-1]["text"]
    kept = await slack.decision(old)
    assert kept.status == "decided" and kept.next_review_at == before


# A subcommand word opening a title ---------------------------------------------------------------


async def test_a_capitalised_subcommand_word_opening_a_title_is_previewed_not_acted_on(slack):
    decision_id = await start(slack)
    before = len(posted(slack))
    await slack.command("Rename tool for invoices")
    assert (await slack.decision(decision_id)).title == "Support assistant for billing questions"
    preview = slack.replies(FACILITATOR)[-1]
    assert preview["response_type"] == "ephemeral"
    assert "Did you mean `/ragft rename tool for invoices`?" in text_of(preview)

    await slack.command("Log triage assistant for on-call")
    assert "Did you mean `/ragft log triage assistant for on-call`?" in text_of(
        slack.replies(FACILITATOR)[-1]
    )
    assert not [f for f in (await failures(slack)).values() if "triage" in f.explanation]
    assert len(posted(slack)) == before  # nothing public

    await press(slack, preview, ActionId.START_CONFIRMED)  # it was a title after all
    assert (await slack.decision()).title == "Rename tool for invoices"
    await slack.command(f"rename {decision_id} Billing v2")  # lower case still acts
    assert (await slack.decision(decision_id)).title == "Billing v2"


# A double click on Start -------------------------------------------------------------------------


async def test_start_pressed_twice_at_once_starts_one_decision(slack):
    await slack.command("Chatbot")
    preview = slack.replies(FACILITATOR)[-1]
    found = button_of(preview, ActionId.START_CONFIRMED)
    presses = [
        signing.block_action(
            action_id=found["action_id"], value=found["value"], user_id=FACILITATOR
        )
        for _ in range(2)
    ]
    await asyncio.gather(*(slack.action(p, settle=False) for p in presses))
    await slack.idle()
    roots = [p for p in posted(slack) if not p.get("thread_ts")]
    assert len(roots) == 1 and "Chatbot" in text_of(roots[0])
    async with slack.sessions() as session:
        assert (await session.exec(select(func.count()).select_from(Decision))).one() == 1
    said = [r.get("text") or "" for r in slack.replies(FACILITATOR)]
    refused = [r for r in slack.replies(FACILITATOR) if "already started" in (r.get("text") or "")]
    assert len(refused) == 1 and refused[0]["response_type"] == "ephemeral", said

    await press(slack, preview, ActionId.START_CONFIRMED)  # later, again: still one
    assert len([p for p in posted(slack) if not p.get("thread_ts")]) == 1
    assert "already started" in slack.replies(FACILITATOR)[-1]["text"]
    await slack.command("Chatbot")  # a new preview starts a new one
    await press(slack, slack.replies(FACILITATOR)[-1], ActionId.START_CONFIRMED)
    assert len([p for p in posted(slack) if not p.get("thread_ts")]) == 2


# A stale Confirm ---------------------------------------------------------------------------------


async def test_confirm_on_a_confirmation_that_no_longer_holds_shows_a_fresh_one(slack):
    decision_id = await start(slack)
    await slack.click(ActionId.DECIDE, str(decision_id))
    shown = slack.replies(FACILITATOR)[-1]
    assert "The rule gives" in text_of(shown)
    await add_failures(slack, decision_id, "didn't know the refund policy")
    await slack.answer(decision_id, "problem_type", "behavior", user=PRIYA)

    await press(slack, shown, ActionId.CONFIRM_DECIDE)
    assert (await slack.decision(decision_id)).status == "open"  # nothing decided
    fresh = slack.replies(FACILITATOR)[-1]
    assert fresh["response_type"] == "ephemeral" and "Not decided" in text_of(fresh)
    assert "changed since that confirmation" in text_of(fresh)
    assert not [p for p in posted(slack) if "Verdict" in (p.get("text") or "")]

    await press(slack, fresh, ActionId.CONFIRM_DECIDE)  # what it shows holds: it decides
    assert slack.replies(FACILITATOR)[-1]["text"] == f"Decided #{decision_id}."
    assert (await slack.decision(decision_id)).status == "decided"


async def test_confirm_decides_when_nothing_changed_and_refuses_a_forged_fingerprint(slack):
    decision_id = await start(slack)
    await slack.click(ActionId.CONFIRM_DECIDE, f"{decision_id}|not-a-fingerprint")
    assert "button" in slack.replies(FACILITATOR)[-1]["text"].lower()
    assert (await slack.decision(decision_id)).status == "open"
    await slack.click(ActionId.DECIDE, str(decision_id))
    await press(slack, slack.replies(FACILITATOR)[-1], ActionId.CONFIRM_DECIDE)
    assert (await slack.decision(decision_id)).status == "decided"
