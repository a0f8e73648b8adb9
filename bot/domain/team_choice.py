"""The team's answer to a multiple-choice question, from teammates' individual answers.

The facilitator's settled answer wins. Otherwise the majority of current answers; a tie is
unresolved (unknown to the rule) and shown as a split.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class TeamChoice:
    value: str | None
    """What the engine sees: the settled answer, the majority, or None."""
    votes: dict[str, tuple[str, ...]]
    """Each chosen value and the users who chose it, most votes first."""
    settled: bool
    split: bool
    """Teammates chose more than one value."""
    tie: bool

    @property
    def voters(self) -> int:
        return sum(len(users) for users in self.votes.values())


def team_choice(answers: Mapping[str, str], settled: str | None = None) -> TeamChoice:
    """``answers`` maps user id to value, in the order the answers were given."""
    grouped: dict[str, list[str]] = {}
    for user, value in answers.items():
        grouped.setdefault(value, []).append(user)
    ordered = sorted(grouped.items(), key=lambda item: -len(item[1]))
    votes = {value: tuple(users) for value, users in ordered}
    counts = [len(users) for users in votes.values()]
    tie = len(counts) > 1 and counts[0] == counts[1]
    if settled is not None:
        value: str | None = settled
    elif votes and not tie:
        value = next(iter(votes))
    else:
        value = None
    return TeamChoice(
        value=value, votes=votes, settled=settled is not None, split=len(votes) > 1, tie=tie
    )


def split_summary(choice: TeamChoice, labels: Mapping[str, str]) -> str | None:
    """``Split: 2 say knowledge, 1 says behavior. Talk it through.`` or None when agreed."""
    if not choice.split:
        return None
    parts = [
        f"{len(users)} {'says' if len(users) == 1 else 'say'} {labels.get(value, value).lower()}"
        for value, users in choice.votes.items()
    ]
    if choice.settled:
        return f"Split: {', '.join(parts)}. The facilitator settled it."
    return f"Split: {', '.join(parts)}. Talk it through."
