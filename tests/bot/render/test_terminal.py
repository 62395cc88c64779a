"""Terminal tables: numbers whole at any width, names wrapped, the least important columns go."""

from __future__ import annotations

from datetime import date

import pytest
from rich.console import Console

from bot.answers import Row, Scope, Table
from bot.formatting import format_kpi
from bot.kpi import Totals, compute_kpis
from bot.periods import Period
from bot.render.terminal import render_answer

AUGUST = Period(date(2025, 8, 1), date(2025, 8, 31), "last month")
LONG_NAME = "Black Friday DK — *NEW* _promo_ extended to the whole of Scandinavia"
BIG = Totals(
    impressions=12_345_678,
    clicks=234_567,
    conversions=12_345,
    spend_micros=12_345_678_900_000,
    revenue_micros=98_765_432_100_000,
    days=31,
)
COLUMNS = ("roas", "spend", "conversions", "cpa", "revenue")


def _row(name: str, i: int, kind: str = "campaign") -> Row:
    scope = Scope(kind, name, i, f"ext-{i}", "google_ads", "paid_search")
    return Row(scope, "DKK", compute_kpis(BIG), date(2025, 8, 30))


def _ranked() -> Table:
    rows = (_row(LONG_NAME, 1), _row("Summer Sale", 2), _row("Total DKK", 3, "total"))
    return Table("top", "Top 2 by ROAS", AUGUST, rows, COLUMNS, "roas")


def _drawn(table: Table, width: int) -> str:
    console = Console(width=width, record=True)
    console.print(render_answer(table))
    return console.export_text()


def _cells(key: str) -> str:
    return format_kpi(key, compute_kpis(BIG)[key], "DKK")


@pytest.mark.parametrize("width", [80, 60])
def test_numbers_are_never_cut_and_the_name_wraps(width: int) -> None:
    out = _drawn(_ranked(), width)
    assert max(len(line) for line in out.splitlines()) <= width
    assert "…" not in out
    shown = [key for key in COLUMNS if _cells(key) in out]
    assert "roas" in shown  # the ranked KPI is never left out
    for key in shown:
        assert out.count(_cells(key)) == 3, key
    words = " ".join(out.replace("│", " ").split())
    assert all(word in words for word in LONG_NAME.split())  # literal stars and underscores


def test_at_80_columns_revenue_goes_first_and_a_dim_line_says_so() -> None:
    out = _drawn(_ranked(), 80)
    assert _cells("revenue") not in out
    assert _cells("spend") in out
    assert "Not shown at this width: Revenue" in out


def test_at_60_columns_conversions_goes_next() -> None:
    out = _drawn(_ranked(), 60)
    assert "Not shown at this width: Revenue, Conversions" in " ".join(out.split())
    assert _cells("roas") in out


def test_a_wide_terminal_shows_every_column_and_no_note() -> None:
    out = _drawn(_ranked(), 160)
    assert all(_cells(key) in out for key in COLUMNS)
    assert "Not shown" not in out


@pytest.mark.parametrize("width", [80, 60])
def test_list_tables_keep_platforms_whole_and_drop_the_channel_first(width: int) -> None:
    rows = (_row(LONG_NAME, 1), _row("Summer Sale", 2))
    out = _drawn(Table("list", "All campaigns", None, rows, ()), width)
    assert "…" not in out
    assert out.count("google_ads") == 2
    assert out.count("2025-08-30") == 2
    if width == 60:
        assert "paid_search" not in out
        assert "Not shown at this width: Channel" in " ".join(out.split())


def test_an_empty_table_says_what_is_empty_and_what_to_do() -> None:
    out = " ".join(_drawn(Table("top", "Top 0 by ROAS", AUGUST, (), COLUMNS, "roas"), 80).split())
    assert "No campaign has data for last month (2025-08-01 – 2025-08-31)." in out
    assert "`kpibot kpi list` shows where each one's data ends." in out
