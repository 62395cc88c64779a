from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.periods import PERIOD_EXAMPLES, Grain, Period
from bot.query import (
    DEFAULT_TOP,
    MAX_TOP,
    CampaignQuery,
    Compare,
    GroupQuery,
    HelpQuery,
    ListQuery,
    QueryError,
    RankQuery,
    kpi_key,
    parse_query,
)

TODAY = date(2025, 8, 20)  # a Wednesday
LAST_7 = (date(2025, 8, 13), date(2025, 8, 19))
LAST_30 = (date(2025, 7, 21), date(2025, 8, 19))


def _span(period: Period) -> tuple[date, date]:
    return period.start, period.end


def _parse(text: str):  # type: ignore[no-untyped-def]
    return parse_query(text, TODAY)


@pytest.mark.parametrize("text", ["", "   ", "help", "HELP", "hjælp", "?"])
def test_help(text: str) -> None:
    assert _parse(text) == HelpQuery()


def test_campaign_with_the_default_period_of_seven_days() -> None:
    query = _parse("summer sale")
    assert isinstance(query, CampaignQuery)
    assert query.text == "summer sale"
    assert _span(query.period) == LAST_7
    assert query.compare is Compare.PREVIOUS


def test_campaign_with_a_period() -> None:
    query = _parse("summer-sale 30d")
    assert isinstance(query, CampaignQuery)
    assert query.text == "summer-sale"
    assert _span(query.period) == LAST_30


def test_campaign_with_a_date_range() -> None:
    query = _parse("summer sale 2025-08-10..2025-08-12")
    assert isinstance(query, CampaignQuery)
    assert query.text == "summer sale"
    assert _span(query.period) == (date(2025, 8, 10), date(2025, 8, 12))


@pytest.mark.parametrize(
    ("text", "compare"),
    [
        ("summer sale 30d vs last year", Compare.YEAR),
        ("summer sale vs last year", Compare.YEAR),
        ("summer sale 30d vs ly", Compare.YEAR),
        ("summer sale 30d VS Last Year", Compare.YEAR),
        ("summer sale 30d vs previous", Compare.PREVIOUS),
        ("summer sale 30d vs. prev", Compare.PREVIOUS),
        ("summer sale 30d mod sidste år", Compare.YEAR),
        ("summer sale 30d mod forrige periode", Compare.PREVIOUS),
        ("summer sale 30d vs last month", Compare.MONTH),
        ("summer sale 30d vs previous month", Compare.MONTH),
        ("summer sale 30d vs sidste måned", Compare.MONTH),
        ("summer sale 30d mod forrige måned", Compare.MONTH),
        ("summer sale 30d mod forrige maaned", Compare.MONTH),
        ("summer sale 30d mod forrige år", Compare.YEAR),
    ],
)
def test_compare_with(text: str, compare: Compare) -> None:
    query = _parse(text)
    assert isinstance(query, CampaignQuery)
    assert query.text == "summer sale"
    assert query.compare is compare


def test_vs_last_year_keeps_the_period() -> None:
    query = _parse("summer sale 30d vs last year")
    assert isinstance(query, CampaignQuery)
    assert _span(query.period) == LAST_30
    assert _span(query.period.year_ago()) == (date(2024, 7, 21), date(2024, 8, 19))


def test_unknown_comparison_says_what_to_write() -> None:
    with pytest.raises(QueryError, match="`vs previous`, `vs last month` or `vs last year`"):
        _parse("summer sale 30d vs tomorrow")


@pytest.mark.parametrize(
    ("text", "compare"),
    [
        ("summer-sale last year vs last year", Compare.YEAR),
        ("summer-sale sidste år mod sidste år", Compare.YEAR),
        ("summer-sale last year", Compare.PREVIOUS),
        ("summer-sale sidste år", Compare.PREVIOUS),
        ("summer-sale last year vs previous", Compare.PREVIOUS),
    ],
)
def test_last_year_is_a_period_before_vs_and_a_comparison_after_it(
    text: str, compare: Compare
) -> None:
    query = _parse(text)
    assert isinstance(query, CampaignQuery)
    assert query.text == "summer-sale"
    assert query.period == Period(date(2024, 1, 1), date(2024, 12, 31), "last year", Grain.YEAR)
    assert query.compare is compare


