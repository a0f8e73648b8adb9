"""The lifecycle in Slack: previews before a stray start, rename, withdraw, delete, the one
default decision, and undoing answers, owners and failures. Every test drives the real app with
signed requests against the fake Slack, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlmodel import SQLModel, func, select

from handlers.ui.ids import ActionId, CallbackId, InputId, action_id, pack
from storage.models import AnswerAudit, Decision, Reminder
from storage.repositories.decision_repo import rows_of_a_decision, tables_of_a_decision
from tests.fakes import signing
from tests.slack_app import CHANNEL, FACILITATOR, text_of
from tests.test_slack_thread import MARCO, PRIYA, SAM, start


def buttons(message: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        element
        for block in message.get("blocks") or []
        if block["type"] == "actions"
        for element in block["elements"]
    ]


def button_of(message: dict[str, Any], action: ActionId) -> dict[str, Any]:
    return next(b for b in buttons(message) if b["action_id"].split("|")[0] == action)


async def press(slack, message: dict[str, Any], action: ActionId, *, user: str = FACILITATOR):
    """Press a button of an ephemeral reply (Slack sends its action_id and value back)."""
    found = button_of(message, action)
    payload = signing.block_action(action_id=found["action_id"], value=found["value"], user_id=user)
    return await slack.action(payload)


async def add_failures(slack, decision_id: int, *lines: str) -> None:
    values = {InputId.PASTE: {InputId.PASTE: signing.text_value("\n".join(lines))}}
    await slack.submit(CallbackId.ADD_FAILURES, values, decision_id)


def posted(slack) -> list[dict[str, Any]]:
    return [c.args for c in slack.fake.calls_to("chat.postMessage")]


# Starting a decision ----------------------------------------------------------------------------


async def test_stray_text_gets_a_private_preview_and_nothing_is_posted(slack):
    for text in ("delete 1", "rename 1 Billing v2", "reopen 1", "remove 1", "Chatbot"):
        await slack.command(text)
    await slack.command("statsu of the billing bot")
    assert posted(slack) == []
    assert (await slack.decision()) is None  # nothing was started, or stored

    shown = [text_of(r) for r in slack.replies(FACILITATOR)]
    assert all(r["response_type"] == "ephemeral" for r in slack.replies(FACILITATOR))
    remove = next(s for s in shown if '"remove 1"' in s)
    assert 'Start a decision titled "remove 1" here?' in remove
    assert "Did you mean `/ragft withdraw 1`?" in remove
    assert any('Start a decision titled "reopen 1" here?' in s for s in shown)
    assert any('titled "Chatbot" here?' in s for s in shown)
    assert any("Did you mean `/ragft status of the billing bot`?" in s for s in shown)
    # delete and rename are subcommands now: no decision #1 here to act on, said privately
    assert sum("There's no decision #1 in this channel" in s for s in shown) == 2


async def test_the_preview_starts_the_decision_or_is_cancelled(slack):
    await slack.command("remove 1")
    preview = slack.replies(FACILITATOR)[-1]
    assert [b["text"]["text"] for b in buttons(preview)] == ["Start", "Cancel"]

    await press(slack, preview, ActionId.CANCEL)
    assert slack.replies(FACILITATOR)[-1].get("delete_original") is True
    assert posted(slack) == []

    await press(slack, preview, ActionId.START_CONFIRMED)
    decision = await slack.decision()
    assert decision.title == "remove 1" and decision.facilitator_id == FACILITATOR
    assert len(posted(slack)) == 5  # the root and four questions
    assert "remove 1" in text_of(await slack.message_of("root"))


async def test_an_unknown_word_gets_the_help_and_a_start_button(slack):
    await slack.command("frobnicate")
    reply = slack.replies(FACILITATOR)[-1]
    assert "`frobnicate` isn't a ragft command" in text_of(reply)
    assert "/ragft withdraw [id]" in text_of(reply)
    await press(slack, reply, ActionId.START_CONFIRMED, user=PRIYA)
    assert (await slack.decision()).title == "frobnicate"


# Rename, withdraw, delete -----------------------------------------------------------------------


async def test_rename_is_for_the_facilitator_or_an_admin_and_updates_the_root(slack):
    decision_id = await start(slack, "Billing assistant")
    slack.fake.add_user(MARCO, is_admin=False)
    await slack.command(f"rename {decision_id} Hijacked title", user=MARCO)
    assert "Only the facilitator" in slack.replies(MARCO)[-1]["text"]
    assert (await slack.decision()).title == "Billing assistant"

    await slack.command("rename Billing v2")  # the channel's one open decision
    assert (await slack.decision()).title == "Billing v2"
    assert "RAG or fine-tuning? Billing v2" in text_of(await slack.message_of("root"))
    note = posted(slack)[-1]
    assert note["thread_ts"] == (await slack.decision()).thread_ts
    assert "renamed this decision from “Billing assistant” to “Billing v2”" in note["text"]

    slack.fake.add_user(PRIYA, is_admin=True)
    await slack.command(f"rename {decision_id} Billing v3", user=PRIYA)
    assert (await slack.decision()).title == "Billing v3"


async def test_withdraw_asks_first_then_closes_the_decision_and_keeps_the_record(slack):
    decision_id = await start(slack)
    await slack.answer(decision_id, "problem_type", "knowledge", user=PRIYA)
    await slack.decide(decision_id)
    async with slack.sessions() as session:
        pending = (await session.exec(select(Reminder).where(Reminder.status == "pending"))).all()
    assert pending  # the first review

    await slack.command("withdraw")
    confirm = slack.replies(FACILITATOR)[-1]
    assert confirm["response_type"] == "ephemeral"
    assert f"Withdraw #{decision_id}" in text_of(confirm) and "record is kept" in text_of(confirm)
    assert (await slack.decision()).status == "decided"  # nothing yet

    slack.fake.add_user(MARCO, is_admin=False)
    await press(slack, confirm, ActionId.WITHDRAW_CONFIRMED, user=MARCO)
    assert "Only the facilitator" in slack.replies(MARCO)[-1]["text"]
    assert (await slack.decision()).status == "decided"

    await press(slack, confirm, ActionId.WITHDRAW_CONFIRMED)
    decision = await slack.decision()
    assert (decision.status, decision.next_review_at) == ("withdrawn", None)
    async with slack.sessions() as session:
        statuses = (await session.exec(select(Reminder.status))).all()
    assert set(statuses) == {"cancelled"}
    note = posted(slack)[-1]
    assert note["thread_ts"] == decision.thread_ts and "withdrew decision" in note["text"]
    assert "*Withdrawn:*" in text_of(await slack.message_of("root"))

    await slack.answer(decision_id, "problem_type", "behavior", user=SAM)
    assert "was withdrawn, so it no longer takes answers" in slack.replies(SAM)[-1]["text"]
    verdict = text_of(await slack.message_of("verdict"))  # its buttons went with it
    assert "Accept verdict" not in verdict and "Record a different choice" not in verdict
    assert "was withdrawn before the verdict was accepted" in verdict
    await slack.command("withdraw 1")
    assert "can't be withdrawn" in slack.replies(FACILITATOR)[-1]["text"]
    await slack.command("list")
    assert f"#{decision_id} Support assistant" in text_of(slack.replies(FACILITATOR)[-1])


async def test_an_open_decision_can_be_withdrawn_too(slack):
    decision_id = await start(slack)
    await slack.command(f"withdraw {decision_id}")
    await press(slack, slack.replies(FACILITATOR)[-1], ActionId.WITHDRAW_CONFIRMED)
    assert (await slack.decision()).status == "withdrawn"
    q1 = await slack.message_of("problem_type")
    assert not buttons(q1)  # its question buttons are gone


async def test_delete_names_what_goes_then_erases_every_row_and_the_thread(slack):
    keep = await start(slack, "Another decision to keep")
    decision_id = await start(slack)
    await slack.answer(decision_id, "problem_type", "knowledge", user=PRIYA)
    await slack.answer(decision_id, "knowledge_change", "weekly", user=MARCO)
    await slack.pick_user(decision_id, "training_data", SAM)
    await add_failures(slack, decision_id, "didn't know the refund policy", "too verbose")
    await slack.decide(decision_id)
    await slack.command(f"log {decision_id} quoted last year's prices")
    thread_ts = (await slack.decision(decision_id)).thread_ts
    assert len(slack.fake.messages(CHANNEL, thread_ts=thread_ts)) >= 7

    slack.fake.add_user(MARCO, is_admin=False)
    await slack.command(f"delete {decision_id}", user=MARCO)
    assert "Only the facilitator" in slack.replies(MARCO)[-1]["text"]

    await slack.command(f"delete {decision_id}")
    confirm = slack.replies(FACILITATOR)[-1]
    shown = text_of(confirm)
    assert "2 answers, 3 failures and 2 pending reminders" in shown
    assert "can't be undone" in shown and f"/ragft withdraw {decision_id}" in shown
    assert (await slack.decision(decision_id)) is not None  # nothing yet

    await press(slack, confirm, ActionId.DELETE_CONFIRMED)
    assert (await slack.decision(decision_id)) is None
    async with slack.sessions() as session:
        for table, leads in tables_of_a_decision():
            for fk in leads:  # no row is left naming a row that was erased
                parent = fk.column.table
                orphan = ~sa.exists().where(parent.c[fk.column.name] == fk.parent)
                query = select(func.count()).select_from(table).where(orphan)
                assert (await session.exec(query)).one() == 0, table.name
            if "decision_id" in table.c:
                query = select(func.count()).select_from(table)
                query = query.where(table.c.decision_id == decision_id)
                assert (await session.exec(query)).one() == 0, table.name
        assert (await session.exec(select(func.count()).select_from(AnswerAudit))).one() == 0
    assert slack.fake.messages(CHANNEL, thread_ts=thread_ts) == []  # root, questions, verdict…
    assert "Deleted decision" in slack.replies(FACILITATOR)[-1]["text"]
    assert (await slack.decision(keep)).title == "Another decision to keep"
    assert slack.fake.messages(CHANNEL, thread_ts=(await slack.decision(keep)).thread_ts)


def test_every_table_that_names_a_decision_is_erased_with_it():
    """A table added later with a decision_id, or naming rows of a table that does, is caught
    by the delete, as long as it declares the foreign key (this test makes sure it does)."""
    found = tables_of_a_decision()
    covered = {table.name for table, _ in found}
    for table in SQLModel.metadata.sorted_tables:
        if "decision_id" in table.c and table.name != Decision.__tablename__:
            assert table.name in covered, f"{table.name}.decision_id has no foreign key"
        for fk in table.foreign_keys:  # indirect: it names rows that are erased
            if fk.column.table.name in covered and table.name != Decision.__tablename__:
                assert table.name in covered, f"{table.name}.{fk.parent.name} is not erased"
    assert {"answer", "answeraudit", "ownerassignment", "failureexample", "reminder"} <= covered
    assert {"contexttest", "analysissession"} <= covered
    assert {"analysisreading", "analysisreadinghistory"} <= covered  # only through others
    order = [table.name for table, _ in found]  # dependents first
    assert order.index("analysisreading") < order.index("failureexample")
    assert order.index("analysisreading") < order.index("analysissession")
    clauses = rows_of_a_decision(team_id="T1", decision_id=1)
    assert [t.name for t, _ in clauses] == order
    assert all(isinstance(clause, sa.ColumnElement) for _, clause in clauses)


# The one default --------------------------------------------------------------------------------


async def test_commands_default_to_the_open_decision_and_ask_when_several_are(slack):
    opened = await start(slack, "Open billing decision")
    decided = await start(slack, "Decided support decision")
    await slack.decide(decided)

    await slack.command("status")  # the open one, though the decided one is newer
    assert "Open billing decision" in text_of(slack.replies(FACILITATOR)[-1])
    await slack.command("log quoted last year's prices")
    assert f"Logged to #{opened}" in slack.replies(FACILITATOR)[-1]["text"]

    other = await start(slack, "Second open decision")
    await slack.answer(opened, "problem_type", "knowledge", user=PRIYA)  # most recently active
    before = len(slack.fake.calls_to("files.getUploadURLExternal"))
    await slack.command("export")
    picker = slack.replies(FACILITATOR)[-1]
    assert "Which one did you mean?" in text_of(picker)
    labels = [b["text"]["text"] for b in buttons(picker)]
    assert labels == [
        f"#{opened} Open billing decision",
        f"#{other} Second open decision",
        "Cancel",
    ]
    assert len(slack.fake.calls_to("files.getUploadURLExternal")) == before  # not guessed

    chosen = next(b for b in buttons(picker) if b["text"]["text"].startswith(f"#{other}"))
    payload = signing.block_action(action_id=chosen["action_id"], value=chosen["value"])
    await slack.action(payload)
    [upload] = slack.fake.calls_to("files.completeUploadExternal")[-1:]
    assert upload.args["thread_ts"] == (await slack.decision(other)).thread_ts

    await slack.command("status")
    picker = slack.replies(FACILITATOR)[-1]
    await press(slack, picker, ActionId.PICK_DECISION)  # the first: the most recently active
    assert "Open billing decision" in text_of(slack.replies(FACILITATOR)[-1])


async def test_the_shortcut_defaults_to_the_most_recently_active_open_decision(slack):
    decided = await start(slack, "Decided support decision")
    await slack.decide(decided)
    opened = await start(slack, "Open billing decision")
    await slack.answer(opened, "problem_type", "knowledge", user=PRIYA)
    message = {"type": "message", "ts": "1717000100.000100", "text": "wrong answer"}
    await slack.action(
        signing.message_shortcut(callback_id=CallbackId.LOG_FAILURE, message=message)
    )
    view = slack.fake.calls_to("views.open")[-1].args["view"]
    select_ = next(b for b in view["blocks"] if b.get("block_id") == InputId.DECISION)
    assert select_["element"]["initial_option"]["value"] == str(opened)


# Undo and edit ----------------------------------------------------------------------------------


async def test_a_teammate_withdraws_their_own_answer_and_a_double_click_stays_one(slack):
    decision_id = await start(slack)
    await slack.answer(decision_id, "problem_type", "knowledge", user=PRIYA)
    await slack.answer(decision_id, "problem_type", "knowledge", user=PRIYA)  # double click
    await slack.answer(decision_id, "problem_type", "behavior", user=MARCO)
    q1 = await slack.message_of("problem_type")
    assert f"*Knowledge* (1): <@{PRIYA}>" in text_of(q1)
    withdraw = button_of(q1, ActionId.WITHDRAW_ANSWER)
    assert withdraw["text"]["text"] == "Withdraw my answer"

    await slack.click(
        ActionId.WITHDRAW_ANSWER, withdraw["value"], user=PRIYA, suffix=("problem_type",)
    )
    q1 = text_of(await slack.message_of("problem_type"))
    assert f"<@{PRIYA}>" not in q1 and f"*Behavior* (1): <@{MARCO}>" in q1
    async with slack.sessions() as session:
        audit = (await session.exec(select(AnswerAudit).order_by(AnswerAudit.id))).all()
    assert [(a.user_id, a.old_value, a.new_value) for a in audit][-1] == (
        PRIYA,
        "knowledge",
        None,
    )

    await slack.click(
        ActionId.WITHDRAW_ANSWER, withdraw["value"], user=SAM, suffix=("problem_type",)
    )
    assert "nothing to withdraw" in slack.replies(SAM)[-1]["text"]


async def test_replacing_an_owner_is_limited_and_names_both_people(slack):
    decision_id = await start(slack)
    slack.fake.add_user(MARCO, is_admin=False)
    await slack.pick_user(decision_id, "training_data", SAM, user=PRIYA)  # an empty role
    before = len(posted(slack))

    updates = len(slack.fake.calls_to("chat.update"))
    await slack.pick_user(decision_id, "training_data", MARCO, user=MARCO)
    assert f"<@{SAM}> is named for this role" in slack.replies(MARCO)[-1]["text"]
    assert len(slack.fake.calls_to("chat.update")) == updates + 1  # the picker is reset
    assert f"<@{SAM}>" in text_of(await slack.message_of("owners"))
    assert len(posted(slack)) == before

    await slack.pick_user(decision_id, "training_data", PRIYA)  # the facilitator
    note = posted(slack)[-1]
    assert note["thread_ts"] == (await slack.decision()).thread_ts
    assert f"replaced <@{SAM}> with <@{PRIYA}>" in note["text"]

    await slack.pick_user(decision_id, "training_data", MARCO, user=PRIYA)  # the owner herself
    assert f"replaced <@{PRIYA}> with <@{MARCO}>" in posted(slack)[-1]["text"]


async def _review_modal(slack, decision_id: int) -> tuple[dict[str, Any], str]:
    await slack.click(ActionId.REVIEW_FAILURES, str(decision_id))
    view = slack.fake.calls_to("views.open")[-1].args["view"]
    return view, list(slack.fake.views)[-1]


def _in_modal(view: dict[str, Any], view_id: str, **kw) -> dict[str, Any]:
    payload = signing.block_action(**kw)
    payload["container"] = {"type": "view", "view_id": view_id}
    payload["view"] = {"id": view_id, "private_metadata": view["private_metadata"]}
    return payload


async def test_the_facilitator_clears_an_owner_and_deletes_a_failure_in_review(slack):
    decision_id = await start(slack)
    await slack.pick_user(decision_id, "evaluation", SAM)
    await add_failures(slack, decision_id, "didn't know the refund policy", "too verbose")
    view, view_id = await _review_modal(slack, decision_id)
    assert "Clear" in text_of({"blocks": view["blocks"]})

    clear = next(
        b["accessory"]
        for b in view["blocks"]
        if b.get("accessory", {}).get("action_id", "").startswith(ActionId.CLEAR_OWNER)
    )
    payload = _in_modal(view, view_id, action_id=clear["action_id"], value=clear["value"])
    await slack.action(payload)
    assert "Nobody yet" in text_of(await slack.message_of("owners"))
    assert f"cleared <@{SAM}> as *Evaluation* owner" in posted(slack)[-1]["text"]
    updated = slack.fake.calls_to("views.update")[-1].args["view"]
    assert "Clear" not in text_of({"blocks": updated["blocks"]})

    failure = next(b for b in view["blocks"] if b.get("block_id", "").startswith("failure"))
    failure_id = failure["block_id"].split("|")[1]
    delete = {"text": {"type": "plain_text", "text": "Delete"}, "value": pack(failure_id, "delete")}
    kw = {"action_id": action_id(ActionId.CORRECT_FAILURE), "block_id": failure["block_id"]}
    kw |= {"element_type": "static_select", "selected_option": delete}
    await slack.action(_in_modal(view, view_id, user_id=MARCO, **kw))
    assert "Only the facilitator" in slack.replies(MARCO)[-1]["text"]

    await slack.action(_in_modal(view, view_id, **kw))
    q3 = text_of(await slack.message_of("failures"))
    assert "*Knowledge* 0 · *Behavior* 1" in q3 or "*Knowledge* 1 · *Behavior* 0" in q3
    updated = slack.fake.calls_to("views.update")[-1].args["view"]
    assert len([b for b in updated["blocks"] if b.get("block_id", "").startswith("failure")]) == 1


async def test_lifecycle_commands_and_confirmations_stay_in_their_channel(slack):
    secret = await start(slack, "Private roadmap bot")
    elsewhere = "C0ELSEWHERE"
    slack.fake.add_user(MARCO, is_admin=True)  # even an admin acts only where the decision is
    for command in (f"rename {secret} Leaked", f"withdraw {secret}", f"delete {secret}"):
        await slack.command(command, user=MARCO, channel=elsewhere)
        told = slack.replies(MARCO)[-1]["text"]
        assert f"no decision #{secret} in this channel" in told and "roadmap" not in told
    for action in (ActionId.WITHDRAW_CONFIRMED, ActionId.DELETE_CONFIRMED):
        await slack.click(action, str(secret), user=MARCO, channel_id=elsewhere)
        assert f"no decision #{secret} in this channel" in slack.replies(MARCO)[-1]["text"]
    decision = await slack.decision(secret)
    assert (decision.title, decision.status) == ("Private roadmap bot", "open")


async def test_deleting_a_re_run_decision_leaves_its_re_run_whole(slack):
    old = await start(slack)
    await slack.answer(old, "problem_type", "knowledge", user=PRIYA)
    await add_failures(slack, old, "didn't know the refund policy")
    await slack.decide(old)
    await slack.click(ActionId.RERUN, str(old))
    new = (await slack.decision()).id
    assert new != old and (await slack.decision(new)).supersedes_id == old

    await slack.command(f"delete {old}")
    await press(slack, slack.replies(FACILITATOR)[-1], ActionId.DELETE_CONFIRMED)
    assert (await slack.decision(old)) is None
    rerun = await slack.decision(new)
    assert (rerun.status, rerun.supersedes_id) == ("open", None)
    q1 = text_of(await slack.message_of("problem_type", new))
    assert f"*Knowledge* (1): <@{PRIYA}>" in q1
    assert "*Knowledge* 1" in text_of(await slack.message_of("failures", new))
