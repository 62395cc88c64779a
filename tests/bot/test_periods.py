from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from hypothesis import assume, given
from hypothesis import strategies as st

from bot.periods import (
    DEFAULT_PERIOD_TEXT,
    PERIOD_EXAMPLES,
    Period,
    PeriodError,
    parse_period,
    take_trailing_period,
    today_in,
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
    assert parse_period(text, WED) == Period(d("2025-08-11"), WED, "week to date")


def test_week_to_date_on_monday_is_one_day_and_on_sunday_is_seven() -> None:
    assert span("wtd", d("2025-08-11")) == (d("2025-08-11"), d("2025-08-11"))
    assert span("wtd", d("2025-08-17")) == (d("2025-08-11"), d("2025-08-17"))


@pytest.mark.parametrize("text", ["mtd", "this month", "denne måned", "denne maaned"])
def test_month_to_date_on_the_31st_covers_the_whole_month(text: str) -> None:
    today = d("2025-08-31")
    assert parse_period(text, today) == Period(d("2025-08-01"), today, "month to date")


def test_month_to_date_on_the_1st_is_one_day() -> None:
    assert span("mtd", d("2025-08-01")) == (d("2025-08-01"), d("2025-08-01"))


@pytest.mark.parametrize(
    ("today", "start"),
    [("2025-08-13", "2025-07-01"), ("2025-01-01", "2025-01-01"), ("2025-12-31", "2025-10-01")],
)
def test_quarter_to_date_starts_on_the_quarters_first_day(today: str, start: str) -> None:
    assert parse_period("qtd", d(today)) == Period(d(start), d(today), "quarter to date")


def test_year_to_date_starts_on_january_1st() -> None:
    assert parse_period("ytd", WED) == Period(d("2025-01-01"), WED, "year to date")


# --- last week / last month -----------------------------------------------------------------


@pytest.mark.parametrize("text", ["last week", "sidste uge"])
def test_last_week_is_the_previous_monday_to_sunday(text: str) -> None:
    assert parse_period(text, WED) == Period(d("2025-08-04"), d("2025-08-10"), "last week")


def test_last_week_on_a_monday_is_the_week_before() -> None:
    assert span("last week", d("2025-08-11")) == (d("2025-08-04"), d("2025-08-10"))


def test_last_week_on_january_1st_lies_in_the_previous_year() -> None:
    assert span("last week", d("2025-01-01")) == (d("2024-12-23"), d("2024-12-29"))


@pytest.mark.parametrize("text", ["last month", "sidste måned", "sidste maaned"])
def test_last_month_from_march_31st_is_february(text: str) -> None:
    assert parse_period(text, d("2025-03-31")) == Period(
        d("2025-02-01"), d("2025-02-28"), "last month"
    )


def test_last_month_in_a_leap_year_ends_on_february_29th() -> None:
    assert span("last month", d("2024-03-31")) == (d("2024-02-01"), d("2024-02-29"))


def test_last_month_on_january_1st_is_previous_december() -> None:
    assert span("last month", d("2025-01-01")) == (d("2024-12-01"), d("2024-12-31"))


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
    "text", ["last fortnight", "7 d", "d", "2025-8-1", "2025/08/01", "last 7", "tomorrow", "..."]
)
def test_unknown_text_is_rejected_with_examples(text: str) -> None:
    with pytest.raises(PeriodError, match=r"Unknown period.*`7d`, `last month`"):
        parse_period(text, WED)


def test_empty_text_says_no_period_was_given() -> None:
    with pytest.raises(PeriodError, match=r"^No period given\. Try"):
        parse_period("   ", WED)


@pytest.mark.parametrize(
    "text", ["nope", "0d", "2025-02-30", "2025-08-12..2025-08-10", "2000-01-01..2025-01-01"]
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


RELATIVE_EXAMPLES = [text for text, _ in PERIOD_EXAMPLES if not text[:4].isdigit()]


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
