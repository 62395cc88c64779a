"""When a digest is due: weekdays and a local time in its own time zone (pure).

A schedule names local wall-clock times, so daylight saving changes are resolved here, once:
a time that does not exist on a spring-forward day runs at the first valid time after the gap
(02:30 → 03:00 in Copenhagen), and a time that exists twice on an autumn day runs at its first
occurrence only. Deliveries are keyed by the subscription's *local date*, so each local day has
at most one occurrence, whatever the clock does.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.query import QueryError

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WEEKDAY_NAMES = {
    **{name: i for i, name in enumerate(WEEKDAYS)},
    **{
        full: i
        for i, full in enumerate(
            ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
        )
    },
    # Danish
    **{da: i for i, da in enumerate(("man", "tir", "ons", "tor", "fre", "lør", "søn"))},
    **{
        da: i
        for i, da in enumerate(
            ("mandag", "tirsdag", "onsdag", "torsdag", "fredag", "lørdag", "søndag")
        )
    },
}
DAILY = frozenset(range(7))
WEEKDAYS_ONLY = frozenset(range(5))
_HH_MM = re.compile(r"([0-9]{1,2})[:.]([0-9]{2})")


class ScheduleError(QueryError):
    """A schedule text that cannot be used; the message says what would work."""


@dataclass(frozen=True, slots=True)
class Schedule:
    """Weekdays (0 = Monday) at a local time in an IANA time zone."""

    days: frozenset[int]
    at: time
    timezone: str

    def __post_init__(self) -> None:
        if not self.days or not self.days <= DAILY:
            raise ScheduleError("A schedule needs at least one weekday.")
        zone(self.timezone)

    @property
    def zone(self) -> ZoneInfo:
        return zone(self.timezone)

    def runs_on(self, local_day: date) -> bool:
        return local_day.weekday() in self.days

    def occurrence(self, local_day: date) -> datetime:
        """The instant (UTC) of the run on `local_day`, daylight saving resolved."""
        return wall_clock_instant(local_day, self.at, self.zone)

    def occurrences(self, start: datetime, end: datetime) -> Iterator[tuple[date, datetime]]:
        """(local day, instant) of every run with start < instant <= end, oldest first."""
        tz = self.zone
        day = start.astimezone(tz).date() - timedelta(days=1)
        last = end.astimezone(tz).date() + timedelta(days=1)
        while day <= last:
            if self.runs_on(day):
                instant = self.occurrence(day)
                if start < instant <= end:
                    yield day, instant
            day += timedelta(days=1)

    def next_run(self, after: datetime) -> datetime:
        """The first run strictly after `after`."""
        for _, instant in self.occurrences(after, after + timedelta(days=8)):
            return instant
        raise AssertionError("a schedule with a weekday runs within 8 days")  # pragma: no cover

    def describe_days(self) -> str:
        if self.days == DAILY:
            return "daily"
        if self.days == WEEKDAYS_ONLY:
            return "weekdays"
        return ",".join(WEEKDAYS[d] for d in sorted(self.days))


def zone(name: str) -> ZoneInfo:
    """The IANA time zone, or ScheduleError saying what would work."""
    try:
        if not name or name.startswith(("/", ".")) or ".." in name:
            raise ValueError(name)
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
        raise ScheduleError(
            f"`{name}` is not a time zone. Use an IANA name such as `Europe/Copenhagen`, "
            "`America/New_York` or `Asia/Kolkata`."
        ) from exc


def wall_clock_instant(local_day: date, at: time, tz: ZoneInfo) -> datetime:
    """`local_day` at `at` in `tz` as a UTC instant: the first valid time after a
    spring-forward gap, the first of the two in an autumn fold."""
    wall = datetime.combine(local_day, at)
    for minutes in range(0, 24 * 60):
        candidate = wall + timedelta(minutes=minutes)
        aware = candidate.replace(tzinfo=tz, fold=0)
        # A wall-clock time inside a gap does not survive the round trip through UTC.
        if aware.astimezone(UTC).astimezone(tz).replace(tzinfo=None) == candidate:
            return aware.astimezone(UTC)
    raise AssertionError(f"no valid wall-clock time on {local_day} in {tz}")  # pragma: no cover


def parse_time(text: str) -> time:
    """`08:00`, `8:30`, `07.45` (24-hour), or ScheduleError."""
    match = _HH_MM.fullmatch(text.strip())
    if match is None:
        raise ScheduleError(f"`at {text}` is not a time. Write 24-hour HH:MM, e.g. `at 08:00`.")
    hour, minute = int(match.group(1)), int(match.group(2))
    if hour > 23 or minute > 59:
        raise ScheduleError(
            f"`at {text}` is not a time of day: hours go 00–23 and minutes 00–59, "
            "e.g. `at 08:00` or `at 17:30`."
        )
    return time(hour, minute)


def parse_days(text: str) -> frozenset[int]:
    """`daily`, `weekdays`, or a comma list of weekdays (`mon,wed,fri`), or ScheduleError."""
    lowered = text.strip().lower()
    if lowered in ("daily", "every day", "dagligt", "hver dag"):
        return DAILY
    if lowered in ("weekdays", "hverdage"):
        return WEEKDAYS_ONLY
    days = set()
    for part in (p.strip() for p in lowered.split(",")):
        if part not in WEEKDAY_NAMES:
            # `thurs`, `tues`: an unambiguous start of a day's name.
            starts = {
                i for name, i in WEEKDAY_NAMES.items() if len(part) >= 3 and name.startswith(part)
            }
            if len(starts) == 1:
                days.add(starts.pop())
                continue
            raise ScheduleError(
                f"`{part or text}` is not a weekday. Use `daily`, `weekdays` or days such as "
                "`mon,wed,fri`."
            )
        days.add(WEEKDAY_NAMES[part])
    return frozenset(days)


def is_days_word(text: str) -> bool:
    """Whether a word is meant as the days part (so a typo in it is reported as such)."""
    lowered = text.strip().lower()
    if lowered in ("daily", "every", "weekdays", "dagligt", "hverdage"):
        return True
    # `funday`, `thurs`, `mon-fri`: a day that is not one is reported as such, not as a scope.
    looks_like_a_day = lowered.endswith(("day", "days", "dag")) or lowered[:3] in WEEKDAY_NAMES
    return "," in lowered or looks_like_a_day
