"""The defects a new user meets first, each answered honestly through `kpibot` and the console.

Every case is one of the examples that opened the "numbers that never mislead" issue: run as a
user would, through `kpibot import`, `kpibot kpi … --json` and `kpibot console`, with the clock
frozen on 2026-12-03 (a Thursday) at noon in Copenhagen.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine
from click.testing import CliRunner, Result

from bot.cli import main
from bot.config import Settings
from bot.slack.console import run_console
from tests.conftest import FIVETRAN_SAMPLE

TODAY = date(2026, 12, 3)
NOON = "2026-12-03T11:00:00+00:00"  # 12:00 in Copenhagen
NATIVE = "date,campaign,platform,channel,currency,impressions,clicks,spend,conversions,revenue"


@pytest.fixture(autouse=True)
def _isolated(clean_env: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A clean environment (tests/conftest.py) in Copenhagen, with a frozen clock."""
    monkeypatch.setenv("KPIBOT_TIMEZONE", "Europe/Copenhagen")
    with time_machine.travel(NOON, tick=False):
        yield


def _cli(database_url: str, *args: str) -> Result:
    return CliRunner().invoke(
        main, ["--db", database_url, *args], env={"COLUMNS": "1000"}, catch_exceptions=False
    )


def _json(database_url: str, *query: str) -> dict[str, Any]:
    result = _cli(database_url, "kpi", *query, "--json")
    assert result.exit_code == 0, result.output
    document: dict[str, Any] = json.loads(result.stdout)
    return document


def _console(database_url: str, capsys: pytest.CaptureFixture[str], *lines: str) -> str:
    feed = iter([*lines, "quit"])

    def read_line(prompt: str) -> str:
        return next(feed)

    settings = Settings.from_mapping(
        {"DATABASE_URL": database_url, "KPIBOT_TIMEZONE": "Europe/Copenhagen"}
    )
    capsys.readouterr()
    run_console(settings, read_line)
    return capsys.readouterr().out


def _import(database_url: str, tmp_path: Path, name: str, lines: list[str], *args: str) -> Result:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return _cli(database_url, "import", str(path), *args)


