from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from hypothesis import assume, given
from hypothesis import strategies as st

from bot.periods import (
    DEFAULT_PERIOD_TEXT,
    MAX_PERIOD_DAYS,
    PERIOD_EXAMPLES,
    Grain,
    Period,
    PeriodError,
    looks_like_period,
    parse_period,
    take_trailing_period,
    today_in,
    unknown_period,
)

WED = date(2025, 8, 13)  # a Wednesday; Monday of its week is 2025-08-11
MODERN_DATES = st.dates(min_value=date(1990, 1, 1), max_value=date(2100, 12, 31))
DAY_COUNTS = st.integers(min_value=1, max_value=3660)


def d(text: str) -> date:
    return date.fromisoformat(text)


def span(text: str, today: date = WED) -> tuple[date, date]:
    period = parse_period(text, today)
    return period.start, period.end


# --- today / yesterday / N days ------------------------------------------------------------


def test_today_is_just_today() -> None:
    assert parse_period("today", WED) == Period(WED, WED, "today")


def test_yesterday_is_the_day_before_today() -> None:
    assert parse_period("yesterday", WED) == Period(d("2025-08-12"), d("2025-08-12"), "yesterday")


@pytest.mark.parametrize("text", ["7d", "last 7 days", "sidste 7 dage"])
def test_last_7_days_ends_yesterday(text: str) -> None:
    assert parse_period(text, WED) == Period(d("2025-08-06"), d("2025-08-12"), "last 7 days")


@pytest.mark.parametrize(("text", "start"), [("30d", "2025-07-14"), ("90d", "2025-05-15")])
def test_30d_and_90d_end_yesterday(text: str, start: str) -> None:
    assert span(text) == (d(start), d("2025-08-12"))


@pytest.mark.parametrize("text", ["1d", "last 1 day", "last 1 days", "sidste 1 dag"])
def test_last_1_day_is_yesterday(text: str) -> None:
    assert parse_period(text, WED) == Period(d("2025-08-12"), d("2025-08-12"), "last 1 day")


def test_3660d_is_the_longest_allowed() -> None:
    assert parse_period("3660d", WED).days == 3660


@pytest.mark.parametrize(
    "text", ["0d", "3661d", "last 0 days", "sidste 5000 dage", "99999999999999999999999d"]
)
def test_day_counts_outside_1_to_3660_are_rejected_with_examples(text: str) -> None:
    with pytest.raises(PeriodError, match=r"1 to 3660.*`7d`"):
        parse_period(text, WED)


def test_leading_zeros_in_day_count_are_read_as_the_number() -> None:
    assert parse_period("007d", WED).days == 7


# --- to-date periods ------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["wtd", "this week", "denne uge"])
def test_week_to_date_starts_on_monday(text: str) -> None:
    assert parse_period(text, WED) == Period(
        d("2025-08-11"), WED, "week to date", Grain.WEEK, to_date=True
    )


def test_week_to_date_on_monday_is_one_day_and_on_sunday_is_seven() -> None:
    assert span("wtd", d("2025-08-11")) == (d("2025-08-11"), d("2025-08-11"))
    assert span("wtd", d("2025-08-17")) == (d("2025-08-11"), d("2025-08-17"))


@pytest.mark.parametrize("text", ["mtd", "this month", "denne måned", "denne maaned"])
def test_month_to_date_on_the_31st_covers_the_whole_month(text: str) -> None:
    today = d("2025-08-31")
    assert parse_period(text, today) == Period(
        d("2025-08-01"), today, "month to date", Grain.MONTH, to_date=True
    )


def test_month_to_date_on_the_1st_is_one_day() -> None:
    assert span("mtd", d("2025-08-01")) == (d("2025-08-01"), d("2025-08-01"))


@pytest.mark.parametrize(
    ("today", "start"),
    [("2025-08-13", "2025-07-01"), ("2025-01-01", "2025-01-01"), ("2025-12-31", "2025-10-01")],
)
def test_quarter_to_date_starts_on_the_quarters_first_day(today: str, start: str) -> None:
    assert parse_period("qtd", d(today)) == Period(
        d(start), d(today), "quarter to date", Grain.QUARTER, to_date=True
    )


def test_year_to_date_starts_on_january_1st() -> None:
    assert parse_period("ytd", WED) == Period(
        d("2025-01-01"), WED, "year to date", Grain.YEAR, to_date=True
    )


# --- last week / last month -----------------------------------------------------------------


@pytest.mark.parametrize("text", ["last week", "sidste uge"])
def test_last_week_is_the_previous_monday_to_sunday(text: str) -> None:
    assert parse_period(text, WED) == Period(
        d("2025-08-04"), d("2025-08-10"), "last week", Grain.WEEK
    )


def test_last_week_on_a_monday_is_the_week_before() -> None:
    assert span("last week", d("2025-08-11")) == (d("2025-08-04"), d("2025-08-10"))


