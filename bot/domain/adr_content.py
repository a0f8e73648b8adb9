"""The sections every ADR format shares, written from the frozen record: Status, Context and
Problem Statement, Decision Drivers, Considered Options, Decision Outcome, Consequences,
Confirmation, Pros and Cons of the Options and More Information. Pure; user text is escaped,
people are names."""

from __future__ import annotations

import re

from bot.domain.adr_facts import MARKER, AdrFacts, AdrRef
from bot.domain.cost_table import costs_markdown
from bot.domain.costs import CostPath, PathCost
from bot.domain.decision_snapshot import AmendmentKind
from bot.domain.lifecycle import DecisionStatus
from bot.domain.markdown_escape import escape_block, escape_inline
from bot.domain.nudges import MIN_PERIOD_SAMPLE, NUDGE_MIN_ANALYSED, SHARE_JUMP
from bot.domain.outcome import outcome_label
from bot.domain.questions import (
    ANSWER_LABELS,
    ANSWER_MESSAGE,
    CHOICE_LABELS,
    OWNER_ROLE_LABELS,
    QUESTIONS,
    REQUIRED_OWNER_ROLES,
    VERDICT_LABELS,
    QuestionKey,
    Verdict,
)
from bot.domain.rule import CONDITION_LABELS, Condition, ConditionResult

FRAMEWORK_TESTS: dict[QuestionKey, str] = {
    QuestionKey.PROBLEM_TYPE: (
        "The perfect-context test: paste the facts the model needs straight into the prompt; "
        "if it then answers right it is a knowledge problem, which retrieval fixes, and if it "
        "is still wrong it is a behavior problem, where prompt engineering comes before "
        "fine-tuning."
    ),
    QuestionKey.KNOWLEDGE_CHANGE: (
        "Knowledge that changes weekly or faster means RAG: fine-tuning on data that is stale "
        "in a month is a maintenance trap."
    ),
    QuestionKey.FAILURES: (
        "Read 20–30 failing outputs and say why each failed: “didn't know X” points to "
        "retrieval, “wrong tone or format” to behavior, and failures nobody can explain mean "
        "the team is not ready to decide."
    ),
    QuestionKey.OWNERS: (
        "Fine-tuning needs thousands of labeled examples and someone accountable for every "
        "model version shipped: an empty role is a gap, not a detail."
    ),
}

OPTIONS: dict[Verdict, str] = {
    Verdict.RAG: (
        "Retrieval-augmented generation: fetch the current knowledge at query time and put it "
        "in the prompt."
    ),
    Verdict.FINE_TUNING: "Train the model on labeled examples of the behavior wanted.",
    Verdict.HYBRID: "Fine-tune for behavior, retrieve knowledge.",
}
OPTION_PATHS = {
    Verdict.RAG: CostPath.RAG,
    Verdict.FINE_TUNING: CostPath.FINE_TUNING,
    Verdict.HYBRID: CostPath.HYBRID,
}
WANTS: dict[Verdict, dict[Condition, bool]] = {
    Verdict.RAG: {
        Condition.FAILS_WITH_PERFECT_CONTEXT: False,
        Condition.BEHAVIORAL_FAILURES_PROVEN: False,
    },
    Verdict.FINE_TUNING: {
        Condition.FAILS_WITH_PERFECT_CONTEXT: True,
        Condition.BEHAVIORAL_FAILURES_PROVEN: True,
        Condition.TEAM_CAN_OWN_FINE_TUNING: True,
    },
    Verdict.HYBRID: {
        Condition.BEHAVIORAL_FAILURES_PROVEN: True,
        Condition.TEAM_CAN_OWN_FINE_TUNING: True,
    },
}
"""What each option needs of the rule's three conditions to be the right one."""
_SAFE_URL = re.compile(r"^https://[^\s<>()\[\]\"'`]+$")


def inline(value: str) -> str:
    """User text inside a sentence: escaped as in the middle of a line (a channel's ``#`` or a
    name's leading ``-`` means nothing there)."""
    return escape_inline("x" + " ".join(value.split()))[1:]


def text(facts: AdrFacts, value: str) -> str:
    return escape_inline(facts.people.humanize(value))


