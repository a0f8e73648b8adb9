"""Drive the real ragft ASGI app with signed Slack requests, against the fake Slack Web API."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx

from bot.settings import Settings
from handlers.app import create_app
from handlers.asgi import create_asgi_app
from handlers.runtime import close_client
from handlers.ui.ids import ActionId, action_id, pack
from storage.models import Decision
from tests.fakes import signing
from tests.fakes.slack_api import FakeSlack

TEAM = signing.DEFAULT_TEAM
CHANNEL = signing.DEFAULT_CHANNEL
FACILITATOR = "U0USER0001"


async def idle(limit: float = 20.0) -> None:
    """Wait until the work each listener does after its ack has finished."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit
    me = asyncio.current_task()
    while True:
        pending = {t for t in asyncio.all_tasks() if t is not me and not t.done()}
        if not pending:
            return
        remaining = deadline - loop.time()
        if remaining <= 0:
            raise AssertionError(f"{len(pending)} tasks still running after {limit}s")
        await asyncio.wait(pending, timeout=remaining)


class SlackApp:
    def __init__(self, fake: FakeSlack, engine, sessions, **settings: Any) -> None:
        self.fake = fake
        self.sessions = sessions
        self.settings = Settings(
            _env_file=None,
            slack_bot_token="xoxb-test-token",
            slack_signing_secret=signing.SIGNING_SECRET,
            slack_api_url=fake.url,
            database_url="sqlite:///unused.db",
            **settings,
        )
        self.app, self.runtime = create_app(settings=self.settings, sessions=sessions)
        self.asgi = create_asgi_app(
            self.app, engine, signing_secret=signing.SIGNING_SECRET, runtime=self.runtime
        )
        self.http = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.asgi), base_url="http://ragft.test"
        )

    async def close(self) -> None:
        await self.idle()
        await self.http.aclose()
        await close_client(self.runtime.client)

    async def idle(self, limit: float = 20.0) -> None:
        await idle(limit)

    async def post(self, signed: tuple[bytes, dict[str, str]], *, settle: bool = True):
        body, headers = signed
        response = await self.http.post("/slack/events", content=body, headers=headers)
        if settle:
            await self.idle()
        return response

    # Requests ------------------------------------------------------------------------------

    async def command(self, text: str, *, user: str = FACILITATOR, channel: str = CHANNEL, **kw):
        return await self.post(
            signing.slash_command(
                text=text,
                user_id=user,
                channel_id=channel,
                response_url=self.fake.response_url(f"cmd-{user}"),
                **kw,
            )
        )

    async def action(self, payload: dict[str, Any], *, settle: bool = True):
        payload["response_url"] = self.fake.response_url(f"act-{payload['user']['id']}")
        return await self.post(signing.interactive(payload), settle=settle)

    async def click(
        self, action: ActionId, value: str, *, user: str = FACILITATOR, suffix=(), settle=True, **kw
    ):
        payload = signing.block_action(
            action_id=action_id(action, *suffix), value=value, user_id=user, **kw
        )
        return await self.action(payload, settle=settle)

    async def decide(self, decision_id: int, *, user: str = FACILITATOR, settle=True, **kw):
        """Press *Decide*, then *Confirm* on the ephemeral confirmation."""
        await self.click(ActionId.DECIDE, str(decision_id), user=user, **kw)
        return await self.click(
            ActionId.CONFIRM_DECIDE, str(decision_id), user=user, settle=settle, **kw
        )

    async def answer(self, decision_id: int, question: str, value: str, *, user: str, settle=True):
        return await self.click(
            ActionId.ANSWER,
            pack(decision_id, question, value),
            user=user,
            suffix=(question, value),
            settle=settle,
        )

    async def select(self, action: ActionId, value: str, *, user: str = FACILITATOR, suffix=()):
        payload = signing.block_action(
            action_id=action_id(action, *suffix),
            element_type="static_select",
            selected_option={"text": {"type": "plain_text", "text": value}, "value": value},
            user_id=user,
        )
        return await self.action(payload)

    async def pick_user(self, decision_id: int, role: str, owner: str, *, user: str = FACILITATOR):
        payload = signing.block_action(
            action_id=action_id(ActionId.OWNER, role),
            block_id=pack("owner", decision_id, role),
            element_type="users_select",
            selected_user=owner,
            user_id=user,
        )
        return await self.action(payload)

    async def submit(
        self, callback_id: str, values: dict[str, Any], decision_id: int, *, user=FACILITATOR
    ):
        payload = signing.view_submission(
            callback_id=callback_id,
            values=values,
            private_metadata=json.dumps({"decision_id": decision_id, "channel_id": CHANNEL}),
            user_id=user,
        )
        return await self.post(signing.interactive(payload))

    async def event(self, event: dict[str, Any], *, event_id: str, retry_num: int | None = None):
        return await self.post(signing.event(event, event_id=event_id, retry_num=retry_num))

    # What users see ------------------------------------------------------------------------

    async def decision(self, decision_id: int | None = None) -> Decision:
        from sqlmodel import select

        async with self.sessions() as session:
            query = select(Decision).order_by(Decision.id.desc())  # type: ignore[union-attr]
            if decision_id is not None:
                query = select(Decision).where(Decision.id == decision_id)
            return (await session.exec(query)).first()

    async def message_of(self, key: str, decision_id: int | None = None) -> dict[str, Any]:
        decision = await self.decision(decision_id)
        return self.fake.message(decision.channel_id, decision.message_ts[key])

    def replies(self, user: str) -> list[dict[str, Any]]:
        """What the user was told ephemerally through response_url."""
        return [c.args for c in self.fake.calls if c.method == "response_url" and user in c.path]

    def ephemerals(self, user: str) -> list[dict[str, Any]]:
        return [c.args for c in self.fake.calls_to("chat.postEphemeral") if c.args["user"] == user]


def text_of(message: dict[str, Any], kinds: tuple[str, ...] = ("mrkdwn", "plain_text")) -> str:
    """Everything a person can read in a message: its blocks' text, flattened."""
    parts: list[str] = [message.get("text") or ""]

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") in kinds and "text" in node:
                parts.append(node["text"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(message.get("blocks") or [])
    return "\n".join(parts)


def mrkdwn_of(message: dict[str, Any]) -> str:
    """The text Slack parses for mentions and links: mrkdwn and the fallback ``text``."""
    return text_of(message, kinds=("mrkdwn",))
