"""Which cost assumptions changed, from what to what, in words for the record's history:
"queries per month 100,000 → 200,000; cost per labeled example $2–$8 → $3–$9". Pure."""

from __future__ import annotations

from dataclasses import dataclass

from bot.domain.cost_assumptions import (
    LABELS,
    OVERRIDE_KEYS,
    CostAssumptions,
    Range,
    format_number,
)

DOLLAR_KEYS = frozenset(
    key
    for key in OVERRIDE_KEYS
    if LABELS[key].unit.startswith("dollars") or key == "deployment_pipeline_setup"
)
"""Assumptions that are amounts of money, shown with "$"."""


@dataclass(frozen=True)
class AssumptionChange:
    key: str
    before: Range
    after: Range

    def words(self) -> str:
        label = LABELS[self.key].label
        name = label[0].lower() + label[1:]
        return f"{name} {_value(self.key, self.before)} → {_value(self.key, self.after)}"


def _value(key: str, r: Range) -> str:
    if key in DOLLAR_KEYS:
        return r.format()
    low, high = _number(r.low), _number(r.high)
    return low if low == high else f"{low}–{high}"


def _number(value: float) -> str:
    return f"{int(value):,}" if value == int(value) else format_number(value)


def assumption_changes(before: CostAssumptions, after: CostAssumptions) -> list[AssumptionChange]:
    """The assumptions whose value differs, in the cost table's order."""
    return [
        AssumptionChange(key, before.range(key), after.range(key))
        for key in OVERRIDE_KEYS
        if before.range(key) != after.range(key)
    ]


def describe_changes(changes: list[AssumptionChange]) -> str:
    return "; ".join(change.words() for change in changes)
