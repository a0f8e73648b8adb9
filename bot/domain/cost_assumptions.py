"""The cost model's assumptions: visible defaults, each with its source, and their overrides.

Every assumption is a low–high range (a single number is a range whose ends are equal). The low
end of a path's cost uses every low end, the high end every high end. The README's cost table
lists the same keys, defaults and sources.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

from bot.domain.questions import KnowledgeChange


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


def format_number(value: float) -> str:
    """A plain number as typed back into a form: "100000", "0.26", "1.5"."""
    return f"{value:.4f}".rstrip("0").rstrip(".") if value != int(value) else str(int(value))


@dataclass(frozen=True)
class Range:
    low: float
    high: float

    def __add__(self, other: Range) -> Range:
        return Range(self.low + other.low, self.high + other.high)

    def __mul__(self, other: Range | float) -> Range:
        if isinstance(other, Range):
            return Range(self.low * other.low, self.high * other.high)
        return Range(self.low * other, self.high * other)

    def format(self) -> str:
        low, high = format_dollars(self.low), format_dollars(self.high)
        return low if low == high else f"{low}–{high}"

    def plain(self) -> str:
        """The range as a number or "low-high", the way the Costs modal takes it."""
        low, high = format_number(self.low), format_number(self.high)
        return low if low == high else f"{low}-{high}"

    def to_dict(self) -> dict[str, float]:
        return {"low": round(self.low, 2), "high": round(self.high, 2)}


def at(value: float) -> Range:
    return Range(value, value)


class CostOverrideError(ValueError):
    def __init__(self, key: str, message: str):
        super().__init__(f"{key}: {message}")
        self.key = key
        self.message = message


REINDEX_RUNS_PER_MONTH: dict[KnowledgeChange, float] = {
    KnowledgeChange.DAILY: 30.0,
    KnowledgeChange.WEEKLY: 4.0,
    KnowledgeChange.MONTHLY: 1.0,
    KnowledgeChange.QUARTERLY: 1 / 3,
    KnowledgeChange.STABLE: 1 / 12,
}
"""Re-index runs a month by the Q2 answer (how often the knowledge changes)."""
REFERENCE_CHANGE = KnowledgeChange.WEEKLY
"""Used while Q2 is unanswered: at this rate the RAG part totals the framework's $2k–$5k."""


