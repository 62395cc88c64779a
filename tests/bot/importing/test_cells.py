"""Cell parsers: strict shapes, exact values, a message that says what to write, never slow."""

from __future__ import annotations

import time
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.importing.cells import (
    MAX_AMOUNT,
    MAX_COUNT,
    MAX_MICROS,
    CellError,
    DateWindow,
    exact_day,
    parse_count,
    parse_day,
    parse_money,
)
from bot.money import MICROS_PER_UNIT
from storage.models import MAX_DAY_VALUE

TODAY = date(2026, 12, 3)
WINDOW = DateWindow.default(TODAY)
# Texts a spreadsheet, a locale or an attacker might put in a number cell.
NUMBERISH = st.text(alphabet="0123456789.,_ -+eE١٢³\u00a0'xX", max_size=30)
HUGE = [
    "1" * 5000,
    "9" * 100_000,
    "1e100000000",
    "1" + "0" * 4300,
    "-" + "1" * 5000,
    "1." + "0" * 9999,
]


def _refused(parse: object, *args: object) -> str:
    with pytest.raises(CellError) as info:
        parse(*args)  # type: ignore[operator]
    return str(info.value)


def test_per_row_limits_stay_below_the_campaign_day_bound() -> None:
    assert MAX_COUNT < MAX_DAY_VALUE
    assert MAX_MICROS == MAX_AMOUNT * MICROS_PER_UNIT < MAX_DAY_VALUE


# --- counts ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "value"), [("0", 0), ("12", 12), (" 7 ", 7), ("007", 7)])
def test_plain_digits_are_counts(text: str, value: int) -> None:
    assert parse_count(text, "clicks") == value


@pytest.mark.parametrize("text", ["", "   "])
def test_an_empty_count_cell_is_unknown(text: str) -> None:
    assert parse_count(text, "leads") is None


def test_the_largest_count_per_row() -> None:
    assert parse_count(str(MAX_COUNT), "impressions") == MAX_COUNT
    assert _refused(parse_count, str(MAX_COUNT + 1), "impressions") == (
        "1000000000001 is too large; at most 1,000,000,000,000 per row"
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1.000", "'1.000' is not a whole number of clicks; write digits only, e.g. 1000"),
        ("1,000", "'1,000' is not a whole number of clicks; write digits only, e.g. 1000"),
        ("1_000", "'1_000' is not a whole number of clicks; write digits only, e.g. 1000"),
        ("1 000", "'1 000' is not a whole number of clicks; write digits only, e.g. 1000"),
        ("1e3", "'1e3' is not a whole number of clicks; write digits only, e.g. 1000"),
        ("12.0", "'12.0' is not a whole number of clicks; write digits only, e.g. 12"),
        ("١٢", "'١٢' is not a whole number of clicks; write digits only, e.g. 12"),
        ("+5", "'+5' is not a whole number of clicks; write digits only, e.g. 1000"),
        ("-3", "-3 is negative; counts cannot be below 0"),
        ("-0", "'-0' has a minus sign; write 0"),
        ("1" * 5000, "a 5,000-character number is too large; at most 1,000,000,000,000 per row"),
    ],
)
def test_counts_refused_with_what_to_write(text: str, message: str) -> None:
    assert _refused(parse_count, text, "clicks") == message


def test_the_message_names_the_column_in_words() -> None:
    assert "whole number of new customers" in _refused(parse_count, "2.5", "new_customers")


@given(st.integers(min_value=0, max_value=MAX_COUNT), st.integers(min_value=0, max_value=3))
def test_any_count_in_range_reads_back_exactly(value: int, zeros: int) -> None:
    assert parse_count("0" * zeros + str(value), "clicks") == value


@given(st.one_of(NUMBERISH, st.text(max_size=40)))
def test_a_count_is_what_its_digits_say_or_refused(text: str) -> None:
    try:
        value = parse_count(text, "clicks")
    except CellError as exc:
        assert str(exc)
        return
    stripped = text.strip()
    if value is None:
        assert stripped == ""
    else:
        assert stripped.isascii() and stripped.isdigit()
        assert int(stripped) == value <= MAX_COUNT


