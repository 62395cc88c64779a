"""Ranked lists and unknown periods, answered by the query service (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from itertools import groupby
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.answers import CampaignCard, Suggestions, Table
from bot.importing.run import import_file
from bot.kpi import KPIS, Economics, Good, Unit
from bot.query import Compare, QueryError
from bot.service import KpiService
from tests.conftest import FIVETRAN_SAMPLE

NOW = datetime(2025, 8, 20, 12, 0, tzinfo=UTC)  # today is Wednesday 2025-08-20
DAYS = "2025-08-10..2025-08-12"
NATIVE = "date,campaign,platform,channel,currency,impressions,clicks,spend,conversions,revenue"

# Besides the sample's three USD campaigns (CPA: Back to School ≈ 9.95, Summer Sale 11.00,
# Awareness Push ≈ 13.89): DKK Brand DK 40.00 and Forår DK 75.05, EUR Spring EU 50.00.
CURRENCY_MIX = [
    "2025-08-10,Forår DK,Meta Ads,social,DKK,1000,50,500.00,5,1500.00",
    "2025-08-11,Forår DK,Meta Ads,social,DKK,1000,50,250.50,5,1000.00",
    "2025-08-10,Spring EU,Meta Ads,social,EUR,2000,80,100.00,4,400.00",
    "2025-08-11,Spring EU,Meta Ads,social,EUR,2000,80,100.00,0,0",
    "2025-08-10,Brand DK,Google Ads,paid search,DKK,500,20,80.00,2,300.00",
]


@pytest.fixture
def service(engine: Engine, sessions: sessionmaker[Session]) -> KpiService:
    """A service over the Fivetran sample (USD only)."""
    import_file(engine, FIVETRAN_SAMPLE, default_currency="USD")
    return KpiService(sessions, Economics(), ZoneInfo("UTC"), lambda: NOW)


@pytest.fixture
def mixed(service: KpiService, engine: Engine, tmp_path: Path) -> KpiService:
    """The sample (USD) plus DKK and EUR campaigns."""
    path = tmp_path / "mix.csv"
    path.write_text("\n".join([NATIVE, *CURRENCY_MIX]) + "\n", encoding="utf-8")
    import_file(engine, path, default_currency="USD")
    return service


def _table(service: KpiService, text: str) -> Table:
    answer = service.answer(text)
    assert isinstance(answer, Table), answer
    return answer


def _rows(table: Table) -> list[tuple[str, str]]:
    return [(row.currency, row.scope.name) for row in table.rows]


# --- what a ranked list says is what it shows ----------------------------------------------------


def test_money_is_ranked_within_each_currency_and_the_title_says_so(mixed: KpiService) -> None:
    table = _table(mixed, f"top cpa {DAYS} 2")
    assert table.title == "Top 2 by CPA in each currency"
    assert _rows(table) == [
        ("DKK", "Brand DK"),
        ("DKK", "Forår DK"),
        ("EUR", "Spring EU"),
        ("USD", "Back to School"),
        ("USD", "Summer Sale"),
    ]
    assert "ranked within each currency" in table.note


def test_one_currency_present_is_no_per_currency_title(service: KpiService) -> None:
    table = _table(service, f"top cpa {DAYS} 2")
    assert table.title == "Top 2 by CPA"
    assert _rows(table) == [("USD", "Back to School"), ("USD", "Summer Sale")]
    assert table.note == ""


def test_a_ratio_is_ranked_across_currencies_with_n_rows(mixed: KpiService) -> None:
    # ROAS: Forår DK 2500/750.50 ≈ 3.33 and Brand DK 3.75 beat every USD campaign.
    table = _table(mixed, f"top roas {DAYS} 3")
    assert table.title == "Top 3 by ROAS"
    assert _rows(table) == [("DKK", "Brand DK"), ("DKK", "Forår DK"), ("USD", "Back to School")]


def test_fewer_campaigns_than_asked_shows_the_number_shown(service: KpiService) -> None:
    assert _table(service, f"top roas {DAYS} 10").title == "Top 3 by ROAS"
    assert _table(service, f"bottom roas {DAYS} 5").title == "Bottom 3 by ROAS"


def test_campaigns_without_the_kpi_are_counted_in_the_note(mixed: KpiService) -> None:
    # Spring EU has no conversions on 2025-08-11, so no CPA that day.
    table = _table(mixed, "top cpa 2025-08-11")
    assert "Spring EU" not in [name for _, name in _rows(table)]
    assert "1 campaign with data in this period has no CPA" in table.note


def test_no_campaign_with_the_kpi_has_a_title_without_a_number(service: KpiService) -> None:
    table = _table(service, f"top cpl {DAYS}")
    assert table.rows == ()
    assert table.title == "Top by CPL"


@pytest.mark.parametrize(
    ("kpi", "label"),
    [("new_customers", "New customers"), ("ltv_cac", "LTV:CAC"), ("cvr", "Conv. rate")],
)
def test_titles_use_the_kpis_label(service: KpiService, kpi: str, label: str) -> None:
    assert _table(service, f"top {kpi} {DAYS}").title.endswith(f"by {label}")


@pytest.mark.parametrize("kpi", [k.key for k in KPIS if k.unit is Unit.MONEY])
@pytest.mark.parametrize("verb", ["top", "bottom"])
def test_money_kpis_are_never_ranked_across_currencies(
    mixed: KpiService, kpi: str, verb: str
) -> None:
    table = _table(mixed, f"{verb} {kpi} {DAYS} 2")
    currencies = [currency for currency, _ in groupby(row.currency for row in table.rows)]
    assert len(currencies) == len(set(currencies)), "a currency's rows are not together"
    assert currencies == sorted(currencies)
    good = next(k.good for k in KPIS if k.key == kpi)
    descending = (good is not Good.LOWER) != (verb == "bottom")
    for _, rows in groupby(table.rows, key=lambda row: row.currency):
        values = [row.kpis[kpi] for row in rows]
        ranked = [Decimal(v) for v in values if v is not None]
        assert 1 <= len(ranked) == len(values) <= 2
        assert ranked == sorted(ranked, reverse=descending)


# --- unknown words are named -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("summer-sale h2", "h2"),
        ("summer sale forrige århundrede", "forrige århundrede"),
        ("summer-sale 30 dayz", "30 dayz"),
        ("CAM102 q5", "q5"),
        ("summer sale last fortnight 30d", "last fortnight"),
        ("forrige århundrede", "forrige århundrede"),
        ("next 2 weeks", "next 2 weeks"),
    ],
)
def test_an_unknown_period_is_named_instead_of_a_missing_campaign(
    service: KpiService, text: str, words: str
) -> None:
    with pytest.raises(QueryError, match=rf"^I don't know the period '{words}' — try `7d`"):
        service.answer(text)


def test_an_unknown_period_after_a_name_shared_by_two_campaigns_is_named(
    service: KpiService, engine: Engine, tmp_path: Path
) -> None:
    path = tmp_path / "google.csv"
    path.write_text(f"{NATIVE}\n2025-08-10,Summer Sale,Google Ads,,USD,10,1,1.00,0,0\n")
    import_file(engine, path, default_currency="USD")
    with pytest.raises(QueryError, match="I don't know the period 'h2'"):
        service.answer("summer sale h2")


@pytest.mark.parametrize(
    "text",
    [
        "summer sale 2024",  # a year alone may be part of a name
        "summer sale next gen",  # `next` without a unit is no period
        "summer sale eu h2",  # `eu` is no period word
        "winter promo q5",  # no campaign before the period words
    ],
)
def test_other_unknown_words_still_give_suggestions(service: KpiService, text: str) -> None:
    assert isinstance(service.answer(text), Suggestions)


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("summer sale last year", date(2024, 1, 1), date(2024, 12, 31)),
        ("summer-sale q3", date(2025, 7, 1), date(2025, 8, 20)),
        ("summer-sale 2025-08", date(2025, 8, 1), date(2025, 8, 20)),
        ("summer-sale forrige måned", date(2025, 7, 1), date(2025, 7, 31)),
        ("summer-sale august", date(2025, 8, 1), date(2025, 8, 20)),
    ],
)
def test_the_periods_people_type_answer_a_card(
    service: KpiService, text: str, start: date, end: date
) -> None:
    card = service.answer(text)
    assert isinstance(card, CampaignCard)
    assert (card.scope.name, card.period.start, card.period.end) == ("Summer Sale", start, end)


def test_a_future_month_after_a_campaign_says_it_has_not_begun(service: KpiService) -> None:
    with pytest.raises(QueryError, match=r"^2026-11 has not begun yet"):
        service.answer("summer-sale 2026-11")


# --- like-with-like comparisons ----------------------------------------------------------------


def test_month_to_date_is_compared_with_the_same_days_of_last_month(service: KpiService) -> None:
    card = service.answer("summer sale mtd")
    assert isinstance(card, CampaignCard)
    assert card.comparison is not None
    other = card.comparison.period
    assert (other.start, other.end) == (date(2025, 7, 1), date(2025, 7, 20))


def test_vs_last_month_is_the_same_days_a_month_earlier(service: KpiService) -> None:
    card = service.answer(f"summer sale {DAYS} vs last month")
    assert isinstance(card, CampaignCard)
    assert card.comparison is not None
    assert card.comparison.compare is Compare.MONTH
    other = card.comparison.period
    assert (other.start, other.end) == (date(2025, 7, 10), date(2025, 7, 12))
