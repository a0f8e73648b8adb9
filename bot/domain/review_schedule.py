"""When reviews land, and how often: the offered cadences, review times in the facilitator's
timezone, and the guarantee that a review is never scheduled at or before the time it is sent.
Pure; every function takes the time it needs.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.domain.errors import UserError

REVIEW_HOUR = 10
SNOOZE_DAYS = 7


class Cadence(StrEnum):
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    HALF_YEARLY = "half-yearly"


CADENCE_DAYS: dict[Cadence, int] = {
    Cadence.MONTHLY: 30,
    Cadence.QUARTERLY: 90,
    Cadence.HALF_YEARLY: 182,
}

_CADENCE_ALIASES = {
    "month": Cadence.MONTHLY,
    "monthly": Cadence.MONTHLY,
    "quarter": Cadence.QUARTERLY,
    "quarterly": Cadence.QUARTERLY,
    "half-yearly": Cadence.HALF_YEARLY,
    "halfyearly": Cadence.HALF_YEARLY,
    "half-year": Cadence.HALF_YEARLY,
    "biannual": Cadence.HALF_YEARLY,
    "semiannual": Cadence.HALF_YEARLY,
}


def parse_cadence(word: str) -> Cadence | None:
    return _CADENCE_ALIASES.get(word.strip().lower())


class InvalidCadence(UserError):
    pass


def cadence_days(days: object) -> int:
    """A cadence in days from a payload: only one of the offered cadences is accepted."""
    if isinstance(days, bool) or not isinstance(days, int) or days not in CADENCE_DAYS.values():
        offered = ", ".join(f"{c} ({d} days)" for c, d in CADENCE_DAYS.items())
        raise InvalidCadence(f"That isn't a review cadence ragft offers. Pick one of {offered}.")
    return days


def zone(tz: str | None) -> ZoneInfo:
    """The user's timezone from users.info, or UTC when it's missing or unknown."""
    if tz:
        try:
            return ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return ZoneInfo("UTC")


def _weekday(day: date) -> date:
    while day.weekday() >= 5:  # Saturday, Sunday → Monday
        day += timedelta(days=1)
    return day


def _at_ten(day: date, where: ZoneInfo) -> datetime:
    return datetime.combine(day, time(REVIEW_HOUR), tzinfo=where).astimezone(UTC)


def review_due(after: datetime, days: int, tz: str | None) -> datetime:
    """``days`` after ``after``, on that local day at 10:00 in ``tz``; a weekend moves to Monday.

    The local day decides, so a decision made at 3am still gets its review at 10:00.
    """
    where = zone(tz)
    day = _weekday((after + timedelta(days=days)).astimezone(where).date())
    return _at_ten(day, where)


def next_slot(after: datetime, tz: str | None) -> datetime:
    """The first weekday 10:00 in ``tz`` at or after ``after``."""
    where = zone(tz)
    day = after.astimezone(where).date()
    while True:
        day = _weekday(day)
        slot = _at_ten(day, where)
        if slot >= after:
            return slot
        day += timedelta(days=1)


def next_review(after: datetime, days: int, tz: str | None) -> datetime:
    """The review after one sent (or marked done) at ``after``: a cadence later, and always
    strictly after ``after``, so one sweep never sends the same review twice. A stored cadence
    that isn't an offered one (an old row, say) counts as quarterly."""
    if days not in CADENCE_DAYS.values():
        days = CADENCE_DAYS[Cadence.QUARTERLY]
    due = review_due(after, days, tz)
    return due if due > after else next_slot(after + timedelta(days=1), tz)
