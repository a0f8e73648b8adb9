"""The values of the error analysis's buttons and note form, parsed once and typed (see
``handlers.payloads``: a value that doesn't parse is a stale button or form)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from handlers import payloads
from handlers.payloads import DecisionId, SlackId


class NoteMeta(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    analysis_id: DecisionId
    failure_id: DecisionId
    channel_id: SlackId


def note_meta(body: dict[str, Any]) -> NoteMeta:
    view = body.get("view") if isinstance(body.get("view"), dict) else {}
    try:
        return NoteMeta.model_validate(json.loads(view.get("private_metadata") or ""))
    except (ValueError, TypeError, ValidationError):
        raise payloads.StaleForm() from None


def period_end(text: str) -> datetime:
    """The end of the review period a *Start error analysis* button names (ISO, with offset)."""
    try:
        moment = datetime.fromisoformat(text) if len(text) <= 40 else None
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise payloads.StaleButton()
    return moment


def analysis_and_failure(value: str) -> tuple[int, int]:
    analysis_id, failure_id = payloads.parts(value, 2)
    return payloads.number(analysis_id), payloads.number(failure_id)


def analysis_and_batch(value: str) -> tuple[int, int]:
    analysis_id, batch = payloads.parts(value, 2)
    number = payloads.integer(batch)
    if number < 0:
        raise payloads.StaleButton()
    return payloads.number(analysis_id), number
