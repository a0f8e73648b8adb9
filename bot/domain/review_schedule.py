"""The routine after a decision, as pure functions: when reviews land, tallies and trends, and
when the evidence calls for a revisit nudge. No I/O; every function takes the time it needs.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.domain.questions import ANALYSIS_TARGET, FailureCategory

REVIEW_HOUR = 10
SNOOZE_DAYS = 7
NUDGE_MIN_ANALYSED = ANALYSIS_TARGET
"""Rule 1: at least this many failures analysed since the decision, with behavior > knowledge."""
SHARE_JUMP = 0.20
"""Rule 2: the behavioral share up at least this much (20 points) over the previous period."""
MIN_PERIOD_SAMPLE = 10
"""Rule 2 needs this many failures in each period, so two failures can't make a 50-point jump."""


# When reviews land -------------------------------------------------------------------------------


def zone(tz: str | None) -> ZoneInfo:
    """The user's timezone from users.info, or UTC when it's missing or unknown."""
    if tz:
        try:
            return ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return ZoneInfo("UTC")


def _weekday(day: date) -> date:
    while day.weekday() >= 5:  # Saturday, Sunday → Monday
        day += timedelta(days=1)
    return day


def _at_ten(day: date, where: ZoneInfo) -> datetime:
    return datetime.combine(day, time(REVIEW_HOUR), tzinfo=where).astimezone(UTC)


def review_due(after: datetime, days: int, tz: str | None) -> datetime:
    """``days`` after ``after``, on that local day at 10:00 in ``tz``; a weekend moves to Monday.

    The local day decides, so a decision made at 3am still gets its review at 10:00.
    """
    where = zone(tz)
    day = _weekday((after + timedelta(days=days)).astimezone(where).date())
    return _at_ten(day, where)


def next_slot(after: datetime, tz: str | None) -> datetime:
    """The first weekday 10:00 in ``tz`` at or after ``after``."""
    where = zone(tz)
    day = after.astimezone(where).date()
    while True:
        day = _weekday(day)
        slot = _at_ten(day, where)
        if slot >= after:
            return slot
        day += timedelta(days=1)


# Tallies -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Tally:
    knowledge: int = 0
    behavior: int = 0
    unclear: int = 0

    @classmethod
    def of(cls, categories: Iterable[str]) -> Tally:
        counts = {c: 0 for c in FailureCategory}
        for category in categories:
            counts[FailureCategory(category)] += 1
        return cls(
            counts[FailureCategory.KNOWLEDGE],
            counts[FailureCategory.BEHAVIOR],
            counts[FailureCategory.UNCLEAR],
        )

    @property
    def analysed(self) -> int:
        return self.knowledge + self.behavior + self.unclear

    @property
    def behavior_share(self) -> float | None:
        return self.behavior / self.analysed if self.analysed else None

    def as_dict(self) -> dict[str, int]:
        return {"knowledge": self.knowledge, "behavior": self.behavior, "unclear": self.unclear}


def percent(share: float | None) -> str:
    return "n/a" if share is None else f"{round(share * 100)}%"


def _delta(now: int, before: int) -> str:
    if now == before:
        return "±0"
    return f"{'▲' if now > before else '▼'}{abs(now - before)}"


def trend_line(current: Tally, previous: Tally) -> str:
    """``Knowledge 4 (▲2) · Behavior 7 (▲5) · Unclear 1 (±0)``: this period against the last."""
    parts = [
        f"*{name.capitalize()}* {getattr(current, name)} "
        f"({_delta(getattr(current, name), getattr(previous, name))})"
        for name in ("knowledge", "behavior", "unclear")
    ]
    return " · ".join(parts)


def quarter_of(moment: datetime) -> str:
    moment = moment.astimezone(UTC)
    return f"{moment.year} Q{(moment.month - 1) // 3 + 1}"


def per_quarter(failures: Iterable[tuple[datetime, str]]) -> list[tuple[str, Tally]]:
    """Failures grouped by calendar quarter (UTC), oldest first, with empty quarters filled in."""
    by_quarter: dict[tuple[int, int], list[str]] = {}
    for logged_at, category in failures:
        moment = logged_at.astimezone(UTC)
        by_quarter.setdefault((moment.year, (moment.month - 1) // 3), []).append(category)
    if not by_quarter:
        return []
    first, last = min(by_quarter), max(by_quarter)
    result = []
    year, q = first
    while (year, q) <= last:
        result.append((f"{year} Q{q + 1}", Tally.of(by_quarter.get((year, q), []))))
        year, q = (year + 1, 0) if q == 3 else (year, q + 1)
    return result


def quarters_text(quarters: list[tuple[str, Tally]]) -> str:
    """The chart's text fallback, one line per quarter."""
    if not quarters:
        return "No failures logged yet."
    return "\n".join(
        f"{label}: knowledge {t.knowledge} · behavior {t.behavior} · unclear {t.unclear} "
        f"({percent(t.behavior_share)} behavioral)"
        for label, t in quarters
    )


# Revisit nudges ----------------------------------------------------------------------------------


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
