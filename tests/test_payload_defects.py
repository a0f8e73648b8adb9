"""Signed payloads the bot must not trust: malformed ones, a cadence taken from a select, and a
decision id that names another channel's decision. Each test describes the fixed behaviour and
fails on the code it was written against (see the comment above each test)."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, update
from sqlmodel import select

from bot.reminders.sweeper import Sweeper
from handlers.reminder_delivery import build_deliverer, sweep_runtime
from handlers.ui.ids import ActionId, CallbackId, InputId, action_id, pack
from storage.models import Answer, Decision, FailureExample, Reminder, utcnow
from tests.fakes import signing
from tests.slack_app import CHANNEL, FACILITATOR

MARCO = "U0MARCO002"
PRIVATE = "C0PRIVATE1"
SECRET = "Secret payroll bot"


def make_sweeper(slack):
    """A sweeper that delivers through the real Slack deliverers."""
    return Sweeper(slack.sessions, build_deliverer(sweep_runtime(slack.settings, slack.sessions)))


# Helpers ---------------------------------------------------------------------------------------


async def start(slack, title: str, *, user: str = FACILITATOR, channel: str = CHANNEL) -> int:
    response = await slack.command(f"start {title}", user=user, channel=channel)
    assert response.status_code == 200
    decision = await slack.decision()
    assert decision.title == title and decision.channel_id == channel
    return decision.id


async def decide(slack, decision_id: int, *, user: str = FACILITATOR, channel: str = CHANNEL):
    await slack.decide(decision_id, user=user, channel_id=channel)
    assert (await slack.decision(decision_id)).status == "decided"


async def counts(slack) -> dict[str, int]:
    async with slack.sessions() as session:
        return {
            model.__name__: (await session.exec(select(func.count()).select_from(model))).one()
            for model in (Answer, FailureExample, Decision, Reminder)
        }


async def snapshot(slack, decision_id: int) -> dict[str, Any]:
    """Everything stored about one decision."""
    async with slack.sessions() as session:

        async def rows(model) -> list[dict]:
            query = select(model).where(model.decision_id == decision_id).order_by(model.id)
            return [r.model_dump() for r in (await session.exec(query)).all()]

        decision = (await session.exec(select(Decision).where(Decision.id == decision_id))).one()
        return {
            "decision": decision.model_dump(),
            "answers": await rows(Answer),
            "failures": await rows(FailureExample),
            "reminders": await rows(Reminder),
        }


def told(slack, user: str, since: int = 0) -> list[str]:
    """Texts the user was shown after call ``since``: response_url, ephemeral, or a DM."""
    texts = []
    for call in slack.fake.calls[since:]:
        to_user = call.method == "response_url" and user in call.path
        to_user |= call.method == "chat.postEphemeral" and call.args.get("user") == user
        to_user |= call.method == "chat.postMessage" and call.args.get("channel") == user
        if to_user:
            texts.append(json.dumps(call.args, ensure_ascii=False))
    return texts


def tracebacks(caplog) -> list[str]:
    return [f"{r.getMessage()}: {r.exc_info[1]!r}" for r in caplog.records if r.exc_info]


def inputs(*ids: str) -> list[dict[str, Any]]:
    """The view's input blocks (a response_action=errors may only name these)."""
    label = {"type": "plain_text", "text": "x"}
    return [
        {"type": "input", "block_id": i, "label": label, "element": {"action_id": i}} for i in ids
    ]


def entry(input_id: str, value: dict[str, Any]) -> dict[str, Any]:
    return {input_id: {input_id: value}}


async def submit(slack, callback_id: str, values, meta: dict, blocks, *, user: str = MARCO):
    payload = signing.view_submission(
        callback_id=callback_id,
        values=values,
        private_metadata=json.dumps(meta),
        blocks=blocks,
        user_id=user,
    )
    return await slack.post(signing.interactive(payload))


# Defect 1: signed but malformed payloads break listeners ---------------------------------------

BAD_ACTIONS = [
    pytest.param("answer|zzz", "notanumber|x|y", "button", id="unknown-answer-suffix"),
    pytest.param(
        action_id(ActionId.ANSWER, "problem_type", "knowledge"),
        "{id}|problem_type",
        "button",
        id="answer-too-few-parts",
    ),
    pytest.param(action_id(ActionId.DECIDE), "abc", "button", id="decide-non-numeric-id"),
    pytest.param(action_id(ActionId.REVIEWED), "12abc", "button", id="reviewed-non-numeric"),
    pytest.param(action_id(ActionId.CADENCE), "{id}", "static_select", id="cadence-one-part"),
    pytest.param(action_id(ActionId.CADENCE), "x|30", "static_select", id="cadence-bad-id"),
]