def test_last_week_on_january_1st_lies_in_the_previous_year() -> None:
    assert span("last week", d("2025-01-01")) == (d("2024-12-23"), d("2024-12-29"))


@pytest.mark.parametrize("text", ["last month", "sidste måned", "sidste maaned"])
def test_last_month_from_march_31st_is_february(text: str) -> None:
    assert parse_period(text, d("2025-03-31")) == Period(
        d("2025-02-01"), d("2025-02-28"), "last month", Grain.MONTH
    )


def test_last_month_in_a_leap_year_ends_on_february_29th() -> None:
    assert span("last month", d("2024-03-31")) == (d("2024-02-01"), d("2024-02-29"))


def test_last_month_on_january_1st_is_previous_december() -> None:
    assert span("last month", d("2025-01-01")) == (d("2024-12-01"), d("2024-12-31"))


@pytest.mark.parametrize("text", ["forrige måned", "forrige maaned", "previous month"])
def test_forrige_maaned_is_last_month(text: str) -> None:
    assert parse_period(text, WED) == parse_period("last month", WED)


@pytest.mark.parametrize("text", ["forrige uge", "previous week"])
def test_forrige_uge_is_last_week(text: str) -> None:
    assert parse_period(text, WED) == parse_period("last week", WED)


# --- quarters and years -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "text", ["last year", "sidste år", "sidste aar", "forrige år", "forrige aar", "previous year"]
)
def test_last_year_is_the_previous_calendar_year(text: str) -> None:
    assert parse_period(text, WED) == Period(
        d("2024-01-01"), d("2024-12-31"), "last year", Grain.YEAR
    )


def test_last_year_on_december_31st_is_still_the_year_before() -> None:
    assert span("last year", d("2025-12-31")) == (d("2024-01-01"), d("2024-12-31"))


def test_last_year_of_a_leap_year_has_366_days() -> None:
    assert parse_period("last year", d("2025-01-01")).days == 366


@pytest.mark.parametrize("text", ["this year", "i år", "i aar", "dette år"])
def test_this_year_is_year_to_date(text: str) -> None:
    assert parse_period(text, WED) == parse_period("ytd", WED)


@pytest.mark.parametrize("text", ["this quarter", "dette kvartal"])
def test_this_quarter_is_quarter_to_date(text: str) -> None:
    assert parse_period(text, WED) == parse_period("qtd", WED)


@pytest.mark.parametrize("text", ["last quarter", "sidste kvartal", "forrige kvartal"])
def test_last_quarter_is_the_previous_calendar_quarter(text: str) -> None:
    assert parse_period(text, WED) == Period(
        d("2025-04-01"), d("2025-06-30"), "last quarter", Grain.QUARTER
    )


@pytest.mark.parametrize(
    ("today", "start", "end"),
    [
        ("2025-01-15", "2024-10-01", "2024-12-31"),
        ("2025-04-01", "2025-01-01", "2025-03-31"),
        ("2024-05-31", "2024-01-01", "2024-03-31"),
        ("2025-12-31", "2025-07-01", "2025-09-30"),
    ],
)
def test_last_quarter_across_year_ends(today: str, start: str, end: str) -> None:
    assert span("last quarter", d(today)) == (d(start), d(end))


def test_a_bare_quarter_that_is_over_this_year_is_whole() -> None:
    assert parse_period("q2", WED) == Period(
        d("2025-04-01"), d("2025-06-30"), "Q2 2025", Grain.QUARTER
    )


def test_a_bare_quarter_that_has_not_begun_is_last_years() -> None:
    assert parse_period("Q4", WED) == Period(
        d("2024-10-01"), d("2024-12-31"), "Q4 2024", Grain.QUARTER
    )


def test_the_current_quarter_runs_to_today() -> None:
    assert parse_period("q3", WED) == Period(
        d("2025-07-01"), WED, "Q3 2025 to date", Grain.QUARTER, to_date=True
    )
    assert parse_period("q3 2025", WED) == parse_period("q3", WED)
    assert span("q1", d("2025-01-01")) == (d("2025-01-01"), d("2025-01-01"))


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("q1 2024", "2024-01-01", "2024-03-31"),
        ("q2 2024", "2024-04-01", "2024-06-30"),
        ("q3 2024", "2024-07-01", "2024-09-30"),
        ("q4 2024", "2024-10-01", "2024-12-31"),
    ],
)
def test_a_quarter_of_a_given_year(text: str, start: str, end: str) -> None:
    assert span(text) == (d(start), d(end))


def test_a_leap_years_first_quarter_has_91_days() -> None:
    assert parse_period("q1 2024", WED).days == 91
    assert parse_period("q1 2025", WED).days == 90


def test_a_quarter_that_has_not_begun_says_so() -> None:
    with pytest.raises(PeriodError, match=r"^Q4 2025 has not begun yet\. Try"):
        parse_period("q4 2025", WED)


