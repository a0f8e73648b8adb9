"""Buttons and selects in the decision thread. Each listener: ack, parse, call bot/, refresh."""

from __future__ import annotations

import json
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.domain.questions import OwnerRole, QuestionKey, Verdict
from bot.services import state as decisions
from handlers.listeners import routine_listeners as routine
from handlers.listeners.model_steps import draft_summary
from handlers.runtime import Runtime
from handlers.slack_calls import is_admin, team_id_of
from handlers.thread import post_message, refresh, refresh_all, save_message_ts
from handlers.ui import decision_modals as modals
from handlers.ui.ids import ActionId, matcher, unpack
from handlers.ui.thread_messages import ANSWER_MESSAGE, verdict_message
from storage.repositories import decision_repo as repo

REVIEW_LIMIT = 45


def _user(body: dict[str, Any]) -> str:
    return body["user"]["id"]


def _action(body: dict[str, Any]) -> dict[str, Any]:
    return body["actions"][0]


def register(app: AsyncApp, runtime: Runtime) -> None:
    @app.action(matcher(ActionId.ANSWER))
    async def answer(ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        decision_id, question, value = unpack(_action(body)["value"], 3)
        team_id = team_id_of(body)
        async with runtime.sessions() as session, session.begin():
            change = await decisions.record_choice(
                session=session,
                team_id=team_id,
                decision_id=int(decision_id),
                question=question,
                user_id=_user(body),
                value=value,
            )
        if change.changed:
            await refresh(runtime, team_id, int(decision_id), [ANSWER_MESSAGE[question], "root"])

    @app.action(matcher(ActionId.SETTLE))
    async def settle(ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        decision_id, question, value = unpack(_action(body)["selected_option"]["value"], 3)
        team_id = team_id_of(body)
        async with runtime.sessions() as session, session.begin():
            await decisions.settle(
                session=session,
                team_id=team_id,
                decision_id=int(decision_id),
                question=question,
                user_id=_user(body),
                value=value or None,
            )
        await refresh(runtime, team_id, int(decision_id), [ANSWER_MESSAGE[question], "root"])

    @app.action(matcher(ActionId.OWNER))
    async def owner(ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        action = _action(body)
        _, decision_id, role = unpack(action["block_id"], 3)
        team_id = team_id_of(body)
        async with runtime.sessions() as session, session.begin():
            await decisions.assign_owner(
                session=session,
                team_id=team_id,
                decision_id=int(decision_id),
                role=OwnerRole(role),
                owner_id=action.get("selected_user"),
                user_id=_user(body),
            )
        await refresh(runtime, team_id, int(decision_id), [QuestionKey.OWNERS, "root"])

    async def open_modal(client: AsyncWebClient, body: dict[str, Any], view: dict) -> None:
        await client.views_open(trigger_id=body["trigger_id"], view=view)

    @app.action(matcher(ActionId.LABELED_EXAMPLES))
    async def labeled_examples(ack: AsyncAck, body: dict[str, Any], client) -> None:
        await ack()
        decision_id = int(_action(body)["value"])
        async with runtime.sessions() as session:
            state = await decisions.load_state(
                session=session, team_id=team_id_of(body), decision_id=decision_id
            )
        await open_modal(
            client, body, modals.labeled_examples_modal(decision_id, state.labeled_examples)
        )

    @app.action(matcher(ActionId.ADD_FAILURES))
    async def add_failures(ack: AsyncAck, body: dict[str, Any], client) -> None:
        await ack()
        decision_id = int(_action(body)["value"])
        async with runtime.sessions() as session:
            decision = await decisions.get_decision(
                session=session, team_id=team_id_of(body), decision_id=decision_id
            )
        await open_modal(client, body, modals.add_failures_modal(decision_id, decision.title))

    @app.action(matcher(ActionId.REVIEW_FAILURES))
    async def review_failures(ack: AsyncAck, body: dict[str, Any], client) -> None:
        await ack()
        decision_id = int(_action(body)["value"])
        async with runtime.sessions() as session:
            failures = await repo.list_failures(
                session=session, team_id=team_id_of(body), decision_id=decision_id
            )
        latest = list(failures)[-REVIEW_LIMIT:][::-1]
        view = modals.review_failures_modal(decision_id, latest, len(failures))
        await open_modal(client, body, view)

    @app.action(matcher(ActionId.CORRECT_FAILURE))
    async def correct_failure(ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        failure_id, category = unpack(_action(body)["selected_option"]["value"], 2)
        decision_id = int(json.loads(body["view"]["private_metadata"])["decision_id"])
        team_id = team_id_of(body)
        async with runtime.sessions() as session, session.begin():
            await decisions.correct_failure(
                session=session,
                team_id=team_id,
                failure_id=int(failure_id),
                category=category,
                user_id=_user(body),
            )
        await refresh(runtime, team_id, decision_id, [QuestionKey.FAILURES, "root"])

    @app.action(matcher(ActionId.DECIDE))
    async def decide(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        decision_id = int(_action(body)["value"])
        team_id, user_id = team_id_of(body), _user(body)
        async with runtime.sessions() as session:
            decision = await decisions.get_decision(
                session=session, team_id=team_id, decision_id=decision_id
            )
        admin = user_id != decision.facilitator_id and await is_admin(client, user_id)
        tz = await routine.user_tz(client, decision.facilitator_id)
        async with runtime.sessions() as session, session.begin():
            state = await decisions.decide(
                session=session,
                team_id=team_id,
                decision_id=decision_id,
                user_id=user_id,
                is_admin=admin,
            )
            old = await routine.record_decided(session=session, decision=state.decision, tz=tz)
        message = verdict_message(state)
        ts = await post_message(
            client,
            channel=state.decision.channel_id,
            thread_ts=state.decision.thread_ts,
            reply_broadcast=True,
            text=message.text,
            blocks=message.blocks,
        )
        await save_message_ts(runtime, state, {"verdict": ts})
        await routine.announce_decided(runtime, state, old)
        await refresh_all(runtime, state)
        await draft_summary(runtime, state)  # after the verdict is out: the record's Context

    @app.action(matcher(ActionId.ACCEPT))
    async def accept(ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        decision_id = int(_action(body)["value"])
        team_id = team_id_of(body)
        async with runtime.sessions() as session, session.begin():
            decision = await decisions.get_decision(
                session=session, team_id=team_id, decision_id=decision_id
            )
            await decisions.record_final_choice(
                session=session,
                team_id=team_id,
                decision_id=decision_id,
                user_id=_user(body),
                choice=decision.verdict or "",
                reason=None,
            )
        await refresh(runtime, team_id, decision_id, ["verdict", "root"])

    @app.action(matcher(ActionId.OVERRIDE))
    async def override(ack: AsyncAck, body: dict[str, Any], client, respond: AsyncRespond):
        await ack()
        decision_id = int(_action(body)["value"])
        async with runtime.sessions() as session:
            decision = await decisions.get_decision(
                session=session, team_id=team_id_of(body), decision_id=decision_id
            )
        if _user(body) != decision.facilitator_id:
            raise decisions.NotAllowed(
                f"Only the facilitator, <@{decision.facilitator_id}>, can record a different "
                "choice. Nothing has changed."
            )
        view = modals.override_modal(decision_id, Verdict(decision.verdict or "rag"))
        await open_modal(client, body, view)
