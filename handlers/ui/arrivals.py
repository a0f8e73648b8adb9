"""Where failures came from (Slack, the API, import) and when the last one arrived: a line for
``/ragft status`` and the review, and the review's note when nothing arrived."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from bot.domain.failure_dedup import FailureSource
from handlers.ui.mrkdwn import slack_date

NOTHING_LOGGED = (
    "No failures were logged this quarter: either the feature is perfect or nobody is logging."
)
API_HINT = (
    "Send failures from production (thumbs-down feedback, escalated tickets, evaluation runs) "
    "with `POST /api/v1/failures`: make a token with `/ragft token create`, or import a file "
    "with `ragft failures import`."
)


def _part(source: str, n: int) -> str:
    if source == FailureSource.IMPORT:
        return f"{n} imported"
    where = "the API" if source == FailureSource.API else "Slack"
    return f"{n} from {where}"


def arrivals_line(counts: Mapping[str, int], last: datetime | None) -> str | None:
    if not any(counts.values()):
        return None
    order = [str(s) for s in FailureSource] + sorted(set(counts) - set(map(str, FailureSource)))
    parts = [_part(source, counts[source]) for source in order if counts.get(source)]
    when = f" · last one {slack_date(last)}" if last else ""
    return f"*Where they came from:* {', '.join(parts)}{when}"


def nothing_logged_text() -> str:
    return f"📭 *{NOTHING_LOGGED}*\n{API_HINT}"
