"""What makes two failures of one decision the same: their explanation and their output or link,
normalised (case, spacing, surrounding punctuation, a link's trailing slash). Pure."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from enum import StrEnum


class FailureSource(StrEnum):
    """Where a failure came from."""

    SLACK = "slack"
    API = "api"
    IMPORT = "import"


FAILURE_SOURCE_LABELS = {
    FailureSource.SLACK: "Slack",
    FailureSource.API: "the API",
    FailureSource.IMPORT: "import",
}

_SPACE = re.compile(r"\s+")
_EDGE_PUNCTUATION = " \t.,;:!?-–—\"'`*_()[]"


def normalise(text: str | None) -> str:
    if not text:
        return ""
    text = unicodedata.normalize("NFKC", text).casefold()
    return _SPACE.sub(" ", text).strip(_EDGE_PUNCTUATION)


def dedup_key(explanation: str | None, output: str | None, link: str | None) -> str:
    """A fixed-length key (sha256 hex); equal for failures a person would call the same."""
    evidence = normalise(output) or normalise(link).rstrip("/")
    raw = normalise(explanation) + "\x1f" + evidence
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def legacy_key(key: str, row_id: int) -> str:
    """The key of a duplicate stored before deduplication existed: kept, and never matched."""
    return hashlib.sha256(f"{key}#legacy-{row_id}".encode()).hexdigest()
