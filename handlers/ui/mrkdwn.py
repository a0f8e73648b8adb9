"""Making text safe and small enough for Slack."""

from __future__ import annotations

import re
from datetime import datetime

_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,20}$")

SECTION_TEXT = 3000
SECTION_FIELD = 2000
HEADER = 150
BUTTON = 75
OPTION = 75
MODAL_TITLE = 24
CONTEXT_TEXT = 3000
MESSAGE_BLOCKS = 50
MODAL_BLOCKS = 100


def escape(text: str) -> str:
    """Escape user text for mrkdwn so ``<!channel>`` or ``<@U1>`` can't ping anyone."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def fit(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def safe(text: str, limit: int) -> str:
    """Escaped and cut to fit, without cutting an escape sequence in half."""
    escaped = escape(text)
    if len(escaped) <= limit:
        return escaped
    cut = escaped[: limit - 1]
    amp = cut.rfind("&")
    if amp != -1 and ";" not in cut[amp:]:
        cut = cut[:amp]
    return cut.rstrip() + "…"


def mention(user_id: str | None) -> str:
    if not user_id:
        return "nobody"
    return f"<@{user_id}>" if _USER_ID.match(user_id) else escape(user_id)


def mentions(
    user_ids: list[str] | tuple[str, ...], limit: int = 100, chars: int | None = None
) -> str:
    """At most ``limit`` people, and (with ``chars``) no longer than that: the rest are
    counted ("and N more"), never cut off silently."""
    shown: list[str] = []
    length = 0
    for user in user_ids[:limit]:
        name = mention(user)
        rest = len(user_ids) - len(shown) - 1
        tail = len(f", and {rest} more") if rest else 0
        if chars is not None and length + len(name) + 2 + tail > chars:
            break
        shown.append(name)
        length += len(name) + 2
    if len(user_ids) > len(shown):
        shown.append(f"and {len(user_ids) - len(shown)} more")
    return ", ".join(shown)


def slack_date(moment: datetime, fallback_format: str = "%b %-d, %Y") -> str:
    """A date every reader sees in their own timezone."""
    return f"<!date^{int(moment.timestamp())}^{{date_short}}|{moment.strftime(fallback_format)}>"
