"""Failure tallies and trends for reviews: counts per category, per quarter, and against the
previous period. Pure."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from bot.domain.questions import FailureCategory


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
