"""Danish spreadsheet exports: `;`-separated with decimal commas, asked for with decimal_comma."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from bot.importing.run import ImportFailed, import_file
from storage.models import Campaign, DailyMetrics
from tests.conftest import FIXTURES

NATIVE_SAMPLE = FIXTURES / "native_sample.csv"
DANISH_SAMPLE = FIXTURES / "native_sample_da.csv"
M = 1_000_000


def _stored(sessions: sessionmaker[Session]) -> list[tuple[object, ...]]:
    """Every stored campaign-day with its campaign's description (ids left out)."""
    with sessions() as session:
        rows = session.execute(
            select(
                Campaign.platform,
                Campaign.account,
                Campaign.external_id,
                Campaign.name,
                Campaign.channel,
                Campaign.currency,
                DailyMetrics.day,
                DailyMetrics.impressions,
                DailyMetrics.clicks,
                DailyMetrics.leads_micros,
                DailyMetrics.conversions_micros,
                DailyMetrics.new_customers_micros,
                DailyMetrics.spend_micros,
                DailyMetrics.revenue_micros,
            )
            .join(Campaign, Campaign.id == DailyMetrics.campaign_id)
            .order_by(Campaign.external_id, DailyMetrics.day)
        ).all()
    return [tuple(r) for r in rows]


def test_a_danish_export_gives_the_same_data_as_the_native_file(
    engine: Engine, sessions: sessionmaker[Session]
) -> None:
    danish = import_file(engine, DANISH_SAMPLE, default_currency="USD", decimal_comma=True)
    stored = _stored(sessions)
    native = import_file(engine, NATIVE_SAMPLE, default_currency="USD")
    # The native file replaced the same six campaign-days with identical values.
    assert _stored(sessions) == stored
    assert native.new_campaigns == 0
    assert (danish.rows, danish.campaigns, danish.days, danish.campaign_days) == (6, 3, 2, 6)
    assert (
        danish.spend_by_currency
        == native.spend_by_currency
        == {
            "DKK": "2536.66",
            "EUR": "1002184.50",
        }
    )
    assert danish.warnings == native.warnings == []


def test_the_danish_export_stores_the_hand_written_values(
    engine: Engine, sessions: sessionmaker[Session]
) -> None:
    import_file(engine, DANISH_SAMPLE, default_currency="USD", decimal_comma=True)
    rows = {(r[2], r[6].isoformat()): r for r in _stored(sessions)}
    spring = rows[("fb-101", "2025-08-10")]
    assert spring[:6] == ("facebook_ads", "", "fb-101", "Forårskampagne", "social", "DKK")
    assert spring[7:] == (12500, 340, 12 * M, 8 * M, 5 * M, 1_234_560_000, 4_321 * M)
    assert rows[("fb-101", "2025-08-11")][9:] == (None, 9 * M, None, 1_302_100_000, 4_655_500_000)
    christmas = rows[("g-202", "2025-08-11")]
    assert christmas[3] == "Jul, nytår & mere"
    assert christmas[12:] == (1_001_234_500_000, 2_890_750_000)
    newsletter = rows[("nl-3", "2025-08-11")]
    assert newsletter[7:] == (None, 98, 3 * M, 1 * M, 0, 1, None)


def test_without_decimal_comma_the_error_says_to_use_it(engine: Engine) -> None:
    with pytest.raises(ImportFailed) as info:
        import_file(engine, DANISH_SAMPLE, default_currency="USD")
    assert info.value.problems == [
        f"{DANISH_SAMPLE}:1: this looks like a `;`-separated file with decimal commas "
        "— try --decimal-comma"
    ]


def test_a_semicolon_file_with_dot_decimals_is_not_sent_to_decimal_comma(
    engine: Engine, tmp_path: Path
) -> None:
    path = tmp_path / "dots.csv"
    path.write_text("date;campaign;spend\n2025-08-10;A;12.50\n", encoding="utf-8")
    with pytest.raises(ImportFailed) as info:
        import_file(engine, path, default_currency="DKK")
    assert info.value.problems == [
        f"{path}:1: this looks like a `;`-separated file with `.` in its amounts (e.g. '12.50'); "
        "kpibot reads `;`-separated files only with decimal commas (--decimal-comma, where `.` "
        "separates thousands): save it as `,`-separated CSV, or with decimal commas"
    ]
    # What the other hint would have led to.
    with pytest.raises(ImportFailed) as refused:
        import_file(engine, path, default_currency="DKK", decimal_comma=True)
    assert "not an amount in decimal-comma form" in refused.value.problems[0]


def test_a_semicolon_file_with_whole_amounts_is_sent_to_decimal_comma_which_reads_it(
    engine: Engine, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    path = tmp_path / "whole.csv"
    path.write_text(
        "date;campaign;spend;revenue\n2025-08-10;A;12;40\n2025-08-11;A;7;\n", encoding="utf-8"
    )
    with pytest.raises(ImportFailed) as info:
        import_file(engine, path, default_currency="DKK")
    assert info.value.problems == [
        f"{path}:1: this looks like a `;`-separated file — try --decimal-comma (its amounts "
        "are whole numbers, which that mode reads as they are)"
    ]
    import_file(engine, path, default_currency="DKK", decimal_comma=True)
    assert [(r[6].isoformat(), r[12], r[13]) for r in _stored(sessions)] == [
        ("2025-08-10", 12 * M, 40 * M),
        ("2025-08-11", 7 * M, None),
    ]


def test_decimal_comma_on_a_native_file_says_to_leave_it_out(engine: Engine) -> None:
    with pytest.raises(ImportFailed) as info:
        import_file(engine, NATIVE_SAMPLE, default_currency="USD", decimal_comma=True)
    (problem,) = info.value.problems
    assert problem.startswith(f"{NATIVE_SAMPLE}:1: this looks like a `,`-separated file")
    assert "without --decimal-comma" in problem


def test_counts_stay_plain_digits_in_danish_mode(engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "da.csv"
    path.write_text("date;campaign;spend;clicks\n2025-08-10;A;1.234,50;1.234\n", encoding="utf-8")
    with pytest.raises(ImportFailed) as info:
        import_file(engine, path, default_currency="DKK", decimal_comma=True)
    assert info.value.problems == [
        f"{path}:2: clicks: '1.234' is not a whole number of clicks; write digits only, e.g. 1234"
    ]


def test_danish_thousands_must_be_groups_of_three(engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "da.csv"
    path.write_text(
        "date;campaign;spend\n2025-08-10;A;12.34,5\n2025-08-11;A;1234.567,8\n", encoding="utf-8"
    )
    with pytest.raises(ImportFailed) as info:
        import_file(engine, path, default_currency="DKK", decimal_comma=True)
    assert [p.split(": ", 2)[1:] for p in info.value.problems] == [
        [
            "spend",
            "'12.34,5' is not an amount in decimal-comma form; write e.g. 1234,56 or 1.234,56 "
            "(, for decimals, . only between groups of three digits)",
        ],
        [
            "spend",
            "'1234.567,8' is not an amount in decimal-comma form; write e.g. 1234,56 or "
            "1.234,56 (, for decimals, . only between groups of three digits)",
        ],
    ]
