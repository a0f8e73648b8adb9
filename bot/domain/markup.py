"""Slack message text to plain text.

Slack sends message and command text with ``&``, ``<`` and ``>`` encoded as entities, and with
mentions, channels and links as ``<…>`` markup. ragft stores what people typed, and escapes it
again only when it shows it (``handlers.ui.mrkdwn.safe``).
"""

from __future__ import annotations

import re

_USER_MENTION = re.compile(r"<@[UW][A-Z0-9]+(?:\|([^>]*))?>")
_CHANNEL_MENTION = re.compile(r"<#C[A-Z0-9]+(?:\|([^>]*))?>")
_SPECIAL_MENTION = re.compile(r"<!(here|channel|everyone)[^>]*>")
_SUBTEAM_MENTION = re.compile(r"<!subteam\^[A-Z0-9]+(?:\|([^>]*))?>")
_DATE = re.compile(r"<!date\^[^|>]*\|([^>]*)>")
_LINK = re.compile(r"<((?:https?|mailto):[^|>]+)(?:\|([^>]*))?>")


def unescape(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def to_plain(text: str, *, keep_urls: bool = True) -> str:
    """Resolve Slack markup (ids become "@someone" / "#name"), then decode the entities.

    Markup is resolved first, so a ``<`` the person typed (sent as ``&lt;``) stays text.
    With ``keep_urls`` a labelled link keeps its URL after the label.
    """
    text = _USER_MENTION.sub("@someone", text)
    text = _CHANNEL_MENTION.sub(lambda m: f"#{m.group(1) or 'channel'}", text)
    text = _SUBTEAM_MENTION.sub(lambda m: m.group(1) or "@team", text)
    text = _SPECIAL_MENTION.sub(lambda m: f"@{m.group(1)}", text)
    text = _DATE.sub(lambda m: m.group(1), text)

    def link(match: re.Match[str]) -> str:
        url, label = match.group(1), match.group(2)
        if not label or label == url:
            return url
        return f"{label} {url}" if keep_urls else label

    return unescape(_LINK.sub(link, text))
