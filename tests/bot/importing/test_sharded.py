"""Several files imported as one (`kpibot import --as-one`, import_files): one transaction, a
campaign-day split across shards summed after roll-up, overlaps refused, and a replace window
that clears an account's days before writing them again."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import Engine, select

from bot.cli import main
from bot.importing.run import ImportFailed, ReplaceWindow, import_file, import_files
from storage.database import make_engine
from storage.models import Campaign, DailyMetrics
from storage.schema import upgrade

FIVETRAN = (
    "source_relation,date_day,platform,account_id,account_name,campaign_id,campaign_name,"
    "ad_group_id,ad_group_name,ad_id,ad_name,clicks,impressions,spend,conversions,"
    "conversions_value\n"
)
NATIVE = (
    "date,campaign_id,campaign,platform,currency,impressions,clicks,spend,conversions,revenue\n"
)


@pytest.fixture(autouse=True)
def _isolated(clean_env: None) -> None:
    """A clean environment (tests/conftest.py)."""


def _write(folder: Path, name: str, header: str, *rows: str) -> Path:
    path = folder / name
    path.write_text(header + "".join(f"{row}\n" for row in rows), encoding="utf-8")
    return path


def _ad(day: str, campaign: str, ad: str, clicks: int, spend: str, conv: str = "1") -> str:
    return (
        f"facebook_ads.daily,{day},Facebook Ads,ACC2,Globex,{campaign},Name {campaign},"
        f"AG{ad},Group,{ad},Ad {ad},{clicks},{clicks * 10},{spend},{conv},10.00"
    )


def _stored(engine: Engine) -> dict[tuple[str, str], tuple[int, int, int]]:
    """(campaign, day) → (clicks, spend micros, impressions)."""
    with engine.connect() as connection:
        rows = connection.execute(
            select(
                Campaign.external_id,
                DailyMetrics.day,
                DailyMetrics.clicks,
                DailyMetrics.spend_micros,
                DailyMetrics.impressions,
            ).join(Campaign, Campaign.id == DailyMetrics.campaign_id)
        ).all()
    return {(c, str(d)): (cl, sp, im) for c, d, cl, sp, im in rows}


def _cli(database_url: str, *args: str) -> Result:
    return CliRunner().invoke(
        main, ["--db", database_url, *args], env={"COLUMNS": "1000"}, catch_exceptions=False
    )


@pytest.fixture()
def shards(tmp_path: Path) -> tuple[Path, Path]:
    """Two Fivetran shards of one export: CAM1 on 2025-08-10 has one ad in each."""
    a = _write(
        tmp_path,
        "part-0.csv",
        FIVETRAN,
        _ad("2025-08-10", "CAM1", "AD1", 100, "50.25"),
        _ad("2025-08-11", "CAM1", "AD1", 10, "5.00"),
    )
    b = _write(
        tmp_path,
        "part-1.csv",
        FIVETRAN,
        _ad("2025-08-10", "CAM1", "AD2", 40, "19.75"),
        _ad("2025-08-10", "CAM2", "AD3", 7, "3.10"),
    )
    return a, b


def test_as_one_sums_a_campaign_day_split_across_shards(
    database_url: str, shards: tuple[Path, Path]
) -> None:
    result = _cli(database_url, "import", "--as-one", "--currency", "EUR", *map(str, shards))
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[-1] == (
        "as one: imported 4 rows from 2 files → 2 campaigns, 2 days, 3 campaign-days; "
        "spend 78.10 EUR"
    )
    engine = make_engine(database_url)
    try:
        assert _stored(engine) == {
            ("CAM1", "2025-08-10"): (140, 70_000_000, 1400),
            ("CAM1", "2025-08-11"): (10, 5_000_000, 100),
            ("CAM2", "2025-08-10"): (7, 3_100_000, 70),
        }
    finally:
        engine.dispose()


def test_without_as_one_the_later_shard_replaces_the_campaign_day(
    database_url: str, shards: tuple[Path, Path]
) -> None:
    """The contrast that makes --as-one necessary: file by file, each file's campaign-days
    replace the stored ones."""
    result = _cli(database_url, "import", "--currency", "EUR", *map(str, shards))
    assert result.exit_code == 0, result.output
    engine = make_engine(database_url)
    try:
        assert _stored(engine)[("CAM1", "2025-08-10")] == (40, 19_750_000, 400)
    finally:
        engine.dispose()


def test_a_bad_shard_writes_nothing_of_any_shard(
    database_url: str, shards: tuple[Path, Path], tmp_path: Path
) -> None:
    bad = _write(tmp_path, "part-2.csv", FIVETRAN, _ad("2025-08-12", "CAM1", "AD9", 1, "abc"))
    result = _cli(
        database_url, "import", "--as-one", "--currency", "EUR", *map(str, shards), str(bad)
    )
    assert result.exit_code == 1
    assert f"{bad}: not imported, nothing was written." in result.stderr
    assert f"imported as one with {shards[0]}, {shards[1]}" in result.stderr
    assert f"{bad}:2: spend:" in result.stderr
    engine = make_engine(database_url)
    try:
        assert _stored(engine) == {}
    finally:
        engine.dispose()
    history = _cli(database_url, "imports", "--json")
    assert '"failed"' in history.stdout and str(shards[0]) in history.stdout


def test_the_same_ad_row_in_two_shards_is_refused(database_url: str, tmp_path: Path) -> None:
    a = _write(tmp_path, "a.csv", FIVETRAN, _ad("2025-08-10", "CAM1", "AD1", 100, "50.00"))
    b = _write(tmp_path, "b.csv", FIVETRAN, _ad("2025-08-10", "CAM1", "AD1", 100, "50.00"))
    result = _cli(database_url, "import", "--as-one", "--currency", "EUR", str(a), str(b))
    assert result.exit_code == 1
    assert f"{b}:2: campaign 'Name CAM1' on 2025-08-10 has the same ad row" in result.stderr
    assert f"as {a}:2" in result.stderr


def test_a_native_campaign_day_in_two_files_is_refused(database_url: str, tmp_path: Path) -> None:
    a = _write(tmp_path, "a.csv", NATIVE, "2025-08-10,c1,One,Meta,EUR,100,10,5.00,1,9.00")
    b = _write(tmp_path, "b.csv", NATIVE, "2025-08-10,c1,One,Meta,EUR,100,10,5.00,1,9.00")
    result = _cli(database_url, "import", "--as-one", str(a), str(b))
    assert result.exit_code == 1
    assert "a native row is the whole campaign-day" in result.stderr


def test_shards_that_disagree_on_a_campaigns_currency_are_refused(
    database_url: str, tmp_path: Path
) -> None:
    a = _write(tmp_path, "a.csv", NATIVE, "2025-08-10,c1,One,Meta,EUR,100,10,5.00,1,9.00")
    b = _write(tmp_path, "b.csv", NATIVE, "2025-08-11,c1,One,Meta,DKK,100,10,5.00,1,9.00")
    result = _cli(database_url, "import", "--as-one", str(a), str(b))
    assert result.exit_code == 1
    assert "campaign 'One' is in DKK here but in EUR in" in result.stderr


def _native(day: str, campaign: str, clicks: int, account: str = "A1") -> str:
    return f"{day},{campaign},Name {campaign},Meta,{account},EUR,{clicks * 10},{clicks},1.00,1,2.00"


NATIVE_ACCOUNT = (
    "date,campaign_id,campaign,platform,account,currency,impressions,clicks,spend,"
    "conversions,revenue\n"
)


def test_a_replace_window_clears_the_accounts_days_first(engine: Engine, tmp_path: Path) -> None:
    """A day a platform restated away (the campaign had no row any more) is gone; days outside
    the window and other accounts stay."""
    first = _write(
        tmp_path,
        "first.csv",
        NATIVE_ACCOUNT,
        _native("2025-08-01", "c1", 5),
        _native("2025-08-09", "c1", 5),
        _native("2025-08-10", "c1", 5),
        _native("2025-08-10", "c2", 5),
        _native("2025-08-10", "o1", 5, account="B2"),
    )
    import_file(engine, first, default_currency="EUR")
    again = _write(tmp_path, "again.csv", NATIVE_ACCOUNT, _native("2025-08-10", "c1", 9))
    window = ReplaceWindow("Meta", "A1", date(2025, 8, 9), date(2025, 8, 10))
    batch = import_files(engine, [again], as_one=True, default_currency="EUR", replace=window)
    assert batch.ok
    summary = batch.summaries[0]
    assert "replaced meta account A1 from 2025-08-09 to 2025-08-10" in summary.line()
    assert "3 stored campaign-days cleared first" in summary.line()
    clicks = {key: value[0] for key, value in _stored(engine).items()}
    assert clicks == {
        ("c1", "2025-08-01"): 5,
        ("c1", "2025-08-10"): 9,
        ("o1", "2025-08-10"): 5,
    }


def test_a_replace_window_refuses_rows_outside_it(engine: Engine, tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "f.csv",
        NATIVE_ACCOUNT,
        _native("2025-08-10", "c1", 5),
        _native("2025-08-12", "c1", 5),
        _native("2025-08-10", "x1", 5, account="B2"),
    )
    window = ReplaceWindow("meta", "A1", date(2025, 8, 9), date(2025, 8, 10))
    with pytest.raises(ImportFailed) as failed:
        import_file(engine, path, default_currency="EUR", replace=window)
    text = str(failed.value)
    assert "campaign 'Name x1' is meta account B2; this import replaces meta account A1" in text
    assert "2025-08-12 is outside the days this import replaces (2025-08-09 to 2025-08-10)" in text
    assert _stored(engine) == {}


def test_an_empty_file_with_a_replace_window_clears_the_window(
    engine: Engine, tmp_path: Path
) -> None:
    """A platform that reports no rows for the days: nothing ran, so nothing is stored."""
    import_file(
        engine,
        _write(tmp_path, "f.csv", NATIVE_ACCOUNT, _native("2025-08-10", "c1", 5)),
        default_currency="EUR",
    )
    empty = _write(tmp_path, "empty.csv", NATIVE_ACCOUNT)
    window = ReplaceWindow("meta", "A1", date(2025, 8, 10), date(2025, 8, 10))
    summary = import_file(engine, empty, default_currency="EUR", replace=window)
    assert summary.cleared == 1
    assert _stored(engine) == {}


def test_dry_run_as_one_writes_nothing(database_url: str, shards: tuple[Path, Path]) -> None:
    result = _cli(
        database_url, "import", "--as-one", "--dry-run", "--currency", "EUR", *map(str, shards)
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1].startswith("as one: would import 4 rows from 2 files")
    engine = make_engine(database_url)
    try:
        upgrade(engine)
        assert _stored(engine) == {}
    finally:
        engine.dispose()
