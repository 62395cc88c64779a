"""Digest schedules: local times in three zones, and both DST change days of 2026."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, time, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.digests.schedule import (
    DAILY,
    WEEKDAYS_ONLY,
    Schedule,
    ScheduleError,
    parse_days,
    parse_time,
)


def _local(instant: datetime, schedule: Schedule) -> str:
    return instant.astimezone(schedule.zone).strftime("%Y-%m-%d %H:%M %z")


@pytest.mark.parametrize(
    ("zone", "expected"),
    [
        ("Europe/Copenhagen", "2026-12-03 07:00"),
        ("America/New_York", "2026-12-03 13:00"),
        ("Asia/Kolkata", "2026-12-03 02:30"),
    ],
)
def test_a_digest_fires_at_its_local_time(zone: str, expected: str) -> None:
    schedule = Schedule(DAILY, time(8, 0), zone)
    assert schedule.occurrence(date(2026, 12, 3)).strftime("%Y-%m-%d %H:%M") == expected


@pytest.mark.parametrize(
    ("zone", "spring", "autumn"),
    [
        ("Europe/Copenhagen", date(2026, 3, 29), date(2026, 10, 25)),
        ("America/New_York", date(2026, 3, 8), date(2026, 11, 1)),
    ],
)
def test_0230_on_dst_change_days_fires_exactly_once(zone: str, spring: date, autumn: date) -> None:
    schedule = Schedule(DAILY, time(2, 30), zone)
    # Spring forward: 02:30 does not exist; the first valid time after the gap is 03:00.
    start = datetime.combine(spring, time(0), tzinfo=schedule.zone)
    runs = list(schedule.occurrences(start, start + timedelta(days=1)))
    assert [_local(i, schedule)[:16] for _, i in runs] == [f"{spring} 03:00"]
    # Fall back: in Copenhagen 02:30 happens twice (New York repeats 01:00–02:00 instead);
    # the digest fires once, at the first.
    start = datetime.combine(autumn, time(0), tzinfo=schedule.zone)
    runs = list(schedule.occurrences(start, start + timedelta(days=1)))
    assert [d for d, _ in runs] == [autumn]
    assert _local(runs[0][1], schedule)[11:16] == "02:30"


@pytest.mark.parametrize(
    ("zone", "autumn", "at", "summer_utc"),
    [
        ("Europe/Copenhagen", date(2026, 10, 25), time(2, 30), "00:30"),
        ("America/New_York", date(2026, 11, 1), time(1, 30), "05:30"),
    ],
)
def test_an_hour_that_happens_twice_fires_at_its_first_occurrence(
    zone: str, autumn: date, at: time, summer_utc: str
) -> None:
    schedule = Schedule(DAILY, at, zone)
    start = datetime.combine(autumn, time(0), tzinfo=schedule.zone)
    runs = list(schedule.occurrences(start, start + timedelta(days=1)))
    assert len(runs) == 1
    assert runs[0][1].strftime("%H:%M") == summer_utc  # still on summer time: the first one


def test_weekdays_skip_the_weekend_and_next_run_says_when() -> None:
    schedule = Schedule(WEEKDAYS_ONLY, time(8, 0), "Europe/Copenhagen")
    friday_noon = datetime(2026, 12, 4, 11, 0, tzinfo=UTC)
    assert _local(schedule.next_run(friday_noon), schedule) == "2026-12-07 08:00 +0100"


def test_one_occurrence_per_local_day_for_a_week_in_every_zone() -> None:
    for zone in ("Europe/Copenhagen", "America/New_York", "Asia/Kolkata", "Pacific/Chatham"):
        schedule = Schedule(DAILY, time(0, 15), zone)
        start = datetime(2026, 3, 1, tzinfo=UTC)
        days = [d for d, _ in schedule.occurrences(start, start + timedelta(days=60))]
        assert len(days) == len(set(days))
        assert all(b - a == timedelta(days=1) for a, b in itertools.pairwise(days))


@given(
    st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2028, 1, 1)),
    st.sampled_from(["Europe/Copenhagen", "America/New_York", "Asia/Kolkata"]),
    st.times(),
)
def test_next_run_is_strictly_after_and_at_most_a_day_and_a_bit_away(
    moment: datetime, zone: str, at: time
) -> None:
    schedule = Schedule(DAILY, at.replace(second=0, microsecond=0, tzinfo=None), zone)
    after = moment.replace(tzinfo=UTC)
    run = schedule.next_run(after)
    assert after < run <= after + timedelta(hours=26)


@pytest.mark.parametrize("text", ["25:00", "24:00", "8", "08:60", "noon", "-1:00"])
def test_a_time_that_is_not_one_is_refused_with_an_example(text: str) -> None:
    with pytest.raises(ScheduleError, match="at 08:00"):
        parse_time(text)


def test_days() -> None:
    assert parse_days("daily") == DAILY
    assert parse_days("weekdays") == WEEKDAYS_ONLY
    assert parse_days("mon,wed,fri") == frozenset({0, 2, 4})
    assert parse_days("mandag,fredag") == frozenset({0, 4})
    with pytest.raises(ScheduleError, match="not a weekday"):
        parse_days("mon,funday")