def test_last_month_is_a_period_before_vs_and_a_comparison_after_it() -> None:
    query = _parse("summer-sale last month vs last month")
    assert isinstance(query, CampaignQuery)
    assert _span(query.period) == (date(2025, 7, 1), date(2025, 7, 31))
    assert query.compare is Compare.MONTH


@pytest.mark.parametrize(
    ("text", "span"),
    [
        ("summer-sale this year", (date(2025, 1, 1), TODAY)),
        ("summer-sale i år", (date(2025, 1, 1), TODAY)),
        ("summer-sale last quarter", (date(2025, 4, 1), date(2025, 6, 30))),
        ("summer-sale sidste kvartal", (date(2025, 4, 1), date(2025, 6, 30))),
        ("summer-sale forrige kvartal", (date(2025, 4, 1), date(2025, 6, 30))),
        ("summer-sale q3", (date(2025, 7, 1), TODAY)),
        ("summer-sale q4", (date(2024, 10, 1), date(2024, 12, 31))),
        ("summer-sale q3 2024", (date(2024, 7, 1), date(2024, 9, 30))),
        ("summer-sale 2025-07", (date(2025, 7, 1), date(2025, 7, 31))),
        ("summer-sale november", (date(2024, 11, 1), date(2024, 11, 30))),
        ("summer-sale nov 2024", (date(2024, 11, 1), date(2024, 11, 30))),
        ("summer-sale marts 2025", (date(2025, 3, 1), date(2025, 3, 31))),
        ("summer-sale forrige måned", (date(2025, 7, 1), date(2025, 7, 31))),
        ("summer-sale forrige uge", (date(2025, 8, 11), date(2025, 8, 17))),
    ],
)
def test_calendar_periods_in_a_campaign_query(text: str, span: tuple[date, date]) -> None:
    query = _parse(text)
    assert isinstance(query, CampaignQuery)
    assert query.text == "summer-sale"
    assert _span(query.period) == span


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("summer-sale 2026-11", "^2026-11 has not begun yet"),
        ("summer-sale nov 2026", "^November 2026 has not begun yet"),
        ("summer-sale 2025-13", "^2025-13 is not a valid month"),
    ],
)
def test_a_period_shaped_tail_that_is_no_period_says_why(text: str, message: str) -> None:
    with pytest.raises(QueryError, match=message):
        _parse(text)


def test_unknown_words_after_a_campaign_stay_in_its_name_for_the_service_to_judge() -> None:
    query = _parse("summer-sale h2")
    assert isinstance(query, CampaignQuery)
    assert query.text == "summer-sale h2"


@pytest.mark.parametrize(
    ("text", "span"),
    [
        ("summer sale sidste 7 dage", LAST_7),
        ("summer sale i går", (date(2025, 8, 19), date(2025, 8, 19))),
        ("summer sale i gaar", (date(2025, 8, 19), date(2025, 8, 19))),
        ("summer sale i dag", (TODAY, TODAY)),
        ("summer sale denne måned", (date(2025, 8, 1), TODAY)),
        ("summer sale sidste måned", (date(2025, 7, 1), date(2025, 7, 31))),
        ("summer sale sidste uge", (date(2025, 8, 11), date(2025, 8, 17))),
        ("summer sale denne uge", (date(2025, 8, 18), TODAY)),
    ],
)
def test_danish_period_in_a_campaign_query(text: str, span: tuple[date, date]) -> None:
    query = _parse(text)
    assert isinstance(query, CampaignQuery)
    assert query.text == "summer sale"
    assert _span(query.period) == span


def test_quoted_campaign_name_keeps_words_that_look_like_periods() -> None:
    query = _parse('"Summer Sale 30d" 7d')
    assert isinstance(query, CampaignQuery)
    assert query.text == "Summer Sale 30d"
    assert _span(query.period) == LAST_7


def test_quoted_campaign_name_with_typographic_quotes() -> None:
    query = _parse("“Top Sellers” 30d vs last year")
    assert isinstance(query, CampaignQuery)
    assert query.text == "Top Sellers"
    assert _span(query.period) == LAST_30
    assert query.compare is Compare.YEAR


