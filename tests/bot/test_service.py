"""The one query service, against SQLite and PostgreSQL."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.answers import CampaignCard, Help, Suggestions, Table
from bot.importing.run import import_file
from bot.kpi import KPIS, Economics, is_improvement
from bot.periods import Period
from bot.query import Compare, NothingToShow, QueryError
from bot.service import KpiService
from tests.conftest import FIVETRAN_SAMPLE

NOW = datetime(2025, 8, 20, 12, 0, tzinfo=UTC)  # today is Wednesday 2025-08-20
SAMPLE_PERIOD = "2025-08-10..2025-08-12"
NATIVE = "date,campaign,platform,channel,currency,impressions,clicks,spend,conversions,revenue"

# Two currencies besides the sample's USD: DKK on two platforms, EUR on Meta.
CURRENCY_MIX = [
    "2025-08-10,Forår DK,Meta Ads,social,DKK,1000,50,500.00,5,1500.00",
    "2025-08-11,Forår DK,Meta Ads,social,DKK,1000,50,250.50,5,1000.00",
    "2025-08-10,Spring EU,Meta Ads,social,EUR,2000,80,100.00,4,400.00",
    "2025-08-11,Spring EU,Meta Ads,social,EUR,2000,80,100.00,0,0",
    "2025-08-10,Brand DK,Google Ads,paid search,DKK,500,20,80.00,2,300.00",
]


def _service(
    sessions: sessionmaker[Session],
    now: datetime = NOW,
    tz: str = "UTC",
    economics: Economics | None = None,
) -> KpiService:
    return KpiService(sessions, economics or Economics(), ZoneInfo(tz), lambda: now)


def _import_native(engine: Engine, tmp_path: Path, name: str, rows: list[str]) -> None:
    path = tmp_path / name
    path.write_text("\n".join([NATIVE, *rows]) + "\n", encoding="utf-8")
    import_file(engine, path, default_currency="USD")


@pytest.fixture
def service(engine: Engine, sessions: sessionmaker[Session]) -> KpiService:
    """A service over the Fivetran sample."""
    import_file(engine, FIVETRAN_SAMPLE, default_currency="USD")
    return _service(sessions)


@pytest.fixture
def mixed(service: KpiService, engine: Engine, tmp_path: Path) -> KpiService:
    """The sample (USD) plus DKK and EUR campaigns."""
    _import_native(engine, tmp_path, "mix.csv", CURRENCY_MIX)
    return service


def _card(service: KpiService, text: str) -> CampaignCard:
    answer = service.answer(text)
    assert isinstance(answer, CampaignCard), answer
    return answer


def _table(service: KpiService, text: str) -> Table:
    answer = service.answer(text)
    assert isinstance(answer, Table), answer
    return answer


def _names(table: Table) -> list[str]:
    return [row.scope.name for row in table.rows]


# --- campaign cards -----------------------------------------------------------------------------


def test_campaign_card_for_the_fivetran_sample(service: KpiService) -> None:
    card = _card(service, f"summer sale {SAMPLE_PERIOD}")
    assert card.scope.name == "Summer Sale"
    assert card.scope.type == "campaign"
    assert card.scope.external_id == "CAM102"
    assert card.scope.platform == "facebook_ads"
    assert card.scope.channel == "social"
    assert card.currency == "USD"
    assert (card.period.start, card.period.end) == (date(2025, 8, 10), date(2025, 8, 12))
    assert (card.data_from, card.data_through) == (date(2025, 8, 10), date(2025, 8, 12))
    kpis = card.kpis
    assert kpis["spend"] == Decimal("1188.00")
    assert kpis["impressions"] == 93_000
    assert kpis["clicks"] == 1_650
    assert kpis["conversions"] == 108
    assert kpis["revenue"] == Decimal("2430.00")
    assert kpis["cpa"] == Decimal("11.00")
    assert kpis["roas"] == Decimal(2430) / Decimal(1188)
    assert kpis["ctr"] == Decimal(1650) / Decimal(93000)
    assert kpis["cpl"] is None
    assert kpis["cac"] is None
    assert set(kpis) == {k.key for k in KPIS}
    assert card.query_text == f"summer sale {SAMPLE_PERIOD}"


@pytest.mark.parametrize("text", ["CAM102", "summer-sale", "SUMMER SALE", "sumer sale", "summ"])
def test_every_way_of_naming_the_campaign_gives_the_same_card(
    service: KpiService, text: str
) -> None:
    assert _card(service, f"{text} {SAMPLE_PERIOD}").kpis["spend"] == Decimal("1188.00")


def test_previous_period_comparison_is_undefined_without_earlier_data(
    service: KpiService,
) -> None:
    card = _card(service, f"summer sale {SAMPLE_PERIOD}")
    comparison = card.comparison
    assert comparison is not None
    assert comparison.label == "previous period"
    assert (comparison.period.start, comparison.period.end) == (
        date(2025, 8, 7),
        date(2025, 8, 9),
    )
    assert comparison.totals.is_empty
    # No data is undefined, never zero (a CPA of 0 would look excellent).
    assert all(value is None for value in comparison.kpis.values())
    assert all(value is None for value in comparison.change.values())


def test_previous_period_comparison(service: KpiService) -> None:
    card = _card(service, "summer sale 2025-08-12 vs previous")
    comparison = card.comparison
    assert comparison is not None
    assert comparison.period.start == comparison.period.end == date(2025, 8, 11)
    assert comparison.kpis["spend"] == Decimal("396.00")
    assert card.kpis["spend"] == Decimal("410.50")
    assert comparison.change["spend"] == Decimal("14.5") / Decimal(396)
    assert comparison.change["clicks"] == Decimal(20) / Decimal(550)
    cpa_now, cpa_then = Decimal("410.5") / 38, Decimal(11)
    assert card.kpis["cpa"] == cpa_now
    assert comparison.change["cpa"] == (cpa_now - cpa_then) / cpa_then
    assert is_improvement("cpa", comparison.change["cpa"]) is True  # CPA went down


def test_vs_last_year(service: KpiService, engine: Engine, tmp_path: Path) -> None:
    _import_native(
        engine,
        tmp_path,
        "years.csv",
        [
            "2024-08-10,Newsletter,Mailchimp,email,USD,0,100,100.00,4,500.00",
            "2025-08-10,Newsletter,Mailchimp,email,USD,0,120,150.00,5,600.00",
        ],
    )
    card = _card(service, "newsletter 2025-08-10 vs last year")
    comparison = card.comparison
    assert comparison is not None
    assert comparison.label == "same period last year"
    assert comparison.period.start == date(2024, 8, 10)
    assert comparison.kpis["cpa"] == Decimal(25)
    assert card.kpis["cpa"] == Decimal(30)
    assert comparison.change["cpa"] == Decimal("0.2")
    assert comparison.change["spend"] == Decimal("0.5")
    assert comparison.change["ctr"] is None  # no impressions: undefined both years
    assert is_improvement("cpa", comparison.change["cpa"]) is False


def test_vs_last_year_without_data_last_year(service: KpiService) -> None:
    card = _card(service, f"summer sale {SAMPLE_PERIOD} vs last year")
    assert card.comparison is not None
    assert card.comparison.period.start == date(2024, 8, 10)
    assert all(v is None for v in card.comparison.change.values())


def test_data_through_shows_the_newest_day_when_the_period_runs_past_the_data(
    service: KpiService,
) -> None:
    card = _card(service, "summer sale 30d")
    assert (card.period.start, card.period.end) == (date(2025, 7, 21), date(2025, 8, 19))
    assert card.data_through == date(2025, 8, 12)
    assert card.data_from == date(2025, 8, 10)
    assert card.kpis["spend"] == Decimal("1188.00")
    awareness = _card(service, f"awareness push {SAMPLE_PERIOD}")
    assert awareness.data_through == date(2025, 8, 11)


def test_period_after_the_data_is_undefined_not_zero(service: KpiService) -> None:
    card = _card(service, "summer sale 2025-09-01..2025-09-05")
    assert card.totals.is_empty
    assert all(value is None for value in card.kpis.values())
    assert card.data_from is None
    assert card.data_through == date(2025, 8, 12)


def test_period_before_the_data(service: KpiService) -> None:
    card = _card(service, "summer sale 2025-07-01..2025-07-05")
    assert card.data_through is None
    assert all(value is None for value in card.kpis.values())


def test_today_is_in_the_configured_time_zone(
    service: KpiService, sessions: sessionmaker[Session]
) -> None:
    late_evening = datetime(2025, 8, 12, 22, 30, tzinfo=UTC)  # already the 13th in Copenhagen
    copenhagen = _card(
        _service(sessions, late_evening, "Europe/Copenhagen"), "summer sale yesterday"
    )
    utc = _card(_service(sessions, late_evening, "UTC"), "summer sale yesterday")
    assert copenhagen.period.start == date(2025, 8, 12)
    assert copenhagen.kpis["spend"] == Decimal("410.50")
    assert utc.period.start == date(2025, 8, 11)
    assert utc.kpis["spend"] == Decimal("396.00")


def test_economics_reach_the_card(service: KpiService, sessions: sessionmaker[Session]) -> None:
    card = _card(
        _service(sessions, economics=Economics(gross_margin=Decimal("0.5"))),
        f"summer sale {SAMPLE_PERIOD}",
    )
    assert card.kpis["roi"] == (Decimal(1215) - Decimal(1188)) / Decimal(1188)


def test_card_for_a_campaign_picked_by_id(service: KpiService) -> None:
    period = Period(date(2025, 8, 10), date(2025, 8, 12), SAMPLE_PERIOD)
    card = _card(service, f"back to school {SAMPLE_PERIOD}")
    assert card.scope.id is not None
    again = service.card_for(card.scope.id, period, Compare.PREVIOUS)
    assert again.kpis == card.kpis
    with pytest.raises(QueryError, match="no longer exists"):
        service.card_for(10_000, period, Compare.PREVIOUS)


# --- unknown and ambiguous campaigns ------------------------------------------------------------


def test_unknown_campaign_gives_suggestions(service: KpiService) -> None:
    unknown = service.answer("winter promo 30d")
    assert isinstance(unknown, Suggestions)
    assert unknown.text == "winter promo"
    assert not unknown.ambiguous
    assert unknown.compare == "previous"
    assert (unknown.period.start, unknown.period.end) == (date(2025, 7, 21), date(2025, 8, 19))
    nothing = service.answer("zzzqqq")
    assert isinstance(nothing, Suggestions)
    assert nothing.candidates == ()


def test_a_campaign_with_extra_words_is_not_answered_for_another(service: KpiService) -> None:
    answer = service.answer("summer sale 2024 30d")
    assert isinstance(answer, Suggestions)
    assert [c.name for c in answer.candidates][:1] == ["Summer Sale"]


def test_same_name_on_two_platforms_gives_suggestions(
    service: KpiService, engine: Engine, tmp_path: Path
) -> None:
    _import_native(
        engine, tmp_path, "google.csv", ["2025-08-10,Summer Sale,Google Ads,,USD,10,1,1.00,0,0"]
    )
    answer = service.answer(f"summer sale {SAMPLE_PERIOD}")
    assert isinstance(answer, Suggestions)
    assert answer.ambiguous
    assert {(c.name, c.platform) for c in answer.candidates} == {
        ("Summer Sale", "facebook_ads"),
        ("Summer Sale", "google_ads"),
    }
    # The id still picks one.
    assert _card(service, f"CAM102 {SAMPLE_PERIOD}").scope.platform == "facebook_ads"


def test_no_data_yet(sessions: sessionmaker[Session]) -> None:
    for text in ("summer sale", "list", "top roas", "all", "channel social"):
        with pytest.raises(NothingToShow, match="No data yet: import a file"):
            _service(sessions).answer(text)


def test_a_list_that_matches_nothing_says_what_it_looked_for(service: KpiService) -> None:
    with pytest.raises(NothingToShow, match="No campaign's name contains “nothing-like-it”"):
        service.answer("list nothing-like-it")


def test_bad_query_raises_query_error(service: KpiService) -> None:
    with pytest.raises(QueryError, match="not a KPI"):
        service.answer("top roaz")
    with pytest.raises(QueryError, match="not a valid date"):
        service.answer("summer sale 2025-02-30")


def test_help(service: KpiService) -> None:
    answer = service.answer("help")
    assert isinstance(answer, Help)
    assert any(usage.startswith("top") for usage, _, _ in answer.commands)
    assert ("cpa", "CPA") in answer.kpis


# --- top and bottom -----------------------------------------------------------------------------
# ROAS: Back to School 1475/587.05 ≈ 2.51, Summer Sale 2430/1188 ≈ 2.05,
#       Awareness Push 680/472.10 ≈ 1.44
# CPA:  Back to School 587.05/59 ≈ 9.95, Summer Sale 11.00, Awareness Push 472.10/34 ≈ 13.89


def test_top_ranks_the_best_first(service: KpiService) -> None:
    table = _table(service, f"top roas {SAMPLE_PERIOD}")
    assert table.kind == "top"
    assert table.rank_kpi == "roas"
    assert _names(table) == ["Back to School", "Summer Sale", "Awareness Push"]
    assert table.rows[1].kpis["roas"] == Decimal(2430) / Decimal(1188)
    assert table.columns[0] == "roas"
    assert table.title == "Top 3 by ROAS"


def test_top_limit(service: KpiService) -> None:
    table = _table(service, f"top roas {SAMPLE_PERIOD} 2")
    assert _names(table) == ["Back to School", "Summer Sale"]
    assert table.title == "Top 2 by ROAS"


def test_bottom_ranks_the_worst_first(service: KpiService) -> None:
    table = _table(service, f"bottom roas {SAMPLE_PERIOD} 1")
    assert table.kind == "bottom"
    assert _names(table) == ["Awareness Push"]


def test_top_follows_the_direction_of_good(service: KpiService) -> None:
    # A lower CPA is better: the top CPA is the lowest.
    assert _names(_table(service, f"top cpa {SAMPLE_PERIOD}")) == [
        "Back to School",
        "Summer Sale",
        "Awareness Push",
    ]
    assert _names(_table(service, f"bottom cpa {SAMPLE_PERIOD}")) == [
        "Awareness Push",
        "Summer Sale",
        "Back to School",
    ]


def test_ranking_leaves_out_undefined_values(service: KpiService) -> None:
    table = _table(service, f"top cpl {SAMPLE_PERIOD}")
    assert table.rows == ()
    assert table.note == (
        "3 campaigns with data in this period have no CPL "
        "(not measured, or nothing to divide by): left out."
    )
    partial = _table(service, "top spend 2025-08-12")
    assert _names(partial) == ["Summer Sale", "Back to School"]  # no Awareness Push that day


def test_ranking_only_counts_the_period(service: KpiService) -> None:
    table = _table(service, "top spend 2025-08-11")
    assert [row.kpis["spend"] for row in table.rows] == [
        Decimal("396.00"),
        Decimal("242.60"),
        Decimal("197.50"),
    ]


# --- list ---------------------------------------------------------------------------------------


def test_list_all(service: KpiService) -> None:
    table = _table(service, "list")
    assert table.kind == "list"
    assert table.period is None
    assert _names(table) == ["Awareness Push", "Back to School", "Summer Sale"]
    through = {row.scope.name: row.data_through for row in table.rows}
    assert through == {
        "Awareness Push": date(2025, 8, 11),
        "Back to School": date(2025, 8, 12),
        "Summer Sale": date(2025, 8, 12),
    }


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("list sale", ["Summer Sale"]),
        ("list SCHOOL", ["Back to School"]),
        ("list cam201", ["Awareness Push"]),
        ("list back-to", ["Back to School"]),
    ],
)
def test_list_filter(service: KpiService, text: str, names: list[str]) -> None:
    assert _names(_table(service, text)) == names


# --- groups and per-currency totals -------------------------------------------------------------


def _totals_by_currency(table: Table) -> dict[str, Decimal]:
    return {
        row.currency: row.kpis["spend"]  # type: ignore[misc]
        for row in table.rows
        if row.scope.type == "total"
    }


def _campaign_spend_by_currency(table: Table) -> dict[str, Decimal]:
    sums: dict[str, Decimal] = defaultdict(Decimal)
    for row in table.rows:
        if row.scope.type == "campaign":
            sums[row.currency] += row.kpis["spend"]  # type: ignore[operator]
    return dict(sums)


def test_all_gives_one_total_per_currency(mixed: KpiService) -> None:
    table = _table(mixed, f"all {SAMPLE_PERIOD}")
    assert table.kind == "all"
    assert all(row.scope.type == "total" for row in table.rows)
    assert [row.scope.name for row in table.rows] == ["Total DKK", "Total EUR", "Total USD"]
    assert _totals_by_currency(table) == {
        "DKK": Decimal("830.50"),
        "EUR": Decimal("200.00"),
        "USD": Decimal("2247.15"),
    }
    dkk = table.rows[0].kpis
    assert dkk["conversions"] == 12
    assert dkk["revenue"] == Decimal("2800.00")
    assert dkk["roas"] == Decimal(2800) / Decimal("830.5")


def test_channel_table_never_merges_currencies(mixed: KpiService) -> None:
    table = _table(mixed, f"channel social {SAMPLE_PERIOD}")
    assert table.kind == "channel"
    campaigns = {row.scope.name: row.currency for row in table.rows if row.scope.type == "campaign"}
    assert campaigns == {
        "Summer Sale": "USD",
        "Awareness Push": "USD",
        "Forår DK": "DKK",
        "Spring EU": "EUR",
    }
    totals = _totals_by_currency(table)
    assert totals == {
        "DKK": Decimal("750.50"),
        "EUR": Decimal("200.00"),
        "USD": Decimal("1660.10"),
    }
    assert totals == _campaign_spend_by_currency(table)


def test_platform_table(mixed: KpiService) -> None:
    table = _table(mixed, f"platform Meta Ads {SAMPLE_PERIOD}")
    assert table.kind == "platform"
    assert _names(table) == ["Forår DK", "Spring EU", "Total DKK", "Total EUR"]
    assert _totals_by_currency(table) == _campaign_spend_by_currency(table)
    google = _table(mixed, f"platform google_ads {SAMPLE_PERIOD}")
    assert _totals_by_currency(google) == {"DKK": Decimal("80.00"), "USD": Decimal("587.05")}
    assert _totals_by_currency(google) == _campaign_spend_by_currency(google)


def test_group_totals_only_count_the_period(mixed: KpiService) -> None:
    table = _table(mixed, "all 2025-08-11")
    assert _totals_by_currency(table) == {
        "DKK": Decimal("250.50"),
        "EUR": Decimal("100.00"),
        "USD": Decimal("396.00") + Decimal("197.50") + Decimal("242.60"),
    }
    assert _table(mixed, "all 2025-09-01").rows == ()


def test_group_with_no_campaigns(mixed: KpiService) -> None:
    with pytest.raises(QueryError, match="No campaigns with channel `email`"):
        mixed.answer("channel email 30d")
    with pytest.raises(QueryError, match="No campaigns with platform `snapchat_ads`"):
        mixed.answer("platform snapchat ads")


def test_campaigns_imported_after_a_query_are_found_by_the_next_one(
    service: KpiService, engine: Engine, tmp_path: Path
) -> None:
    assert isinstance(service.answer("fresh launch 2025-08-10"), Suggestions)
    _import_native(
        engine, tmp_path, "fresh.csv", ["2025-08-10,Fresh Launch,meta_ads,social,USD,10,1,5.00,0,0"]
    )
    assert _card(service, "fresh launch 2025-08-10").scope.name == "Fresh Launch"


def test_a_renamed_campaign_is_found_by_its_new_name(
    service: KpiService, engine: Engine, tmp_path: Path
) -> None:
    assert _card(service, "summer sale 2025-08-10").scope.name == "Summer Sale"
    renamed = FIVETRAN_SAMPLE.read_text().replace("Summer Sale", "Summer Sale 2025")
    path = tmp_path / "renamed.csv"
    path.write_text(renamed)
    import_file(engine, path, default_currency="USD")
    assert _card(service, "summer sale 2025 2025-08-10").scope.name == "Summer Sale 2025"