@pytest.mark.parametrize("text", ["q0", "q5", "q3 25", "2025 q3"])
def test_other_quarter_words_are_unknown(text: str) -> None:
    with pytest.raises(PeriodError, match="I don't know the period"):
        parse_period(text, WED)


# --- months -----------------------------------------------------------------------------------


def test_year_and_month_is_that_calendar_month() -> None:
    assert parse_period("2025-07", WED) == Period(
        d("2025-07-01"), d("2025-07-31"), "2025-07", Grain.MONTH
    )


@pytest.mark.parametrize(("text", "days"), [("2024-02", 29), ("2023-02", 28), ("2100-02", 28)])
def test_february_has_29_days_only_in_leap_years(text: str, days: int) -> None:
    assert parse_period(text, d("2200-01-01")).days == days


def test_the_current_year_and_month_runs_to_today() -> None:
    assert parse_period("2025-08", WED) == Period(
        d("2025-08-01"), WED, "2025-08 to date", Grain.MONTH, to_date=True
    )
    assert parse_period("2025-08", d("2025-08-31")).days == 31


def test_a_future_month_says_it_has_not_begun() -> None:
    with pytest.raises(PeriodError, match=r"^2025-09 has not begun yet\. Try"):
        parse_period("2025-09", WED)
    with pytest.raises(PeriodError, match=r"^November 2026 has not begun yet"):
        parse_period("nov 2026", WED)


@pytest.mark.parametrize("text", ["2025-13", "2025-00", "0000-01"])
def test_an_impossible_month_is_named(text: str) -> None:
    with pytest.raises(PeriodError, match=rf"^{text} is not a valid month.*`2025-07`"):
        parse_period(text, WED)


def test_a_bare_month_name_is_the_latest_such_month_that_has_begun() -> None:
    assert parse_period("july", WED) == Period(
        d("2025-07-01"), d("2025-07-31"), "July 2025", Grain.MONTH
    )
    assert parse_period("november", WED) == Period(
        d("2024-11-01"), d("2024-11-30"), "November 2024", Grain.MONTH
    )


def test_in_january_december_is_last_december_and_january_runs_to_today() -> None:
    today = d("2025-01-05")
    assert span("december", today) == (d("2024-12-01"), d("2024-12-31"))
    assert parse_period("januar", today) == Period(
        d("2025-01-01"), today, "January 2025 to date", Grain.MONTH, to_date=True
    )


def test_the_current_month_name_runs_to_today() -> None:
    assert span("august", WED) == (d("2025-08-01"), WED)


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("nov 2024", "2024-11-01", "2024-11-30"),
        ("November 2024", "2024-11-01", "2024-11-30"),
        ("feb 2024", "2024-02-01", "2024-02-29"),
        ("februar 2023", "2023-02-01", "2023-02-28"),
        ("dec 2024", "2024-12-01", "2024-12-31"),
        ("jan 2025", "2025-01-01", "2025-01-31"),
    ],
)
def test_a_month_name_with_a_year(text: str, start: str, end: str) -> None:
    assert span(text) == (d(start), d(end))


def test_a_month_name_with_a_year_is_labelled_in_english() -> None:
    assert parse_period("okt 2024", WED).label == "October 2024"


@pytest.mark.parametrize(
    ("month", "names"),
    [
        (1, ["january", "januar", "jan"]),
        (2, ["february", "februar", "feb"]),
        (3, ["march", "marts", "mar"]),
        (4, ["april", "apr"]),
        (5, ["may", "maj"]),
        (6, ["june", "juni", "jun"]),
        (7, ["july", "juli", "jul"]),
        (8, ["august", "aug"]),
        (9, ["september", "sep", "sept"]),
        (10, ["october", "oktober", "oct", "okt"]),
        (11, ["november", "nov"]),
        (12, ["december", "dec"]),
    ],
)
def test_month_names_in_english_and_danish(month: int, names: list[str]) -> None:
    for name in names:
        assert parse_period(f"{name} 2024", WED).start == date(2024, month, 1), name
        assert parse_period(name.upper(), WED).start.month == month, name


# --- ISO dates and ranges ---------------------------------------------------------------------


def test_iso_date_is_that_one_day() -> None:
    assert parse_period("2025-08-10", WED) == Period(d("2025-08-10"), d("2025-08-10"), "2025-08-10")


@pytest.mark.parametrize(
    "text",
    ["2025-08-10..2025-08-12", "2025-08-10 .. 2025-08-12", "2025-08-10 ..2025-08-12"],
)
def test_iso_range_includes_both_ends(text: str) -> None:
    period = parse_period(text, WED)
    assert period == Period(d("2025-08-10"), d("2025-08-12"), "2025-08-10..2025-08-12")
    assert period.days == 3


def test_iso_range_of_one_day_is_labelled_as_that_day() -> None:
    assert parse_period("2025-08-10..2025-08-10", WED).label == "2025-08-10"


def test_iso_range_may_lie_in_the_future() -> None:
    assert span("2030-01-01..2030-01-31") == (d("2030-01-01"), d("2030-01-31"))