# --- money ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "micros"),
    [
        ("0", 0),
        ("12.5", 12_500_000),
        ("12.50", 12_500_000),
        (" 1188.00 ", 1_188_000_000),
        ("0.000001", 1),
        ("2000000000", MAX_MICROS),
    ],
)
def test_amounts_with_a_decimal_point(text: str, micros: int) -> None:
    assert parse_money(text) == micros


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("12,50", "'12,50' is not an amount (use . for decimals, e.g. 12.50)"),
        ("1.234,56", "'1.234,56' is not an amount (use . for decimals, e.g. 12.50)"),
        ("1,234.56", "'1,234.56' has a thousands separator; write digits only, e.g. 1234.56"),
        ("1_000", "'1_000' has a thousands separator; write digits only, e.g. 1000"),
        (
            "1.2345675",
            "'1.2345675' has 7 decimals; at most 6 are kept exactly, so round it in the file",
        ),
        ("1e20", "'1e20' is not an amount (use . for decimals, e.g. 12.50)"),
        ("NaN", "'NaN' is not an amount (use . for decimals, e.g. 12.50)"),
        ("12.", "'12.' is not an amount (use . for decimals, e.g. 12.50)"),
        ("-1.00", "-1.00 is negative; amounts cannot be below 0"),
        ("-0.00", "'-0.00' has a minus sign; write 0"),
        ("2000000000.000001", "2000000000.000001 is too large; at most 2,000,000,000 per row"),
    ],
)
def test_amounts_refused_with_what_to_write(text: str, message: str) -> None:
    assert _refused(parse_money, text) == message


@pytest.mark.parametrize(
    ("text", "micros"),
    [
        ("12,50", 12_500_000),
        ("1234,56", 1_234_560_000),
        ("1.234,56", 1_234_560_000),
        ("1.234.567,89", 1_234_567_890_000),
        ("1.234", 1_234_000_000),
        ("0,000001", 1),
        ("7", 7_000_000),
    ],
)
def test_danish_amounts(text: str, micros: int) -> None:
    assert parse_money(text, decimal_comma=True) == micros


@pytest.mark.parametrize("text", ["12.34,5", "1234.567,8", "12.50", "1,234.56", "1.2345", ",5"])
def test_danish_thousands_separators_only_in_groups_of_three(text: str) -> None:
    message = _refused(parse_money, text, True)
    assert "not an amount in decimal-comma form" in message
    assert "1.234,56" in message


def test_danish_amount_errors_name_the_comma() -> None:
    assert (
        _refused(parse_money, "x", True) == "'x' is not an amount (use , for decimals, e.g. 12,50)"
    )
    assert _refused(parse_money, "-1,00", True) == "-1,00 is negative; amounts cannot be below 0"


@given(st.integers(min_value=0, max_value=MAX_MICROS), st.sampled_from([0, 1, 2, 3, 6]))
def test_any_amount_in_range_reads_back_exactly(micros: int, places: int) -> None:
    units, fraction = divmod(micros, MICROS_PER_UNIT)
    if places < 6 and fraction % 10 ** (6 - places):
        places = 6  # would need more decimals than `places`
    digits = f"{fraction:06d}"[:places]
    point = f"{units}.{digits}" if places else str(units)
    assert parse_money(point) == (micros if places else units * MICROS_PER_UNIT)
    grouped = f"{units:,}".replace(",", ".")
    comma = f"{grouped},{digits}" if places else grouped
    assert parse_money(comma, decimal_comma=True) == (micros if places else units * MICROS_PER_UNIT)


@given(st.one_of(NUMBERISH, st.text(max_size=40)), st.booleans())
def test_an_amount_is_what_its_digits_say_or_refused(text: str, decimal_comma: bool) -> None:
    try:
        micros = parse_money(text, decimal_comma)
    except CellError as exc:
        assert str(exc)
        return
    stripped = text.strip()
    if micros is None:
        assert stripped == ""
        return
    if decimal_comma:
        whole, _, fraction = stripped.partition(",")
        plain = whole.replace(".", "") + "." + (fraction or "0")
    else:
        plain = stripped if "." in stripped else stripped + ".0"
    assert plain.replace(".", "", 1).isascii() and plain.replace(".", "", 1).isdigit()
    assert Decimal(plain) * MICROS_PER_UNIT == micros <= MAX_MICROS