def block(facts: AdrFacts, value: str) -> str:
    return escape_block(facts.people.humanize(value))


def title(facts: AdrFacts) -> str:
    return text(facts, facts.record.title)


def names(facts: AdrFacts, names_: list[str], *, comma_free: bool = False) -> str:
    shown = [" ".join(n.replace(",", " ").split()) if comma_free else n for n in names_]
    return ", ".join(inline(n) for n in shown) or "nobody"


def person(facts: AdrFacts, user_id: str | None) -> str:
    return inline(facts.people.name(user_id))


def link_text(facts: AdrFacts, ref: AdrRef, numbered: bool) -> str:
    """A linked record's title; adr-tools writes it as ``N. Title``."""
    return f"{ref.id}. {text(facts, ref.title)}" if numbered else text(facts, ref.title)


def status_section(facts: AdrFacts, word: str, numbered: bool = False) -> list[str]:
    """``## Status``: the status, then the supersede links adr-tools reads, both ways."""
    out = ["## Status", ""]
    newer, older = facts.superseded_by, facts.supersedes
    if newer is not None:
        out += [f"Superseded by [{link_text(facts, newer, numbered)}]({newer.file_name})", ""]
    else:
        out += [word, ""]
    if older is not None:
        out += [f"Supersedes [{link_text(facts, older, numbered)}]({older.file_name})", ""]
    return out


def context_section(facts: AdrFacts) -> list[str]:
    r = facts.record
    out = ["## Context and Problem Statement", ""]
    if r.context_summary:
        out += [block(facts, r.context_summary), ""]
    out.append(
        f"Should “{title(facts)}” use retrieval (RAG), fine-tuning, or both? "
        f"{person(facts, r.facilitator_id)} started decision #{r.id} in "
        f"{inline(facts.channel_label)} on {r.created_at:%Y-%m-%d}, and the team answered "
        "ragft's four questions."
    )
    return [*out, ""]


def _votes(facts: AdrFacts, key) -> str:
    labels = CHOICE_LABELS[key]
    choice = facts.record.choices[key]
    given = [
        f"{labels.get(value, value)} ({names(facts, facts.people.names(users))})"
        for value, users in choice.votes.items()
    ]
    line = f"{ANSWER_LABELS[key]}: " + ("; ".join(given) if given else "no answers")
    if choice.value is not None:
        how = "settled by the facilitator" if choice.settled else "majority"
        line += f". Team answer: **{labels[choice.value]}** ({how})"
    elif choice.tie:
        line += ". Team answer: unresolved (split)"
    return line + "."


def drivers_section(facts: AdrFacts) -> list[str]:
    r = facts.record
    out = ["## Decision Drivers", ""]
    for question in QUESTIONS:
        out.append(f"- **Q{question.number}. {question.title}** {FRAMEWORK_TESTS[question.key]}")
        for key in CHOICE_LABELS:
            if ANSWER_MESSAGE[key] == question.key:
                out.append(f"  - {_votes(facts, key)}")
        if question.key == QuestionKey.FAILURES:
            f = r.failures
            out.append(
                f"  - {f.analysed} failures explained at the decision: {f.knowledge} knowledge, "
                f"{f.behavior} behavior, {f.unclear} unclear."
            )
            for mode in r.failure_modes:
                out.append(
                    f"  - Failure mode “{text(facts, mode.label)}”: {mode.count} failures, "
                    f"{mode.category}."
                )
        elif question.key == QuestionKey.OWNERS:
            for role, label in OWNER_ROLE_LABELS.items():
                owner = r.owners.get(role)
                gap = " (a gap)" if role in REQUIRED_OWNER_ROLES and not owner else ""
                out.append(f"  - {label}: {person(facts, owner)}{gap}.")
            count = f"{r.labeled_examples:,}" if r.labeled_examples is not None else "unknown"
            by = f" (from {person(facts, r.labeled_examples_by)})" if r.labeled_examples_by else ""
            out.append(f"  - High-quality labeled examples: {count}{by}.")
    return [*out, ""]