def _days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def test_a_file_without_revenue_shows_no_revenue_roas_or_roi(
    database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = [f"{d},Brand Search,1000,40,120.00,4" for d in _days(date(2026, 11, 26), TODAY)]
    header = "date,campaign,impressions,clicks,spend,conversions"
    assert _import(database_url, tmp_path, "no-revenue.csv", [header, *rows]).exit_code == 0
    kpis = _json(database_url, "brand-search", "7d")["kpis"]
    assert kpis["spend"] == "840.00"
    assert kpis["cpa"] == "30.00"
    assert (kpis["revenue"], kpis["roas"], kpis["roi"]) == (None, None, None)
    out = _console(database_url, capsys, "/kpi brand-search 7d")
    assert "840.00" in out
    assert "0.00×" not in out and "-100" not in out and "−100" not in out
    assert "Not measured" in out and "Revenue" in out


def test_the_fivetran_sample_has_no_leads_rather_than_zero_leads(
    database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _cli(database_url, "import", str(FIVETRAN_SAMPLE)).exit_code == 0
    document = _json(database_url, "summer sale", "2025-08-10..2025-08-12")
    assert document["kpis"]["leads"] is None
    assert document["kpis"]["cpl"] is None
    assert document["kpis"]["conversions"] == 108
    assert document["measured_days"]["leads"] == 0
    out = _console(database_url, capsys, "/kpi summer-sale 2025-08-10..2025-08-12")
    assert "Not measured: Leads" in out


def test_a_danish_thousands_count_is_refused_not_stored_as_one(
    database_url: str, tmp_path: Path
) -> None:
    lines = [NATIVE, "2026-12-01,Brand,meta_ads,social,DKK,1.000,10,5.00,1,20.00"]
    result = _import(database_url, tmp_path, "dots.csv", lines)
    assert result.exit_code == 1
    assert "impressions" in result.output and "'1.000'" in result.output
    assert "nothing was written" in result.output
    listed = _cli(database_url, "kpi", "list", "--json")
    assert json.loads(listed.stdout)["error"]["code"] == "nothing_to_show"  # no data yet


def test_ytd_vs_last_year_compares_only_the_days_last_year_has(
    database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Last year has two days of data (imports started in December); this year every day.
    last_year = [
        f"{d},Summer Sale,,,DKK,,,10.00,,20.00" for d in _days(date(2025, 12, 1), date(2025, 12, 2))
    ]
    this_year = [
        f"{d},Summer Sale,,,DKK,,,20.00,,60.00" for d in _days(date(2026, 1, 1), date(2026, 12, 2))
    ]
    assert _import(database_url, tmp_path, "y.csv", [NATIVE, *last_year, *this_year]).exit_code == 0
    document = _json(database_url, "summer-sale", "ytd", "vs", "last", "year")
    previous = document["previous"]
    assert previous["data_from"] == "2025-12-01"
    assert previous["data_through"] == "2025-12-02"
    assert previous["coverage"] == {"days_with_data": 2, "days_in_period": 337}
    basis = document["change_basis"]
    assert basis["reason"] == "same_days"
    assert (basis["current"]["start"], basis["current"]["end"]) == ("2026-12-01", "2026-12-02")
    assert document["change"]["spend"] == "1"  # +100 %: 40.00 against 20.00 on the same days
    assert document["change"]["roas"] == "0.5"  # 3.00× against 2.00×
    out = _console(database_url, capsys, "/kpi summer-sale ytd vs last year")
    assert "only the days both periods have data for" in out
    assert "+100.0%" in out


def test_mtd_is_compared_with_the_same_days_of_last_month_without_today(
    database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = [f"{d},Brand,,,DKK,,,10.00,,30.00" for d in _days(date(2026, 11, 1), date(2026, 12, 2))]
    assert _import(database_url, tmp_path, "m.csv", [NATIVE, *rows]).exit_code == 0
    document = _json(database_url, "brand", "mtd")
    assert document["previous"]["period"]["start"] == "2026-11-01"
    assert document["previous"]["period"]["end"] == "2026-11-03"
    basis = document["change_basis"]
    assert (basis["current"]["start"], basis["current"]["end"]) == ("2026-12-01", "2026-12-02")
    assert (basis["previous"]["start"], basis["previous"]["end"]) == ("2026-11-01", "2026-11-02")
    assert document["change"]["spend"] == "0"
    out = _console(database_url, capsys, "/kpi brand mtd")
    assert "2026-12-01–2026-12-02 with 2026-11-01–2026-11-02" in out


def test_top_n_shows_n_per_currency_and_says_so(
    database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = [
        f"2026-12-01,{name},meta_ads,social,{currency},1000,50,{spend}.00,{conv},100.00"
        for name, currency, spend, conv in (
            ("DK One", "DKK", 100, 10),
            ("DK Two", "DKK", 100, 5),
            ("DK Three", "DKK", 100, 2),
            ("EU One", "EUR", 50, 10),
            ("EU Two", "EUR", 50, 5),
            ("EU Three", "EUR", 50, 1),
        )
    ]
    assert _import(database_url, tmp_path, "c.csv", [NATIVE, *rows]).exit_code == 0
    document = _json(database_url, "top", "cpa", "30d", "2")
    assert document["title"] == "Top 2 by CPA in each currency"
    names = [row["scope"]["name"] for row in document["rows"]]
    assert names == ["DK One", "DK Two", "EU One", "EU Two"]
    out = _console(database_url, capsys, "/kpi top cpa 30d 2")
    assert "Top 2 by CPA in each currency" in out
    assert "Top 4" not in out


def test_a_danish_excel_export_is_refused_with_a_hint(database_url: str, tmp_path: Path) -> None:
    lines = [
        "date;campaign;currency;clicks;spend;revenue",
        "2026-12-01;Julekampagne;DKK;120;1.234,56;4.000,00",
    ]
    result = _import(database_url, tmp_path, "excel.csv", lines)
    assert result.exit_code == 1
    assert "try --decimal-comma" in result.output
    assert _import(database_url, tmp_path, "excel2.csv", lines, "--decimal-comma").exit_code == 0
    kpis = _json(database_url, "julekampagne", "2026-12-01")["kpis"]
    assert (kpis["spend"], kpis["revenue"], kpis["clicks"]) == ("1234.56", "4000.00", 120)
