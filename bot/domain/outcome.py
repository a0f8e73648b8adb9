"""The team's outcome on record, in words: what the team chose leads, the rule's verdict
follows it. Pure."""

from __future__ import annotations

from collections.abc import Sequence

from bot.domain.errors import UserError
from bot.domain.questions import VERDICT_LABELS, Verdict
from bot.domain.wording import join

OUTCOME_LABELS: dict[Verdict, str] = {
    Verdict.RAG: "RAG",
    Verdict.FINE_TUNING: "Fine-tuning",
    Verdict.HYBRID: "Hybrid",
}
"""The choices a team can make (``decision_snapshot.OUTCOMES``)."""

FOLLOW_UP_DAYS = 14
"""Deciding on "not ready" schedules a follow-up for the facilitator this many days later."""


def outcome_of(choice: object) -> Verdict:
    """A team's choice from a payload: RAG, fine-tuning or hybrid; never "not ready"."""
    try:
        outcome = Verdict(str(choice))
    except ValueError:
        raise UserError(f"`{choice}` isn't a choice.") from None
    if outcome not in OUTCOME_LABELS:
        raise UserError(
            "\u201cNot ready\u201d isn't a choice the team can make: it means the failures "
            "can't be explained yet. Pick RAG, fine-tuning or hybrid."
        )
    return outcome


def outcome_label(outcome: str | None) -> str:
    if not outcome:
        return "no outcome"
    verdict = Verdict(outcome)
    return OUTCOME_LABELS.get(verdict, VERDICT_LABELS[verdict])


def outcome_phrase(outcome: str, verdict: str | None, reason: str | None = None) -> str:
    """``Hybrid (the rule said Start with RAG: <the team's reason>)``, or ``RAG (the rule's
    verdict)`` when the team took the rule's verdict. Plain text: escape it for the medium."""
    if verdict is None or outcome == verdict:
        return f"{outcome_label(outcome)} (the rule's verdict)"
    said = VERDICT_LABELS[Verdict(verdict)]
    because = f": {reason}" if reason else ""
    return f"{outcome_label(outcome)} (the rule said {said}{because})"


def outcome_headline(outcome: str, verdict: str | None, reason: str | None = None) -> str:
    """``Decision: Hybrid (the rule said Start with RAG)``."""
    return f"Decision: {outcome_phrase(outcome, verdict, reason)}"


def unanswered_line(numbers: Sequence[int]) -> str | None:
    """``Q3 and Q4 are unanswered; decide anyway?`` (None when all are answered)."""
    if not numbers:
        return None
    names = [f"Q{n}" for n in numbers]
    verb = "is" if len(names) == 1 else "are"
    return f"{join(names, 'and')} {verb} unanswered; decide anyway?"
