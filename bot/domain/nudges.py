"""When the evidence calls for a revisit nudge. Pure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bot.domain.questions import ANALYSIS_TARGET
from bot.domain.tallies import Tally, percent

NUDGE_MIN_ANALYSED = ANALYSIS_TARGET
"""Rule 1: at least this many failures analysed since the decision, with behavior > knowledge."""
SHARE_JUMP = 0.20
"""Rule 2: the behavioral share up at least this much (20 points) over the previous period."""
MIN_PERIOD_SAMPLE = 10
"""Rule 2 needs this many failures in each period, so two failures can't make a 50-point jump."""


@dataclass(frozen=True)
class Nudge:
    reasons: list[str]
    """What changed, in words, for the message."""
    evidence: dict[str, Any]
    """Stored in ``Decision.nudge_evidence``: the next nudge needs evidence beyond this."""


def _rule_majority(since: Tally) -> bool:
    return since.analysed >= NUDGE_MIN_ANALYSED and since.behavior > since.knowledge


def _rule_jump(current: Tally, previous: Tally) -> bool:
    if current.analysed < MIN_PERIOD_SAMPLE or previous.analysed < MIN_PERIOD_SAMPLE:
        return False
    assert current.behavior_share is not None and previous.behavior_share is not None
    return current.behavior_share - previous.behavior_share >= SHARE_JUMP - 1e-9


def _moved_further(since: Tally, period_start: str, jump: bool, last: dict[str, Any]) -> bool:
    """Evidence beyond the last nudge: 20 more failures analysed, the share up another 20
    points, or a fresh jump in a period the last nudge didn't cover."""
    if not last:
        return True
    share = since.behavior_share or 0.0
    if since.analysed >= int(last.get("analysed", 0)) + NUDGE_MIN_ANALYSED:
        return True
    if share - float(last.get("share", 0.0)) >= SHARE_JUMP - 1e-9:
        return True
    return jump and period_start != last.get("jump_period")


def evaluate_nudge(
    *,
    since_decision: Tally,
    current: Tally,
    previous: Tally,
    period_start: datetime,
    last: dict[str, Any],
    at: datetime,
) -> Nudge | None:
    """Whether to nudge the team to revisit.

    ``since_decision``: failures logged since the decision. ``current``/``previous``: this period
    (since the last review, or since the decision) and the one before it (for the first period,
    the failures the diagnostic was decided on). ``last``: the evidence of the last nudge.
    """
    majority = _rule_majority(since_decision)
    jump = _rule_jump(current, previous)
    if not (majority or jump):
        return None
    start = period_start.astimezone(UTC).isoformat()
    if not _moved_further(since_decision, start, jump, last):
        return None
    reasons = []
    if majority:
        reasons.append(
            f"{since_decision.analysed} failures analysed since the decision: "
            f"{since_decision.behavior} behavior, {since_decision.knowledge} knowledge, "
            f"{since_decision.unclear} unclear ({percent(since_decision.behavior_share)} "
            "behavioral). Behavior now outnumbers knowledge."
        )
    if jump:
        points = round(((current.behavior_share or 0) - (previous.behavior_share or 0)) * 100)
        reasons.append(
            f"The behavioral share is {percent(current.behavior_share)} this period, up "
            f"{points} points from {percent(previous.behavior_share)} in the previous one."
        )
    if last:
        reasons.append(
            f"At the last nudge it was {last.get('analysed', 0)} failures, "
            f"{percent(last.get('share'))} behavioral."
        )
    evidence = {
        **since_decision.as_dict(),
        "analysed": since_decision.analysed,
        "share": round(since_decision.behavior_share or 0.0, 4),
        "period": current.as_dict(),
        "previous": previous.as_dict(),
        "rules": [name for name, held in (("majority", majority), ("jump", jump)) if held],
        "jump_period": start if jump else last.get("jump_period"),
        "at": at.astimezone(UTC).isoformat(),
    }
    return Nudge(reasons=reasons, evidence=evidence)
