"""MADR 4.0: YAML front matter (status, date, decision-makers, consulted, informed, plus
ragft's own keys), then the title and MADR's sections. Pure."""

from __future__ import annotations

from bot.domain.adr_content import body, finish, status_section, title
from bot.domain.adr_facts import AdrFacts, yaml_string


def madr_status(facts: AdrFacts) -> str:
    if facts.superseded_by is not None:
        return f"superseded by ADR-{facts.superseded_by.id:04d}"
    return facts.status_word()


def _list(key: str, values: list[str]) -> list[str]:
    if not values:
        return [f"{key}: []"]
    return [f"{key}:", *(f"  - {yaml_string(v)}" for v in values)]


def front_matter(facts: AdrFacts) -> list[str]:
    r = facts.record
    out = [
        "---",
        f"status: {yaml_string(madr_status(facts))}",
        f"date: {facts.date}",
        *_list("decision-makers", facts.decision_makers()),
        *_list("consulted", facts.consulted()),
        *_list("informed", [facts.channel_label]),
        f"ragft-decision: {r.id}",
    ]
    if r.outcome:
        out.append(f"outcome: {yaml_string(r.outcome)}")
    if r.next_review_at and r.status == "decided":
        out.append(f"review-on: {r.next_review_at:%Y-%m-%d}")
    if facts.permalink:
        out.append(f"slack-thread: {yaml_string(facts.permalink)}")
    if facts.supersedes is not None:
        out.append(f"supersedes: {yaml_string(f'ADR-{facts.supersedes.id:04d}')}")
    return [*out, "---", ""]


def render_madr(facts: AdrFacts) -> str:
    status = madr_status(facts).capitalize()
    lines = [
        *front_matter(facts),
        f"# {title(facts)}",
        "",
        *status_section(facts, status),
        *body(facts),
    ]
    return finish(lines, facts)