def test_iso_range_ending_before_it_starts_says_so_and_suggests_the_fix() -> None:
    with pytest.raises(PeriodError, match=r"before it starts.*`2025-08-10\.\.2025-08-12`"):
        parse_period("2025-08-12..2025-08-10", WED)


@pytest.mark.parametrize(
    ("text", "bad"),
    [
        ("2025-02-30", "2025-02-30"),
        ("2025-13-01", "2025-13-01"),
        ("2025-08-01..2025-02-30", "2025-02-30"),
        ("2023-02-29..2023-03-01", "2023-02-29"),
    ],
)
def test_invalid_date_is_named_in_the_error(text: str, bad: str) -> None:
    with pytest.raises(PeriodError, match=rf"^{bad} is not a valid date.*YYYY-MM-DD"):
        parse_period(text, WED)


def test_range_longer_than_3660_days_is_rejected() -> None:
    with pytest.raises(PeriodError, match=r"3661 days; the longest period is 3660 days"):
        parse_period("2015-01-01..2025-01-08", WED)


def test_range_of_exactly_3660_days_is_allowed() -> None:
    assert parse_period("2015-01-01..2025-01-07", WED).days == 3660


# --- Danish, case and whitespace -------------------------------------------------------------


@pytest.mark.parametrize(
    ("danish", "english"),
    [
        ("i dag", "today"),
        ("i går", "yesterday"),
        ("i gaar", "yesterday"),
        ("denne uge", "this week"),
        ("denne måned", "this month"),
        ("denne maaned", "this month"),
        ("sidste uge", "last week"),
        ("sidste måned", "last month"),
        ("sidste maaned", "last month"),
        ("sidste 30 dage", "last 30 days"),
        ("sidste 1 dag", "last 1 day"),
    ],
)
def test_danish_alias_means_the_same_as_english(danish: str, english: str) -> None:
    assert parse_period(danish, WED) == parse_period(english, WED)


@pytest.mark.parametrize(
    "text", ["  LAST   7\tDays ", "Last 7 Days", "7D", "SIDSTE 7 DAGE", "\u00a07d\n"]
)
def test_case_and_whitespace_do_not_matter(text: str) -> None:
    assert parse_period(text, WED) == parse_period("7d", WED)


@pytest.mark.parametrize("text", ["I GÅR", "i  går", "i ga\u030ar"])  # last: decomposed å
def test_danish_letters_match_in_any_case_and_unicode_form(text: str) -> None:
    assert span(text) == span("yesterday")


# --- unknown text ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["last fortnight", "7 d", "d", "2025-8-1", "2025/08/01", "last 7", "tomorrow", "...", "h2"],
)
def test_unknown_text_is_named_in_the_error_with_examples(text: str) -> None:
    wanted = rf"^I don't know the period '{re.escape(text)}' — try `7d`, `last quarter`"
    with pytest.raises(PeriodError, match=wanted):
        parse_period(text, WED)


def test_unknown_text_is_named_with_its_spaces_collapsed_and_a_long_one_shortened() -> None:
    assert str(unknown_period("  forrige \t århundrede ")).startswith(
        "I don't know the period 'forrige århundrede' — try"
    )
    assert "'" + "x" * 39 + "…'" in str(unknown_period("x" * 100))


def test_errors_suggest_periods_from_the_help_examples() -> None:
    message = str(unknown_period("h2"))
    suggested = [part for i, part in enumerate(message.split("`")) if i % 2 == 1]
    assert suggested == ["7d", "last quarter", "2025-07", "2025-08-01..2025-08-31"]
    assert set(suggested) <= {text for text, _ in PERIOD_EXAMPLES}


def test_empty_text_says_no_period_was_given() -> None:
    with pytest.raises(PeriodError, match=r"^No period given\. Try"):
        parse_period("   ", WED)


@pytest.mark.parametrize(
    "text",
    [
        "nope",
        "0d",
        "2025-02-30",
        "2025-08-12..2025-08-10",
        "2000-01-01..2025-01-01",
        "2025-09",
        "2025-13",
        "nov 2025",
        "q4 2025",
        "x" * 300,
    ],
)
def test_error_messages_are_short_and_show_a_valid_example(text: str) -> None:
    with pytest.raises(PeriodError) as info:
        parse_period(text, WED)
    message = str(info.value)
    assert len(message) < 160
    examples = [part for i, part in enumerate(message.split("`")) if i % 2 == 1]
    assert examples
    for example in examples:
        parse_period(example, WED)


def test_period_error_is_a_value_error() -> None:
    assert issubclass(PeriodError, ValueError)


def test_dates_before_year_1_are_reported_as_a_period_error() -> None:
    with pytest.raises(PeriodError, match="outside the calendar"):
        parse_period("7d", date(1, 1, 3))


# --- Period ---------------------------------------------------------------------------------


def test_days_counts_both_ends() -> None:
    assert Period(d("2025-08-10"), d("2025-08-12"), "x").days == 3