def test_quoted_names_can_start_with_a_command_word() -> None:
    for text in ('"list of winners"', '"all stars" 30d', '"help desk"'):
        query = _parse(text)
        assert isinstance(query, CampaignQuery), text
        assert query.text == text.split('"')[1]


def test_quoted_name_without_period_uses_the_default() -> None:
    query = _parse('"Back to School"')
    assert isinstance(query, CampaignQuery)
    assert query.text == "Back to School"
    assert _span(query.period) == LAST_7


def test_empty_quotes_are_an_error() -> None:
    with pytest.raises(QueryError, match="quotes are empty"):
        _parse('"" 30d')


def test_period_alone_is_not_a_campaign() -> None:
    with pytest.raises(QueryError, match="Say which campaign"):
        _parse("30d")


def test_a_year_number_stays_in_the_campaign_name() -> None:
    query = _parse("summer sale 2025")
    assert isinstance(query, CampaignQuery)
    assert query.text == "summer sale 2025"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("summer sale 2025-02-30", "not a valid date"),
        ("summer sale 0d", "number of days"),
        ("summer sale 2025-08-12..2025-08-10", "before it starts"),
        ("top roas lastweek", "^I don't know the period 'lastweek' — try `7d`"),
        ("top roas 30 dayz", "^I don't know the period '30 dayz'"),
        ("top roas h2", "^I don't know the period 'h2'"),
        ("top roas h2 5", "^I don't know the period 'h2'"),
        ("all forrige århundrede", "^I don't know the period 'forrige århundrede'"),
        ("channel social h2", "^I don't know the period 'h2'"),
        ("channel paid search q5 2025", "^I don't know the period 'q5 2025'"),
        ("top roas nov 2026", "^November 2026 has not begun yet"),
        ("top roas 2030", "between 1 and 50"),
        ("all 9999d", "number of days"),
        ("channel social 2025-13-01", "not a valid date"),
    ],
)
def test_bad_period_message(text: str, message: str) -> None:
    with pytest.raises(QueryError, match=message):
        _parse(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("list", ""),
        ("list sale", "sale"),
        ("ls Summer Sale", "Summer Sale"),
        ("liste forår", "forår"),
    ],
)
def test_list(text: str, expected: str) -> None:
    assert _parse(text) == ListQuery(expected)


def test_top_with_period_and_n() -> None:
    query = _parse("top roas 30d 5")
    assert isinstance(query, RankQuery)
    assert (query.kpi, query.limit, query.lowest_first) == ("roas", 5, False)
    assert _span(query.period) == LAST_30


def test_top_defaults_to_seven_days_and_ten_rows() -> None:
    query = _parse("top roas")
    assert isinstance(query, RankQuery)
    assert query.limit == DEFAULT_TOP == 10
    assert _span(query.period) == LAST_7


def test_top_with_only_n() -> None:
    query = _parse("top cpa 3")
    assert isinstance(query, RankQuery)
    assert query.limit == 3
    assert _span(query.period) == LAST_7


def test_top_with_a_multi_word_period_and_n() -> None:
    query = _parse("top roas last 30 days 3")
    assert isinstance(query, RankQuery)
    assert query.limit == 3
    assert _span(query.period) == LAST_30
    query = _parse("top roas last 30 days")
    assert isinstance(query, RankQuery)
    assert query.limit == DEFAULT_TOP
    assert _span(query.period) == LAST_30


@pytest.mark.parametrize(
    ("text", "span", "limit"),
    [
        ("top cpa q3 2024", (date(2024, 7, 1), date(2024, 9, 30)), DEFAULT_TOP),
        ("top cpa nov 2024", (date(2024, 11, 1), date(2024, 11, 30)), DEFAULT_TOP),
        ("top cpa nov 2024 3", (date(2024, 11, 1), date(2024, 11, 30)), 3),
        ("top cpa 2025-07 2", (date(2025, 7, 1), date(2025, 7, 31)), 2),
        ("top cpa last year 5", (date(2024, 1, 1), date(2024, 12, 31)), 5),
    ],
)
def test_a_trailing_year_belongs_to_the_period_and_a_number_after_it_is_the_count(
    text: str, span: tuple[date, date], limit: int
) -> None:
    query = _parse(text)
    assert isinstance(query, RankQuery)
    assert (_span(query.period), query.limit) == (span, limit)