# Defect 1 (malformed block_actions): today a listener raises (IndexError/ValueError) and the
# error handler logs a traceback and tells the user "something went wrong".
@pytest.mark.parametrize(("action", "value", "element"), BAD_ACTIONS)
async def test_a_malformed_block_action_is_answered_as_out_of_date(
    slack, caplog, action, value, element
):
    decision_id = await start(slack, "Billing assistant")
    before = await counts(slack)
    since = len(slack.fake.calls)
    payload = signing.block_action(
        action_id=action,
        value=value.format(id=decision_id),
        element_type=element,
        user_id=MARCO,
    )
    response = await slack.action(payload)

    assert response.status_code == 200
    assert tracebacks(caplog) == []
    assert await counts(slack) == before
    shown = told(slack, MARCO, since)
    assert any("out of date" in text for text in shown), shown


# Slack never sends a block action without an action: Bolt can't route one (it reads
# actions[0] for every listener), so the boundary refuses it before Bolt, and nothing happens.
async def test_a_block_action_without_actions_is_refused_before_bolt(slack, caplog):
    decision_id = await start(slack, "Billing assistant")
    before = await counts(slack)
    since = len(slack.fake.calls)
    payload = signing.block_action(
        action_id=action_id(ActionId.ANSWER, "problem_type", "knowledge"),
        value=pack(decision_id, "problem_type", "knowledge"),
        user_id=MARCO,
    )
    payload["actions"] = []
    response = await slack.action(payload)

    assert response.status_code == 400
    assert tracebacks(caplog) == []
    assert await counts(slack) == before
    assert slack.fake.calls[since:] == []


MODAL_CASES = [
    *(
        pytest.param(callback, None, inputs(*ids), None, id=f"{callback}-values-null")
        for callback, ids in (
            (CallbackId.ADD_FAILURES, (InputId.PASTE, InputId.OUTPUT, InputId.EXPLANATION)),
            (CallbackId.LABELED_EXAMPLES, (InputId.COUNT,)),
            (CallbackId.OVERRIDE, (InputId.CHOICE, InputId.REASON)),
            (CallbackId.LOG_FAILURE, (InputId.DECISION, InputId.OUTPUT, InputId.EXPLANATION)),
        )
    ),
    pytest.param(
        CallbackId.OVERRIDE,
        entry(InputId.CHOICE, signing.select_value("hybrid")),
        inputs(InputId.CHOICE),
        None,
        id="override-without-reason",
    ),
    pytest.param(
        CallbackId.OVERRIDE,
        entry(InputId.REASON, signing.text_value("legal asked for it")),
        inputs(InputId.REASON),
        None,
        id="override-without-choice",
    ),
    pytest.param(
        CallbackId.LOG_FAILURE,
        {
            **entry(InputId.OUTPUT, signing.text_value("Refunds take 60 days.")),
            **entry(InputId.EXPLANATION, signing.text_value("quoted last year's policy")),
        },
        inputs(InputId.OUTPUT, InputId.EXPLANATION),
        None,
        id="log-failure-without-decision",
    ),
    pytest.param(
        CallbackId.LABELED_EXAMPLES,
        entry(InputId.COUNT, {"type": "number_input", "value": "²"}),
        inputs(InputId.COUNT),
        InputId.COUNT,
        id="labeled-examples-superscript-two",
    ),
]


# Defect 1 (malformed view_submission): today the listener raises before or after its ack
# (AttributeError on null values, KeyError on a missing block, ValueError from int("²")), or it
# names a block the view doesn't have in response_action=errors, which Slack rejects.
@pytest.mark.parametrize(("callback", "values", "blocks", "error_on"), MODAL_CASES)
async def test_a_malformed_modal_submission_is_refused_cleanly(
    slack, caplog, callback, values, blocks, error_on
):
    decision_id = await start(slack, "Billing assistant", user=MARCO)
    if callback == CallbackId.OVERRIDE:
        await decide(slack, decision_id, user=MARCO)
    before = await counts(slack)
    since = len(slack.fake.calls)
    meta = {"decision_id": decision_id, "channel_id": CHANNEL, "permalink": None}
    response = await submit(slack, callback, values, meta, blocks)

    assert response.status_code == 200
    assert tracebacks(caplog) == []
    assert await counts(slack) == before
    body = json.loads(response.text) if response.text else {}
    if error_on is not None:
        assert body.get("response_action") == "errors" and error_on in body["errors"], body
    if body.get("response_action") == "errors":
        shown_on = {block["block_id"] for block in blocks}
        assert body["errors"] and set(body["errors"]) <= shown_on, body
    else:
        shown = told(slack, MARCO, since)
        assert any("out of date" in text for text in shown), shown


