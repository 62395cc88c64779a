"""Which days a comparison compares (pure)."""

from __future__ import annotations

from datetime import date, timedelta

from bot.comparisons import common_days, counterpart
from bot.periods import Grain, Period
from bot.query import Compare


def _days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def test_days_pair_with_the_same_date_a_year_earlier_across_a_leap_day() -> None:
    period = Period(date(2025, 1, 1), date(2025, 12, 31), "2025", Grain.YEAR)
    other = Period(date(2024, 1, 1), date(2024, 12, 31), "2024", Grain.YEAR)
    back = counterpart(period, other, Compare.YEAR)
    assert back(date(2025, 3, 1)) == date(2024, 3, 1)
    assert back(date(2025, 2, 28)) == date(2024, 2, 28)


def test_gaps_on_either_side_leave_only_the_days_both_have() -> None:
    period = Period(date(2025, 11, 1), date(2025, 11, 10), "x")
    other = period.previous()  # 22–31 October
    now = [d for d in _days(period.start, period.end) if d.day != 5]
    then = [d for d in _days(other.start, other.end) if d.day not in (22, 23)]
    current, previous = common_days(period, other, Compare.PREVIOUS, now, then)
    assert current == [d for d in now if d.day not in (1, 2)]
    assert previous == [other.start + (d - period.start) for d in current]


def test_month_ends_that_map_to_one_day_count_it_once() -> None:
    period = Period(date(2025, 3, 29), date(2025, 3, 31), "x")
    other = period.month_ago()
    current, previous = common_days(
        period, other, Compare.MONTH, _days(period.start, period.end), [date(2025, 2, 28)]
    )
    assert current == _days(period.start, period.end)
    assert previous == [date(2025, 2, 28)]


def test_no_common_day_is_an_empty_basis() -> None:
    period = Period(date(2025, 11, 1), date(2025, 11, 7), "x")
    other = period.previous()
    assert common_days(period, other, Compare.PREVIOUS, [date(2025, 11, 7)], [other.start]) == (
        [],
        [],
    )
