"""The goals of issue 14 and how the bench's Markdown states them (bench/report.py and the
sections that render themselves)."""

from __future__ import annotations

ACK_P99_RATIO_GOAL = 1.25
ACK_DEADLINE = 3.0
CPU_RATIO_GOAL = 4.0
VISIBLE_GOAL = 1.5 * 0.2  # 1.5 x the fake Slack's 200 ms delay
SWEEP_GOAL = 1.0
NAMES = {"sqlite": "ragft (SQLite)", "postgres": "ragft (PostgreSQL)", "bare": "bare Bolt"}
Goal = tuple[str, str, bool]  # (goal, figure, met)


def ms(seconds: float | None) -> str:
    return "—" if seconds is None else f"{seconds * 1000:.1f}"


def verdict(met: bool) -> str:
    return "met" if met else "**missed**"


def goal_lines(goals: list[Goal]) -> list[str]:
    return [f"- {goal}: {figure}: {verdict(met)}" for goal, figure, met in goals]