def options_section() -> list[str]:
    out = ["## Considered Options", ""]
    out += [f"- {outcome_label(option)}: {about}" for option, about in OPTIONS.items()]
    return [*out, ""]


def _condition_words(condition: ConditionResult) -> str:
    state = "yes" if condition.holds else ("no" if condition.known else "unknown")
    return f"{CONDITION_LABELS[condition.condition].lower()}: {state} ({condition.why})"


def outcome_section(facts: AdrFacts) -> list[str]:
    r = facts.record
    rec = r.recommendation
    because = "; ".join(_condition_words(c) for c in rec.conditions)
    out = ["## Decision Outcome", ""]
    if r.outcome:
        out.append(f"Chosen option: “{outcome_label(r.outcome)}”, because {because}.")
        if r.verdict and r.outcome != r.verdict:
            said = VERDICT_LABELS[Verdict(r.verdict)]
            out += ["", f"The rule said “{said}”; the team chose {outcome_label(r.outcome)}."]
            if r.final_choice_reason:
                out += ["", f"Why: {block(facts, r.final_choice_reason)}"]
        elif r.final_choice:
            out += ["", "The facilitator accepted the rule's verdict."]
    elif r.status == DecisionStatus.OPEN:
        out.append(
            f"No option chosen yet: the decision is open. The rule says "
            f"“{VERDICT_LABELS[rec.verdict]}” so far, because {because}."
        )
    else:
        out.append(f"No option was chosen: the decision was {r.status}.")
    return [*out, ""]


def _fit(option: Verdict, conditions: tuple[ConditionResult, ...]) -> list[str]:
    out = []
    for c in conditions:
        wanted = WANTS[option].get(c.condition)
        if wanted is None:
            continue
        label = f"“{CONDITION_LABELS[c.condition]}”"
        if not c.known:
            out.append(f"Neutral, because whether {label} is not known yet: {c.why}")
        elif c.holds == wanted:
            out.append(f"Good, because {label} is {'true' if c.holds else 'false'}: {c.why}")
        else:
            out.append(f"Bad, because {label} is {'true' if c.holds else 'false'}: {c.why}")
    return out


def _cost_line(path: PathCost) -> str:
    return (
        f"Full cost: {path.year_one.format()} in year one, {path.three_years.format()} over "
        "three years"
    )


def _share_line(path: PathCost) -> list[str]:
    if path.addresses_share is None:
        return []
    share = round(path.addresses_share * 100)
    line = f"Good, because it addresses {share}% of the failures logged"
    if path.cost_per_addressed_failure is not None:
        line += f" ({path.cost_per_addressed_failure.format()} per addressed failure)"
    out = [line]
    if share < 100:
        out.append(f"Bad, because {100 - share}% of the failures logged are left unaddressed")
    return out


def consequences_section(facts: AdrFacts) -> list[str]:
    r = facts.record
    out = ["## Consequences", ""]
    if not r.outcome:
        return [*out, "None yet: no option was chosen.", ""]
    option = Verdict(r.outcome)
    path = next(p for p in r.costs.paths if p.path == OPTION_PATHS[option])
    lines = _fit(option, r.recommendation.conditions) + _share_line(path)
    cost = f"{path.year_one.format()} in year one and {path.three_years.format()} over three years"
    lines.append(f"Bad, because it costs {cost}")
    return out + [f"- {line}." for line in lines] + [""]


def confirmation_section(facts: AdrFacts) -> list[str]:
    r = facts.record
    f = r.failures
    failures = (
        f"Failures are logged against decision #{r.id} in Slack, with `/ragft log {r.id} <why it "
        "failed>` or the “Log AI failure” message shortcut, and read in ragft's error analysis. "
        f"At the decision: {f.analysed} ({f.knowledge} knowledge, {f.behavior} behavior, "
        f"{f.unclear} unclear)."
    )
    if r.since_decision is not None:
        s = r.since_decision
        failures += (
            f" Since the decision: {s.analysed} more ({s.knowledge} knowledge, {s.behavior} "
            f"behavior, {s.unclear} unclear)."
        )
    if r.status == DecisionStatus.DECIDED:
        next_review = f"{r.next_review_at:%Y-%m-%d}" if r.next_review_at else "not scheduled"
        review = (
            f"The decision is reviewed in its thread every {facts.review_cadence_days} days; "
            f"next review: {next_review}."
        )
    else:
        review = f"Reviews run while the decision is in force; it is {r.status}."
    nudge = (
        f"ragft nudges a revisit when at least {NUDGE_MIN_ANALYSED} failures were analysed since "
        "the decision and behavior failures outnumber knowledge ones, or when the behavioral "
        f"share rises {round(SHARE_JUMP * 100)} points from one period to the next (with at "
        f"least {MIN_PERIOD_SAMPLE} failures in each)."
    )
    return ["## Confirmation", "", f"- {failures}", f"- {review}", f"- {nudge}", ""]


