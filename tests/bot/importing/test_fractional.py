"""Fractional conversions (issue 10, Deliver 8): data-driven attribution credits 2.5
conversions; kpibot reads them in every format, stores them exactly in micro-units and shows
them without noise (108 stays 108, 2.5 shows as 2.5). CPA, CVR and AOV stay exact."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Engine, select

from bot.cli import main
from bot.formatting import format_kpi
from bot.importing.cells import MAX_AMOUNT, CellError, parse_quantity
from bot.importing.run import ImportFailed, import_file
from bot.money import count_from_micros
from bot.render.json_answer import count_json
from storage.models import DailyMetrics

M = 1_000_000
HEADER = "date,campaign,spend,clicks,leads,conversions,new_customers,revenue"


@pytest.fixture(autouse=True)
def _isolated(clean_env: None) -> None:
    """A clean environment (tests/conftest.py)."""


def _csv(path: Path, *rows: str, header: str = HEADER) -> Path:
    path.write_text("\n".join((header, *rows)) + "\n", encoding="utf-8")
    return path


# --- reading ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "micros"),
    [
        ("108", 108 * M),
        ("2.5", 2_500_000),
        ("0.333333", 333_333),
        ("  7.25 ", 7_250_000),
        ("0", 0),
        ("1.000000", M),
        ("", None),
    ],
)
def test_a_quantity_is_read_exactly_in_micro_units(text: str, micros: int | None) -> None:
    assert parse_quantity(text, "conversions") == micros


def test_a_danish_quantity_has_a_decimal_comma() -> None:
    assert parse_quantity("2,5", "conversions", decimal_comma=True) == 2_500_000
    assert parse_quantity("1.234,5", "conversions", decimal_comma=True) == 1_234_500_000


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("2.5000001", "has 7 decimals; at most 6 are kept exactly"),
        ("-1.5", "is negative; counts cannot be below 0"),
        ("-0", "has a minus sign; write 0"),
        ("1,000", "has a thousands separator; write digits only, e.g. 1000"),
        ("2,5", "is not a number of conversions; write digits with '.' for decimals"),
        ("many", "is not a number of conversions"),
        ("NaN", "is not a number of conversions"),
        ("1e3", "is not a number of conversions"),
        (str(MAX_AMOUNT + 1), "is too large"),
        ("9" * 5000, "is too large"),
    ],
)
def test_a_bad_quantity_says_what_to_write(text: str, says: str) -> None:
    with pytest.raises(CellError) as info:
        parse_quantity(text, "conversions")
    assert says in str(info.value)


@given(
    whole=st.integers(min_value=0, max_value=MAX_AMOUNT - 1),
    fraction=st.text(alphabet="0123456789", min_size=0, max_size=6),
    comma=st.booleans(),
)
def test_any_quantity_within_bounds_round_trips_exactly(
    whole: int, fraction: str, comma: bool
) -> None:
    mark = "," if comma else "."
    text = f"{whole}{mark}{fraction}" if fraction else str(whole)
    micros = parse_quantity(text, "leads", decimal_comma=comma)
    expected = Decimal(f"{whole}.{fraction or '0'}")
    assert micros is not None
    assert count_from_micros(micros) == expected
    assert micros == int(expected * M)


@given(st.integers(min_value=0, max_value=10**18))
def test_counts_from_micro_units_have_no_trailing_zeros(micros: int) -> None:
    value = count_from_micros(micros)
    assert value * M == micros
    text = format(value, "f")
    assert "E" not in text
    assert not ("." in text and text.endswith("0"))


# --- storing and computing --------------------------------------------------------------------


def test_fractional_counts_are_stored_exactly_and_the_kpis_stay_exact(
    engine: Engine, database_url: str, tmp_path: Path
) -> None:
    path = _csv(
        tmp_path / "dda.csv",
        "2025-08-01,Brand,10.00,40,1.5,2.5,0.5,75.00",
        "2025-08-02,Brand,5.00,20,0,0.25,0,12.50",
        "2025-08-03,Brand,0,0,0,0,0,0",
    )
    import_file(engine, path, default_currency="USD")
    with engine.connect() as connection:
        stored = connection.execute(
            select(
                DailyMetrics.leads_micros,
                DailyMetrics.conversions_micros,
                DailyMetrics.new_customers_micros,
            ).order_by(DailyMetrics.day)
        ).all()
    assert [tuple(r) for r in stored] == [
        (1_500_000, 2_500_000, 500_000),
        (0, 250_000, 0),
        (0, 0, 0),
    ]
    result = CliRunner().invoke(
        main,
        ["--db", database_url, "kpi", "brand", "2025-08-01..2025-08-03", "--json"],
        env={"COLUMNS": "1000"},
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    kpis = json.loads(result.output)["kpis"]
    # 2.75 conversions for 15.00 spend, 60 clicks, 87.50 revenue: exact ratios.
    assert kpis["conversions"] == 2.75
    assert kpis["leads"] == 1.5
    assert kpis["new_customers"] == 0.5
    assert Decimal(kpis["cpa"]) == Decimal("15.00") / Decimal("2.75")
    assert Decimal(kpis["aov"]) == Decimal("87.50") / Decimal("2.75")
    assert Decimal(kpis["cvr"]) == Decimal("2.75") / 60
    assert Decimal(kpis["cpl"]) == Decimal("10.00")
    card = CliRunner().invoke(
        main,
        ["--db", database_url, "kpi", "brand", "2025-08-01..2025-08-03"],
        env={"COLUMNS": "1000"},
        catch_exceptions=False,
    )
    assert "2.75" in card.output


def test_whole_counts_stay_whole_in_json(engine: Engine, database_url: str, tmp_path: Path) -> None:
    import_file(
        engine,
        _csv(tmp_path / "whole.csv", "2025-08-01,Brand,10.00,400,3,108,2,75.00"),
        default_currency="USD",
    )
    result = CliRunner().invoke(
        main,
        ["--db", database_url, "kpi", "brand", "2025-08-01", "--json"],
        catch_exceptions=False,
    )
    kpis = json.loads(result.output)["kpis"]
    assert kpis["conversions"] == 108 and isinstance(kpis["conversions"], int)
    assert kpis["clicks"] == 400


def test_a_danish_file_reads_fractional_conversions(engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "dansk.csv"
    path.write_text(
        "date;campaign;spend;conversions;revenue\n2025-08-01;Brand;1.234,50;2,5;99,95\n",
        encoding="utf-8",
    )
    import_file(engine, path, default_currency="DKK", decimal_comma=True)
    with engine.connect() as connection:
        assert connection.execute(select(DailyMetrics.conversions_micros)).scalar_one() == (
            2_500_000
        )


def test_impressions_and_clicks_stay_whole(engine: Engine, tmp_path: Path) -> None:
    path = _csv(tmp_path / "clicks.csv", "2025-08-01,Brand,1.00,2.5,0,1,0,0")
    with pytest.raises(ImportFailed) as info:
        import_file(engine, path, default_currency="USD")
    assert any("clicks: '2.5' is not a whole number of clicks" in p for p in info.value.problems)


def test_a_conversion_roll_up_beyond_a_campaign_day_names_the_column(
    engine: Engine, tmp_path: Path
) -> None:
    header = "date_day,platform,account_id,campaign_id,campaign_name,ad_id,spend,conversions"
    rows = [f"2025-08-01,google_ads,1,c1,Big,ad{i},1.00,{MAX_AMOUNT}" for i in range(2)]
    path = _csv(tmp_path / "ads.csv", *rows, header=header)
    with pytest.raises(ImportFailed) as info:
        import_file(engine, path, default_currency="USD")
    (problem,) = info.value.problems
    assert ": conversions: campaign 'Big' on 2025-08-01 adds up to more than 2,251,799,813" in (
        problem
    )


# --- showing ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "locale", "shown"),
    [
        (Decimal(108), "en", "108"),
        (Decimal("2.5"), "en", "2.5"),
        (Decimal("1234.5"), "en", "1,234.5"),
        (Decimal("1.666667"), "en", "1.67"),
        (Decimal("2.5"), "da", "2,5"),
        (Decimal("1234"), "da", "1.234"),
    ],
)
def test_conversions_are_shown_without_noise(value: Decimal, locale: str, shown: str) -> None:
    assert format_kpi("conversions", value, "USD", locale) == shown


def test_counts_in_json_are_numbers_with_the_stored_digits() -> None:
    assert count_json(Decimal(108)) == 108
    assert count_json(Decimal("2.5")) == 2.5
    assert repr(count_json(Decimal("0.333333"))) == "0.333333"
    assert count_json(Decimal("123456789012.345678")) == "123456789012.345678"


def test_a_synced_double_is_rounded_to_micro_units(engine: Engine, tmp_path: Path) -> None:
    from datetime import date

    from bot.sources.landing import write_native
    from bot.sources.model import Fetched, PlatformDay

    day = PlatformDay(
        day=date(2025, 8, 1),
        campaign_id="1",
        campaign_name="Brand",
        impressions=10,
        clicks=3,
        spend=Decimal("1.50"),
        conversions=Decimal("1.6666666666666667"),
        revenue=Decimal("10.123456789"),
    )
    path = tmp_path / "fetched.csv"
    write_native(
        Fetched("google_ads", "1234567890", "USD", day.day, day.day, [day]),
        path,
    )
    import_file(engine, path, default_currency="USD")
    with engine.connect() as connection:
        row = connection.execute(
            select(DailyMetrics.conversions_micros, DailyMetrics.revenue_micros)
        ).one()
    assert tuple(row) == (1_666_667, 10_123_457)
