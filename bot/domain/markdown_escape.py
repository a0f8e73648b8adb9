"""Escaping user text for the exported Markdown record: whatever a person typed shows as text.

It can't start a heading, a list, a quote, a table row or a code block, can't add HTML, and
can't turn into a link it wasn't typed as (``[x](y)``, ``<url>``)."""

from __future__ import annotations

import re

_INLINE = re.compile(r"([\\`*_\[\]<>|~&!])")
"""Characters that mean something anywhere in a line; each gets a backslash."""
_LINE_START = re.compile(r"^(\s*)([#>+\-=])")
_ORDERED = re.compile(r"^(\s*\d+)([.)])")
"""What means something only at the start of a line: headings, quotes, lists, setext rules."""


def escape_inline(text: str) -> str:
    """One line of user text (a title, a name): newlines become spaces."""
    return _escape_line(" ".join(text.split()))


def escape_block(text: str) -> str:
    """A paragraph of user text (a reason, the context): its line breaks are kept."""
    lines = [_escape_line(line.strip()) for line in text.replace("\r\n", "\n").split("\n")]
    return "\n".join(lines).strip("\n")


def _escape_line(line: str) -> str:
    line = _INLINE.sub(r"\\\1", line)
    line = _LINE_START.sub(lambda m: f"{m.group(1)}\\{m.group(2)}", line)
    return _ORDERED.sub(lambda m: f"{m.group(1)}\\{m.group(2)}", line)