# --- dates ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text", ["2025-08-10", "2025-08-10 00:00:00", "2025-08-10T00:00:00", "2025-08-10T00:00:00Z"]
)
def test_days(text: str) -> None:
    assert parse_day(text, WINDOW) == date(2025, 8, 10)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("20250101", "'20250101' is not a date; write YYYY-MM-DD, e.g. 2025-01-01"),
        ("2025-W01-1", "'2025-W01-1' is not a date (use YYYY-MM-DD)"),
        ("2025-001", "'2025-001' is not a date (use YYYY-MM-DD)"),
        ("2025-8-1", "'2025-8-1' is not a date (use YYYY-MM-DD)"),
        ("２０２５-08-10", "'２０２５-08-10' is not a date (use YYYY-MM-DD)"),
        ("2025-02-30", "'2025-02-30' is not a date (use YYYY-MM-DD)"),
        ("2025-08-10T10:30:00", "'2025-08-10T10:30:00' is not a date (use YYYY-MM-DD)"),
        (
            "10-08-2025",
            "'10-08-2025' looks like day-month-year; write YYYY-MM-DD, e.g. 2025-08-10 "
            "for 10 August 2025",
        ),
        (
            "10.08.2025",
            "'10.08.2025' looks like day-month-year; write YYYY-MM-DD, e.g. 2025-08-10 "
            "for 10 August 2025",
        ),
        (
            "10/08/2025",
            "'10/08/2025' looks like day-month-year; write YYYY-MM-DD, e.g. 2025-08-10 "
            "for 10 August 2025",
        ),
        ("", "is empty"),
    ],
)
def test_days_refused_with_what_to_write(text: str, message: str) -> None:
    assert _refused(parse_day, text, WINDOW) == message


def test_the_date_window() -> None:
    assert parse_day("2000-01-01", WINDOW) == date(2000, 1, 1)
    assert parse_day("2027-12-04", WINDOW) == date(2027, 12, 4)  # today + 366
    assert _refused(parse_day, "1999-12-31", WINDOW) == (
        "1999-12-31 is before 2000-01-01, the earliest day kpibot imports "
        "(KPIBOT_IMPORT_EARLIEST_DATE)"
    )
    assert _refused(parse_day, "2027-12-05", WINDOW) == (
        "2027-12-05 is more than 366 days after today (2026-12-03); check the year "
        "(KPIBOT_IMPORT_MAX_DAYS_AHEAD)"
    )
    narrow = DateWindow(date(2025, 1, 1), TODAY, 0)
    assert parse_day("2026-12-03", narrow) == TODAY
    with pytest.raises(CellError):
        parse_day("2026-12-04", narrow)
    with pytest.raises(CellError):
        parse_day("2024-12-31", narrow)


@given(st.dates(min_value=date(2000, 1, 1), max_value=WINDOW.latest))
def test_any_day_in_the_window_reads_back(day: date) -> None:
    assert parse_day(day.isoformat(), WINDOW) == day


@given(st.text(alphabet="0123456789-/.T :Z", max_size=25))
def test_a_day_is_what_it_says_or_refused(text: str) -> None:
    try:
        day = parse_day(text, WINDOW)
    except CellError as exc:
        assert str(exc)
        return
    assert text[:10] == day.isoformat()
    assert text[10:] in ("", " 00:00:00", "T00:00:00", " 00:00:00Z", "T00:00:00Z")


def test_exact_day_for_settings() -> None:
    assert exact_day("2000-01-01") == date(2000, 1, 1)
    for text in ("2000-01-01 00:00:00", "20000101", "2000-02-30", ""):
        assert exact_day(text) is None


# --- never slow -----------------------------------------------------------------------------


@pytest.mark.parametrize("text", HUGE)
def test_huge_cells_are_refused_at_once(text: str) -> None:
    started = time.perf_counter()
    for parse in (
        lambda t: parse_count(t, "clicks"),
        parse_money,
        lambda t: parse_money(t, True),
        lambda t: parse_day(t, WINDOW),
    ):
        with pytest.raises(CellError) as info:
            parse(text)
        assert len(str(info.value)) < 200  # the message quotes a cut of the cell
    assert time.perf_counter() - started < 0.1
