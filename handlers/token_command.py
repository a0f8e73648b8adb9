"""``/ragft token create [label]|list|revoke <label>``: workspace API tokens, always ephemeral."""

from __future__ import annotations

from slack_bolt.async_app import AsyncRespond

from bot.domain.command_parser import Command, TokenAction
from bot.services import api_tokens
from handlers import payloads
from handlers.runtime import Runtime
from handlers.slack_calls import ephemeral_reply
from handlers.ui import token_messages as ui


async def manage_tokens(
    rt: Runtime, cmd: payloads.SlashCommand, parsed: Command, respond: AsyncRespond
) -> None:
    who = {
        "team_id": cmd.team_id,
        "user_id": cmd.user_id,
        "is_admin": rt.admin_check(cmd.user_id),
    }
    if parsed.word == TokenAction.CREATE:
        token, raw = await rt.call(api_tokens.create_token, **who, label=parsed.text)
        await ephemeral_reply(respond, ui.created_message(token, raw))
    elif parsed.word == TokenAction.LIST:
        tokens = await rt.call(api_tokens.list_tokens, **who)
        await ephemeral_reply(respond, ui.list_message(tokens))
    else:
        token = await rt.call(api_tokens.revoke_token, **who, label=parsed.text or "")
        await ephemeral_reply(respond, ui.revoked_text(token))
