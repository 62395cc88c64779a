"""The time-period grammar of the `/kpi` query language (pure: stdlib only).

Relative periods are computed from a caller-supplied `today` (see `today_in`), so parsing is
deterministic. Weeks start on Monday; `Nd` / `last N days` end *yesterday* (complete days). A
period knows the calendar unit it is made of, so it is compared like with like.
"""

from __future__ import annotations

import calendar
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import Enum
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
    ("this year", "same as ytd"),
    ("last week", "last Monday to Sunday"),
    ("last month", "the previous calendar month"),
    ("last quarter", "the previous calendar quarter"),
    ("last year", "the previous calendar year"),
    ("2025-07", "one month (YYYY-MM); the current month runs to today"),
    ("july", "the latest July that has begun; any month name, also Danish (juli, okt)"),
    ("nov 2024", "a month of a given year"),
    ("q2", "the latest Q2 that has begun (q1-q4)"),
    ("q2 2025", "a quarter of a given year"),
    ("2025-08-10", "one day (YYYY-MM-DD)"),
    ("2025-08-01..2025-08-31", "a date range, both days included"),
    ("i dag", "today (Danish)"),
    ("i går", "yesterday (Danish; also i gaar)"),
    ("sidste 7 dage", "the last 7 days, ending yesterday (Danish)"),
    ("denne uge", "this week so far (Danish)"),
    ("denne måned", "this month so far (Danish; also denne maaned)"),
    ("i år", "this year so far (Danish; also i aar)"),
    ("sidste uge", "last Monday to Sunday (Danish; also forrige uge)"),
    ("sidste måned", "the previous calendar month (Danish; also forrige måned)"),
    ("sidste kvartal", "the previous calendar quarter (Danish; also forrige kvartal)"),
    ("sidste år", "the previous calendar year (Danish; also forrige år)"),
)

# What errors suggest instead, drawn from the examples so that errors and help agree.
_SUGGESTED = [
    f"`{text}`"
    for text, _ in PERIOD_EXAMPLES
    if text in ("7d", "last quarter", "2025-07", "2025-08-01..2025-08-31")
]
_TRY_EXAMPLES = f"{', '.join(_SUGGESTED[:-1])} or {_SUGGESTED[-1]}"
_TRY = f"Try e.g. {_TRY_EXAMPLES}."
_OUTSIDE = "That period falls outside the calendar."


class PeriodError(ValueError):
    """A period text that cannot be used; the message tells the user what to write instead."""


class UnknownPeriodError(PeriodError):
    """Text that is no period form at all (rather than one with impossible values)."""


class Grain(Enum):
    """The calendar unit a period is made of; DAY is any run of days (`7d`, a date range)."""

    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"


@dataclass(frozen=True, slots=True)
class Period:
    """An inclusive range of calendar days with a human label.

    `grain` and `to_date` say what the days are, so that they are compared like with like: a
    whole calendar unit (`last month`, `q3`), one that runs to today (`mtd`: `to_date`), or any
    run of days (the default).
    """

    start: date
    end: date
    label: str
    grain: Grain = Grain.DAY
    to_date: bool = False

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"period ends ({self.end}) before it starts ({self.start})")

    @property
    def days(self) -> int:
        """Number of days in the period, both ends included."""
        return (self.end - self.start).days + 1

    def previous(self) -> Period:
        """The period before, like with like: the previous calendar unit in full for a whole
        one (`last month` → the month before), the same days into the previous unit for one to
        date (`mtd` on Dec 3 → Nov 1-3; `ytd` → the same dates last year), and the equal-length
        days immediately before for a run of days."""
        try:
            if self.grain is Grain.DAY:
                start = self.start - timedelta(days=self.days)
                return Period(start, self.start - timedelta(days=1), "previous period")
            if self.grain is Grain.YEAR and self.to_date:
                start, end = _year_earlier(self.start), _year_earlier(self.end)
            else:
                start = _unit_start(self.start - timedelta(days=1), self.grain)
                end = _unit_end(start, self.grain)
                if self.to_date:  # clamped: the 92nd day of a quarter to date → the 91st
                    end = min(end, start + (self.end - self.start))
        except (OverflowError, ValueError) as exc:
            raise PeriodError(_OUTSIDE) from exc
        label = f"previous {self.grain.value}" + (" to date" if self.to_date else "")
        return Period(start, end, label, self.grain, self.to_date)

    def month_ago(self) -> Period:
        """The same days one month earlier; a day the shorter month lacks becomes its last day
        (Mar 29-31 → Feb 28)."""
        try:
            start, end = months_later(self.start, -1), months_later(self.end, -1)
        except (OverflowError, ValueError) as exc:
            raise PeriodError(_OUTSIDE) from exc
        return Period(start, end, "same days last month")

    def year_ago(self) -> Period:
        """The same calendar dates one year earlier (Feb 29 becomes Feb 28)."""
        try:
            start, end = _year_earlier(self.start), _year_earlier(self.end)
        except ValueError as exc:
            raise PeriodError(_OUTSIDE) from exc
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
        raise unknown_period(text)
    return period


