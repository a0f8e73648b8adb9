"""The cost model: the full cost of RAG, fine-tuning and hybrid, line by line, over the first
year and over three years, at the team's query volume; and the share of the logged failures
each path can address.

Pure arithmetic on the visible, overridable assumptions of ``cost_assumptions``. The framework
asks for "the expected quality improvement of fine-tuning against its full cost: data
collection, training, evaluation, deployment, and ongoing maintenance, all at your actual query
volume"; this is that comparison.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from bot.domain.cost_assumptions import (
    CostAssumptions,
    Range,
    assumptions_for,
    format_dollars,
    overridden,
)
from bot.domain.rule import Answers, FailureCounts

YEARS = 3
MONTHS = 12


class CostPath(StrEnum):
    RAG = "rag"
    FINE_TUNING = "fine_tuning"
    HYBRID = "hybrid"


PATH_LABELS: dict[CostPath, str] = {
    CostPath.RAG: "RAG",
    CostPath.FINE_TUNING: "Fine-tuning",
    CostPath.HYBRID: "Hybrid",
}


class LineKey(StrEnum):
    INFERENCE = "inference"
    REINDEXING = "reindexing"
    VECTOR_DB = "vector_db"
    CONTENT_MAINTENANCE = "content_maintenance"
    LABELING = "labeling"
    TRAINING = "training"
    RETRAINING = "retraining"
    EVALUATION = "evaluation"
    HOSTING = "hosting"
    DEPLOYMENT = "deployment"
    MAINTENANCE = "maintenance"


LINE_NAMES: dict[LineKey, str] = {
    LineKey.INFERENCE: "Inference",
    LineKey.REINDEXING: "Embeddings and re-indexing",
    LineKey.VECTOR_DB: "Vector database and retrieval hosting",
    LineKey.CONTENT_MAINTENANCE: "Content maintenance",
    LineKey.LABELING: "Labeling the examples still needed",
    LineKey.TRAINING: "Training runs",
    LineKey.RETRAINING: "Retraining when the base model is deprecated",
    LineKey.EVALUATION: "Evaluation infrastructure",
    LineKey.HOSTING: "Hosting the fine-tuned model",
    LineKey.DEPLOYMENT: "Deployment and rollback pipeline",
    LineKey.MAINTENANCE: "Ongoing maintenance",
}


@dataclass(frozen=True)
class CostLine:
    key: LineKey
    year_one: Range
    one_time: bool = False
    """Paid once, in the first year (labeling, the pipeline); else the same every year."""

    @property
    def name(self) -> str:
        return LINE_NAMES[self.key]

    @property
    def three_years(self) -> Range:
        return self.year_one if self.one_time else self.year_one * YEARS

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": str(self.key),
            "name": self.name,
            **self.year_one.to_dict(),
            "one_time": self.one_time,
        }


def _total(lines: tuple[CostLine, ...], years: bool) -> Range:
    total = Range(0.0, 0.0)
    for line in lines:
        total = total + (line.three_years if years else line.year_one)
    return total


@dataclass(frozen=True)
class PathCost:
    path: CostPath
    lines: tuple[CostLine, ...]
    addresses_share: float | None
    """Share of every analysed failure (unclear ones included) this path can address; None
    without failures."""
    cost_per_addressed_failure: Range | None
    """Year one over the failures it addresses in a year at the team's volume; None when it
    addresses none (or nothing is logged)."""

    @property
    def label(self) -> str:
        return PATH_LABELS[self.path]

    @property
    def year_one(self) -> Range:
        return _total(self.lines, years=False)

    @property
    def three_years(self) -> Range:
        return _total(self.lines, years=True)

    def line(self, key: LineKey) -> CostLine:
        return next(line for line in self.lines if line.key == key)

    def to_dict(self) -> dict[str, Any]:
        share = None if self.addresses_share is None else round(self.addresses_share, 4)
        per_failure = self.cost_per_addressed_failure
        return {
            "year_one": self.year_one.to_dict(),
            "three_years": self.three_years.to_dict(),
            "lines": [line.to_dict() for line in self.lines],
            "addresses_share": share,
            "cost_per_addressed_failure": None if per_failure is None else per_failure.to_dict(),
        }


@dataclass(frozen=True)
class CostEstimate:
    assumptions: CostAssumptions
    rag: PathCost
    fine_tuning: PathCost
    hybrid: PathCost

    @property
    def paths(self) -> tuple[PathCost, PathCost, PathCost]:
        return (self.rag, self.fine_tuning, self.hybrid)

    def to_dict(self) -> dict[str, Any]:
        a = self.assumptions
        return {
            **{str(p.path): p.to_dict() for p in self.paths},
            "assumptions": a.to_dict(),
            "from_answers": {
                "labeled_examples": a.labeled_examples,
                "knowledge_change": None if a.knowledge_change is None else str(a.knowledge_change),
            },
            "overridden": overridden(a),
            "summary": summary_line(self),
            "improvement": improvement_lines(self),
        }

    def as_table_rows(self) -> list[tuple[str, str]]:
        """(path, year-one range) for each path."""
        return [(p.label, p.year_one.format()) for p in self.paths]


# --- the lines ---------------------------------------------------------------------------------


def _inference(a: CostAssumptions, *, context: bool, fine_tuned: bool) -> CostLine:
    tokens = a.tokens_per_query + (a.retrieved_context_tokens if context else Range(0, 0))
    price = a.price_per_million_tokens * (a.fine_tuned_price_multiplier if fine_tuned else 1.0)
    yearly = a.queries_per_month * MONTHS * tokens * price * (1 / 1_000_000)
    return CostLine(LineKey.INFERENCE, yearly)


def _rag_lines(a: CostAssumptions) -> tuple[CostLine, ...]:
    return (
        CostLine(LineKey.REINDEXING, a.reindex_runs * a.reindex_cost_per_run * MONTHS),
        CostLine(LineKey.VECTOR_DB, a.vector_db_monthly * MONTHS),
        CostLine(LineKey.CONTENT_MAINTENANCE, a.content_maintenance_monthly * MONTHS),
    )


def _fine_tuning_lines(a: CostAssumptions) -> tuple[CostLine, ...]:
    maintenance = a.maintenance_engineer_fraction * a.engineer_loaded_cost_per_year
    return (
        CostLine(LineKey.LABELING, a.examples_to_label() * a.label_cost_per_example, True),
        CostLine(LineKey.TRAINING, a.training_runs_per_year * a.training_cost_per_run),
        CostLine(LineKey.RETRAINING, a.deprecation_retrains_per_year * a.deprecation_retrain_cost),
        CostLine(LineKey.EVALUATION, a.evaluation_monthly * MONTHS),
        CostLine(LineKey.HOSTING, a.fine_tuned_hosting_monthly * MONTHS),
        CostLine(LineKey.DEPLOYMENT, a.deployment_pipeline_setup, True),
        CostLine(LineKey.MAINTENANCE, maintenance),
    )


def _share(failures: FailureCounts | None, path: CostPath) -> float | None:
    if failures is None or failures.analysed == 0:
        return None
    addressed = {
        CostPath.RAG: failures.knowledge,
        CostPath.FINE_TUNING: failures.behavior,
        CostPath.HYBRID: failures.knowledge + failures.behavior,
    }[path]
    return addressed / failures.analysed


def _per_failure(a: CostAssumptions, year_one: Range, share: float | None) -> Range | None:
    if not share:
        return None
    addressed = a.queries_per_month * MONTHS * a.failure_rate * share
    if addressed.low <= 0:
        return None
    return Range(year_one.low / addressed.high, year_one.high / addressed.low)


def _path(
    a: CostAssumptions, path: CostPath, lines: tuple[CostLine, ...], failures: FailureCounts | None
) -> PathCost:
    share = _share(failures, path)
    return PathCost(path, lines, share, _per_failure(a, _total(lines, years=False), share))


def estimate(
    assumptions: CostAssumptions | None = None, failures: FailureCounts | None = None
) -> CostEstimate:
    a = assumptions or CostAssumptions()
    rag, fine_tuning = _rag_lines(a), _fine_tuning_lines(a)
    return CostEstimate(
        assumptions=a,
        rag=_path(a, CostPath.RAG, (_inference(a, context=True, fine_tuned=False), *rag), failures),
        fine_tuning=_path(
            a,
            CostPath.FINE_TUNING,
            (_inference(a, context=False, fine_tuned=True), *fine_tuning),
            failures,
        ),
        hybrid=_path(
            a,
            CostPath.HYBRID,
            (_inference(a, context=True, fine_tuned=True), *rag, *fine_tuning),
            failures,
        ),
    )


def estimate_for(answers: Answers, overrides: Mapping[str, Range] | None = None) -> CostEstimate:
    """The costs of a set of answers: Q2 sets the re-index rate, Q4's labeled examples reduce
    labeling, the failures give each path's share; ``overrides`` (else the answers' own)
    replace defaults."""
    assumptions = assumptions_for(
        knowledge_change=answers.knowledge_change,
        labeled_examples=answers.labeled_examples,
        overrides=answers.cost_overrides if overrides is None else overrides,
    )
    return estimate(assumptions, answers.failures)


# --- words -------------------------------------------------------------------------------------


def percent(share: float) -> str:
    return f"{round(share * 100)}%"


def improvement_lines(costs: CostEstimate) -> list[str]:
    """Each path's share of the logged failures next to its first-year cost."""
    if costs.rag.addresses_share is None:
        return ["No failures logged yet: log some to see what each path would address."]
    lines = []
    words = {
        CostPath.RAG: "Retrieval addresses",
        CostPath.FINE_TUNING: "Fine-tuning addresses at most",
        CostPath.HYBRID: "Hybrid addresses at most",
    }
    for p in (costs.fine_tuning, costs.rag, costs.hybrid):
        assert p.addresses_share is not None
        text = (
            f"{words[p.path]} {percent(p.addresses_share)} of the failures you logged, "
            f"at {p.year_one.format()} in year one"
        )
        if p.cost_per_addressed_failure is not None:
            text += f" ({p.cost_per_addressed_failure.format()} per addressed failure)"
        lines.append(text + ".")
    return lines


def summary_line(costs: CostEstimate) -> str:
    """One line: each path's first-year cost, and the shares when failures are logged."""
    years = " · ".join(f"{p.label} {p.year_one.format()}" for p in costs.paths)
    text = f"Year one: {years}."
    ft, rag = costs.fine_tuning.addresses_share, costs.rag.addresses_share
    if ft is not None and rag is not None:
        text += (
            f" Fine-tuning addresses at most {percent(ft)} of the failures you logged, "
            f"retrieval {percent(rag)}."
        )
    return text


__all__ = [
    "CostAssumptions",
    "CostEstimate",
    "CostLine",
    "CostPath",
    "LineKey",
    "PathCost",
    "Range",
    "estimate",
    "estimate_for",
    "format_dollars",
    "improvement_lines",
    "summary_line",
]