@dataclass(frozen=True)
class CostAssumptions:
    # --- Inference, every path -------------------------------------------------------------
    queries_per_month: Range = Range(100_000, 100_000)
    """ragft's "moderate scale" (about 3,300 a day); set your own volume."""
    tokens_per_query: Range = Range(1_000, 1_000)
    """Prompt plus answer, without retrieved context (ragft's estimate)."""
    price_per_million_tokens: Range = Range(0.26, 4.38)
    """Blended 3:1 input:output at https://openai.com/api/pricing/ list prices: gpt-4o-mini
    ($0.15 in / $0.60 out) to gpt-4o ($2.50 in / $10 out)."""
    retrieved_context_tokens: Range = Range(2_000, 2_000)
    """RAG adds these per query: e.g. 4 retrieved chunks of 500 tokens (ragft's estimate)."""
    fine_tuned_price_multiplier: Range = Range(1.0, 1.0)
    """The issue's default, 1.0. Below 1 for a smaller fine-tuned model; OpenAI's pricing page
    lists fine-tuned gpt-4o-mini at 2× the base model's token price."""
    # --- RAG: at the reference change rate these three total the framework's $2k–$5k a month
    reindex_runs_per_month: Range | None = None
    """None: from the Q2 answer (REINDEX_RUNS_PER_MONTH), weekly while unanswered."""
    reindex_cost_per_run: Range = Range(50, 125)
    """Embedding the changed content (text-embedding-3-small is $0.02 per 1M tokens on
    https://openai.com/api/pricing/) plus pipeline compute and a check; the framework's
    $2k–$5k a month at moderate scale holds at 4 runs a month."""
    vector_db_monthly: Range = Range(700, 1_500)
    """Vector database and retrieval hosting: Pinecone Standard starts at a $50/month minimum
    plus usage (https://docs.pinecone.io/guides/organizations/manage-cost/understanding-cost);
    replicas and the retrieval service make up the framework's $2k–$5k share."""
    content_maintenance_monthly: Range = Range(1_100, 3_000)
    """Keeping the content current: the rest of the framework's $2k–$5k a month."""
    # --- Fine-tuning -------------------------------------------------------------------------
    examples_needed: Range = Range(10_000, 10_000)
    """The framework: 10,000 labeled examples cost $20k–$80k."""
    label_cost_per_example: Range = Range(2, 8)
    """The framework: $2–$8 per labeled example."""
    training_runs_per_year: Range = Range(2, 4)
    """ragft's estimate: a first run plus refreshes as the data grows."""
    training_cost_per_run: Range = Range(100, 1_000)
    """10,000 examples × ~1,000 tokens × 3 epochs = 30M training tokens: $3/1M (gpt-4o-mini)
    to $25/1M (gpt-4o) on https://openai.com/api/pricing/, with room for failed runs."""
    deprecation_retrains_per_year: Range = Range(1, 2)
    """At least once a year: base-model snapshots are retired on a roughly yearly schedule
    (https://platform.openai.com/docs/deprecations)."""
    deprecation_retrain_cost: Range = Range(2_000, 8_000)
    """Moving to the new base model: a training run, re-running evaluation, fixing regressions
    (ragft's estimate: 2–8 engineer-days)."""
    evaluation_monthly: Range = Range(500, 2_000)
    """Evaluation infrastructure: eval sets, tooling and judge-model calls (ragft's estimate)."""
    fine_tuned_hosting_monthly: Range = Range(730, 2_920)
    """A dedicated endpoint bills while idle: one GPU at $1–$4 an hour × 730 hours (AWS EC2
    on-demand, https://aws.amazon.com/ec2/pricing/on-demand/, g5.xlarge ≈ $1.01/h)."""
    deployment_pipeline_setup: Range = Range(5_000, 20_000)
    """Deployment and rollback pipeline, built once (ragft's estimate: 1–4 engineer-weeks)."""
    maintenance_engineer_fraction: Range = Range(0.1, 0.25)
    """The framework's "ongoing maintenance": a tenth to a quarter of an engineer."""
    engineer_loaded_cost_per_year: Range = Range(150_000, 250_000)
    """Salary plus overhead of an ML engineer (ragft's estimate)."""
    # --- Expected improvement ----------------------------------------------------------------
    failure_rate: Range = Range(0.02, 0.05)
    """Share of queries that fail like the logged ones, for the cost per addressed failure
    (ragft's estimate)."""
    # --- From the answers, not overridable here ------------------------------------------------
    labeled_examples: int = 0
    """The Q4 answer: examples the team already has; they reduce what must be labeled."""
    knowledge_change: KnowledgeChange | None = None
    """The Q2 answer: how often the knowledge changes."""

    def __post_init__(self) -> None:
        if self.reindex_runs_per_month is None:
            runs = REINDEX_RUNS_PER_MONTH[self.knowledge_change or REFERENCE_CHANGE]
            object.__setattr__(self, "reindex_runs_per_month", at(runs))
        for key in OVERRIDE_KEYS:
            check_range(key, getattr(self, key))

    def range(self, key: str) -> Range:
        value = getattr(self, key)
        assert isinstance(value, Range)
        return value

    @property
    def reindex_runs(self) -> Range:
        assert self.reindex_runs_per_month is not None
        return self.reindex_runs_per_month

    def examples_to_label(self) -> Range:
        """Examples still needed, less what the team has, never below 0."""
        needed = self.examples_needed
        owned = max(0, self.labeled_examples)
        return Range(max(0.0, needed.low - owned), max(0.0, needed.high - owned))

    def to_dict(self) -> dict[str, Any]:
        return {key: self.range(key).to_dict() for key in OVERRIDE_KEYS}


_NOT_OVERRIDABLE = ("labeled_examples", "knowledge_change")
OVERRIDE_KEYS: tuple[str, ...] = tuple(
    f.name for f in fields(CostAssumptions) if f.name not in _NOT_OVERRIDABLE
)
MINIMUM: dict[str, float] = {"deprecation_retrains_per_year": 1.0}
"""Keys whose low end must be more than zero (the floor of every other key)."""
LARGEST = 1e12
"""No assumption goes above this, so no product of them overflows."""
MAXIMUM: dict[str, float] = {"failure_rate": 1.0, "maintenance_engineer_fraction": 1.0}


@dataclass(frozen=True)
class AssumptionLabel:
    label: str
    unit: str


LABELS: dict[str, AssumptionLabel] = {
    "queries_per_month": AssumptionLabel("Queries per month", "queries"),
    "tokens_per_query": AssumptionLabel("Tokens per query", "tokens, without retrieved context"),
    "price_per_million_tokens": AssumptionLabel("Price per 1M tokens", "dollars"),
    "retrieved_context_tokens": AssumptionLabel("Retrieved context per query", "tokens (RAG)"),
    "fine_tuned_price_multiplier": AssumptionLabel("Fine-tuned price multiplier", "× the price"),
    "reindex_runs_per_month": AssumptionLabel("Re-index runs per month", "from Q2"),
    "reindex_cost_per_run": AssumptionLabel("Cost per re-index run", "dollars"),
    "vector_db_monthly": AssumptionLabel("Vector DB and retrieval hosting", "dollars a month"),
    "content_maintenance_monthly": AssumptionLabel("Content maintenance", "dollars a month"),
    "examples_needed": AssumptionLabel("Labeled examples needed", "examples"),
    "label_cost_per_example": AssumptionLabel("Cost per labeled example", "dollars"),
    "training_runs_per_year": AssumptionLabel("Training runs per year", "runs"),
    "training_cost_per_run": AssumptionLabel("Cost per training run", "dollars"),
    "deprecation_retrains_per_year": AssumptionLabel(
        "Retrains on deprecation per year", "at least 1"
    ),
    "deprecation_retrain_cost": AssumptionLabel("Cost per deprecation retrain", "dollars"),
    "evaluation_monthly": AssumptionLabel("Evaluation infrastructure", "dollars a month"),
    "fine_tuned_hosting_monthly": AssumptionLabel("Fine-tuned model hosting", "dollars a month"),
    "deployment_pipeline_setup": AssumptionLabel("Deployment and rollback pipeline", "once"),
    "maintenance_engineer_fraction": AssumptionLabel("Maintenance, share of an engineer", "0–1"),
    "engineer_loaded_cost_per_year": AssumptionLabel("Engineer loaded cost", "dollars a year"),
    "failure_rate": AssumptionLabel("Share of queries that fail", "0–1"),
}


