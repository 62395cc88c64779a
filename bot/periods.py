"""The time-period grammar of the `/kpi` query language (pure: stdlib only).

Relative periods are computed from a caller-supplied `today` (see `today_in`), so parsing is
deterministic. Weeks start on Monday; `Nd` / `last N days` end *yesterday* (complete days).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

DEFAULT_PERIOD_TEXT = "7d"
MAX_PERIOD_DAYS = 3660

PERIOD_EXAMPLES: tuple[tuple[str, str], ...] = (
    ("today", "today so far"),
    ("yesterday", "yesterday"),
    ("7d", "the last 7 days, ending yesterday (any 1d-3660d)"),
    ("last 30 days", "the last 30 days, ending yesterday"),
    ("wtd", "this week so far, from Monday"),
    ("this week", "same as wtd"),
    ("mtd", "this month so far"),
    ("this month", "same as mtd"),
    ("qtd", "this quarter so far"),
    ("ytd", "this year so far"),
    ("last week", "last Monday to Sunday"),
    ("last month", "the previous calendar month"),
    ("2025-08-10", "one day (YYYY-MM-DD)"),
    ("2025-08-01..2025-08-31", "a date range, both days included"),
    ("i dag", "today (Danish)"),
    ("i går", "yesterday (Danish; also i gaar)"),
    ("sidste 7 dage", "the last 7 days, ending yesterday (Danish)"),
    ("denne uge", "this week so far (Danish)"),
    ("denne måned", "this month so far (Danish; also denne maaned)"),
    ("sidste uge", "last Monday to Sunday (Danish)"),
    ("sidste måned", "the previous calendar month (Danish; also sidste maaned)"),
)

_TRY = "Try e.g. `7d`, `last month` or `2025-08-01..2025-08-31`."


class PeriodError(ValueError):
    """A period text that cannot be used; the message tells the user what to write instead."""


@dataclass(frozen=True, slots=True)
class Period:
    """An inclusive range of calendar days with a human label."""

    start: date
    end: date
    label: str

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"period ends ({self.end}) before it starts ({self.start})")

    @property
    def days(self) -> int:
        """Number of days in the period, both ends included."""
        return (self.end - self.start).days + 1

    def previous(self) -> Period:
        """The equal-length period immediately before this one."""
        try:
            return Period(
                self.start - timedelta(days=self.days),
                self.start - timedelta(days=1),
                "previous period",
            )
        except OverflowError as exc:
            raise PeriodError("That period falls outside the calendar.") from exc

    def year_ago(self) -> Period:
        """The same calendar dates one year earlier (Feb 29 becomes Feb 28)."""
        try:
            start, end = _year_earlier(self.start), _year_earlier(self.end)
        except ValueError as exc:
            raise PeriodError("That period falls outside the calendar.") from exc
        return Period(start, end, "same period last year")

    def contains(self, d: date) -> bool:
        """True when `d` lies within the period (ends included)."""
        return self.start <= d <= self.end


def today_in(tz: ZoneInfo | str, now: datetime | None = None) -> date:
    """The calendar date in time zone `tz` at `now` (an aware datetime; default: current time)."""
    zone = ZoneInfo(tz) if isinstance(tz, str) else tz
    moment = datetime.now(UTC) if now is None else now
    if moment.utcoffset() is None:
        raise ValueError("now must be a timezone-aware datetime")
    return moment.astimezone(zone).date()


def parse_period(text: str, today: date) -> Period:
    """Read a period (see PERIOD_EXAMPLES) relative to `today`, or raise PeriodError."""
    normalized = _normalize(text)
    period = _parse(normalized, today)
    if period is None:
        if not normalized:
            raise PeriodError(f"No period given. {_TRY}")
        raise PeriodError(f'Unknown period "{text.strip()}". {_TRY}')
    return period


def take_trailing_period(words: list[str], today: date) -> tuple[list[str], Period | None]:
    """Split the longest run of trailing words that is a period off `words`.

    Returns (remaining words, period), or (words, None) when no tail is a period. A tail that
    has the shape of a period but is invalid (e.g. `2025-02-30`, `0d`) raises PeriodError rather
    than silently becoming part of a campaign name.
    """
    for cut in range(len(words)):
        period = _parse(_normalize(" ".join(words[cut:])), today)
        if period is not None:
            return list(words[:cut]), period
    return list(words), None


# --- internals --------------------------------------------------------------------------------

_ALIASES: dict[str, str] = {
    "this week": "wtd",
    "this month": "mtd",
    "i dag": "today",
    "i går": "yesterday",
    "i gaar": "yesterday",
    "denne uge": "wtd",
    "denne måned": "mtd",
    "denne maaned": "mtd",
    "sidste uge": "last week",
    "sidste måned": "last month",
    "sidste maaned": "last month",
}

_N_DAYS = re.compile(r"([0-9]+)d|last ([0-9]+) days?|sidste ([0-9]+) dage?")
_ISO_DAY = r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
_ISO_RANGE = re.compile(rf"({_ISO_DAY})(?:\.\.({_ISO_DAY}))?")


def _normalize(text: str) -> str:
    collapsed = " ".join(unicodedata.normalize("NFC", text).lower().split())
    return re.sub(r" ?\.\. ?", "..", collapsed)


def _year_earlier(d: date) -> date:
    if d.month == 2 and d.day == 29:
        return date(d.year - 1, 2, 28)
    return d.replace(year=d.year - 1)


def _week_start(d: date) -> date:
    return d - timedelta(days=d.weekday())


def _last_week(today: date) -> Period:
    start = _week_start(today) - timedelta(days=7)
    return Period(start, start + timedelta(days=6), "last week")


def _last_month(today: date) -> Period:
    end = today.replace(day=1) - timedelta(days=1)
    return Period(end.replace(day=1), end, "last month")


def _quarter_start(d: date) -> date:
    return date(d.year, 3 * ((d.month - 1) // 3) + 1, 1)


_FIXED: dict[str, Callable[[date], Period]] = {
    "today": lambda t: Period(t, t, "today"),
    "yesterday": lambda t: Period(t - timedelta(days=1), t - timedelta(days=1), "yesterday"),
    "wtd": lambda t: Period(_week_start(t), t, "week to date"),
    "mtd": lambda t: Period(t.replace(day=1), t, "month to date"),
    "qtd": lambda t: Period(_quarter_start(t), t, "quarter to date"),
    "ytd": lambda t: Period(date(t.year, 1, 1), t, "year to date"),
    "last week": _last_week,
    "last month": _last_month,
}


def _parse(text: str, today: date) -> Period | None:
    """Parse normalized text: a Period, None if no form matches, PeriodError if one does but
    its values are invalid."""
    try:
        form = _FIXED.get(_ALIASES.get(text, text))
        if form is not None:
            return form(today)
        if match := _N_DAYS.fullmatch(text):
            return _last_n_days(next(g for g in match.groups() if g is not None), text, today)
        if match := _ISO_RANGE.fullmatch(text):
            return _iso_range(match.group(1), match.group(2))
    except OverflowError as exc:
        raise PeriodError(f'"{text}" falls outside the calendar. {_TRY}') from exc
    return None


def _last_n_days(digits: str, text: str, today: date) -> Period:
    significant = digits.lstrip("0")
    n = int(significant) if 0 < len(significant) <= 6 else 0
    if not 1 <= n <= MAX_PERIOD_DAYS:
        raise PeriodError(
            f'"{text}": the number of days must be 1 to {MAX_PERIOD_DAYS}, '
            "e.g. `7d`, `30d` or `last 90 days`."
        )
    end = today - timedelta(days=1)
    label = "last 1 day" if n == 1 else f"last {n} days"
    return Period(end - timedelta(days=n - 1), end, label)


def _iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise PeriodError(
            f"{text} is not a valid date. Write YYYY-MM-DD, e.g. `2025-08-10` "
            "or `2025-08-01..2025-08-31`."
        ) from exc


def _iso_range(first: str, second: str | None) -> Period:
    start = _iso_date(first)
    if second is None:
        return Period(start, start, start.isoformat())
    end = _iso_date(second)
    if end < start:
        raise PeriodError(
            f"The range ends ({end}) before it starts ({start}). "
            f"Put the earlier date first: `{end}..{start}`."
        )
    days = (end - start).days + 1
    if days > MAX_PERIOD_DAYS:
        raise PeriodError(
            f"{start}..{end} is {days} days; the longest period is {MAX_PERIOD_DAYS} days. "
            "Try `ytd`, `365d` or a shorter range."
        )
    label = start.isoformat() if start == end else f"{start}..{end}"
    return Period(start, end, label)