def unknown_period(text: str) -> UnknownPeriodError:
    """The error for words meant as a period that are none: it names them and shows what works."""
    shown = " ".join(text.split())
    if len(shown) > 40:
        shown = shown[:39] + "…"
    return UnknownPeriodError(f"I don't know the period '{shown}' — try {_TRY_EXAMPLES}.")


def looks_like_period(words: Sequence[str]) -> bool:
    """True when words read as an attempt at a period, known or not: all of them are period
    words and one names a unit, a day, a month or a date (`forrige århundrede`, `h2`,
    `30 dayz`, `2025/08`); `next gen` and `2024` do not, as campaign names use such words."""
    normalized = [_normalize(word) for word in words]
    return any(map(_names_time, normalized)) and all(
        word in _RELATIVE_WORDS or word.isdigit() or _names_time(word) for word in normalized
    )


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
    "this quarter": "qtd",
    "this year": "ytd",
    "previous week": "last week",
    "previous month": "last month",
    "previous quarter": "last quarter",
    "previous year": "last year",
    "i dag": "today",
    "i går": "yesterday",
    "i gaar": "yesterday",
    "denne uge": "wtd",
    "denne måned": "mtd",
    "denne maaned": "mtd",
    "dette kvartal": "qtd",
    "i år": "ytd",
    "i aar": "ytd",
    "dette år": "ytd",
    "dette aar": "ytd",
    **{
        f"{word} {unit}": f"last {english}"
        for word in ("sidste", "forrige")
        for unit, english in (
            ("uge", "week"),
            ("måned", "month"),
            ("maaned", "month"),
            ("kvartal", "quarter"),
            ("år", "year"),
            ("aar", "year"),
        )
    },
}

# English, Danish and their three-letter forms (`sept` too); labels use the first, title-cased.
_MONTH_NAMES: tuple[tuple[str, ...], ...] = (
    ("january", "januar", "jan"),
    ("february", "februar", "feb"),
    ("march", "marts", "mar"),
    ("april", "apr"),
    ("may", "maj"),
    ("june", "juni", "jun"),
    ("july", "juli", "jul"),
    ("august", "aug"),
    ("september", "sep", "sept"),
    ("october", "oktober", "oct", "okt"),
    ("november", "nov"),
    ("december", "dec"),
)
_MONTHS = {name: number for number, names in enumerate(_MONTH_NAMES, 1) for name in names}

_N_DAYS = re.compile(r"([0-9]+)d|last ([0-9]+) days?|sidste ([0-9]+) dage?")
_ISO_DAY = r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
_ISO_RANGE = re.compile(rf"({_ISO_DAY})(?:\.\.({_ISO_DAY}))?")
_ISO_MONTH = re.compile(r"([0-9]{4})-([0-9]{2})")
_NAMED_MONTH = re.compile(r"([a-zæøå]+)(?: ([0-9]{4}))?")
_QUARTER = re.compile(r"q([1-4])(?: ([0-9]{4}))?")

# The period vocabulary of looks_like_period: words that only qualify a period ...
_RELATIVE_WORDS = frozenset(
    (
        *("last", "this", "next", "previous", "prev", "past", "current", "coming", "i"),
        *("sidste", "forrige", "denne", "dette", "næste", "naeste", "seneste", "kommende"),
    )
)
# ... and words that name time: units, days, months, and (in _TIME_TOKEN) dates and numbers
# with letters in any spelling, quarter and half-year words, misspelt or run-together units.
_TIME_WORDS = frozenset(
    (
        *("døgn", "år", "året", "aar", "aaret", "weekend", "fortnight", "decade", "century"),
        *("årti", "århundrede", "aarhundrede", "today", "tomorrow", "går", "gaar"),
        *("forgårs", "forgaars", "morgen", "overmorgen", "wtd", "mtd", "qtd", "ytd"),
        *("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"),
        *("mandag", "tirsdag", "onsdag", "torsdag", "fredag", "lørdag", "søndag"),
        *_MONTHS,
    )
)
_TIME_TOKEN = re.compile(
    r"[0-9./-]*[0-9][0-9./-]*[a-zæøå]*|\.\.|[qh][0-9]+|fy[0-9]*"
    r"|(?:last|this|next|sidste|forrige|denne)?"
    r"(?:day|week|month|quarter|year|yester|dag|uge|måned|maaned|kvartal)[a-zæøå]*"
)


def _names_time(word: str) -> bool:
    return word in _TIME_WORDS or (_TIME_TOKEN.fullmatch(word) is not None and not word.isdigit())


def _normalize(text: str) -> str:
    collapsed = " ".join(unicodedata.normalize("NFC", text).lower().split())
    return re.sub(r" ?\.\. ?", "..", collapsed)


def _year_earlier(d: date) -> date:
    if d.month == 2 and d.day == 29:
        return date(d.year - 1, 2, 28)
    return d.replace(year=d.year - 1)


