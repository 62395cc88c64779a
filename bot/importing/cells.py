"""Reading one cell: its shape and size are checked before any conversion, so no text is slow.

Each parser returns the value, None for an empty cell where that means "not reported", or
raises CellError with a message that says what to write instead. None of them converts text
whose length has not been bounded first (`int("1" * 5000)` and `Decimal("1e100000000")` are
where a lenient parser hangs or fails).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from bot.money import MICROS_PER_UNIT

# Per-row limits: far below storage.models.MAX_DAY_VALUE, the bound of a campaign-day.
MAX_COUNT = 10**12
MAX_AMOUNT = 2 * 10**9  # currency units
MAX_DECIMALS = 6  # micro-units
MAX_MICROS = MAX_AMOUNT * MICROS_PER_UNIT
_COUNT_DIGITS = len(str(MAX_COUNT))
# Up to this many ASCII digits is always a valid count: a caller may int() such text itself.
PLAIN_COUNT_DIGITS = _COUNT_DIGITS - 1
_AMOUNT_DIGITS = len(str(MAX_AMOUNT))

EARLIEST_DAY = date(2000, 1, 1)
MAX_DAYS_AHEAD = 366

_ISO_DAY = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})(?:[T ]00:00:00Z?)?")
_DAY_FIRST = re.compile(r"([0-9]{1,2})([-./])([0-9]{1,2})\2([0-9]{4})")
_COMPACT_DAY = re.compile(r"([0-9]{4})([0-9]{2})([0-9]{2})")
# 1.000 / 1,000 / 1_000 / 1 000 / 1'000: digits in groups of three.
_GROUPED = re.compile(r"[0-9]{1,3}([.,_ '])[0-9]{3}(?:\1[0-9]{3})*")
_WHOLE_WITH_ZEROS = re.compile(r"([0-9]+)[.,]0+")
# The Danish form of a thousands separator: 1.234.567 (the first group may be shorter).
_DANISH_GROUPS = re.compile(r"[0-9]{1,3}(?:\.[0-9]{3})+")
_SHOWN_CHARACTERS = 40


class CellError(ValueError):
    """A cell that cannot be read; the message (without file, line and column) says why."""


@dataclass(frozen=True, slots=True)
class DateWindow:
    """The days an import accepts: from `earliest` to `days_ahead` days after `today`."""

    earliest: date
    today: date
    days_ahead: int

    @property
    def latest(self) -> date:
        return self.today + timedelta(days=self.days_ahead)

    @classmethod
    def default(cls, today: date) -> DateWindow:
        return cls(EARLIEST_DAY, today, MAX_DAYS_AHEAD)


def shown(text: str) -> str:
    """A cell as a message quotes it: escaped (a NUL shows as \\x00) and cut when long."""
    if len(text) <= _SHOWN_CHARACTERS:
        return repr(text)
    return f"{text[:_SHOWN_CHARACTERS]!r}… ({len(text):,} characters)"


def _number(text: str) -> str:
    """A digit string as a message shows it: itself, or its length when it is long."""
    if len(text) <= 20:
        return text
    return f"a {len(text):,}-character number"


# --- counts ---------------------------------------------------------------------------------


def parse_count(text: str, column: str) -> int | None:
    """A count: plain ASCII digits from 0 to MAX_COUNT; None for an empty cell (unknown)."""
    if len(text) <= PLAIN_COUNT_DIGITS and text.isdigit() and text.isascii():
        return int(text)
    return _count_slowly(text.strip(), column)


def _count_slowly(text: str, column: str) -> int | None:
    if not text:
        return None
    if text.isascii() and text.isdigit():
        digits = text.lstrip("0") or "0"
        if len(digits) <= _COUNT_DIGITS and int(digits) <= MAX_COUNT:
            return int(digits)
        raise CellError(f"{_number(text)} is too large; at most {MAX_COUNT:,} per row")
    unsigned = text[1:]
    if text[0] == "-" and unsigned.isascii() and unsigned.isdigit():
        if not unsigned.strip("0"):
            raise CellError(f"{shown(text)} has a minus sign; write 0")
        raise CellError(f"{_number(text)} is negative; counts cannot be below 0")
    noun = column.replace("_", " ")
    raise CellError(
        f"{shown(text)} is not a whole number of {noun}; write digits only, "
        f"e.g. {_count_example(text)}"
    )


def _count_example(text: str) -> str:
    """What the writer of a refused count most likely meant, as digits."""
    if len(text) <= _SHOWN_CHARACTERS:
        if _GROUPED.fullmatch(text):
            return re.sub(r"[^0-9]", "", text)
        whole = _WHOLE_WITH_ZEROS.fullmatch(text)
        if whole:
            return whole[1].lstrip("0") or "0"
        if text.isdecimal():  # digits of another script, e.g. Arabic-Indic ١٢
            return str(int(text))
    return "1000"


# --- money ----------------------------------------------------------------------------------


def parse_money(text: str, decimal_comma: bool = False) -> int | None:
    """An amount in micro-units: digits, one decimal mark, at most 6 decimals; None if empty.

    The decimal mark is `.`, or `,` with decimal_comma (Danish), where `.` may also separate
    groups of exactly three digits (1.234.567,89).
    """
    whole, mark, fraction = text.partition("," if decimal_comma else ".")
    if (
        whole.isdigit()
        and whole.isascii()
        and len(whole) <= _AMOUNT_DIGITS
        and (not mark or (fraction.isdigit() and fraction.isascii() and len(fraction) <= 6))
    ):
        # The usual "123.45": integer arithmetic, exact, no Decimal.
        micros = int(whole) * MICROS_PER_UNIT + (int(fraction.ljust(6, "0")) if mark else 0)
        if micros <= MAX_MICROS:
            return micros
    return _money_slowly(text.strip(), decimal_comma)


def _money_slowly(text: str, decimal_comma: bool) -> int | None:
    if not text:
        return None
    if text[0] == "-":
        try:
            unsigned = _amount(text[1:], decimal_comma)
        except CellError:  # too large or too precise, but negative first of all
            unsigned = 1
        if unsigned == 0:
            raise CellError(f"{shown(text)} has a minus sign; write 0")
        if unsigned is not None:
            raise CellError(f"{_number(text)} is negative; amounts cannot be below 0")
    micros = _amount(text, decimal_comma)
    if micros is None:
        raise CellError(_money_hint(text, decimal_comma))
    return micros


def _amount(text: str, decimal_comma: bool) -> int | None:
    """Micro-units of a well-formed amount, None when it is not one; CellError if too precise
    or too large."""
    whole, mark, fraction = text.partition("," if decimal_comma else ".")
    if decimal_comma and "." in whole and _DANISH_GROUPS.fullmatch(whole):
        whole = whole.replace(".", "")
    if not (whole.isascii() and whole.isdigit()):
        return None
    if mark and not (fraction.isascii() and fraction.isdigit()):
        return None
    if len(fraction) > MAX_DECIMALS:
        raise CellError(
            f"{shown(text)} has {len(fraction):,} decimals; at most {MAX_DECIMALS} are kept "
            "exactly, so round it in the file"
        )
    digits = whole.lstrip("0") or "0"
    if len(digits) <= _AMOUNT_DIGITS:
        micros = int(digits) * MICROS_PER_UNIT + (int(fraction.ljust(6, "0")) if mark else 0)
        if micros <= MAX_MICROS:
            return micros
    raise CellError(f"{_number(text)} is too large; at most {MAX_AMOUNT:,} per row")


def _money_hint(text: str, decimal_comma: bool) -> str:
    if decimal_comma:
        if len(text) <= _SHOWN_CHARACTERS and re.fullmatch(r"[0-9.,]+", text):
            return (
                f"{shown(text)} is not an amount in decimal-comma form; write e.g. 1234,56 or "
                "1.234,56 (, for decimals, . only between groups of three digits)"
            )
        return f"{shown(text)} is not an amount (use , for decimals, e.g. 12,50)"
    if len(text) <= _SHOWN_CHARACTERS:
        whole, dot, fraction = text.partition(".")
        if _GROUPED.fullmatch(whole) and (not dot or fraction.isdigit()):
            plain = re.sub(r"[^0-9]", "", whole) + dot + fraction
            return f"{shown(text)} has a thousands separator; write digits only, e.g. {plain}"
    return f"{shown(text)} is not an amount (use . for decimals, e.g. 12.50)"


# --- quantities -----------------------------------------------------------------------------


def parse_quantity(text: str, column: str, decimal_comma: bool = False) -> int | None:
    """A count that may be fractional (conversions, leads, new customers: data-driven
    attribution reports 2.5) in micro-units, exactly: digits, one decimal mark, at most 6
    decimals, at most MAX_AMOUNT per row; None for an empty cell (unknown)."""
    if len(text) <= PLAIN_COUNT_DIGITS and text.isdigit() and text.isascii():
        whole = int(text)
        if whole <= MAX_AMOUNT:
            return whole * MICROS_PER_UNIT
    text = text.strip()
    if not text:
        return None
    noun = column.replace("_", " ")
    if text[0] == "-":
        try:
            unsigned = _amount(text[1:], decimal_comma)
        except CellError:
            unsigned = 1
        if unsigned == 0:
            raise CellError(f"{shown(text)} has a minus sign; write 0")
        if unsigned is not None:
            raise CellError(f"{_number(text)} is negative; counts cannot be below 0")
    micros = _amount(text, decimal_comma)
    if micros is None:
        raise CellError(_quantity_hint(text, noun, decimal_comma))
    return micros


def _quantity_hint(text: str, noun: str, decimal_comma: bool) -> str:
    mark = "," if decimal_comma else "."
    example = f"2{mark}5"
    if len(text) <= _SHOWN_CHARACTERS and not decimal_comma:
        whole, dot, fraction = text.partition(".")
        if _GROUPED.fullmatch(whole) and (not dot or fraction.isdigit()):
            plain = re.sub(r"[^0-9]", "", whole) + dot + fraction
            return f"{shown(text)} has a thousands separator; write digits only, e.g. {plain}"
    return (
        f"{shown(text)} is not a number of {noun}; write digits with {mark!r} for decimals, "
        f"e.g. 12 or {example}"
    )


# --- dates ----------------------------------------------------------------------------------


def parse_day(text: str, window: DateWindow) -> date:
    """A day written YYYY-MM-DD (a midnight time may follow) inside the window."""
    match = _ISO_DAY.fullmatch(text)
    if match is None:
        raise CellError(_day_hint(text))
    try:
        day = date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        raise CellError(f"{shown(text)} is not a date (use YYYY-MM-DD)") from None
    if day < window.earliest:
        raise CellError(
            f"{day} is before {window.earliest}, the earliest day kpibot imports "
            "(KPIBOT_IMPORT_EARLIEST_DATE)"
        )
    if day > window.latest:
        raise CellError(
            f"{day} is more than {window.days_ahead} days after today ({window.today}); "
            "check the year (KPIBOT_IMPORT_MAX_DAYS_AHEAD)"
        )
    return day


def exact_day(text: str) -> date | None:
    """The day written exactly YYYY-MM-DD in `text`, else None (for settings)."""
    match = _ISO_DAY.fullmatch(text)
    if match is None or len(text) != len("YYYY-MM-DD"):
        return None
    return _valid_day(int(match[1]), int(match[2]), int(match[3]))


def _day_hint(text: str) -> str:
    if not text:
        return "is empty"
    if len(text) <= _SHOWN_CHARACTERS:
        parts = _DAY_FIRST.fullmatch(text)
        if parts:
            meant = _valid_day(int(parts[4]), int(parts[3]), int(parts[1]))
            if meant is not None:
                return (
                    f"{shown(text)} looks like day-month-year; write YYYY-MM-DD, e.g. "
                    f"{meant.isoformat()} for {meant.day} {meant:%B %Y}"
                )
        parts = _COMPACT_DAY.fullmatch(text)
        if parts:
            meant = _valid_day(int(parts[1]), int(parts[2]), int(parts[3]))
            if meant is not None:
                return f"{shown(text)} is not a date; write YYYY-MM-DD, e.g. {meant.isoformat()}"
    return f"{shown(text)} is not a date (use YYYY-MM-DD)"


def _valid_day(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


# --- text -----------------------------------------------------------------------------------


def check_text_message(text: str, limit: int) -> str:
    """What is wrong with a text cell longer than its column's `limit` in the database."""
    return f"{shown(text)} is too long; at most {limit} characters"
