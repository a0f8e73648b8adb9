"""The quarterly error analysis, as the team does it in Slack: *Start error analysis* on a review,
reading failures 10 at a time, confirming or changing categories, notes, saturation, several
readers at once, and what it feeds (the review's conditions, the nudges, the export). Real
databases, the real app, the fake Slack Web API."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from sqlmodel import select

from handlers.ui.ids import ActionId, CallbackId, InputId, pack
from storage.models import AnalysisReading, AnalysisReadingHistory, Decision, FailureExample
from tests.fakes import signing
from tests.slack_app import FACILITATOR, text_of
from tests.test_routine_slack import BEHAVIOR, MARCO, PRIYA, decided, in_thread, reminders, sweeper

KNOWLEDGE = [
    "quoted last year's prices",
    "cited the old refund policy",
    "did not know the new pricing",
    "answered with outdated docs",
]


async def log_all(slack, whys: list[str]) -> None:
    """Log each explanation; a repeated one gets a case number, since ragft skips duplicates."""
    seen: dict[str, int] = {}
    for why in whys:
        seen[why] = seen.get(why, 0) + 1
        await slack.command(f"log {why}" + (f" (case {seen[why]})" if seen[why] > 1 else ""))


async def failures(slack) -> dict[int, FailureExample]:
    async with slack.sessions() as session:
        return {f.id: f for f in (await session.exec(select(FailureExample))).all()}


async def send_review(slack, decision: Decision) -> dict[str, Any]:
    [due] = [
        r
        for r in await reminders(slack, decision.id)
        if r.kind == "quarterly_review" and r.status == "pending"
    ]
    await sweeper(slack).sweep(due.due_at)
    return [m for m in in_thread(slack, decision) if "Quarterly review" in text_of(m)][-1]


def elements(message: dict[str, Any], action: ActionId) -> list[dict[str, Any]]:
    return [
        e
        for block in message.get("blocks", [])
        for e in block.get("elements", [])
        if isinstance(e, dict) and str(e.get("action_id", "")).split("|")[0] == action
    ]


def batches(slack, decision: Decision) -> list[dict[str, Any]]:
    return [m for m in in_thread(slack, decision) if "Error analysis, batch" in text_of(m)]


def items(batch: dict[str, Any]) -> list[int]:
    """The failure ids of a batch message, in order."""
    return [
        int(b["block_id"].split("|")[2])
        for b in batch["blocks"]
        if b.get("block_id", "").startswith("analysis|") and not b["block_id"].endswith("|next")
    ]


def analysis_id(batch: dict[str, Any]) -> int:
    return int(elements(batch, ActionId.ANALYSIS_CATEGORY)[0]["value"].split("|")[0])


async def start(slack, review: dict[str, Any], *, user: str = MARCO, **kw) -> None:
    [button] = elements(review, ActionId.START_ANALYSIS)
    await slack.click(ActionId.START_ANALYSIS, button["value"], user=user, **kw)


async def read(slack, batch, failure_id: int, category: str, *, user=MARCO, settle=True, **kw):
    value = pack(analysis_id(batch), failure_id, category)
    return await slack.click(
        ActionId.ANALYSIS_CATEGORY,
        value,
        user=user,
        suffix=(category,),
        message_ts=batch["ts"],
        settle=settle,
        **kw,
    )


async def note(slack, batch, failure_id: int, text: str, *, user: str = MARCO) -> None:
    await slack.click(ActionId.ANALYSIS_NOTE, pack(analysis_id(batch), failure_id), user=user)
    view = slack.fake.calls_to("views.open")[-1].args["view"]
    assert view["callback_id"] == CallbackId.ANALYSIS_NOTE
    submit = signing.view_submission(
        callback_id=CallbackId.ANALYSIS_NOTE,
        values={InputId.NOTE: {InputId.NOTE: signing.text_value(text)}},
        private_metadata=view["private_metadata"],
        user_id=user,
        blocks=view["blocks"],
    )
    await slack.post(signing.interactive(submit))


async def next_batch(slack, batch, *, user: str = MARCO) -> None:
    [button] = elements(batch, ActionId.ANALYSIS_NEXT)
    await slack.click(ActionId.ANALYSIS_NEXT, button["value"], user=user)


async def read_all(slack, decision, batch_no: int, choose, notes=None) -> dict[str, Any]:
    """Read every failure of a batch: ``choose(failure)`` gives the category, ``notes`` maps a
    position in the batch to (note, category). Returns the batch message as it ends up."""
    batch = batches(slack, decision)[batch_no]
    found = await failures(slack)
    for n, fid in enumerate(items(batch)):
        text, category = (notes or {}).get(n, (None, choose(found[fid])))
        await read(slack, batch, fid, category)
        if text:
            await note(slack, batch, fid, text)
    return batches(slack, decision)[batch_no]


# Starting it ------------------------------------------------------------------------------------


async def test_start_reads_a_random_sample_with_the_machine_categorised_failures_first(slack):
    decision = await decided(slack)
    await log_all(slack, [f"{BEHAVIOR[i % 5]} #{i}" for i in range(7)] + KNOWLEDGE * 2)
    found = await failures(slack)
    human = sorted(found)[-3:]
    for fid in human:  # a person already categorised these, with Review & correct
        await slack.action(
            signing.block_action(
                action_id=ActionId.CORRECT_FAILURE,
                element_type="static_select",
                value=pack(fid, "behavior"),
                view={
                    "id": "V0REVIEW001",
                    "type": "modal",
                    "callback_id": CallbackId.REVIEW_FAILURES,
                    "private_metadata": json.dumps({"decision_id": decision.id}),
                    "state": {"values": {}},
                },
            )
        )
    review = await send_review(slack, decision)
    assert "Start error analysis" in text_of(review)

    await start(slack, review)
    thread = [text_of(m) for m in in_thread(slack, decision)]
    [intro] = [t for t in thread if "started the *error analysis*" in t]
    assert f"<@{MARCO}>" in intro and "15 failures" in intro
    [first] = batches(slack, decision)
    assert "batch 1 of 2" in text_of(first) and "failures 1–10 of 15" in text_of(first)
    assert len(items(first)) == 10 and not set(items(first)) & set(human)
    shown = text_of(first)
    assert found[items(first)[0]].explanation in shown
    assert "the built-in rules' call" in shown and "Confirm it or change it" in shown
    assert not elements(first, ActionId.ANALYSIS_NEXT)  # not until the batch is read

    await start(slack, review, user=PRIYA)  # a second click: the same analysis, no new batch
    assert "already under way" in slack.ephemerals(PRIYA)[-1]["text"]
    assert len(batches(slack, decision)) == 1

    first = await read_all(slack, decision, 0, lambda f: f.category)
    assert "Next 10" in text_of(first)
    await next_batch(slack, first)
    second = batches(slack, decision)[1]
    assert "batch 2 of 2" in text_of(second) and "failures 11–15 of 15" in text_of(second)
    rest = items(second)
    assert not set(rest[:2]) & set(human) and set(rest[2:]) == set(human)
    assert "set by a person" in text_of(second)


async def test_a_period_without_failures_has_nothing_to_read(slack):
    decision = await decided(slack)
    review = await send_review(slack, decision)
    await start(slack, review)
    assert "No failures were logged in this review's period" in slack.replies(MARCO)[-1]["text"]
    assert batches(slack, decision) == []


# Reading -----------------------------------------------------------------------------------------


async def test_confirming_changing_and_notes_then_saturation_and_the_export(slack):
    decision = await decided(slack)
    await log_all(
        slack, [f"{k} #{i}" for i in range(3) for k in KNOWLEDGE] + BEHAVIOR + BEHAVIOR[:3]
    )
    review = await send_review(slack, decision)
    await start(slack, review)
    batch = batches(slack, decision)[0]
    first, second = items(batch)[:2]
    before = await failures(slack)
    other = "behavior" if before[second].category == "knowledge" else "knowledge"

    await read(slack, batch, first, before[first].category)  # confirm
    await read(slack, batch, second, other, user=PRIYA)  # change
    await note(slack, batch, second, "Quotes outdated <!channel> prices", user=PRIYA)
    after = await failures(slack)
    assert after[first].category == before[first].category
    assert after[second].category == other
    assert (after[first].category_source, after[first].corrected_by) == ("human", MARCO)
    assert (after[second].category_source, after[second].corrected_by) == ("human", PRIYA)
    shown = text_of(batches(slack, decision)[0])
    assert f"✅ *{other.capitalize()}*, set by <@{PRIYA}>" in shown
    assert "📝 _Quotes outdated &lt;!channel&gt; prices_" in shown
    assert "2 of 10 read" in shown

    await slack.click(ActionId.ANALYSIS_NEXT, pack(analysis_id(batch), 0), user=MARCO)
    assert "8 of this batch's failures still need a category" in slack.replies(MARCO)[-1]["text"]

    notes_one = {
        2: ("quoted an outdated price", "knowledge"),
        3: ("ignores the JSON format", "behavior"),
        4: ("answer too long", "behavior"),
    }
    batch = await read_all(slack, decision, 0, lambda f: f.category, notes_one)
    await next_batch(slack, batch)
    [summary] = [m for m in in_thread(slack, decision) if "closed batch 1" in text_of(m)]
    said = text_of(summary)
    assert "It added *3 new failure modes*" in said and "probably read enough" not in said
    assert "1. Quotes outdated &lt;!channel&gt; prices: 2 failures" in said
    assert "Top failure modes" in said
    assert "Batch 1 is closed" in text_of(batches(slack, decision)[0])

    notes_two = {
        0: ("quotes outdated prices", "knowledge"),
        1: ("Ignored json format", "behavior"),
        2: ("answers are too long", "unclear"),
    }
    batch = await read_all(slack, decision, 1, lambda f: f.category, notes_two)
    assert "Finish the analysis" in text_of(batch)
    await next_batch(slack, batch, user=PRIYA)
    [summary] = [m for m in in_thread(slack, decision) if "closed batch 2" in text_of(m)]
    said = text_of(summary)
    assert "It added *0 new failure modes*" in said
    assert "the team has *probably read enough*" in said
    assert "That was the last batch: all 20 failures of the period are read" in said
    assert "1. Quotes outdated &lt;!channel&gt; prices: 3 failures, *Knowledge*" in said
    assert "ignores the JSON format: 2 failures, *Behavior*" in said
    assert "answer too long: 2 failures, *Behavior*" in said  # one unclear: behavior still leads

    await next_batch(slack, batch)  # a second click on Finish: already closed
    assert "already closed" in slack.replies(MARCO)[-1]["text"]

    await slack.command(f"export {decision.id}")
    record = slack.fake.uploads[-1]["data"].decode()
    outdated = "Quotes outdated \\<\\!channel\\> prices"
    assert f"- Failure mode “{outdated}”: 3 failures, knowledge." in record
    assert "- Failure mode “ignores the JSON format”: 2 failures, behavior." in record


async def test_changed_categories_feed_the_review_conditions_and_the_nudge(slack):
    decision = await decided(slack)
    await log_all(
        slack, [f"{k} #{i}" for i in range(3) for k in KNOWLEDGE] + BEHAVIOR + BEHAVIOR[:3]
    )
    review = await send_review(slack, decision)
    assert "8 behavior vs 12 knowledge failures" in text_of(review)
    assert not [m for m in in_thread(slack, decision) if "Time to revisit" in text_of(m)]

    await start(slack, review)
    changed = []

    def choose(failure: FailureExample) -> str:
        if failure.category == "knowledge" and len(changed) < 5:
            changed.append(failure.id)
            return "behavior"
        return failure.category

    await next_batch(slack, await read_all(slack, decision, 0, choose))
    await read_all(slack, decision, 1, choose)
    assert len(changed) == 5

    await slack.command(f"status {decision.id}")
    status = text_of(slack.replies(FACILITATOR)[-1])
    assert "*Since the decision:* 20 more failures logged" in status
    assert "(knowledge 7 · behavior 13 · unclear 0)" in status
    [following] = [
        r
        for r in await reminders(slack, decision.id)
        if r.kind == "quarterly_review" and r.status == "pending"
    ]
    report = await sweeper(slack).sweep(following.due_at)
    assert any("revisit nudge" in line for line in report.sent)
    [nudge] = [m for m in in_thread(slack, decision) if "Time to revisit" in text_of(m)]
    assert "20 failures analysed since the decision: 13 behavior, 7 knowledge" in text_of(nudge)
    reviews = [m for m in in_thread(slack, decision) if "Quarterly review" in text_of(m)]
    assert "13 behavior vs 7 knowledge failures" in text_of(reviews[-1])
    assert "✅ *Behavioral failures proven*" in text_of(reviews[-1])


# Several readers ----------------------------------------------------------------------------------


async def test_two_readers_at_once_record_each_failure_once_and_keep_who_changed_it(slack):
    decision = await decided(slack)
    await log_all(slack, [f"{k} #{i}" for i in range(2) for k in KNOWLEDGE] + BEHAVIOR)
    review = await send_review(slack, decision)
    await start(slack, review)
    batch = batches(slack, decision)[0]
    ids = items(batch)
    contested = ids[0]

    clicks = [
        read(slack, batch, contested, "behavior", user=MARCO, settle=False),
        read(slack, batch, contested, "knowledge", user=PRIYA, settle=False),
        read(slack, batch, contested, "unclear", user=FACILITATOR, settle=False),
    ]
    clicks += [
        read(slack, batch, fid, "behavior", user=(MARCO, PRIYA)[n % 2], settle=False)
        for n, fid in enumerate(ids[1:])
    ]
    await asyncio.gather(*clicks)
    await slack.idle()

    async with slack.sessions() as session:
        readings = (await session.exec(select(AnalysisReading))).all()
        history = (await session.exec(select(AnalysisReadingHistory))).all()
    assert sorted(r.failure_id for r in readings) == sorted(ids)
    [reading] = [r for r in readings if r.failure_id == contested]
    failure = (await failures(slack))[contested]
    assert (failure.category, failure.corrected_by) == (reading.category, reading.read_by)
    assert failure.category_source == "human"
    kept = [h for h in history if h.failure_id == contested]
    assert {(h.read_by, h.category) for h in kept} == {
        (MARCO, "behavior"),
        (PRIYA, "knowledge"),
        (FACILITATOR, "unclear"),
    }
    last = max(kept, key=lambda h: h.id)
    assert (last.read_by, last.category) == (reading.read_by, reading.category)
    assert len(history) == len(ids) + 2
    # The message shows the stored state: every failure read, the last reader's choice.
    shown = batches(slack, decision)[0]
    assert "10 of 10 read" not in text_of(shown) and "Next 10" in text_of(shown)
    assert f"set by <@{reading.read_by}>" in text_of(shown)


# Guards --------------------------------------------------------------------------------


async def test_stale_and_foreign_clicks_are_refused(slack):
    decision = await decided(slack)
    await log_all(slack, KNOWLEDGE)
    review = await send_review(slack, decision)
    await start(slack, review)
    batch = batches(slack, decision)[0]
    fid = items(batch)[0]
    before = await failures(slack)

    await read(slack, batch, fid, "behavior", channel_id="C0OTHER001")
    assert f"There's no decision #{decision.id} in this channel" in slack.replies(MARCO)[-1]["text"]
    await read(slack, batch, fid, "behavior", team_id="T0OTHER001")
    assert "isn't in this workspace" in slack.replies(MARCO)[-1]["text"]
    await read(slack, batch, fid + 100, "behavior")
    assert "isn't in this error analysis" in slack.replies(MARCO)[-1]["text"]
    await read(slack, batch, fid, "sideways")
    assert "isn't a failure category" in slack.replies(MARCO)[-1]["text"]
    await slack.click(ActionId.ANALYSIS_CATEGORY, "not|a-number|behavior", user=MARCO)
    assert "That button is out of date" in slack.replies(MARCO)[-1]["text"]
    await slack.click(ActionId.START_ANALYSIS, pack(decision.id, "2020-01-01T00:00:00+00:00"))
    assert "That review is out of date" in slack.replies(FACILITATOR)[-1]["text"]
    await slack.click(ActionId.START_ANALYSIS, pack(decision.id, "yesterday"))
    assert "That button is out of date" in slack.replies(FACILITATOR)[-1]["text"]

    assert await failures(slack) == before
    async with slack.sessions() as session:
        assert (await session.exec(select(AnalysisReading))).all() == []


async def test_two_clicks_on_start_at_once_open_one_analysis(slack):
    decision = await decided(slack)
    await log_all(slack, KNOWLEDGE)
    review = await send_review(slack, decision)
    await asyncio.gather(
        start(slack, review, user=MARCO, settle=False),
        start(slack, review, user=PRIYA, settle=False),
    )
    await slack.idle()
    assert len(batches(slack, decision)) == 1
    started = [
        m for m in in_thread(slack, decision) if "started the *error analysis*" in text_of(m)
    ]
    assert len(started) == 1
    told = slack.ephemerals(MARCO) + slack.ephemerals(PRIYA)
    assert len([t for t in told if "already under way" in t["text"]]) == 1