# Defect 2: a cadence value taken from a payload is trusted -------------------------------------


async def pending_review(slack, decision_id: int) -> Reminder | None:
    async with slack.sessions() as session:
        query = select(Reminder).where(
            Reminder.decision_id == decision_id,
            Reminder.kind == "quarterly_review",
            Reminder.status == "pending",
        )
        return (await session.exec(query)).first()


# Defect 2 (test A): today cadence_selected stores any "<id>|<days>" it is sent (and moves the
# pending review), then replies "reviewed every -30 days".
@pytest.mark.parametrize("days", [-30, 0, 7, 99999])
async def test_a_cadence_select_outside_the_offered_choices_is_refused(slack, days):
    decision_id = await start(slack, "Billing assistant")
    await decide(slack, decision_id)
    due = (await pending_review(slack, decision_id)).due_at
    since = len(slack.fake.calls)
    response = await slack.select(ActionId.CADENCE, pack(decision_id, days))

    assert response.status_code == 200
    assert told(slack, FACILITATOR, since), "the user is told the cadence wasn't changed"
    decision = await slack.decision(decision_id)
    assert decision.review_cadence_days == 90
    assert (await pending_review(slack, decision_id)).due_at == due


# Defect 2 (test B, the scheduler's guarantee): today a stored cadence of -30 makes each review
# schedule the next one a month in the past, the same sweep claims it again, and it never ends.
async def test_one_sweep_with_a_bad_stored_cadence_posts_the_review_once_and_ends(slack):
    decision_id = await start(slack, "Billing assistant")
    await decide(slack, decision_id)
    now = utcnow()
    async with slack.sessions() as session, session.begin():
        await session.exec(
            update(Decision).where(Decision.id == decision_id).values(review_cadence_days=-30)
        )
        await session.exec(
            update(Reminder)
            .where(Reminder.decision_id == decision_id, Reminder.kind == "quarterly_review")
            .values(due_at=now - timedelta(minutes=1))
        )

    def reviews_posted() -> int:
        return sum(
            ActionId.REVIEWED in json.dumps(call.args.get("blocks") or [])
            for call in slack.fake.calls_to("chat.postMessage")
        )

    try:
        await asyncio.wait_for(make_sweeper(slack).sweep(now), timeout=30)
    except TimeoutError:
        pytest.fail(f"one sweep didn't end in 30 s; it posted the review {reviews_posted()} times")
    assert reviews_posted() <= 1
    following = await pending_review(slack, decision_id)
    assert following is not None and following.due_at > now


# Defect 3: a decision named in a payload is checked against the team, not the channel ----------


async def two_channels(slack, *, decided: bool) -> tuple[int, int]:
    """Decision A in CHANNEL, and MARCO's decision B in a private channel the bot is in."""
    slack.fake.add_user(MARCO, name="marco")
    slack.fake.set_channel(PRIVATE, is_private=True, is_member=True, name="payroll")
    a = await start(slack, "Billing assistant")
    b = await start(slack, SECRET, user=MARCO, channel=PRIVATE)
    if decided:
        await decide(slack, b, user=MARCO, channel=PRIVATE)
    return a, b


async def assert_refused(slack, b: int, before: dict, since: int, response) -> None:
    assert response.status_code == 200
    after = await snapshot(slack, b)
    assert [k for k in after if after[k] != before[k]] == [], f"decision #{b} was written to"
    leaked = [c.method for c in slack.fake.calls[since:] if SECRET in json.dumps(c.args)]
    assert leaked == [] and SECRET not in response.text, f"{SECRET!r} sent by {leaked}"
    shown = [*told(slack, MARCO, since), response.text]
    calls = [c.method for c in slack.fake.calls[since:]]
    assert any(f"no decision #{b}" in t.lower() and "this channel" in t for t in shown), calls


