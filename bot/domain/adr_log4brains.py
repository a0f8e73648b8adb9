"""log4brains: no front matter; the H1, then the metadata as a bullet list before the first H2
(``- Status:``, ``- Date:``, ``- Deciders:``, ``- Tags:``), where log4brains reads it. Pure."""

from __future__ import annotations

from bot.domain.adr_content import body, finish, names, status_section, title
from bot.domain.adr_facts import AdrFacts

TAGS = "ragft rag-or-fine-tuning"


def log4brains_status(facts: AdrFacts) -> str:
    """A superseded record links the newer one by its slug, as log4brains resolves it."""
    newer = facts.superseded_by
    if newer is not None:
        return f"superseded by [{newer.stem}]({newer.file_name})"
    return facts.status_word()


def render_log4brains(facts: AdrFacts) -> str:
    outcome = facts.record.outcome
    tags = TAGS + (f" {outcome.replace('_', '-')}" if outcome else "")
    lines = [
        f"# {title(facts)}",
        "",
        f"- Status: {log4brains_status(facts)}",
        f"- Date: {facts.date}",
        # log4brains splits Deciders on commas: a comma inside a name would make two people.
        f"- Deciders: {names(facts, facts.decision_makers(), comma_free=True)}",
        f"- Tags: {tags}",
        "",
        *status_section(facts, facts.status_word().capitalize()),
        *body(facts),
    ]
    return finish(lines, facts)