@pytest.mark.parametrize("text", ["top roas ²", "top roas 7d ٣"])
def test_a_count_must_be_plain_digits(text: str) -> None:
    with pytest.raises(QueryError):
        _parse(text)


def test_bottom() -> None:
    query = _parse("bottom cpa last week")
    assert isinstance(query, RankQuery)
    assert query.kpi == "cpa"
    assert query.lowest_first
    assert _span(query.period) == (date(2025, 8, 11), date(2025, 8, 17))
    assert isinstance(_parse("bund roas"), RankQuery)


@pytest.mark.parametrize(
    ("word", "key"),
    [
        ("ROAS", "roas"),
        ("cost", "spend"),
        ("forbrug", "spend"),
        ("conv", "conversions"),
        ("ltv:cac", "ltv_cac"),
        ("omsætning", "revenue"),
        ("ctr", "ctr"),
    ],
)
def test_kpi_aliases(word: str, key: str) -> None:
    assert kpi_key(word) == key
    query = _parse(f"top {word} 30d")
    assert isinstance(query, RankQuery)
    assert query.kpi == key


def test_bad_kpi_message_lists_the_kpis() -> None:
    with pytest.raises(QueryError, match="`roaz` is not a KPI") as info:
        _parse("top roaz 30d")
    assert "roas" in str(info.value)
    assert "cpa" in str(info.value)


def test_top_without_a_kpi() -> None:
    with pytest.raises(QueryError, match="Say which KPI"):
        _parse("top")


@pytest.mark.parametrize("n", ["0", str(MAX_TOP + 1), "100"])
def test_top_n_out_of_range(n: str) -> None:
    with pytest.raises(QueryError, match=f"between 1 and {MAX_TOP}"):
        _parse(f"top roas 30d {n}")


def test_channel() -> None:
    query = _parse("channel social mtd")
    assert query == GroupQuery("channel", "social", query.period)  # type: ignore[union-attr]
    assert _span(query.period) == (date(2025, 8, 1), TODAY)  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("text", "channel"),
    [
        ("channel paid search 30d", "paid_search"),
        ("channel paid_search", "paid_search"),
        ("channel e-mail", "email"),
        ("kanal social", "social"),
    ],
)
def test_channel_aliases(text: str, channel: str) -> None:
    query = _parse(text)
    assert isinstance(query, GroupQuery)
    assert (query.kind, query.value) == ("channel", channel)


def test_unknown_channel_lists_the_types() -> None:
    with pytest.raises(QueryError, match="`tv` is not a channel type") as info:
        _parse("channel tv 30d")
    assert "paid_search" in str(info.value)


def test_channel_without_a_name() -> None:
    with pytest.raises(QueryError, match="Say which channel"):
        _parse("channel")
    with pytest.raises(QueryError, match="before the period"):
        _parse("channel 30d")


def test_platform() -> None:
    query = _parse("platform Google Ads 7d")
    assert isinstance(query, GroupQuery)
    assert (query.kind, query.value) == ("platform", "google_ads")
    assert _span(query.period) == LAST_7


def test_all() -> None:
    query = _parse("all yesterday")
    assert isinstance(query, GroupQuery)
    assert (query.kind, query.value) == ("all", "")
    assert _span(query.period) == (date(2025, 8, 19), date(2025, 8, 19))
    default = _parse("alle")
    assert isinstance(default, GroupQuery)
    assert _span(default.period) == LAST_7


QUERY_WORDS = [
    *(text for text, _ in PERIOD_EXAMPLES),
    *("top", "bottom", "list", "channel", "platform", "all", "vs", "mod", "last", "year", "q3"),
    *("roas", "cpa", "5", "0", "99", '"', "“", "”", "summer-sale", "social", "²", "h2", "nov"),
]


@given(
    words=st.lists(st.sampled_from(QUERY_WORDS) | st.text(max_size=8), max_size=6),
    today=st.dates(),
)
def test_any_text_gives_a_query_or_a_query_error(words: list[str], today: date) -> None:
    try:
        query = parse_query(" ".join(words), today)
    except QueryError as exc:
        assert str(exc)
        return
    period = getattr(query, "period", None)
    if period is not None:
        assert period.start <= period.end
        assert period.days <= 3660