BUTTONS = [
    pytest.param(False, ActionId.ANSWER, "{b}|problem_type|knowledge", id="answer"),
    pytest.param(False, ActionId.ADD_FAILURES, "{b}", id="add-failures"),
    pytest.param(False, ActionId.LABELED_EXAMPLES, "{b}", id="labeled-examples"),
    pytest.param(True, ActionId.REVIEWED, "{b}", id="reviewed"),
    pytest.param(True, ActionId.SNOOZE, "{b}", id="snooze"),
    pytest.param(True, ActionId.ACCEPT, "{b}", id="accept"),
    pytest.param(True, ActionId.CADENCE, "{b}|30", id="cadence-select"),
]


# Defect 3 (buttons and selects): today the click from CHANNEL writes to B (an answer, a
# review, a cadence...) and B's title goes out in the refresh, the modal or the reply.
@pytest.mark.parametrize(("decided", "action", "value"), BUTTONS)
async def test_a_button_naming_another_channels_decision_is_refused(slack, decided, action, value):
    _, b = await two_channels(slack, decided=decided)
    before, since = await snapshot(slack, b), len(slack.fake.calls)
    if action == ActionId.CADENCE:
        response = await slack.select(action, value.format(b=b), user=MARCO)
    else:
        suffix = ("problem_type", "knowledge") if action == ActionId.ANSWER else ()
        response = await slack.click(action, value.format(b=b), user=MARCO, suffix=suffix)
    await assert_refused(slack, b, before, since, response)


MODALS = [
    pytest.param(
        False,
        CallbackId.ADD_FAILURES,
        entry(InputId.PASTE, signing.text_value("sounds like a legal brief")),
        id="add-failures",
    ),
    pytest.param(
        False,
        CallbackId.LABELED_EXAMPLES,
        entry(InputId.COUNT, {"type": "number_input", "value": "1200"}),
        id="labeled-examples",
    ),
    pytest.param(
        True,
        CallbackId.OVERRIDE,
        {
            **entry(InputId.CHOICE, signing.select_value("hybrid")),
            **entry(InputId.REASON, signing.text_value("legal asked for it")),
        },
        id="override",
    ),
]


# Defect 3 (modals): a modal opened in CHANNEL whose private_metadata names B. Today the
# submission writes to B (a failure, labeled examples, a final choice) and refreshes B's thread.
@pytest.mark.parametrize(("decided", "callback", "values"), MODALS)
async def test_a_modal_naming_another_channels_decision_is_refused(
    slack, decided, callback, values
):
    _, b = await two_channels(slack, decided=decided)
    before, since = await snapshot(slack, b), len(slack.fake.calls)
    meta = {"decision_id": b, "channel_id": CHANNEL}
    response = await submit(slack, callback, values, meta, inputs(*values))
    await assert_refused(slack, b, before, since, response)


# Defect 3 ("Log AI failure"): the modal only offers CHANNEL's decisions, but the submitted
# option is trusted: today the failure is logged to B and "Logged to #B *Secret payroll bot*"
# is posted in CHANNEL.
async def test_log_ai_failure_into_another_channels_decision_is_refused(slack):
    _, b = await two_channels(slack, decided=True)
    before, since = await snapshot(slack, b), len(slack.fake.calls)
    values = {
        **entry(InputId.DECISION, signing.select_value(str(b))),
        **entry(InputId.EXPLANATION, signing.text_value("quoted last year's policy")),
    }
    meta = {"permalink": None, "channel_id": CHANNEL}
    response = await submit(slack, CallbackId.LOG_FAILURE, values, meta, inputs(*values))
    await assert_refused(slack, b, before, since, response)


# Found in review: what worked before the boundary still works.
async def test_a_long_log_command_is_saved_not_refused(slack):
    decision_id = await start(slack, "Billing assistant")
    await slack.command(f"log {decision_id} " + "didn't know the new refund policy " * 130)
    async with slack.sessions() as session:
        failures = (await session.exec(select(FailureExample))).all()
    assert len(failures) == 1 and failures[0].explanation.startswith("didn't know")


async def test_a_modal_opened_before_channels_were_recorded_still_saves(slack):
    decision_id = await start(slack, "Billing assistant")
    payload = signing.view_submission(
        callback_id=CallbackId.LABELED_EXAMPLES,
        values={InputId.COUNT: {InputId.COUNT: signing.text_value("1200")}},
        private_metadata=json.dumps({"decision_id": decision_id}),
    )
    await slack.post(signing.interactive(payload))
    async with slack.sessions() as session:
        answers = (await session.exec(select(Answer))).all()
    assert [a.value for a in answers] == ["1200"]