def test_previous_of_7d_is_the_7_days_before_it() -> None:
    previous = parse_period("7d", WED).previous()
    assert previous == Period(d("2025-07-30"), d("2025-08-05"), "previous period")


def test_year_ago_keeps_calendar_dates() -> None:
    period = parse_period("2025-08-01..2025-08-31", WED).year_ago()
    assert period == Period(d("2024-08-01"), d("2024-08-31"), "same period last year")


def test_year_ago_of_february_29th_is_february_28th() -> None:
    assert parse_period("2024-02-29", WED).year_ago() == Period(
        d("2023-02-28"), d("2023-02-28"), "same period last year"
    )


def test_year_ago_of_last_month_in_a_leap_year_ends_february_28th() -> None:
    assert parse_period("last month", d("2024-03-15")).year_ago().end == d("2023-02-28")


def test_contains_includes_both_ends_only() -> None:
    period = parse_period("2025-08-10..2025-08-12", WED)
    inside = [period.contains(date(2025, 8, day)) for day in (9, 10, 11, 12, 13)]
    assert inside == [False, True, True, True, False]


def test_period_ending_before_it_starts_cannot_be_built() -> None:
    with pytest.raises(ValueError, match="before it starts"):
        Period(d("2025-08-12"), d("2025-08-10"), "x")


def test_previous_and_year_ago_at_the_calendar_start_raise_period_error() -> None:
    first = Period(date.min, date.min, "x")
    with pytest.raises(PeriodError):
        first.previous()
    with pytest.raises(PeriodError):
        first.year_ago()
    with pytest.raises(PeriodError):
        first.month_ago()
    for grain in Grain:
        for to_date in (False, True):
            with pytest.raises(PeriodError):
                Period(date.min, date.min, "x", grain, to_date).previous()


@pytest.mark.parametrize("text", ["last year", "last quarter", "last month", "december", "q4"])
def test_calendar_units_before_year_1_are_a_period_error(text: str) -> None:
    with pytest.raises(PeriodError, match="outside the calendar"):
        parse_period(text, date(1, 1, 3))


# --- comparison periods: like with like --------------------------------------------------------


def prev(text: str, today: date = WED) -> tuple[date, date, str]:
    previous = parse_period(text, today).previous()
    return previous.start, previous.end, previous.label


@pytest.mark.parametrize(
    ("today", "start", "end"),
    [
        ("2025-12-03", "2025-11-01", "2025-11-03"),
        ("2025-03-31", "2025-02-01", "2025-02-28"),
        ("2024-03-31", "2024-02-01", "2024-02-29"),
        ("2025-01-02", "2024-12-01", "2024-12-02"),
        ("2025-08-31", "2025-07-01", "2025-07-31"),
    ],
)
def test_month_to_date_is_compared_with_the_same_days_of_the_previous_month(
    today: str, start: str, end: str
) -> None:
    assert prev("mtd", d(today)) == (d(start), d(end), "previous month to date")


def test_week_to_date_is_compared_with_the_same_weekdays_of_the_previous_week() -> None:
    assert prev("wtd") == (d("2025-08-04"), d("2025-08-06"), "previous week to date")
    assert prev("wtd", d("2025-01-01")) == (
        d("2024-12-23"),
        d("2024-12-25"),
        "previous week to date",
    )


@pytest.mark.parametrize(
    ("today", "start", "end"),
    [
        ("2025-08-13", "2025-04-01", "2025-05-14"),  # day 44 of Q3 → day 44 of Q2
        ("2025-09-30", "2025-04-01", "2025-06-30"),  # day 92 → clamped to Q2's 91
        ("2025-01-05", "2024-10-01", "2024-10-05"),
        ("2024-05-31", "2024-01-01", "2024-03-01"),  # day 61 of Q2 → Mar 1 in a leap year
    ],
)
def test_quarter_to_date_is_compared_with_as_many_days_into_the_previous_quarter(
    today: str, start: str, end: str
) -> None:
    assert prev("qtd", d(today)) == (d(start), d(end), "previous quarter to date")


@pytest.mark.parametrize(
    ("text", "today", "start", "end"),
    [
        ("ytd", "2025-08-13", "2024-01-01", "2024-08-13"),
        ("this year", "2024-02-29", "2023-01-01", "2023-02-28"),
        ("i år", "2025-03-01", "2024-01-01", "2024-03-01"),
    ],
)
def test_year_to_date_is_compared_with_the_same_dates_of_the_previous_year(
    text: str, today: str, start: str, end: str
) -> None:
    assert prev(text, d(today)) == (d(start), d(end), "previous year to date")


