"""The ADR formats ragft exports (MADR, log4brains, adr-tools) and ``/ragft export``'s
arguments. Pure."""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum

from bot.domain.adr_facts import AdrFacts
from bot.domain.adr_log4brains import render_log4brains
from bot.domain.adr_madr import render_madr
from bot.domain.adr_nygard import render_nygard
from bot.domain.errors import UserError


class AdrFormat(StrEnum):
    MADR = "madr"
    LOG4BRAINS = "log4brains"
    ADR_TOOLS = "adr-tools"


DEFAULT_FORMAT = AdrFormat.MADR
FORMAT_LABELS: dict[AdrFormat, str] = {
    AdrFormat.MADR: "MADR 4.0",
    AdrFormat.LOG4BRAINS: "log4brains",
    AdrFormat.ADR_TOOLS: "adr-tools (Nygard)",
}
RENDERERS: dict[AdrFormat, Callable[[AdrFacts], str]] = {
    AdrFormat.MADR: render_madr,
    AdrFormat.LOG4BRAINS: render_log4brains,
    AdrFormat.ADR_TOOLS: render_nygard,
}
FORMAT_NAMES = ", ".join(f"`{f}`" for f in AdrFormat)


def render_adr(facts: AdrFacts, adr_format: AdrFormat = DEFAULT_FORMAT) -> str:
    return RENDERERS[adr_format](facts)


def parse_format(word: str) -> AdrFormat | None:
    try:
        return AdrFormat(word.strip().lower())
    except ValueError:
        return None


def parse_export(rest: str, decision_ref: Callable[[str], int | None]) -> tuple[int | None, str]:
    """``[id] [format]``, in either order: the decision id (or None) and the format."""
    decision_id: int | None = None
    adr_format: AdrFormat | None = None
    for word in rest.split():
        ref = decision_ref(word)
        found = parse_format(word)
        if ref is not None and decision_id is None:
            decision_id = ref
        elif found is not None and adr_format is None:
            adr_format = found
        else:
            raise UserError(
                f"`{word}` isn't a decision number or an export format. Use "
                f"`/ragft export [id] [format]`, where the format is {FORMAT_NAMES} "
                f"(default `{DEFAULT_FORMAT}`)."
            )
    return decision_id, str(adr_format or DEFAULT_FORMAT)
