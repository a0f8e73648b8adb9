"""Block Kit helpers shared by every message and modal."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from slack_sdk.models.blocks import (
    Block,
    ButtonElement,
    ContextBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.domain.rule import CONDITION_LABELS, ConditionResult
from handlers.ui.mrkdwn import BUTTON, MESSAGE_BLOCKS, SECTION_TEXT, fit, safe


@dataclass(frozen=True)
class Message:
    text: str
    """Notification and screen-reader fallback."""
    blocks: list[dict[str, Any]]


def render(text: str, blocks: list[Block]) -> Message:
    if len(blocks) > MESSAGE_BLOCKS:
        raise ValueError(f"{len(blocks)} blocks; Slack allows {MESSAGE_BLOCKS} per message")
    return Message(text=fit(text, 3000), blocks=[block.to_dict() for block in blocks])


def md(text: str) -> MarkdownTextObject:
    return MarkdownTextObject(text=fit(text, SECTION_TEXT))


def section(text: str, **kwargs: Any) -> SectionBlock:
    return SectionBlock(text=md(text), **kwargs)


def context(text: str) -> ContextBlock:
    return ContextBlock(elements=[md(text)])


def button(text: str, action: str, value: str, style: str | None = None) -> ButtonElement:
    return ButtonElement(text=fit(text, BUTTON), action_id=action, value=value, style=style)


MARKS = {True: "✅", False: "❌", None: "❔"}


def condition_line(result: ConditionResult) -> str:
    mark = MARKS[result.holds] if result.known else MARKS[None]
    return f"{mark} *{CONDITION_LABELS[result.condition]}*: {safe(result.why, 300)}"