def months_later(d: date, months: int) -> date:
    """The same day `months` later (earlier if negative), or the month's last day if it has no
    such day."""
    year, month = divmod(d.year * 12 + d.month - 1 + months, 12)
    return date(year, month + 1, min(d.day, calendar.monthrange(year, month + 1)[1]))


def _unit_start(d: date, grain: Grain) -> date:
    """The first day of the week, month, quarter or year that `d` lies in."""
    if grain is Grain.WEEK:
        return d - timedelta(days=d.weekday())
    if grain is Grain.MONTH:
        return d.replace(day=1)
    if grain is Grain.QUARTER:
        return date(d.year, 3 * ((d.month - 1) // 3) + 1, 1)
    if grain is Grain.YEAR:
        return date(d.year, 1, 1)
    return d


def _unit_end(start: date, grain: Grain) -> date:
    """The last day of the unit that begins on `start`."""
    if grain is Grain.WEEK:
        return start + timedelta(days=6)
    if grain is Grain.DAY:
        return start
    last_month = months_later(start, {Grain.MONTH: 0, Grain.QUARTER: 2, Grain.YEAR: 11}[grain])
    return last_month.replace(day=calendar.monthrange(last_month.year, last_month.month)[1])


def _so_far(today: date, grain: Grain, label: str) -> Period:
    return Period(_unit_start(today, grain), today, label, grain, to_date=True)


def _last(today: date, grain: Grain) -> Period:
    start = _unit_start(_unit_start(today, grain) - timedelta(days=1), grain)
    return Period(start, _unit_end(start, grain), f"last {grain.value}", grain)


def _unit_from(start: date, grain: Grain, label: str, today: date) -> Period:
    """The unit beginning on `start`: whole when it is over, up to today while it runs."""
    if start > today:
        raise PeriodError(f"{label} has not begun yet. {_TRY}")
    end = _unit_end(start, grain)
    if end >= today:
        return Period(start, today, f"{label} to date", grain, to_date=True)
    return Period(start, end, label, grain)


_FIXED: dict[str, Callable[[date], Period]] = {
    "today": lambda t: Period(t, t, "today"),
    "yesterday": lambda t: Period(t - timedelta(days=1), t - timedelta(days=1), "yesterday"),
    "wtd": lambda t: _so_far(t, Grain.WEEK, "week to date"),
    "mtd": lambda t: _so_far(t, Grain.MONTH, "month to date"),
    "qtd": lambda t: _so_far(t, Grain.QUARTER, "quarter to date"),
    "ytd": lambda t: _so_far(t, Grain.YEAR, "year to date"),
    "last week": lambda t: _last(t, Grain.WEEK),
    "last month": lambda t: _last(t, Grain.MONTH),
    "last quarter": lambda t: _last(t, Grain.QUARTER),
    "last year": lambda t: _last(t, Grain.YEAR),
}


def _parse(text: str, today: date) -> Period | None:
    """Parse normalized text: a Period, None if no form matches, PeriodError if one does but
    its values are invalid."""
    try:
        return _read(text, today)
    except PeriodError:
        raise
    except (OverflowError, ValueError) as exc:  # e.g. the year before year 1
        raise PeriodError(f'"{text}" falls outside the calendar. {_TRY}') from exc


def _read(text: str, today: date) -> Period | None:
    form = _FIXED.get(_ALIASES.get(text, text))
    if form is not None:
        return form(today)
    if match := _N_DAYS.fullmatch(text):
        return _last_n_days(next(g for g in match.groups() if g is not None), text, today)
    if match := _ISO_RANGE.fullmatch(text):
        return _iso_range(match.group(1), match.group(2))
    if match := _ISO_MONTH.fullmatch(text):
        return _iso_month(match.group(1), match.group(2), today)
    if (match := _NAMED_MONTH.fullmatch(text)) and match.group(1) in _MONTHS:
        month = _MONTHS[match.group(1)]
        name = _MONTH_NAMES[month - 1][0].title()
        return _latest(month, Grain.MONTH, match.group(2), name, today)
    if match := _QUARTER.fullmatch(text):
        quarter = int(match.group(1))
        return _latest(3 * quarter - 2, Grain.QUARTER, match.group(2), f"Q{quarter}", today)
    return None


def _latest(month: int, grain: Grain, year: str | None, name: str, today: date) -> Period:
    """The month or quarter beginning in `month` of `year`; without a year, the latest one
    that has begun (`december` in January is last December)."""
    start = date(today.year if year is None else int(year), month, 1)
    if year is None and start > today:
        start = start.replace(year=start.year - 1)
    return _unit_from(start, grain, f"{name} {start.year}", today)


def _iso_month(year: str, month: str, today: date) -> Period:
    text = f"{year}-{month}"
    try:
        start = date(int(year), int(month), 1)
    except ValueError as exc:
        raise PeriodError(f"{text} is not a valid month. Write YYYY-MM, e.g. `2025-07`.") from exc
    return _unit_from(start, Grain.MONTH, text, today)


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
