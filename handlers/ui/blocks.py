"""Block Kit helpers shared by every message and modal.

The helpers build Block Kit as plain dicts, exactly what slack_sdk's models would render (the
fake Slack in the tests validates every block with those models): building the model objects
and rendering them cost most of a message's CPU. Modules that still build slack_sdk models may
mix them in; ``as_dicts`` renders those."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from slack_sdk.models.blocks import Block

from bot.domain.rule import CONDITION_LABELS, ConditionResult
from handlers.ui.mrkdwn import BUTTON, MESSAGE_BLOCKS, SECTION_TEXT, fit, safe

BlockDict = dict[str, Any]
"""A Block Kit block (or element, or text object) as Slack's JSON."""


@dataclass(frozen=True)
class Message:
    text: str
    """Notification and screen-reader fallback."""
    blocks: list[dict[str, Any]]


def as_dicts(blocks: Iterable[Block | BlockDict]) -> list[BlockDict]:
    return [block if isinstance(block, dict) else block.to_dict() for block in blocks]


def render(text: str, blocks: list[Block | BlockDict]) -> Message:
    if len(blocks) > MESSAGE_BLOCKS:
        raise ValueError(f"{len(blocks)} blocks; Slack allows {MESSAGE_BLOCKS} per message")
    return Message(text=fit(text, 3000), blocks=as_dicts(blocks))


def plain(text: str) -> BlockDict:
    """A plain_text object, as slack_sdk renders a string given for one."""
    return {"type": "plain_text", "text": text, "emoji": True}


def md(text: str) -> BlockDict:
    return {"type": "mrkdwn", "text": fit(text, SECTION_TEXT)}


def section(
    text: str, *, block_id: str | None = None, accessory: Block | BlockDict | None = None
) -> BlockDict:
    block: BlockDict = {"type": "section", "text": md(text)}
    if block_id is not None:
        block["block_id"] = block_id
    if accessory is not None:
        block["accessory"] = accessory if isinstance(accessory, dict) else accessory.to_dict()
    return block


def context(text: str) -> BlockDict:
    return {"type": "context", "elements": [md(text)]}


def header(text: str) -> BlockDict:
    return {"type": "header", "text": plain(text)}


def divider() -> BlockDict:
    return {"type": "divider"}


def actions(block_id: str, elements: list[BlockDict]) -> BlockDict:
    block: BlockDict = {"type": "actions", "block_id": block_id}
    if elements:
        block["elements"] = elements
    return block


def button(text: str, action: str, value: str, style: str | None = None) -> BlockDict:
    element: BlockDict = {
        "type": "button",
        "text": plain(fit(text, BUTTON)),
        "action_id": action,
        "value": value,
    }
    if style is not None:
        element["style"] = style
    return element


def option(text: str, value: str) -> BlockDict:
    return {"text": plain(text), "value": value}


def static_select(placeholder: str, action: str, options: list[BlockDict]) -> BlockDict:
    return {
        "type": "static_select",
        "placeholder": plain(placeholder),
        "action_id": action,
        "options": options,
    }


def user_select(placeholder: str, action: str, initial_user: str | None = None) -> BlockDict:
    element: BlockDict = {
        "type": "users_select",
        "placeholder": plain(placeholder),
        "action_id": action,
    }
    if initial_user:
        element["initial_user"] = initial_user
    return element


MARKS = {True: "✅", False: "❌", None: "❔"}


def condition_line(result: ConditionResult) -> str:
    mark = MARKS[result.holds] if result.known else MARKS[None]
    return f"{mark} *{CONDITION_LABELS[result.condition]}*: {safe(result.why, 300)}"
