"""Posting to Slack: joining public channels when needed, and saying so when it can't."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.domain.errors import UserError
from handlers.ui.blocks import Message

log = logging.getLogger("ragft")

NOT_IN_CHANNEL = frozenset({"not_in_channel", "channel_not_found"})


class BotNotInChannel(UserError):
    def __init__(self) -> None:
        super().__init__(
            "I'm not in this conversation and can't join it by myself. In a private channel, "
            "invite me with `/invite @ragft`, then run the command again. In a group DM, which "
            "apps can't be added to, run it in a channel instead."
        )


class BotNotInDirectMessage(UserError):
    """A DM between people (its id starts with D): apps can't be invited there."""

    def __init__(self) -> None:
        super().__init__(
            "I can't post in this direct message: I'm not part of it, and Slack doesn't let "
            "apps be added to DMs. Run the command in a channel (for a private one, "
            "`/invite @ragft` there first), or in your own DM with ragft."
        )


def slack_error(exc: SlackApiError) -> str:
    return str(exc.response.get("error", "unknown_error"))


async def join(client: AsyncWebClient, channel: str) -> None:
    try:
        await client.conversations_join(channel=channel)
    except SlackApiError as exc:
        if channel.startswith("D"):  # a DM between people (no scope needed to tell)
            raise BotNotInDirectMessage() from exc
        raise BotNotInChannel() from exc


async def post_message(client: AsyncWebClient, *, channel: str, **kwargs: Any) -> str:
    """Post, joining a public channel first if the bot isn't in it. Returns the message ts."""
    try:
        response = await client.chat_postMessage(channel=channel, **kwargs)
    except SlackApiError as exc:
        if slack_error(exc) not in NOT_IN_CHANNEL:
            raise
        await join(client, channel)
        response = await client.chat_postMessage(channel=channel, **kwargs)
    return str(response["ts"])


async def is_admin(client: AsyncWebClient, user_id: str) -> bool:
    """Whether Slack says the user is a workspace admin or owner; an unknown user is not."""
    try:
        user = (await client.users_info(user=user_id))["user"]
    except SlackApiError as exc:
        if slack_error(exc) not in ("user_not_found", "user_not_visible"):
            raise
        log.warning("users.info %s: %s; not an admin", user_id, slack_error(exc))
        return False
    return bool(user.get("is_admin") or user.get("is_owner") or user.get("is_primary_owner"))


async def user_tz(client: AsyncWebClient, user_id: str) -> str | None:
    """The user's timezone (users.info ``tz``). Without it reviews land at 10:00 UTC."""
    try:
        return (await client.users_info(user=user_id))["user"].get("tz")
    except SlackApiError as exc:
        log.warning("users.info %s failed (%s); using UTC", user_id, slack_error(exc))
        return None


async def tell(
    client: AsyncWebClient, channel: str, user: str, text: str, thread_ts: str | None = None
) -> None:
    """Ephemerally in the channel; by DM when the bot can't post there."""
    try:
        await client.chat_postEphemeral(channel=channel, user=user, thread_ts=thread_ts, text=text)
    except SlackApiError as exc:
        if slack_error(exc) not in NOT_IN_CHANNEL:
            raise
        await client.chat_postMessage(channel=user, text=text)


async def ephemeral_reply(respond: AsyncRespond, message: Message | str) -> None:
    """Answer only the person who typed the command, leaving what they typed in place."""
    if isinstance(message, str):
        message = Message(text=message, blocks=[])
    await respond(
        text=message.text,
        blocks=message.blocks or None,
        response_type="ephemeral",
        replace_original=False,
    )
