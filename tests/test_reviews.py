"""The routine's pure parts: when reviews land, tallies and trends, the revisit rules, the chart."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.domain.nudges import evaluate_nudge
from bot.domain.review_schedule import next_slot, review_due
from bot.domain.tallies import Tally, per_quarter, trend_line
from handlers.ui.review_chart import quarters_png

NY = "America/New_York"


def test_reviews_land_at_ten_on_a_weekday_in_the_users_timezone_never_at_3am():
    decided = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)  # 3am in New York
    due = review_due(decided, 90, NY)
    local = due.astimezone(ZoneInfo(NY))
    # 90 days on is Sunday 21 February: the review moves to Monday, 10:00 New York time.
    assert (local.year, local.month, local.day, local.hour) == (2027, 2, 22, 10)

    saturday = review_due(datetime(2026, 12, 3, 12, tzinfo=UTC), 30, NY)  # lands on Sat 2 Jan
    assert saturday.astimezone(ZoneInfo(NY)).strftime("%a %H:%M") == "Mon 10:00"

    summer = review_due(datetime(2027, 3, 1, 12, tzinfo=UTC), 182, NY)  # across DST
    assert summer.astimezone(ZoneInfo(NY)).hour == 10 and summer.utcoffset() == timedelta(0)

    assert review_due(decided, 90, "Not/AZone").astimezone(UTC).hour == 10  # unknown: UTC
    assert review_due(decided, 90, None).astimezone(UTC).hour == 10


def test_next_slot_is_the_first_weekday_ten_oclock_not_before_now():
    friday_noon = datetime(2026, 11, 27, 17, 0, tzinfo=UTC)  # 12:00 in New York
    slot = next_slot(friday_noon, NY).astimezone(ZoneInfo(NY))
    assert slot.strftime("%a %d %H:%M") == "Mon 30 10:00"
    early = datetime(2026, 11, 24, 13, 0, tzinfo=UTC)  # 8:00 Tuesday
    assert next_slot(early, NY).astimezone(ZoneInfo(NY)).strftime("%a %H:%M") == "Tue 10:00"


def test_tallies_trend_and_quarters():
    current, previous = Tally(4, 7, 1), Tally(2, 2, 1)
    assert trend_line(current, previous) == (
        "*Knowledge* 4 (▲2) · *Behavior* 7 (▲5) · *Unclear* 1 (±0)"
    )
    assert Tally().behavior_share is None and Tally(1, 3, 0).behavior_share == 0.75
    quarters = per_quarter(
        [
            (datetime(2026, 2, 1, tzinfo=UTC), "knowledge"),
            (datetime(2026, 8, 1, tzinfo=UTC), "behavior"),
            (datetime(2026, 8, 2, tzinfo=UTC), "behavior"),
        ]
    )
    assert [label for label, _ in quarters] == ["2026 Q1", "2026 Q2", "2026 Q3"]
    assert quarters[2][1] == Tally(0, 2, 0)


EMPTY = Tally()


def _nudge(since: Tally, current=EMPTY, previous=EMPTY, last=None, start=None):
    return evaluate_nudge(
        since_decision=since,
        current=current,
        previous=previous,
        period_start=start or datetime(2026, 11, 1, tzinfo=UTC),
        last=last or {},
        at=datetime(2026, 11, 23, tzinfo=UTC),
    )


def test_nudge_needs_twenty_analysed_with_behavior_ahead_and_fires_once_per_change():
    assert _nudge(Tally(5, 14, 0)) is None  # 19
    assert _nudge(Tally(10, 10, 0)) is None  # no gap
    first = _nudge(Tally(5, 15, 0))
    assert first is not None and "Behavior now outnumbers knowledge" in first.reasons[0]
    assert _nudge(Tally(6, 16, 0), last=first.evidence) is None  # no news
    again = _nudge(Tally(10, 30, 0), last=first.evidence)  # 20 more analysed
    assert again is not None and "At the last nudge it was 20 failures" in again.reasons[-1]


def test_nudge_on_a_twenty_point_jump_in_behavioral_share_with_enough_data():
    jump = _nudge(Tally(8, 5, 0), current=Tally(5, 5, 0), previous=Tally(8, 2, 0))
    assert jump is not None and "up 30 points from 20%" in jump.reasons[0]
    assert _nudge(Tally(2, 3, 0), current=Tally(0, 2, 0), previous=Tally(2, 1, 0)) is None
    assert _nudge(Tally(8, 5, 0), current=Tally(7, 3, 0), previous=Tally(8, 2, 0)) is None  # +10
    assert (
        _nudge(Tally(8, 5, 0), current=Tally(5, 5, 0), previous=Tally(8, 2, 0), last=jump.evidence)
        is None
    )
    later = datetime(2027, 2, 1, tzinfo=UTC)
    assert (
        _nudge(
            Tally(8, 5, 0),
            current=Tally(5, 5, 0),
            previous=Tally(8, 2, 0),
            last=jump.evidence,
            start=later,
        )
        is not None
    )


def test_the_chart_is_a_small_png():
    quarters = [("2026 Q3", Tally(3, 1, 0)), ("2026 Q4", Tally(1, 6, 2))]
    png = quarters_png(quarters, "#1 Billing assistant: failures per quarter")
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) < 60_000