def check_range(key: str, value: object) -> Range:
    """``value`` as a valid range for ``key``, or CostOverrideError naming the key."""
    if not isinstance(value, Range):
        raise CostOverrideError(key, "must be a number or {low, high}")
    for end in (value.low, value.high):
        try:
            finite = not isinstance(end, bool) and math.isfinite(end)  # type: ignore[arg-type]
        except (TypeError, OverflowError):
            finite = False
        if not finite:
            raise CostOverrideError(key, f"must be a finite number (got {str(end)[:20]})")
    floor = MINIMUM.get(key, 0.0)
    if value.low < floor:
        what = "zero or more" if floor == 0 else f"at least {format_number(floor)}"
        raise CostOverrideError(key, f"must be {what} (got {format_number(value.low)})")
    ceiling = MAXIMUM.get(key, LARGEST)
    if value.high > ceiling:
        raise CostOverrideError(
            key, f"must be at most {format_number(ceiling)} (got {format_number(value.high)})"
        )
    if value.low > value.high:
        raise CostOverrideError(
            key,
            f"low must not exceed high (got {format_number(value.low)} > "
            f"{format_number(value.high)})",
        )
    return value


def check_key(key: str) -> str:
    if key not in OVERRIDE_KEYS:
        close = difflib.get_close_matches(key, OVERRIDE_KEYS, n=1)
        hint = f"did you mean '{close[0]}'?" if close else "see the README's cost table"
        raise CostOverrideError(key, f"unknown cost assumption; {hint}")
    return key


def check_overrides(overrides: Mapping[str, Range]) -> dict[str, Range]:
    """Every key known and every range valid, or CostOverrideError naming the first bad key."""
    return {check_key(key): check_range(key, value) for key, value in overrides.items()}


def assumptions_for(
    *,
    knowledge_change: KnowledgeChange | str | None = None,
    labeled_examples: int | None = None,
    overrides: Mapping[str, Range] | None = None,
) -> CostAssumptions:
    base = CostAssumptions(
        labeled_examples=max(0, labeled_examples or 0),
        knowledge_change=KnowledgeChange(knowledge_change) if knowledge_change else None,
    )
    return replace(base, **check_overrides(overrides or {}))


def overridden(assumptions: CostAssumptions) -> list[str]:
    """The keys whose value differs from the default for the same answers."""
    default = assumptions_for(
        knowledge_change=assumptions.knowledge_change,
        labeled_examples=assumptions.labeled_examples,
    )
    return [k for k in OVERRIDE_KEYS if assumptions.range(k) != default.range(k)]


def overrides_to_json(overrides: Mapping[str, Range]) -> dict[str, dict[str, float]]:
    return {key: {"low": r.low, "high": r.high} for key, r in overrides.items()}


def overrides_from_json(data: object) -> dict[str, Range]:
    """Overrides as stored on a decision; anything no longer valid is left out (defaults)."""
    if not isinstance(data, Mapping):
        return {}
    result: dict[str, Range] = {}
    for key, value in data.items():
        if not isinstance(value, Mapping):
            continue
        try:
            result[check_key(str(key))] = check_range(
                str(key),
                Range(value.get("low"), value.get("high")),  # type: ignore[arg-type]
            )
        except CostOverrideError:
            continue
    return result


_RANGE_TEXT = re.compile(r"^\s*(\S+?)\s*(?:(?:-|–|—|to)\s*(\S+))?\s*$")


def parse_range_text(key: str, text: str) -> Range:
    """What a person typed: "100000", "100,000", "$2-$8", "2–8" or "0.1 to 0.25"."""
    match = _RANGE_TEXT.match(text.replace(",", "").replace("$", ""))
    try:
        if match is None:
            raise ValueError(text)
        low = float(match.group(1))
        high = float(match.group(2)) if match.group(2) else low
    except ValueError:
        raise CostOverrideError(key, "use a number or a range like 2-8") from None
    return check_range(key, Range(low, high))
