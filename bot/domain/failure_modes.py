"""The quarterly error analysis, pure: the order failures are read in, failure modes grouped
from the readers' notes by similar wording, and saturation (new modes per batch)."""

from __future__ import annotations

import random
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from typing import NamedTuple

from bot.domain.questions import CategorySource, FailureCategory

BATCH_SIZE = 10
SAMPLE_LIMIT = 500
"""At most this many of a period's failures are put in a reading session."""
JACCARD_THRESHOLD = 0.5
RATIO_THRESHOLD = 0.8
TOP_MODES = 5

_WORD = re.compile(r"[a-z0-9]+")
_STOP_TEXT = (
    "a an and are as at be been but by did do does for from had has have in into is it its "
    "of on or so than that the their them then there these they this to too was were what "
    "when which while who why will with not no very just also"
)
STOPWORDS = frozenset(_STOP_TEXT.split())
_SUFFIXES = ("ing", "ed", "s")


def _stem(word: str) -> str:
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)]
            break
    return word[:-1] if word.endswith("e") and len(word) >= 4 else word


def tokens(note: str) -> tuple[str, ...]:
    """A note's words, lower-cased, without stopwords, crudely stemmed, in order."""
    words = _WORD.findall(note.lower().replace("'", ""))
    return tuple(_stem(w) for w in words if w not in STOPWORDS)


def similar(a: str, b: str) -> bool:
    """Whether two notes name the same failure mode: most of their words in common (Jaccard),
    or the same words nearly in the same spelling (difflib ratio)."""
    ta, tb = tokens(a), tokens(b)
    if not ta or not tb:
        return " ".join(a.lower().split()) == " ".join(b.lower().split())
    sa, sb = set(ta), set(tb)
    if len(sa & sb) / len(sa | sb) >= JACCARD_THRESHOLD:
        return True
    return SequenceMatcher(None, " ".join(ta), " ".join(tb)).ratio() >= RATIO_THRESHOLD


@dataclass(frozen=True)
class Note:
    text: str
    category: str
    batch: int
    """The batch (0-based) of the failure the note is about."""


@dataclass
class FailureMode:
    label: str
    """The wording of the first note of the mode."""
    notes: list[Note] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.notes)

    @property
    def first_batch(self) -> int:
        return min(n.batch for n in self.notes)

    @property
    def category(self) -> FailureCategory:
        """The category most of its failures have (knowledge wins a tie with behavior only when
        it came first; unclear only when nothing else is named)."""
        counts = Counter(FailureCategory(n.category) for n in self.notes)
        named = [c for c in (FailureCategory.KNOWLEDGE, FailureCategory.BEHAVIOR) if counts[c]]
        if not named:
            return FailureCategory.UNCLEAR
        return max(named, key=lambda c: counts[c])


def group_modes(notes: Iterable[Note]) -> list[FailureMode]:
    """Notes grouped into failure modes, in reading order: a note joins the first mode holding a
    note worded like it, or starts a new one. Empty notes are ignored."""
    modes: list[FailureMode] = []
    ordered = sorted((n for n in notes if n.text.strip()), key=lambda n: n.batch)
    for note in ordered:
        home = next((m for m in modes if any(similar(note.text, o.text) for o in m.notes)), None)
        if home is None:
            modes.append(FailureMode(label=note.text.strip(), notes=[note]))
        else:
            home.notes.append(note)
    return modes


def new_modes_in(modes: Sequence[FailureMode], batch: int) -> list[FailureMode]:
    """The modes first seen in ``batch``."""
    return [m for m in modes if m.first_batch == batch]


def top_modes(modes: Sequence[FailureMode], limit: int = TOP_MODES) -> list[FailureMode]:
    return sorted(modes, key=lambda m: -m.count)[:limit]


class ModeCount(NamedTuple):
    """A failure mode as a decision's record lists it."""

    label: str
    category: str
    count: int


@dataclass(frozen=True)
class Saturation:
    batch: int
    new: int
    notes_in_batch: int
    total_modes: int

    @property
    def read_enough(self) -> bool:
        """A batch with notes that named no new mode: new kinds have stopped appearing."""
        return self.notes_in_batch > 0 and self.new == 0 and self.total_modes > 0


def saturation(modes: Sequence[FailureMode], batch: int) -> Saturation:
    in_batch = sum(1 for m in modes for n in m.notes if n.batch == batch)
    return Saturation(
        batch=batch,
        new=len(new_modes_in(modes, batch)),
        notes_in_batch=in_batch,
        total_modes=len(modes),
    )


def reading_order(failures: Iterable[tuple[int, str]], seed: int) -> list[int]:
    """Failure ids, ``(id, category_source)``, in the order the team reads them: a random
    sample (fixed by ``seed``) with the failures no person categorised yet first."""
    rng, items = random.Random(seed), list(failures)
    machine = sorted(fid for fid, source in items if source != CategorySource.HUMAN)
    people = sorted(fid for fid, source in items if source == CategorySource.HUMAN)
    rng.shuffle(machine)
    rng.shuffle(people)
    return (machine + people)[:SAMPLE_LIMIT]


def batch_of(position: int) -> int:
    return position // BATCH_SIZE


def batch_count(total: int) -> int:
    return (total + BATCH_SIZE - 1) // BATCH_SIZE
