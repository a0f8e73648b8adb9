"""Michael Nygard's layout, as adr-tools writes and reads it: ``# N. Title`` on line 1 (the
title adr-tools shows), ``Date:``, then ``## Status`` with its Supersedes / Superseded by
links, Context, Decision and Consequences. Pure."""

from __future__ import annotations

from bot.domain.adr_content import body, finish, status_section, title
from bot.domain.adr_facts import AdrFacts

NYGARD_HEADINGS = {
    "## Context and Problem Statement": "## Context",
    "## Decision Outcome": "## Decision",
}


def render_nygard(facts: AdrFacts) -> str:
    sections = [NYGARD_HEADINGS.get(line, line) for line in body(facts, numbered=True)]
    lines = [
        f"# {facts.record.id}. {title(facts)}",
        "",
        f"Date: {facts.date}",
        "",
        *status_section(facts, facts.status_word().capitalize(), numbered=True),
        *sections,
    ]
    return finish(lines, facts)
