"""What the error analysis shows: a batch of failures as the team read them, and what a
closed batch added. Plain data, built by ``bot.services.error_analysis``."""

from __future__ import annotations

from dataclasses import dataclass

from bot.domain.failure_modes import FailureMode, Saturation, batch_count
from storage.models import AnalysisReading, AnalysisSession, Decision, FailureExample


@dataclass(frozen=True)
class ReadItem:
    position: int
    """Place in the sample, from 0."""
    failure: FailureExample
    reading: AnalysisReading | None

    @property
    def read(self) -> bool:
        return self.reading is not None and self.reading.category is not None


@dataclass(frozen=True)
class BatchView:
    analysis: AnalysisSession
    decision: Decision
    batch: int
    items: list[ReadItem]

    @property
    def id(self) -> int:
        assert self.analysis.id is not None
        return self.analysis.id

    @property
    def total(self) -> int:
        return len(self.analysis.failure_ids)

    @property
    def batches(self) -> int:
        return batch_count(self.total)

    @property
    def done(self) -> bool:
        return all(item.read for item in self.items)

    @property
    def is_last(self) -> bool:
        return self.batch + 1 >= self.batches


@dataclass(frozen=True)
class Started:
    view: BatchView
    started: bool
    """False: someone had already started this period's analysis; ``view`` is its latest batch."""


@dataclass(frozen=True)
class BatchDone:
    """What the last batch added, and where the analysis stands."""

    decision: Decision
    saturation: Saturation
    new: list[FailureMode]
    top: list[FailureMode]
    read: int
    total: int
    next: BatchView | None
    """The next batch to read; None when the sample is read to the end."""


@dataclass(frozen=True)
class Changed:
    """A reading saved: which batch message shows it."""

    team_id: str
    analysis_id: int
    batch: int
    decision_id: int