def pros_and_cons_section(facts: AdrFacts) -> list[str]:
    r = facts.record
    out = ["## Pros and Cons of the Options", ""]
    for option, about in OPTIONS.items():
        path = next(p for p in r.costs.paths if p.path == OPTION_PATHS[option])
        out += [f"### {outcome_label(option)}", "", about, ""]
        lines = _fit(option, r.recommendation.conditions) + _share_line(path)
        out += [f"- {line}." for line in lines]
        out.append(f"- {_cost_line(path)}:")
        out += [f"  - {line.name}: {line.year_one.format()} in year one" for line in path.lines]
        out.append("")
    return out + costs_markdown(r.costs, heading="###") + [""]


def _chain(facts: AdrFacts, numbered: bool) -> str:
    parts = []
    for ref in facts.chain:
        if ref.id == facts.record.id:
            parts.append(f"**{link_text(facts, ref, numbered)}** (this record)")
        else:
            parts.append(f"[{link_text(facts, ref, numbered)}]({ref.file_name})")
    return " → ".join(parts)


def more_information_section(facts: AdrFacts, numbered: bool) -> list[str]:
    r = facts.record
    out = ["## More Information", ""]
    decided = (
        f"; decided {r.decided_at:%Y-%m-%d} by {person(facts, r.decided_by)}"
        if r.decided_at
        else ""
    )
    out.append(
        f"- Decision #{r.id} in ragft: started {r.created_at:%Y-%m-%d} by "
        f"{person(facts, r.facilitator_id)}{decided}."
    )
    if r.amendments:
        out.append("- Amendments:")
        for a in r.amendments:
            if a.kind == AmendmentKind.COSTS:
                out.append(
                    f"  - Costs amended by {person(facts, a.amended_by)} on "
                    f"{a.amended_at:%Y-%m-%d}: {text(facts, a.reason).rstrip('.')}."
                )
                continue
            out.append(
                f"  - {a.amended_at:%Y-%m-%d} by {person(facts, a.amended_by)}: "
                f"{outcome_label(a.from_outcome)} → {outcome_label(a.to_outcome)}. "
                f"Why: {text(facts, a.reason)}"
            )
    reviewed = f"{facts.last_reviewed_at:%Y-%m-%d}" if facts.last_reviewed_at else "not yet"
    next_review = f"{r.next_review_at:%Y-%m-%d}" if r.next_review_at else "none scheduled"
    out.append(f"- Reviews: last reviewed {reviewed}; next review {next_review}.")
    if facts.permalink and _SAFE_URL.match(facts.permalink):
        out.append(f"- Slack thread: [the decision's thread]({facts.permalink})")
    if len(facts.chain) > 1:
        out.append(f"- Supersede chain: {_chain(facts, numbered)}")
    out.append(
        "- People are written by their Slack display names; “teammate N” stands for someone "
        "Slack could not name when this file was exported."
    )
    return [*out, ""]


def body(facts: AdrFacts, numbered: bool = False) -> list[str]:
    """Every section after Status, in MADR's order."""
    return [
        *context_section(facts),
        *drivers_section(facts),
        *options_section(),
        *outcome_section(facts),
        *consequences_section(facts),
        *confirmation_section(facts),
        *pros_and_cons_section(facts),
        *more_information_section(facts, numbered),
    ]


def finish(lines: list[str], facts: AdrFacts) -> str:
    return "\n".join([*lines, MARKER.format(id=facts.record.id), ""])
