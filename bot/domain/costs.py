"""The cost model: rough first-year costs of RAG, fine-tuning and hybrid.

Pure arithmetic on visible, overridable assumptions. The defaults follow the framework:
10k labeled examples cost about $20k–$80k; running RAG costs about $2k–$5k a month.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from typing import Any

NOTES: tuple[str, ...] = (
    "Fine-tuning covers labeling only; training and hosting compute are not included.",
    "Hybrid is labeling plus running RAG.",
)

_INT_FIELDS = ("examples_needed", "months", "examples_available")
_LOW_HIGH = (("label_cost_low", "label_cost_high"), ("rag_monthly_low", "rag_monthly_high"))


@dataclass(frozen=True)
class CostAssumptions:
    examples_needed: int = 10_000
    label_cost_low: float = 2.0
    """Dollars per labeled example, low end."""
    label_cost_high: float = 8.0
    rag_monthly_low: float = 2_000.0
    rag_monthly_high: float = 5_000.0
    months: int = 12
    examples_available: int = 0
    """Labeled examples the team already has; they reduce what must be labeled."""

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            kind = int if f.name in _INT_FIELDS else (int, float)
            if isinstance(value, bool) or not isinstance(value, kind):
                expected = "a whole number" if f.name in _INT_FIELDS else "a number"
                raise ValueError(f"{f.name}: must be {expected} (got {value!r})")
            if not math.isfinite(value) or value < 0:
                raise ValueError(f"{f.name}: must be zero or more (got {value!r})")
        for low, high in _LOW_HIGH:
            if getattr(self, low) > getattr(self, high):
                raise ValueError(
                    f"{low}: must not exceed {high} "
                    f"(got {getattr(self, low)!r} > {getattr(self, high)!r})"
                )

    @property
    def examples_to_label(self) -> int:
        return max(0, self.examples_needed - self.examples_available)


def format_dollars(amount: float) -> str:
    """Short dollar amount: "$0", "$2.50", "$750", "$4.5k", "$20k", "$120k", "$1.2M"."""
    if amount < 100 and amount != int(amount):
        return f"${amount:.2f}"
    if amount < 999.5:
        return f"${amount:,.0f}"
    if amount < 999_500:
        value, suffix = amount / 1_000, "k"
    else:
        value, suffix = amount / 1_000_000, "M"
    text = f"{value:.1f}" if value < 99.95 else f"{value:,.0f}"
    return f"${text.removesuffix('.0')}{suffix}"


@dataclass(frozen=True)
class Range:
    low: float
    high: float

    def __add__(self, other: Range) -> Range:
        return Range(self.low + other.low, self.high + other.high)

    def format(self) -> str:
        low, high = format_dollars(self.low), format_dollars(self.high)
        return low if low == high else f"{low}–{high}"

    def to_dict(self) -> dict[str, Any]:
        return {"low": self.low, "high": self.high, "text": self.format()}


@dataclass(frozen=True)
class CostEstimate:
    assumptions: CostAssumptions
    labeling: Range
    rag_running: Range
    fine_tuning_first_year: Range
    rag_first_year: Range
    hybrid_first_year: Range

    def to_dict(self) -> dict[str, Any]:
        return {
            "assumptions": asdict(self.assumptions),
            "examples_to_label": self.assumptions.examples_to_label,
            "labeling": self.labeling.to_dict(),
            "rag_running": self.rag_running.to_dict(),
            "fine_tuning_first_year": self.fine_tuning_first_year.to_dict(),
            "rag_first_year": self.rag_first_year.to_dict(),
            "hybrid_first_year": self.hybrid_first_year.to_dict(),
            "notes": list(NOTES),
        }

    def as_table_rows(self) -> list[tuple[str, str]]:
        return [
            ("RAG", self.rag_first_year.format()),
            ("Fine-tuning", self.fine_tuning_first_year.format()),
            ("Hybrid", self.hybrid_first_year.format()),
        ]


def assumption_lines(a: CostAssumptions) -> list[str]:
    """The assumptions in plain words, for summaries."""
    available = f" ({a.examples_available:,} already available)" if a.examples_available else ""
    return [
        f"{a.examples_needed:,} labeled examples needed{available}; "
        f"{a.examples_to_label:,} to label at "
        f"{Range(a.label_cost_low, a.label_cost_high).format()} each",
        f"RAG running cost {Range(a.rag_monthly_low, a.rag_monthly_high).format()} "
        f"a month for {a.months} months",
    ]


def estimate(assumptions: CostAssumptions = CostAssumptions()) -> CostEstimate:
    a = assumptions
    n = a.examples_to_label
    labeling = Range(n * a.label_cost_low, n * a.label_cost_high)
    rag_running = Range(a.rag_monthly_low * a.months, a.rag_monthly_high * a.months)
    return CostEstimate(
        assumptions=a,
        labeling=labeling,
        rag_running=rag_running,
        fine_tuning_first_year=labeling,
        rag_first_year=rag_running,
        hybrid_first_year=labeling + rag_running,
    )
