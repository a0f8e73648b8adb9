"""Parsing failures pasted by a teammate: one per line, ``why it failed | the output or a link``."""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_FAILURES_PER_PASTE = 100
MAX_EXPLANATION_LENGTH = 1000
_URL = re.compile(r"<?(https?://[^\s|>]+)(?:\|[^>]*)?>?")
_BULLET = re.compile(r"^\s*(?:[-*•]|\d{1,3}[.)])\s+")
_SEPARATOR = re.compile(r"\s+\|\s+|\t")


@dataclass(frozen=True)
class ParsedFailure:
    explanation: str
    output: str | None = None
    permalink: str | None = None


def parse_failure_line(line: str) -> ParsedFailure | None:
    """``None`` for a blank line. A URL anywhere on the line becomes the permalink."""
    line = _BULLET.sub("", line).strip()
    if not line:
        return None
    explanation, _, extra = (part.strip() for part in _split_once(line))
    permalink = None
    for text in (extra, explanation):
        match = _URL.search(text)
        if match:
            permalink = match.group(1)
            if text is extra:
                extra = _URL.sub("", extra).strip()
            else:
                explanation = _URL.sub("", explanation).strip(" -–—:") or explanation
            break
    return ParsedFailure(
        explanation=explanation[:MAX_EXPLANATION_LENGTH],
        output=extra or None,
        permalink=permalink,
    )


def _split_once(line: str) -> tuple[str, str, str]:
    parts = _SEPARATOR.split(line, maxsplit=1)
    return (parts[0], "|", parts[1]) if len(parts) == 2 else (line, "", "")


def parse_failure_lines(text: str) -> list[ParsedFailure]:
    parsed = [parse_failure_line(line) for line in text.splitlines()]
    return [item for item in parsed if item is not None]