@pytest.mark.parametrize(
    ("text", "today", "start", "end"),
    [
        ("last month", "2025-03-15", "2025-01-01", "2025-01-31"),
        ("2025-03", "2025-08-13", "2025-02-01", "2025-02-28"),
        ("march 2024", "2025-08-13", "2024-02-01", "2024-02-29"),
        ("januar", "2025-08-13", "2024-12-01", "2024-12-31"),
        ("december", "2025-01-05", "2024-11-01", "2024-11-30"),
    ],
)
def test_a_whole_month_is_compared_with_the_whole_previous_month(
    text: str, today: str, start: str, end: str
) -> None:
    assert prev(text, d(today)) == (d(start), d(end), "previous month")


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("last quarter", "2025-01-01", "2025-03-31"),
        ("q2", "2025-01-01", "2025-03-31"),
        ("q1 2025", "2024-10-01", "2024-12-31"),
    ],
)
def test_a_whole_quarter_is_compared_with_the_whole_previous_quarter(
    text: str, start: str, end: str
) -> None:
    assert prev(text) == (d(start), d(end), "previous quarter")


def test_last_year_is_compared_with_the_year_before_in_full() -> None:
    assert prev("last year") == (d("2023-01-01"), d("2023-12-31"), "previous year")


def test_last_week_is_compared_with_the_week_before() -> None:
    assert prev("last week") == (d("2025-07-28"), d("2025-08-03"), "previous week")


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("yesterday", "2025-08-11", "2025-08-11"),
        ("today", "2025-08-12", "2025-08-12"),
        ("2025-08-01..2025-08-10", "2025-07-22", "2025-07-31"),
        ("2025-08-01", "2025-07-31", "2025-07-31"),
        ("last 30 days", "2025-06-14", "2025-07-13"),
    ],
)
def test_runs_of_days_are_compared_with_as_many_days_just_before(
    text: str, start: str, end: str
) -> None:
    assert prev(text) == (d(start), d(end), "previous period")


def test_previous_keeps_the_grain_so_it_can_be_stepped_back_again() -> None:
    before = parse_period("last month", d("2025-03-15")).previous().previous()
    assert (before.start, before.end, before.grain) == (
        d("2024-12-01"),
        d("2024-12-31"),
        Grain.MONTH,
    )


@pytest.mark.parametrize(
    ("start", "end", "ago_start", "ago_end"),
    [
        ("2025-03-29", "2025-03-31", "2025-02-28", "2025-02-28"),
        ("2024-03-29", "2024-03-31", "2024-02-29", "2024-02-29"),
        ("2025-03-01", "2025-03-31", "2025-02-01", "2025-02-28"),
        ("2025-01-10", "2025-01-20", "2024-12-10", "2024-12-20"),
        ("2025-05-31", "2025-06-30", "2025-04-30", "2025-05-30"),
        ("2025-08-13", "2025-08-19", "2025-07-13", "2025-07-19"),
    ],
)
def test_month_ago_is_the_same_days_one_month_earlier_clamped_to_the_shorter_month(
    start: str, end: str, ago_start: str, ago_end: str
) -> None:
    ago = Period(d(start), d(end), "x").month_ago()
    assert ago == Period(d(ago_start), d(ago_end), "same days last month")


def test_month_ago_of_month_to_date_is_the_same_days_of_last_month() -> None:
    ago = parse_period("mtd", d("2025-12-03")).month_ago()
    assert (ago.start, ago.end) == (d("2025-11-01"), d("2025-11-03"))


def test_year_ago_of_a_to_date_period_keeps_calendar_dates() -> None:
    ago = parse_period("ytd", d("2024-02-29")).year_ago()
    assert (ago.start, ago.end, ago.label) == (
        d("2023-01-01"),
        d("2023-02-28"),
        "same period last year",
    )


# --- today_in -------------------------------------------------------------------------------


def test_late_utc_evening_is_already_tomorrow_in_copenhagen_in_summer() -> None:
    now = datetime(2025, 8, 10, 22, 30, tzinfo=UTC)
    assert today_in("Europe/Copenhagen", now) == d("2025-08-11")
    assert today_in("UTC", now) == d("2025-08-10")


def test_copenhagen_midnight_is_23_utc_in_winter() -> None:
    tz = ZoneInfo("Europe/Copenhagen")
    assert today_in(tz, datetime(2025, 1, 10, 22, 59, tzinfo=UTC)) == d("2025-01-10")
    assert today_in(tz, datetime(2025, 1, 10, 23, 0, tzinfo=UTC)) == d("2025-01-11")


def test_today_in_defaults_to_the_current_time() -> None:
    with time_machine.travel(datetime(2025, 8, 10, 22, 30, tzinfo=UTC), tick=False):
        assert today_in("Europe/Copenhagen") == d("2025-08-11")
        assert today_in(ZoneInfo("UTC")) == d("2025-08-10")


def test_today_in_rejects_a_naive_now() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        today_in("UTC", datetime(2025, 8, 10, 22, 30))


# --- take_trailing_period ---------------------------------------------------------------------


def test_campaign_name_with_digits_keeps_them_and_splits_off_last_7_days() -> None:
    rest, period = take_trailing_period(["summer", "sale", "2025", "last", "7", "days"], WED)
    assert rest == ["summer", "sale", "2025"]
    assert period == parse_period("7d", WED)


