"""Honest cards: unmeasured measures are unknown, and comparisons cover the same days."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.answers import BasisReason, CampaignCard, Coverage
from bot.importing.run import import_file
from bot.kpi import Economics
from bot.render.blocks import card_message
from bot.render.json_answer import answer_json
from bot.service import KpiService

M = 1_000_000


def _service(sessions: sessionmaker[Session], now: datetime) -> KpiService:
    return KpiService(sessions, Economics(), ZoneInfo("UTC"), lambda: now)


def _import(engine: Engine, tmp_path: Path, header: str, rows: list[str]) -> None:
    path = tmp_path / f"import-{len(list(tmp_path.iterdir()))}.csv"
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    import_file(engine, path, default_currency="DKK")


def _card(service: KpiService, text: str) -> CampaignCard:
    answer = service.answer(text)
    assert isinstance(answer, CampaignCard), answer
    return answer


def _days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


# --------------------------------------------------------------------------- unmeasured


def test_a_file_without_revenue_has_no_revenue_roas_or_roi(
    engine: Engine, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    _import(
        engine,
        tmp_path,
        "date,campaign,impressions,clicks,spend,conversions",
        ["2025-08-10,Brand,1000,50,100.00,5", "2025-08-11,Brand,1000,50,100.00,5"],
    )
    card = _card(_service(sessions, datetime(2025, 8, 12, tzinfo=UTC)), "brand 2d")
    assert card.kpis["spend"] == Decimal(200)
    assert card.kpis["cpa"] == Decimal(20)
    for key in ("revenue", "roas", "roi", "aov", "ltv", "leads", "cpl", "new_customers", "cac"):
        assert card.kpis[key] is None, key
    document = answer_json(card)
    assert document["kpis"]["roi"] is None
    assert document["measured_days"]["revenue"] == 0
    assert document["measured_days"]["spend"] == 2
    text = str(card_message(card))
    assert "Not measured: Leads, Conversions" not in text
    assert "Not measured: Leads, New customers, Revenue." in text
    assert "−100" not in text and "0.00×" not in text


def test_revenue_measured_on_some_days_is_a_partial_sum_and_no_ratio(
    engine: Engine, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    _import(
        engine,
        tmp_path,
        "date,campaign,clicks,spend,revenue",
        [
            "2025-08-09,Brand,10,100.00,300.00",
            "2025-08-10,Brand,10,100.00,",  # the column is there, the cell is empty: unknown
            "2025-08-11,Brand,10,100.00,0",  # an explicit 0 is a measured zero
        ],
    )
    card = _card(_service(sessions, datetime(2025, 8, 12, tzinfo=UTC)), "brand 3d")
    assert card.totals.revenue_micros == 300 * M
    assert card.totals.measured_days("revenue_micros") == 2
    assert card.kpis["revenue"] == Decimal(300)
    assert card.kpis["roas"] is None  # 300 over 2 days of revenue, 300 of spend over 3
    assert card.kpis["cpc"] == Decimal(10)
    assert answer_json(card)["measured_days"]["revenue"] == 2
    assert "Revenue on 2 of 3 days" in str(card_message(card))


def test_group_totals_are_unknown_only_where_a_campaign_did_not_measure(
    engine: Engine, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    _import(
        engine,
        tmp_path,
        "date,campaign,clicks,spend,leads",
        ["2025-08-11,Leads Campaign,10,100.00,4"],
    )
    _import(engine, tmp_path, "date,campaign,clicks,spend", ["2025-08-11,No Leads,10,50.00"])
    table = _service(sessions, datetime(2025, 8, 12, tzinfo=UTC)).answer("all yesterday")
    total = table.rows[-1]  # type: ignore[union-attr]
    assert total.kpis["spend"] == Decimal(150)
    assert total.kpis["clicks"] == 20
    assert total.kpis["leads"] == 4  # the sum of what was measured
    assert total.kpis["cpl"] is None  # 150 of spend, but only 100 of it has leads measured


# --------------------------------------------------------------------------- coverage


def _daily(campaign: str, days: list[date], spend: int = 100, revenue: int = 200) -> list[str]:
    return [f"{d},{campaign},{spend}.00,{revenue}.00" for d in days]


def test_a_comparison_says_what_it_covers(
    engine: Engine, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    days = _days(date(2025, 8, 1), date(2025, 8, 14))
    _import(engine, tmp_path, "date,campaign,spend,revenue", _daily("Brand", days))
    card = _card(_service(sessions, datetime(2025, 8, 15, tzinfo=UTC)), "brand 7d")
    comparison = card.comparison
    assert comparison is not None
    assert card.coverage == Coverage(7, 7)
    assert comparison.coverage == Coverage(7, 7)
    assert comparison.basis is None
    assert comparison.change["spend"] == 0
    previous = answer_json(card)["previous"]
    assert previous["data_from"] == "2025-08-01"
    assert previous["data_through"] == "2025-08-07"
    assert previous["coverage"] == {"days_with_data": 7, "days_in_period": 7}
    assert answer_json(card)["change_basis"] is None


def test_ytd_vs_a_last_year_that_starts_in_october_compares_the_same_days(
    engine: Engine, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    # Last year's data starts on 1 October; this year has every day, at twice the spend.
    last_year = _daily("Brand", _days(date(2024, 10, 1), date(2024, 12, 31)), 100, 100)
    this_year = _daily("Brand", _days(date(2025, 1, 1), date(2025, 11, 30)), 200, 400)
    _import(engine, tmp_path, "date,campaign,spend,revenue", last_year + this_year)
    card = _card(_service(sessions, datetime(2025, 11, 30, 12, tzinfo=UTC)), "brand ytd vs ly")
    comparison = card.comparison
    assert comparison is not None and comparison.basis is not None
    basis = comparison.basis
    assert basis.reason is BasisReason.SAME_DAYS
    assert basis.current is not None and basis.previous is not None
    assert (basis.current.start, basis.current.end) == (date(2025, 10, 1), date(2025, 11, 30))
    assert (basis.previous.start, basis.previous.end) == (date(2024, 10, 1), date(2024, 11, 30))
    assert comparison.coverage == Coverage(61, 335)  # 2024 is a leap year
    assert comparison.change["spend"] == 1  # +100 %: 200 a day against 100, on the same days
    assert comparison.change["roas"] == 1  # 2.00× against 1.00×
    document = answer_json(card)
    assert document["change_basis"]["reason"] == "same_days"
    assert document["change_basis"]["current"]["start"] == "2025-10-01"
    assert "2025-10-01–2025-11-30 with 2024-10-01–2024-11-30" in document["change_basis"]["note"]
    text = str(card_message(card))
    assert "only the days both periods have data for" in text


def test_mtd_leaves_out_a_today_without_data(
    engine: Engine, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    days = _days(date(2025, 10, 1), date(2025, 11, 2))  # today, 3 November, has no data yet
    _import(engine, tmp_path, "date,campaign,spend,revenue", _daily("Brand", days))
    card = _card(_service(sessions, datetime(2025, 11, 3, 9, tzinfo=UTC)), "brand mtd")
    comparison = card.comparison
    assert comparison is not None
    assert (comparison.period.start, comparison.period.end) == (
        date(2025, 10, 1),
        date(2025, 10, 3),
    )
    assert comparison.basis is not None and comparison.basis.current is not None
    assert comparison.basis.current.end == date(2025, 11, 2)
    assert comparison.basis.previous is not None
    assert comparison.basis.previous.end == date(2025, 10, 2)
    assert comparison.change["spend"] == 0  # 2 days against 2 days, not 2 against 3
    assert card.coverage == Coverage(2, 3)


def test_no_data_in_the_comparison_period_withholds_the_change(
    engine: Engine, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    days = _days(date(2025, 8, 8), date(2025, 8, 14))
    _import(engine, tmp_path, "date,campaign,spend,revenue", _daily("Brand", days))
    card = _card(_service(sessions, datetime(2025, 8, 15, tzinfo=UTC)), "brand 7d vs ly")
    comparison = card.comparison
    assert comparison is not None and comparison.basis is not None
    assert comparison.basis.reason is BasisReason.NO_COMPARISON_DATA
    assert set(comparison.change.values()) == {None}
    assert "has no data" in answer_json(card)["change_basis"]["note"]


def test_sides_that_never_have_the_same_days_withhold_the_change(
    engine: Engine, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    # Previous 7 days: data only on its first day; this week: only on its last day.
    rows = _daily("Brand", [date(2025, 8, 1), date(2025, 8, 14)])
    _import(engine, tmp_path, "date,campaign,spend,revenue", rows)
    card = _card(_service(sessions, datetime(2025, 8, 15, tzinfo=UTC)), "brand 7d")
    comparison = card.comparison
    assert comparison is not None and comparison.basis is not None
    assert comparison.basis.reason is BasisReason.NO_COMMON_DAYS
    assert comparison.basis.withheld
    assert set(comparison.change.values()) == {None}


@pytest.mark.parametrize("text", ["brand 7d", "brand 7d vs last year"])
def test_cards_with_coverage_are_valid_messages(
    engine: Engine, sessions: sessionmaker[Session], tmp_path: Path, text: str
) -> None:
    from tests.support.blockkit import assert_valid_message

    rows = _daily("Brand", _days(date(2024, 8, 12), date(2024, 8, 13)))
    rows += _daily("Brand", _days(date(2025, 8, 6), date(2025, 8, 13)))
    _import(engine, tmp_path, "date,campaign,spend,revenue", rows)
    card = _card(_service(sessions, datetime(2025, 8, 15, tzinfo=UTC)), text)
    assert_valid_message(card_message(card))


def test_gaps_inside_the_comparison_period_compare_only_the_days_both_have(
    engine: Engine, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    # November every day at 100; October only on the 1st and the 31st, at 100 too.
    rows = _daily("Gappy", _days(date(2025, 11, 1), date(2025, 11, 30)))
    rows += _daily("Gappy", [date(2025, 10, 1), date(2025, 10, 31)])
    _import(engine, tmp_path, "date,campaign,spend,revenue", rows)
    card = _card(_service(sessions, datetime(2025, 12, 5, tzinfo=UTC)), "gappy november")
    comparison = card.comparison
    assert comparison is not None and comparison.basis is not None
    basis = comparison.basis
    assert basis.reason is BasisReason.SAME_DAYS
    assert basis.days == 1  # Nov 1 ↔ Oct 1; Oct 31 has no 31 November to pair with
    assert comparison.change["spend"] == 0  # not +1,400 %
    assert "2025-11-01 with 2025-10-01" in answer_json(card)["change_basis"]["note"]


def test_a_partly_measured_sum_has_no_change(
    engine: Engine, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    rows = [f"{d},Brand,100.00,500.00" for d in _days(date(2025, 11, 1), date(2025, 11, 3))]
    rows.append("2025-11-04,Brand,100.00,")  # revenue not reported on the 4th
    _import(engine, tmp_path, "date,campaign,spend,revenue", rows)
    card = _card(
        _service(sessions, datetime(2025, 12, 5, tzinfo=UTC)), "brand 2025-11-03..2025-11-04"
    )
    assert card.comparison is not None
    assert card.comparison.change["spend"] == 0
    assert card.comparison.change["revenue"] is None  # 500 of 1 day against 1,000 of 2
    assert card.comparison.change["roas"] is None


def test_a_period_without_data_says_why_there_is_no_change(
    engine: Engine, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    _import(engine, tmp_path, "date,campaign,spend,revenue", _daily("Brand", [date(2025, 8, 1)]))
    card = _card(_service(sessions, datetime(2025, 8, 15, tzinfo=UTC)), "brand today")
    assert card.comparison is not None and card.comparison.basis is not None
    assert card.comparison.basis.reason is BasisReason.NO_DATA
    assert answer_json(card)["change_basis"]["note"] == "No change shown: this period has no data."


def test_the_terminal_card_shows_both_sides_of_a_same_days_change(
    engine: Engine, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    from rich.console import Console

    from bot.render.terminal import render_answer

    days = _days(date(2025, 10, 1), date(2025, 11, 2))
    _import(engine, tmp_path, "date,campaign,spend,revenue", _daily("Brand", days))
    card = _card(_service(sessions, datetime(2025, 11, 3, 9, tzinfo=UTC)), "brand mtd")
    console = Console(width=120, record=True)
    console.print(render_answer(card))
    text = console.export_text()
    assert "Same days" in text
    spend_line = next(line for line in text.splitlines() if "Spend" in line)
    # Value (1–3 Nov: data on 2 days), same days this month and last: 200.00 each, ±0.0 %.
    assert spend_line.count("200.00") == 3 and "±0.0%" in spend_line