def test_campaign_name_without_period_is_returned_unchanged() -> None:
    assert take_trailing_period(["summer", "sale"], WED) == (["summer", "sale"], None)


@pytest.mark.parametrize(
    "text", ["back to school 2025-08-10..2025-08-12", "back to school 2025-08-10 .. 2025-08-12"]
)
def test_trailing_iso_range_is_split_off(text: str) -> None:
    rest, period = take_trailing_period(text.split(), WED)
    assert rest == ["back", "to", "school"]
    assert period is not None
    assert (period.start, period.end) == (d("2025-08-10"), d("2025-08-12"))


def test_longest_trailing_period_wins_over_a_shorter_one() -> None:
    rest, period = take_trailing_period(["q3", "2025-08-01", "..", "2025-08-10"], WED)
    assert rest == ["q3"]
    assert period is not None
    assert period.days == 10


def test_trailing_period_matching_is_case_insensitive_and_keeps_name_case() -> None:
    rest, period = take_trailing_period(["Black", "Friday", "I", "GÅR"], WED)
    assert rest == ["Black", "Friday"]
    assert period == parse_period("yesterday", WED)


def test_words_that_are_only_a_period_leave_no_name() -> None:
    assert take_trailing_period(["last", "month"], WED) == ([], parse_period("last month", WED))


def test_no_words_gives_no_period() -> None:
    assert take_trailing_period([], WED) == ([], None)


def test_trailing_number_alone_is_part_of_the_name() -> None:
    assert take_trailing_period(["promo", "7"], WED) == (["promo", "7"], None)


@pytest.mark.parametrize("tail", ["2025-02-30", "2025-08-12..2025-08-10", "0d"])
def test_trailing_period_shaped_but_invalid_text_raises_instead_of_joining_the_name(
    tail: str,
) -> None:
    with pytest.raises(PeriodError):
        take_trailing_period(["summer", "sale", *tail.split()], WED)


# --- help examples ----------------------------------------------------------------------------


def test_default_period_is_the_last_7_days() -> None:
    assert parse_period(DEFAULT_PERIOD_TEXT, WED).days == 7


@pytest.mark.parametrize(("text", "description"), PERIOD_EXAMPLES)
def test_every_help_example_parses(text: str, description: str) -> None:
    assert description
    parse_period(text, WED)


def test_help_examples_cover_every_form_including_danish() -> None:
    texts = {text for text, _ in PERIOD_EXAMPLES}
    assert len(texts) == len(PERIOD_EXAMPLES)
    assert texts >= {
        "today",
        "yesterday",
        "7d",
        "last 30 days",
        "wtd",
        "this week",
        "mtd",
        "this month",
        "qtd",
        "ytd",
        "last week",
        "last month",
        "2025-08-10",
        "2025-08-01..2025-08-31",
        "i dag",
        "i går",
        "sidste 7 dage",
        "denne uge",
        "denne måned",
        "sidste uge",
        "sidste måned",
        "this year",
        "last quarter",
        "last year",
        "2025-07",
        "july",
        "nov 2024",
        "q2",
        "q2 2025",
        "i år",
        "sidste kvartal",
        "sidste år",
    }


# --- properties -----------------------------------------------------------------------------


@given(
    today=MODERN_DATES,
    n=DAY_COUNTS,
    form=st.sampled_from(["{}d", "last {} days", "sidste {} dage"]),
)
def test_n_days_has_n_days_and_ends_yesterday(today: date, n: int, form: str) -> None:
    period = parse_period(form.format(n), today)
    assert period.days == n
    assert period.end == today - timedelta(days=1)


@given(start=MODERN_DATES, n=DAY_COUNTS)
def test_previous_has_the_same_length_and_ends_the_day_before_start(start: date, n: int) -> None:
    period = Period(start, start + timedelta(days=n - 1), "p")
    previous = period.previous()
    assert previous.days == period.days
    assert previous.end == period.start - timedelta(days=1)


@given(start=MODERN_DATES, n=DAY_COUNTS)
def test_valid_iso_range_round_trips(start: date, n: int) -> None:
    end = start + timedelta(days=n - 1)
    period = parse_period(f"{start.isoformat()}..{end.isoformat()}", start)
    assert (period.start, period.end, period.days) == (start, end, n)
    assert parse_period(period.label, start) == period


RELATIVE_EXAMPLES = [text for text, _ in PERIOD_EXAMPLES if not re.search("[0-9]{4}", text)]


@given(today=MODERN_DATES, text=st.sampled_from(RELATIVE_EXAMPLES))
def test_relative_periods_never_end_after_today(today: date, text: str) -> None:
    period = parse_period(text, today)
    assert period.end <= today
    assert 1 <= period.days <= 3660


@given(start=MODERN_DATES, n=DAY_COUNTS)
def test_year_ago_moves_each_end_back_one_year(start: date, n: int) -> None:
    period = Period(start, start + timedelta(days=n - 1), "p")
    ago = period.year_ago()
    for before, after in ((ago.start, period.start), (ago.end, period.end)):
        assert before.year == after.year - 1
        assert (before.month, before.day) == (after.month, after.day) or (
            (after.month, after.day, before.day) == (2, 29, 28)
        )


@given(
    name=st.lists(st.text(alphabet="abcxyz0123456789-", min_size=1, max_size=8), max_size=5),
    today=MODERN_DATES,
    example=st.sampled_from([text for text, _ in PERIOD_EXAMPLES]),
)
def test_any_example_after_any_name_is_split_off(
    name: list[str], today: date, example: str
) -> None:
    try:
        assume(take_trailing_period(name, today)[1] is None)
        parse_period(example, today)  # `nov 2024` is no period yet in 2020
    except PeriodError:
        assume(False)
    rest, period = take_trailing_period([*name, *example.split()], today)
    assert rest == name
    assert period == parse_period(example, today)


PERIODISH_TEXT = st.text(alphabet="0123456789-. dlastyw", max_size=30) | st.text(max_size=30)


@given(text=PERIODISH_TEXT, today=st.dates())
def test_any_text_gives_a_period_or_a_period_error(text: str, today: date) -> None:
    try:
        period = parse_period(text, today)
    except PeriodError as exc:
        assert str(exc)
    else:
        assert 1 <= period.days <= 3660


PERIOD_WORDS = [
    *(text for text, _ in PERIOD_EXAMPLES),
    *("last", "this", "next", "sidste", "forrige", "denne", "i", "vs", "year", "month"),
    *("quarter", "uge", "år", "måned", "nov", "december", "maj", "q1", "q4", "q5", "h2"),
    *("2024", "2025-07", "2025-13", "0000-01", "9999-12", "0d", "7", ".."),
]
PERIODISH_WORDS = st.lists(
    st.sampled_from(PERIOD_WORDS) | st.text(max_size=6), min_size=1, max_size=4
).map(" ".join)


@given(text=PERIODISH_TEXT | PERIODISH_WORDS, today=st.dates())
def test_parsed_periods_are_ordered_and_not_too_long(text: str, today: date) -> None:
    try:
        period = parse_period(text, today)
    except PeriodError:
        return
    assert period.start <= period.end
    assert period.days <= MAX_PERIOD_DAYS


@given(text=PERIODISH_WORDS, today=st.dates())
def test_trailing_periods_are_found_or_refused_with_a_period_error(text: str, today: date) -> None:
    try:
        rest, period = take_trailing_period(["promo", *text.split()], today)
    except PeriodError:
        return
    assert rest[:1] == ["promo"]
    assert period is None or period.start <= period.end


PERIOD_KINDS = [
    "today",
    "yesterday",
    "7d",
    "wtd",
    "mtd",
    "qtd",
    "ytd",
    "last week",
    "last month",
    "last quarter",
    "last year",
    "december",
    "q1",
    "q3",
    "july",
    "2025-08-01..2025-08-31",
]


@given(today=MODERN_DATES, text=st.sampled_from(PERIOD_KINDS))
def test_previous_of_every_kind_ends_before_it_starts(today: date, text: str) -> None:
    period = parse_period(text, today)
    previous = period.previous()
    assert previous.start <= previous.end < period.start
    assert (previous.grain, previous.to_date) == (period.grain, period.to_date)
    if period.grain is Grain.DAY:
        assert previous.days == period.days
    elif period.to_date:  # a leap day makes the same dates a year earlier one day longer
        assert previous.days <= period.days + 1


@given(start=MODERN_DATES, n=DAY_COUNTS)
def test_month_ago_moves_each_end_back_one_month(start: date, n: int) -> None:
    period = Period(start, start + timedelta(days=n - 1), "p")
    ago = period.month_ago()
    assert ago.start <= ago.end
    for before, after in ((ago.start, period.start), (ago.end, period.end)):
        assert before.year * 12 + before.month == after.year * 12 + after.month - 1
        is_month_end = (before + timedelta(days=1)).day == 1
        assert before.day == after.day or (before.day < after.day and is_month_end)


# --- the period vocabulary -------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "h2",
        "q5",
        "last fortnight",
        "forrige århundrede",
        "30 dayz",
        "lastweek",
        "next 2 weeks",
        "i morgen",
        "2025/08/01",
        "tomorrow",
        "FY24",
        "sidste 3 kvartaler",
        "NOVEMBER 2030",
    ],
)
def test_attempts_at_a_period_look_like_one(text: str) -> None:
    assert looks_like_period(text.split())


@pytest.mark.parametrize(
    "text", ["", "summer sale", "2024", "next gen", "eu h2", "i tivoli", "holiday", "...", "dk 2"]
)
def test_names_with_period_words_in_them_do_not(text: str) -> None:
    assert not looks_like_period(text.split())
