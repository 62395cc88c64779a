"""The importers against SQLite and PostgreSQL: exact totals, all or nothing, idempotent."""

from __future__ import annotations

import csv
import gzip
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.channels import CHANNELS
from bot.demo_data import NATIVE_HEADER, demo_campaigns, write_csv
from bot.importing.cells import DateWindow
from bot.importing.run import MAX_PROBLEMS, ImportFailed, ImportSummary, import_file
from bot.kpi import Totals, compute_kpis
from bot.periods import MAX_PERIOD_DAYS
from storage.loading import MetricsLoad
from storage.metrics import all_campaigns, totals_by_campaign
from storage.models import MAX_DAY_VALUE, Campaign, DailyMetrics, ImportRun
from tests.conftest import FIVETRAN_SAMPLE

M = 1_000_000
FIVETRAN_HEADER = FIVETRAN_SAMPLE.read_text(encoding="utf-8").splitlines()[0]
NATIVE = "date,campaign,platform,channel,currency,impressions,clicks,spend,conversions,revenue"

# Hand-computed from tests/fixtures/fivetran_ad_report_sample.csv (ad rows rolled up).
SAMPLE_TOTALS = {
    # Summer Sale: 10th 381.50 + 11th 396.00 + 12th 410.50
    "Summer Sale": Totals(
        impressions=93_000,
        clicks=1_650,
        conversions=108,
        spend_micros=1_188 * M,
        revenue_micros=2_430 * M,
        days=3,
    ),
    # Back to School: 185.75 + 197.50 + 203.80
    "Back to School": Totals(
        impressions=27_500,
        clicks=743,
        conversions=59,
        spend_micros=587_050_000,
        revenue_micros=1_475 * M,
        days=3,
    ),
    # Awareness Push (no row on the 12th): 229.50 + 242.60
    "Awareness Push": Totals(
        impressions=43_000,
        clicks=648,
        conversions=34,
        spend_micros=472_100_000,
        revenue_micros=680 * M,
        days=2,
    ),
}
SAMPLE_CAMPAIGNS = {
    # name: (platform, account, external id, channel)
    "Summer Sale": ("facebook_ads", "ACC002", "CAM102", "social"),
    "Back to School": ("google_ads", "ACC001", "CAM101", "paid_search"),
    "Awareness Push": ("tiktok_ads", "ACC003", "CAM201", "social"),
}
FIRST, LAST = date(2025, 8, 10), date(2025, 8, 12)


@dataclass(frozen=True)
class Snapshot:
    campaigns: list[tuple[Any, ...]]
    metrics: list[tuple[Any, ...]]


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def _import(engine: Engine, path: Path, **kwargs: Any) -> ImportSummary:
    kwargs.setdefault("default_currency", "USD")
    return import_file(engine, path, **kwargs)


def _snapshot(sessions: sessionmaker[Session]) -> Snapshot:
    with sessions() as session:
        campaigns = session.execute(
            select(
                Campaign.id,
                Campaign.platform,
                Campaign.account,
                Campaign.external_id,
                Campaign.name,
                Campaign.channel,
                Campaign.currency,
            ).order_by(Campaign.id)
        ).all()
        metrics = session.execute(
            select(
                DailyMetrics.campaign_id,
                DailyMetrics.day,
                DailyMetrics.impressions,
                DailyMetrics.clicks,
                DailyMetrics.leads_micros,
                DailyMetrics.conversions_micros,
                DailyMetrics.new_customers_micros,
                DailyMetrics.spend_micros,
                DailyMetrics.revenue_micros,
            ).order_by(DailyMetrics.campaign_id, DailyMetrics.day)
        ).all()
    return Snapshot([tuple(r) for r in campaigns], [tuple(r) for r in metrics])


def _runs(sessions: sessionmaker[Session]) -> list[tuple[str, str, int]]:
    with sessions() as session:
        rows = session.execute(
            select(ImportRun.result, ImportRun.format, ImportRun.rows).order_by(ImportRun.id)
        ).all()
    return [tuple(r) for r in rows]  # type: ignore[misc]


def _totals_by_name(
    sessions: sessionmaker[Session], start: date = date.min, end: date = date.max
) -> dict[str, Totals]:
    with sessions() as session:
        names = {c.id: c.name for c in all_campaigns(session)}
        found = totals_by_campaign(session, start, end)
    return {names[i]: t.totals for i, t in found.items()}


def _native(path: Path, *rows: str, header: str = NATIVE) -> Path:
    return _write(path, "\n".join([header, *rows]) + "\n")


def _fails(
    engine: Engine, sessions: sessionmaker[Session], path: Path, **kwargs: Any
) -> ImportFailed:
    """Import a bad file: it must fail, write nothing and log a failed run."""
    before = _snapshot(sessions)
    runs = _runs(sessions)
    with pytest.raises(ImportFailed) as info:
        _import(engine, path, **kwargs)
    assert _snapshot(sessions) == before
    after = _runs(sessions)
    assert after[: len(runs)] == runs
    assert len(after) == len(runs) + 1
    assert after[-1][0] == "failed"
    assert info.value.problems, "a failure must say what is wrong"
    return info.value


@pytest.fixture
def sample(engine: Engine) -> ImportSummary:
    """The database holds the Fivetran sample."""
    return _import(engine, FIVETRAN_SAMPLE)


# --- the Fivetran sample ------------------------------------------------------------------------


def test_fivetran_sample_gives_the_hand_computed_totals(
    sample: ImportSummary, sessions: sessionmaker[Session]
) -> None:
    assert _totals_by_name(sessions) == SAMPLE_TOTALS


def test_fivetran_sample_kpis_of_summer_sale(
    sample: ImportSummary, sessions: sessionmaker[Session]
) -> None:
    kpis = compute_kpis(_totals_by_name(sessions, FIRST, LAST)["Summer Sale"])
    assert kpis["spend"] == Decimal("1188.00")
    assert kpis["impressions"] == 93_000
    assert kpis["clicks"] == 1_650
    assert kpis["conversions"] == 108
    assert kpis["revenue"] == Decimal("2430.00")
    assert kpis["cpa"] == Decimal("11.00")
    assert kpis["roas"] == Decimal(2430) / Decimal(1188)
    assert kpis["cpl"] is None


def test_fivetran_sample_campaigns(sample: ImportSummary, sessions: sessionmaker[Session]) -> None:
    with sessions() as session:
        campaigns = {c.name: c for c in all_campaigns(session)}
    assert set(campaigns) == set(SAMPLE_CAMPAIGNS)
    for name, (platform, account, external_id, channel) in SAMPLE_CAMPAIGNS.items():
        c = campaigns[name]
        assert (c.platform, c.account, c.external_id, c.channel, c.currency) == (
            platform,
            account,
            external_id,
            channel,
            "USD",
        )


def test_fivetran_sample_summary(sample: ImportSummary) -> None:
    assert sample.format == "fivetran"
    assert sample.rows == 16
    assert sample.campaigns == 3
    assert sample.new_campaigns == 3
    assert sample.campaign_days == 8
    assert sample.days == 3
    assert sample.spend_by_currency == {"USD": "2247.15"}  # 1188.00 + 587.05 + 472.10
    (warning,) = sample.warnings  # the export has no currency column
    assert "no currency column" in warning
    assert not sample.dry_run
    line = sample.line()
    assert "16 rows" in line
    assert "3 campaigns" in line
    assert "2247.15 USD" in line


def test_fivetran_sample_with_a_default_currency(
    engine: Engine, sessions: sessionmaker[Session]
) -> None:
    summary = _import(engine, FIVETRAN_SAMPLE, default_currency="DKK")
    assert summary.spend_by_currency == {"DKK": "2247.15"}
    with sessions() as session:
        assert {c.currency for c in all_campaigns(session)} == {"DKK"}


def test_importing_twice_changes_nothing(
    sample: ImportSummary, engine: Engine, sessions: sessionmaker[Session]
) -> None:
    before = _snapshot(sessions)
    again = _import(engine, FIVETRAN_SAMPLE)
    assert _snapshot(sessions) == before
    assert len(before.metrics) == 8
    assert len(before.campaigns) == 3
    assert again.new_campaigns == 0
    assert _totals_by_name(sessions) == SAMPLE_TOTALS
    assert _runs(sessions) == [("ok", "fivetran", 16), ("ok", "fivetran", 16)]


def test_a_later_file_replaces_the_days_it_contains(
    sample: ImportSummary, engine: Engine, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    # Facebook restated the 12th (late conversions): new numbers for both ads.
    restated = _write(
        tmp_path / "restated.csv",
        FIVETRAN_HEADER
        + "\n"
        + "facebook_ads.daily,2025-08-12,Facebook Ads,ACC002,Globex Inc,CAM102,Summer Sale,"
        "AG203,Carousel Ads,AD303,Carousel Creative 1,341,17000,238.00,25,562.50\n"
        + "facebook_ads.daily,2025-08-12,Facebook Ads,ACC002,Globex Inc,CAM102,Summer Sale,"
        "AG204,Video Ads,AD304,Video Creative 1,230,15000,172.50,18,405.00\n",
    )
    summary = _import(engine, restated)
    assert summary.campaign_days == 1
    assert summary.new_campaigns == 0
    totals = _totals_by_name(sessions)
    assert totals["Summer Sale"] == Totals(
        impressions=93_000,
        clicks=1_651,
        conversions=108 - 38 + 43,
        spend_micros=1_188 * M,
        revenue_micros=(2_430 - 855) * M + 967_500_000,
        days=3,
    )
    assert totals["Back to School"] == SAMPLE_TOTALS["Back to School"]
    assert totals["Awareness Push"] == SAMPLE_TOTALS["Awareness Push"]
    day_12 = _totals_by_name(sessions, LAST, LAST)["Summer Sale"]
    assert (day_12.clicks, day_12.conversions, day_12.revenue) == (571, 43, Decimal("967.5"))


def test_a_new_campaign_name_for_the_same_id_renames_it(
    sample: ImportSummary, engine: Engine, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    renamed = _write(
        tmp_path / "renamed.csv",
        FIVETRAN_HEADER
        + "\n"
        + "tiktok_ads.daily,2025-08-13,TikTok Ads,ACC003,Umbrella LLC,CAM201,Awareness Push DK,"
        "AG301,In-Feed,AD401,TopView 15s,10,1000,10.00,1,20.00\n",
    )
    _import(engine, renamed)
    totals = _totals_by_name(sessions)
    assert "Awareness Push" not in totals
    assert totals["Awareness Push DK"].days == 3
    assert totals["Awareness Push DK"].spend_micros == 482_100_000


def test_gzip_file(engine: Engine, sessions: sessionmaker[Session], tmp_path: Path) -> None:
    packed = tmp_path / "sample.csv.gz"
    packed.write_bytes(gzip.compress(FIVETRAN_SAMPLE.read_bytes()))
    summary = _import(engine, packed)
    assert summary.rows == 16
    assert _totals_by_name(sessions) == SAMPLE_TOTALS


def test_gzip_is_recognised_by_content_not_name(engine: Engine, tmp_path: Path) -> None:
    packed = tmp_path / "sample.csv"
    packed.write_bytes(gzip.compress(FIVETRAN_SAMPLE.read_bytes()))
    assert _import(engine, packed).rows == 16


def test_utf8_bom_and_crlf(engine: Engine, sessions: sessionmaker[Session], tmp_path: Path) -> None:
    path = tmp_path / "excel.csv"
    path.write_bytes(
        b"\xef\xbb\xbf"
        + "date,campaign,spend,currency\r\n2025-08-01,Forår,10.50,DKK\r\n".encode()
        + "2025-08-02,Forår,12.25,DKK\r\n".encode()
    )
    summary = _import(engine, path)
    assert summary.format == "native"
    assert summary.spend_by_currency == {"DKK": "22.75"}
    assert _totals_by_name(sessions)["Forår"].spend_micros == 22_750_000


def test_native_csv_with_only_date_campaign_and_spend(
    engine: Engine, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    path = _native(
        tmp_path / "minimal.csv",
        "2025-08-01,Newsletter,10.50",
        "2025-08-02,Newsletter,12.25",
        "2025-08-02,Podcast,0",
        header="date,campaign,spend",
    )
    summary = _import(engine, path, default_currency="EUR")
    assert (summary.format, summary.rows, summary.campaigns, summary.days) == ("native", 3, 2, 2)
    assert summary.spend_by_currency == {"EUR": "22.75"}
    with sessions() as session:
        campaigns = {c.name: c for c in all_campaigns(session)}
    newsletter = campaigns["Newsletter"]
    assert (newsletter.external_id, newsletter.platform, newsletter.channel) == (
        "Newsletter",
        "csv",
        "other",
    )
    assert newsletter.currency == "EUR"
    totals = _totals_by_name(sessions)
    assert totals["Newsletter"] == Totals(spend_micros=22_750_000, days=2)
    assert totals["Podcast"] == Totals(days=1)


def test_native_csv_with_every_column(
    engine: Engine, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    header = ",".join(NATIVE_HEADER)
    path = _native(
        tmp_path / "full.csv",
        "2025-08-01,li-1,B2B Leads,LinkedIn Ads,Social Media,dkk,1000,40,300.00,8,2,900.00,1",
        "2025-08-02,li-1,B2B Leads,LinkedIn Ads,Social Media,dkk,1000,20,200.00,2,1,100.00,0",
        header=header,
    )
    _import(engine, path)
    with sessions() as session:
        (campaign,) = all_campaigns(session)
    assert (campaign.external_id, campaign.platform, campaign.channel, campaign.currency) == (
        "li-1",
        "linkedin_ads",
        "social",
        "DKK",
    )
    totals = _totals_by_name(sessions)["B2B Leads"]
    assert totals == Totals(2000, 60, 10, 3, 1, 500 * M, 1000 * M, 2)
    kpis = compute_kpis(totals)
    assert kpis["cpl"] == Decimal(50)
    assert kpis["cac"] == Decimal(500)


def test_header_names_are_case_and_space_insensitive(engine: Engine, tmp_path: Path) -> None:
    path = _native(tmp_path / "caps.csv", "2025-08-01,A,1.00", header=" Date , Campaign ,SPEND")
    assert _import(engine, path).rows == 1


def test_timestamps_at_midnight_are_days(
    engine: Engine, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    path = _native(
        tmp_path / "ts.csv",
        "2025-08-01T00:00:00Z,A,1.00",
        "2025-08-02 00:00:00,A,2.00",
        header="date,campaign,spend",
    )
    _import(engine, path)
    assert _totals_by_name(sessions)["A"].days == 2


def test_more_clicks_than_impressions_is_allowed_with_a_warning(
    engine: Engine, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    path = _native(tmp_path / "odd.csv", "2025-08-01,A,x,,USD,10,50,5.00,1,2.00")
    summary = _import(engine, path)
    assert summary.warnings == [f"{path}:2: clicks: 50 clicks but only 10 impressions"]
    assert _totals_by_name(sessions)["A"].clicks == 50


def test_clicks_without_impressions_are_not_warned_about(engine: Engine, tmp_path: Path) -> None:
    path = _native(tmp_path / "noimpr.csv", "2025-08-01,A,x,,USD,,50,5.00,1,2.00")
    assert _import(engine, path).warnings == []


def test_dry_run_writes_no_metrics(
    engine: Engine, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    summary = _import(engine, FIVETRAN_SAMPLE, dry_run=True)
    assert summary.dry_run
    assert (summary.rows, summary.campaigns, summary.campaign_days) == (16, 3, 8)
    assert summary.spend_by_currency == {"USD": "2247.15"}
    assert "would import" in summary.line()
    assert _snapshot(sessions) == Snapshot([], [])
    assert _runs(sessions) == [("dry-run", "fivetran", 16)]


def test_dry_run_still_finds_every_problem(
    engine: Engine, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    path = _native(tmp_path / "bad.csv", "2025-08-01,A,x,,USD,1,1,-1,0,0")
    failed = _fails(engine, sessions, path, dry_run=True)
    assert failed.problems == [f"{path}:2: spend: -1 is negative; amounts cannot be below 0"]


# --- failures: the right message, nothing written -----------------------------------------------


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        (
            ["2025-13-01,A,x,,USD,1,1,1.00,0,0"],
            "2: date: '2025-13-01' is not a date (use YYYY-MM-DD)",
        ),
        (
            ["08/01/2025,A,x,,USD,1,1,1.00,0,0"],
            "2: date: '08/01/2025' looks like day-month-year; write YYYY-MM-DD, "
            "e.g. 2025-01-08 for 8 January 2025",
        ),
        (
            ["2025-08-01T10:30:00,A,x,,USD,1,1,1.00,0,0"],
            "2: date: '2025-08-01T10:30:00' is not a date (use YYYY-MM-DD)",
        ),
        ([",A,x,,USD,1,1,1.00,0,0"], "2: date: is empty"),
        (["2025-08-01,,x,,USD,1,1,1.00,0,0"], "2: campaign: is empty; every row needs a campaign"),
        (["2025-08-01,A,x,,USD,1,1,12,50,0,0"], "2: has 11 fields, the header has 10"),
        (["2025-08-01,A,x,,USD,1,1"], "2: has 7 fields, the header has 10"),
        (
            ['2025-08-01,A,x,,USD,1,1,"12,50",0,0'],
            "2: spend: '12,50' is not an amount (use . for decimals, e.g. 12.50)",
        ),
        (["2025-08-01,A,x,,USD,1,1,,0,0"], "2: spend: is empty; write 0 for no spend"),
        (
            ["2025-08-01,A,x,,USD,1,1,NaN,0,0"],
            "2: spend: 'NaN' is not an amount (use . for decimals, e.g. 12.50)",
        ),
        (
            ["2025-08-01,A,x,,USD,1,1,1.00,0,abc"],
            "2: revenue: 'abc' is not an amount (use . for decimals, e.g. 12.50)",
        ),
        (
            ["2025-08-01,A,x,,USD,1,many,1.00,0,0"],
            "2: clicks: 'many' is not a whole number of clicks; write digits only, e.g. 1000",
        ),
        (
            ["2025-08-01,A,x,,USD,1,1.5,1.00,0,0"],
            "2: clicks: '1.5' is not a whole number of clicks; write digits only, e.g. 1000",
        ),
        (
            ["2025-08-01,A,x,,USD,1,-5,1.00,0,0"],
            "2: clicks: -5 is negative; counts cannot be below 0",
        ),
        (
            ["2025-08-01,A,x,,USD,1,1,1.00,-2,0"],
            "2: conversions: -2 is negative; counts cannot be below 0",
        ),
        (
            ["2025-08-01,A,x,,USD,1,1,-1.00,0,0"],
            "2: spend: -1.00 is negative; amounts cannot be below 0",
        ),
        (
            ["2025-08-01,A,x,,USD,1,1,1.00,0,-0.01"],
            "2: revenue: -0.01 is negative; amounts cannot be below 0",
        ),
        (
            ["2025-08-01,A,x,,XYZ,1,1,1.00,0,0"],
            "2: currency: 'XYZ' is not a currency code (use an active ISO 4217 code, e.g. DKK)",
        ),
        (
            ["2025-08-01,A,x,television,USD,1,1,1.00,0,0"],
            "2: channel: 'television' is not a channel type; use one of " + ", ".join(CHANNELS),
        ),
        (
            ["2025-08-01,A,x,,DKK,1,1,1.00,0,0", "2025-08-02,A,x,,EUR,1,1,1.00,0,0"],
            "3: currency: campaign 'A' is in DKK on line 2 but in EUR here; "
            "one campaign has one currency",
        ),
        (
            ["2025-08-01,A,x,,USD,1,1,1.00,0,0", "2025-08-01,A,x,,USD,2,2,2.00,0,0"],
            "3: campaign 'A' on 2025-08-01 appears again (first on line 2); "
            "keep one row per campaign and day",
        ),
    ],
)
def test_bad_native_row(
    rows: list[str],
    expected: str,
    sample: ImportSummary,
    engine: Engine,
    sessions: sessionmaker[Session],
    tmp_path: Path,
) -> None:
    # Good rows around the bad one: none of them may be written either.
    path = _native(
        tmp_path / "bad.csv",
        *rows,
        "2025-08-05,Good Campaign,x,,USD,100,10,10.00,1,20.00",
    )
    failed = _fails(engine, sessions, path)
    assert failed.problems == [f"{path}:{expected}"]
    assert failed.source == str(path)
    assert str(failed).startswith(f"{path}: not imported, nothing was written.\n")


def test_every_bad_cell_of_a_row_is_reported(
    engine: Engine, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    path = _native(tmp_path / "bad.csv", "2025-02-30,A,x,tv,ABC,-1,x,-2,0,0")
    failed = _fails(engine, sessions, path)
    assert [p.split(": ")[1] for p in failed.problems] == [
        "date",
        "impressions",
        "clicks",
        "spend",
        "channel",
        "currency",
    ]


def test_every_row_with_an_empty_date_says_so(
    engine: Engine, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    path = _native(tmp_path / "bad.csv", ",A,x,,USD,1,1,1,0,0", ",B,x,,USD,1,1,1,0,0")
    failed = _fails(engine, sessions, path)
    assert failed.problems == [f"{path}:2: date: is empty", f"{path}:3: date: is empty"]


def test_absurdly_large_numbers_are_refused_not_crashed_on(
    engine: Engine, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    path = _native(
        tmp_path / "huge.csv",
        "2025-08-01,A,x,,USD,1,1,12345678901,0,0",
        "2025-08-02,A,x,,USD,99999999999999999999,1,1,0,0",
    )
    failed = _fails(engine, sessions, path)
    assert failed.problems == [
        f"{path}:2: spend: 12345678901 is too large; at most 2,000,000,000 per row",
        f"{path}:3: impressions: 99999999999999999999 is too large; "
        "at most 1,000,000,000,000 per row",
    ]


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (
            "date,campaign,clicks",
            "1: looks like a native export but is missing the column(s) spend",
        ),
        (
            "date_day,campaign_name,platform,spend",
            "1: looks like a fivetran export but is missing the column(s) campaign_id",
        ),
        ("day,name,cost", "1: header matches no import format"),
    ],
)
def test_missing_required_column(
    header: str,
    expected: str,
    sample: ImportSummary,
    engine: Engine,
    sessions: sessionmaker[Session],
    tmp_path: Path,
) -> None:
    path = _write(tmp_path / "cols.csv", f"{header}\n2025-08-01,A,1\n")
    failed = _fails(engine, sessions, path)
    assert len(failed.problems) == 1
    assert failed.problems[0].startswith(f"{path}:{expected}")


def test_duplicate_ad_row_in_a_fivetran_file(
    sample: ImportSummary, engine: Engine, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    lines = FIVETRAN_SAMPLE.read_text(encoding="utf-8").splitlines()
    path = _write(tmp_path / "dup.csv", "\n".join([*lines, lines[3]]) + "\n")
    failed = _fails(engine, sessions, path)
    assert failed.problems == [
        f"{path}:18: campaign 'Summer Sale' on 2025-08-10 appears again (first on line 4); "
        "keep one row per campaign and day"
    ]


def test_every_repeated_row_is_counted_and_the_first_fifty_campaign_days_shown(
    engine: Engine, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    days = [(date(2025, 1, 1) + timedelta(days=i)).isoformat() for i in range(60)]
    rows = [f"{day},A,x,,USD,1,1,1.00,0,0" for day in days]
    # Every day twice, and the first day a third time: 61 repeated rows on 60 campaign-days.
    path = _native(tmp_path / "twice.csv", *rows, *rows, rows[0])
    failed = _fails(engine, sessions, path)
    assert failed.total == 61
    assert len(failed.problems) == MAX_PROBLEMS
    # A campaign-day's first repeat is the one shown, in the order of first appearance.
    assert failed.problems[0] == (
        f"{path}:62: campaign 'A' on 2025-01-01 appears again (first on line 2); "
        "keep one row per campaign and day"
    )
    assert failed.problems[-1].startswith(f"{path}:111: campaign 'A' on 2025-02-19 ")
    assert str(failed).endswith("… and 11 more problem(s)")


def test_campaign_level_fivetran_rows_roll_up_without_grain_columns(
    engine: Engine, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    path = _write(
        tmp_path / "campaign_level.csv",
        "date_day,platform,campaign_id,campaign_name,clicks,impressions,spend,conversions,"
        "conversions_value\n"
        "2025-08-10,Google Ads,C1,Brand,10,100,5.00,1,9.00\n"
        "2025-08-11,Google Ads,C1,Brand,10,100,5.00,1,9.00\n",
    )
    _import(engine, path)
    assert _totals_by_name(sessions)["Brand"].spend_micros == 10 * M
    duplicate = _write(
        tmp_path / "campaign_level_dup.csv",
        path.read_text() + "2025-08-11,Google Ads,C1,Brand,1,1,1.00,0,0\n",
    )
    failed = _fails(engine, sessions, duplicate)
    assert "appears again (first on line 3)" in failed.problems[0]


def test_campaign_stored_in_another_currency(
    engine: Engine, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    _import(engine, FIVETRAN_SAMPLE, default_currency="USD")
    failed = _fails(engine, sessions, FIVETRAN_SAMPLE, default_currency="EUR")
    assert len(failed.problems) == 3
    assert (
        f"{FIVETRAN_SAMPLE}:2: currency: campaign 'Back to School' is stored in USD, "
        "but the file gives it no currency and KPIBOT_DEFAULT_CURRENCY said EUR; "
        "import it with --currency USD"
    ) in failed.problems


def test_native_campaign_stored_in_another_currency(
    engine: Engine, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    _import(engine, _native(tmp_path / "dkk.csv", "2025-08-01,Forår,x,,DKK,1,1,1.00,0,0"))
    path = _native(tmp_path / "eur.csv", "2025-08-02,Forår,x,,EUR,1,1,1.00,0,0")
    failed = _fails(engine, sessions, path)
    (problem,) = failed.problems
    assert problem.startswith(
        f"{path}:2: currency: campaign 'Forår' is stored in DKK, the file says EUR"
    )
    # The file names its currency, so --currency would not help.
    assert "--currency" not in problem


def test_empty_file(engine: Engine, sessions: sessionmaker[Session], tmp_path: Path) -> None:
    path = _write(tmp_path / "empty.csv", "")
    failed = _fails(engine, sessions, path)
    assert failed.problems == [f"{path}:1: the file is empty; expected a header row"]


def test_blank_lines_only_is_empty(
    engine: Engine, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    path = _write(tmp_path / "blank.csv", "\n\n , \n")
    assert _fails(engine, sessions, path).problems == [
        f"{path}:1: the file is empty; expected a header row"
    ]


def test_header_only(engine: Engine, sessions: sessionmaker[Session], tmp_path: Path) -> None:
    path = _write(tmp_path / "header.csv", FIVETRAN_HEADER + "\n")
    failed = _fails(engine, sessions, path)
    assert failed.problems == [f"{path}:1: has a header but no data rows"]


def test_non_utf8_bytes_name_the_line(
    sample: ImportSummary, engine: Engine, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    rows = [f"2025-08-{d:02d},Café,x,,EUR,1,1,1.00,0,0".encode() for d in range(1, 29)]
    rows[24] = "2025-08-25,Café,x,,EUR,1,1,1.00,0,0".encode("latin-1")  # line 26
    path = tmp_path / "latin1.csv"
    path.write_bytes(NATIVE.encode() + b"\n" + b"\n".join(rows) + b"\n")
    failed = _fails(engine, sessions, path)
    (problem,) = failed.problems
    assert problem.startswith(f"{path}:26: not UTF-8 text")
    assert "save the file as UTF-8" in problem


def test_broken_gzip_file(engine: Engine, sessions: sessionmaker[Session], tmp_path: Path) -> None:
    path = tmp_path / "cut.csv.gz"
    path.write_bytes(gzip.compress(FIVETRAN_SAMPLE.read_bytes())[:200])
    failed = _fails(engine, sessions, path)
    assert failed.problems[0].startswith(f"{path}: cannot read the file")


def test_missing_file(engine: Engine, sessions: sessionmaker[Session], tmp_path: Path) -> None:
    path = tmp_path / "nope.csv"
    failed = _fails(engine, sessions, path)
    assert failed.problems[0].startswith(f"{path}: cannot open the file")


def test_the_problem_list_is_capped(
    sample: ImportSummary, engine: Engine, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    bad = [f"2025-08-01,C{i},x,,USD,1,1,-{i + 1},0,0" for i in range(500)]
    path = _native(tmp_path / "many.csv", *bad)
    failed = _fails(engine, sessions, path)
    assert failed.total == 500
    assert len(failed.problems) == MAX_PROBLEMS == 50
    assert failed.problems[0] == f"{path}:2: spend: -1 is negative; amounts cannot be below 0"
    assert failed.problems[-1].startswith(f"{path}:51: spend: -50 ")
    assert str(failed).endswith("… and 450 more problem(s)")


def test_a_failed_file_does_not_stop_the_next_one(
    engine: Engine, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    bad = _native(tmp_path / "bad.csv", "2025-08-01,A,x,,USD,1,1,-1,0,0")
    with pytest.raises(ImportFailed):
        _import(engine, bad)
    _import(engine, FIVETRAN_SAMPLE)
    assert _totals_by_name(sessions) == SAMPLE_TOTALS
    assert [r[0] for r in _runs(sessions)] == ["failed", "ok"]


# --- a bigger file -----------------------------------------------------------------------------


def _cents(text: str) -> int:
    whole, _, fraction = text.partition(".")
    assert len(fraction) == 2, text
    return int(whole) * 100 + int(fraction)


def test_big_file_imports_with_exact_totals(
    engine: Engine, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    path = tmp_path / "big.csv.gz"
    written = write_csv(path, demo_campaigns(count=30), date(2025, 6, 30), 1000, gzip=True)
    assert written == 30_000
    # The expected sums, straight from the file, in integer cents.
    col = {name: i for i, name in enumerate(NATIVE_HEADER)}
    spend: dict[str, int] = defaultdict(int)
    revenue: dict[str, int] = defaultdict(int)
    counts: dict[str, int] = defaultdict(int)
    with gzip.open(path, "rt", encoding="utf-8", newline="") as text:
        reader = csv.reader(text)
        next(reader)
        for row in reader:
            spend[row[col["currency"]]] += _cents(row[col["spend"]])
            revenue[row[col["currency"]]] += _cents(row[col["revenue"]])
            for name in ("impressions", "clicks", "leads", "conversions", "new_customers"):
                counts[name] += int(row[col[name]])

    summary = _import(engine, path)
    assert summary.rows == 30_000
    assert summary.campaigns == 30
    assert summary.campaign_days == 30_000
    assert summary.days == 1000
    assert summary.spend_by_currency == {
        code: f"{Decimal(cents) / 100:.2f}" for code, cents in sorted(spend.items())
    }
    with sessions() as session:
        currencies = {c.id: c.currency for c in all_campaigns(session)}
        stored = session.execute(
            select(
                DailyMetrics.campaign_id,
                func.sum(DailyMetrics.spend_micros),
                func.sum(DailyMetrics.revenue_micros),
                func.count(),
            ).group_by(DailyMetrics.campaign_id)
        ).all()
        all_counts = session.execute(
            select(
                func.sum(DailyMetrics.impressions),
                func.sum(DailyMetrics.clicks),
                func.sum(DailyMetrics.leads_micros),
                func.sum(DailyMetrics.conversions_micros),
                func.sum(DailyMetrics.new_customers_micros),
            )
        ).one()
    stored_spend: dict[str, int] = defaultdict(int)
    stored_revenue: dict[str, int] = defaultdict(int)
    for campaign_id, spend_micros, revenue_micros, days in stored:
        assert days == 1000
        stored_spend[currencies[campaign_id]] += int(spend_micros)
        stored_revenue[currencies[campaign_id]] += int(revenue_micros)
    assert stored_spend == {code: cents * 10_000 for code, cents in spend.items()}
    assert stored_revenue == {code: cents * 10_000 for code, cents in revenue.items()}
    assert [int(v) for v in _counts(all_counts)] == [
        counts[name] for name in ("impressions", "clicks", "leads", "conversions", "new_customers")
    ]


def test_a_file_without_a_currency_column_says_which_currency_it_used(engine: Engine) -> None:
    summary = import_file(engine, FIVETRAN_SAMPLE, default_currency="DKK")
    assert any("no currency column" in w and "DKK" in w for w in summary.warnings)


def test_a_blank_currency_cell_belongs_to_the_campaigns_stated_currency(
    engine: Engine, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    path = _native(
        tmp_path / "blank.csv",
        "2025-08-01,A,x,,DKK,1,1,1.00,0,0",
        "2025-08-02,A,x,,,1,1,2.00,0,0",
    )
    summary = import_file(engine, path, default_currency="USD")
    assert summary.spend_by_currency == {"DKK": "3.00"}


# --- unmeasured is not zero ---------------------------------------------------------------------

MEASURES = ("impressions", "clicks", "leads", "conversions", "new_customers", "spend", "revenue")
FULL = ",".join(NATIVE_HEADER)


def _stored(sessions: sessionmaker[Session]) -> dict[tuple[str, str], dict[str, int | None]]:
    """daily_metrics as stored, by (campaign name, day); money in micro-units."""
    with sessions() as session:
        rows = session.execute(
            select(
                Campaign.name,
                DailyMetrics.day,
                DailyMetrics.impressions,
                DailyMetrics.clicks,
                DailyMetrics.leads_micros,
                DailyMetrics.conversions_micros,
                DailyMetrics.new_customers_micros,
                DailyMetrics.spend_micros,
                DailyMetrics.revenue_micros,
            ).join(Campaign, Campaign.id == DailyMetrics.campaign_id)
        ).all()
    return {
        (r[0], r[1].isoformat()): dict(zip(MEASURES, _counts(r[2:]), strict=True)) for r in rows
    }


def _counts(stored: Sequence[int | None]) -> list[int | None]:
    """Stored measures with leads, conversions and new customers (micro-units) as counts."""
    return [v if v is None or i not in (2, 3, 4) else _whole(v) for i, v in enumerate(stored)]


def _whole(micros: int) -> int:
    whole, rest = divmod(micros, 1_000_000)
    assert rest == 0, micros
    return whole


def test_a_measure_without_a_column_is_stored_as_unknown(
    engine: Engine, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    _import(
        engine, _native(tmp_path / "spend.csv", "2025-08-01,A,10.50", header="date,campaign,spend")
    )
    assert _stored(sessions) == {
        ("A", "2025-08-01"): dict.fromkeys(MEASURES) | {"spend": 10_500_000}
    }


def test_fivetran_reports_neither_leads_nor_new_customers(
    sample: ImportSummary, sessions: sessionmaker[Session]
) -> None:
    stored = _stored(sessions)
    assert len(stored) == 8
    for measures in stored.values():
        assert measures["leads"] is None
        assert measures["new_customers"] is None
        assert None not in (measures["impressions"], measures["clicks"], measures["revenue"])


def test_an_empty_cell_is_unknown_and_a_zero_is_zero(
    engine: Engine, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    path = _native(
        tmp_path / "cells.csv",
        # date,campaign_id,campaign,platform,channel,currency,impressions,clicks,spend,leads,
        # conversions,revenue,new_customers
        "2025-08-01,,A,,,DKK,,,0,,,,",
        "2025-08-02,,A,,,DKK,0,0,0,0,0,0,0",
        "2025-08-03,,A,,,DKK,100, 5 ,1.00,,2,,1",
        header=FULL,
    )
    _import(engine, path)
    stored = _stored(sessions)
    assert stored[("A", "2025-08-01")] == dict.fromkeys(MEASURES) | {"spend": 0}
    assert stored[("A", "2025-08-02")] == dict.fromkeys(MEASURES, 0)
    assert stored[("A", "2025-08-03")] == {
        "impressions": 100,
        "clicks": 5,
        "leads": None,
        "conversions": 2,
        "new_customers": 1,
        "spend": M,
        "revenue": None,
    }


def test_a_reimport_replaces_every_measure_including_unknown(
    engine: Engine, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    first = _native(tmp_path / "v1.csv", "2025-08-01,,A,,,DKK,100,10,5.00,4,2,50.00,1", header=FULL)
    _import(engine, first)
    assert _stored(sessions)[("A", "2025-08-01")]["leads"] == 4
    # Restated: leads no longer reported, new customers corrected to 0, revenue changed.
    second = _native(tmp_path / "v2.csv", "2025-08-01,,A,,,DKK,100,10,5.00,,2,60.00,0", header=FULL)
    _import(engine, second)
    restated = _stored(sessions)[("A", "2025-08-01")]
    assert (restated["leads"], restated["new_customers"], restated["revenue"]) == (
        None,
        0,
        60 * M,
    )
    _import(engine, first)
    assert _stored(sessions)[("A", "2025-08-01")]["leads"] == 4
    assert _stored(sessions)[("A", "2025-08-01")]["new_customers"] == 1


def test_the_ad_level_roll_up_sums_what_is_known(
    engine: Engine, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    header = (
        "date_day,platform,campaign_id,campaign_name,ad_id,clicks,impressions,spend,conversions"
    )
    path = _write(
        tmp_path / "ads.csv",
        f"{header}\n"
        "2025-08-10,Google Ads,C1,Brand,AD1,10,,1.00,\n"
        "2025-08-10,Google Ads,C1,Brand,AD2,5,,2.00,3\n"
        "2025-08-11,Google Ads,C1,Brand,AD1,1,,1.00,\n",
    )
    _import(engine, path)
    stored = _stored(sessions)
    assert stored[("Brand", "2025-08-10")] == {
        "impressions": None,  # no ad reported it
        "clicks": 15,
        "leads": None,
        "conversions": 3,  # one ad reported 3, the other nothing
        "new_customers": None,
        "spend": 3 * M,
        "revenue": None,  # no conversions_value column
    }
    assert stored[("Brand", "2025-08-11")]["conversions"] is None


def test_summary_line_counts_in_the_singular(engine: Engine, tmp_path: Path) -> None:
    path = _native(tmp_path / "one.csv", "2025-08-01,A,1.00", header="date,campaign,spend")
    assert _import(engine, path).line() == (
        f"{path}: imported 1 row (native) → 1 campaign, 1 day, 1 campaign-day; spend 1.00 USD"
    )


# --- strict cells, through the importer ---------------------------------------------------------


def test_a_count_with_a_thousands_separator_says_what_to_write(
    engine: Engine, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    path = _native(
        tmp_path / "data.csv",
        "2025-08-01,A,x,,USD,1000,10,1.00,0,0",
        '2025-08-02,A,x,,USD,5000,"1.000",1.00,0,0',
    )
    failed = _fails(engine, sessions, path)
    assert failed.problems == [
        f"{path}:3: clicks: '1.000' is not a whole number of clicks; write digits only, e.g. 1000"
    ]


def test_days_outside_the_window_are_refused(
    engine: Engine, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    window = DateWindow(date(2024, 1, 1), date(2025, 8, 1), 30)
    path = _native(
        tmp_path / "window.csv",
        "2023-12-31,A,1.00",
        "2024-01-01,A,1.00",
        "2025-08-31,A,1.00",
        "2025-09-01,A,1.00",
        header="date,campaign,spend",
    )
    failed = _fails(engine, sessions, path, window=window)
    assert failed.problems == [
        f"{path}:2: date: 2023-12-31 is before 2024-01-01, the earliest day kpibot imports "
        "(KPIBOT_IMPORT_EARLIEST_DATE)",
        f"{path}:5: date: 2025-09-01 is more than 30 days after today (2025-08-01); check the "
        "year (KPIBOT_IMPORT_MAX_DAYS_AHEAD)",
    ]


def test_far_future_days_are_refused_by_default(
    engine: Engine, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    path = _native(tmp_path / "future.csv", "9999-12-31,A,1.00", header="date,campaign,spend")
    (problem,) = _fails(engine, sessions, path).problems
    assert "days after today" in problem


@pytest.mark.parametrize(
    ("header", "row", "expected"),
    [
        (
            "date,campaign,spend",
            f"2025-08-01,{'N' * 513},1.00",
            f"2: campaign: '{'N' * 40}'… (513 characters) is too long; at most 512 characters",
        ),
        (
            "date,campaign,spend",
            f"2025-08-01,{'N' * 129},1.00",
            "2: campaign: is 129 characters long; without a campaign_id the name is also the "
            "campaign's id, which has at most 128 characters",
        ),
        (
            "date,campaign_id,campaign,spend",
            f"2025-08-01,{'i' * 129},A,1.00",
            f"2: campaign_id: '{'i' * 40}'… (129 characters) is too long; at most 128 characters",
        ),
        (
            "date,campaign,platform,spend",
            f"2025-08-01,A,{'p' * 65},1.00",
            f"2: platform: '{'p' * 40}'… (65 characters) is too long; at most 64 characters",
        ),
        (
            "date_day,platform,account_id,campaign_id,campaign_name,spend",
            f"2025-08-01,Google Ads,{'a' * 129},C1,A,1.00",
            f"2: account_id: '{'a' * 40}'… (129 characters) is too long; at most 128 characters",
        ),
        (
            "date,campaign,spend,notes",
            "2025-08-01,A,1.00,bad\x00byte",
            "2: notes: 'bad\\x00byte' contains a NUL byte; remove it",
        ),
        (
            "date,campaign,spend",
            "2025-08-01,A\x00,1.00",
            "2: campaign: 'A\\x00' contains a NUL byte; remove it",
        ),
    ],
)
def test_texts_the_database_would_refuse_are_refused_first(
    header: str,
    row: str,
    expected: str,
    engine: Engine,
    sessions: sessionmaker[Session],
    tmp_path: Path,
) -> None:
    path = _native(tmp_path / "text.csv", row, header=header)
    assert _fails(engine, sessions, path).problems == [f"{path}:{expected}"]


def test_texts_at_their_limits_are_stored_on_every_backend(
    engine: Engine, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    path = _native(
        tmp_path / "limits.csv",
        f"2025-08-01,Google Ads,{'a' * 128},{'i' * 128},{'ø' * 512},1.00",
        header="date_day,platform,account_id,campaign_id,campaign_name,spend",
    )
    _import(engine, path)
    with sessions() as session:
        (campaign,) = all_campaigns(session)
    assert (len(campaign.account), len(campaign.external_id), len(campaign.name)) == (128, 128, 512)


# --- sums that cannot overflow ------------------------------------------------------------------

MAX_DAY_UNITS = MAX_DAY_VALUE // M  # 2,251,799,813 currency units


def _ads(path: Path, rows: list[tuple[str, str, str]]) -> Path:
    """A Fivetran ad-level file of one campaign: (day, impressions, spend) per ad row."""
    lines = ["date_day,platform,campaign_id,campaign_name,ad_id,impressions,spend"]
    lines += [
        f"{d},Google Ads,C1,Big,AD{i},{imp},{spend}" for i, (d, imp, spend) in enumerate(rows)
    ]
    return _write(path, "\n".join(lines) + "\n")


def test_a_roll_up_beyond_a_campaign_day_is_refused_with_campaign_and_day(
    engine: Engine, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    path = _ads(
        tmp_path / "big.csv",
        [("2025-08-01", "1", "2000000000")] + [("2025-08-02", "1", "2000000000")] * 2,
    )
    failed = _fails(engine, sessions, path)
    assert failed.problems == [
        f"{path}:3: spend: campaign 'Big' on 2025-08-02 adds up to more than 2,251,799,813 "
        "over its rows, the most kpibot stores for one campaign and day"
    ]


def test_counts_that_add_up_beyond_a_campaign_day_are_refused(
    engine: Engine, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    # 2,252 ad rows of 10^12 impressions: more than MAX_DAY_VALUE, which SUM() could not hold
    # 4,096 times over; SQLite would fail with "integer overflow" at 9,224 rows.
    rows = [("2025-08-01", str(10**12), "0")] * 2_252
    failed = _fails(engine, sessions, _ads(tmp_path / "many.csv", rows))
    (problem,) = failed.problems
    assert ":2: impressions: campaign 'Big' on 2025-08-01 adds up to more than " in problem


def test_a_roll_up_just_within_a_campaign_day_is_stored_exactly(
    engine: Engine, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    half = f"{MAX_DAY_UNITS // 2}.842623"
    _import(engine, _ads(tmp_path / "edge.csv", [("2025-08-01", "1", half)] * 2))
    stored = _stored(sessions)[("Big", "2025-08-01")]["spend"]
    assert stored == 2 * (MAX_DAY_UNITS // 2 * M + 842_623) <= MAX_DAY_VALUE


def test_the_longest_period_of_the_largest_days_sums_exactly(
    engine: Engine, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    first = date(2010, 1, 1)
    days = [(first + timedelta(days=i)).isoformat() for i in range(MAX_PERIOD_DAYS)]
    path = _native(
        tmp_path / "decade.csv",
        *(f"{d},Big,2000000000,1000000000000" for d in days),
        header="date,campaign,spend,impressions",
    )
    _import(engine, path, window=DateWindow(date(2000, 1, 1), date(2026, 1, 1), 366))
    totals = _totals_by_name(sessions)["Big"]
    assert totals.spend_micros == MAX_PERIOD_DAYS * 2_000_000_000 * M  # 7.3 × 10^18
    assert totals.impressions == MAX_PERIOD_DAYS * 10**12


# --- currencies ---------------------------------------------------------------------------------


def test_a_blank_currency_before_a_stated_one_takes_the_stated_one(
    engine: Engine, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    path = _native(
        tmp_path / "late.csv",
        "2025-08-01,A,x,,,1,1,1.00,0,0",
        "2025-08-02,A,x,,DKK,1,1,2.00,0,0",
        "2025-08-03,A,x,,,1,1,4.00,0,0",
    )
    summary = _import(engine, path)
    assert summary.spend_by_currency == {"DKK": "7.00"}
    assert summary.warnings == []
    with sessions() as session:
        assert [c.currency for c in all_campaigns(session)] == ["DKK"]


def test_two_stated_currencies_blame_the_line_that_stated_the_first(
    engine: Engine, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    path = _native(
        tmp_path / "two.csv",
        "2025-08-01,A,x,,,1,1,1.00,0,0",
        "2025-08-02,A,x,,DKK,1,1,2.00,0,0",
        "2025-08-03,A,x,,EUR,1,1,4.00,0,0",
    )
    assert _fails(engine, sessions, path).problems == [
        f"{path}:4: currency: campaign 'A' is in DKK on line 3 but in EUR here; "
        "one campaign has one currency"
    ]


def test_a_new_campaign_with_only_blank_currency_cells_is_warned_about(
    engine: Engine, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    path = _native(
        tmp_path / "blank.csv",
        "2025-08-01,A,x,,DKK,1,1,1.00,0,0",
        "2025-08-01,B,x,,,1,1,1.00,0,0",
        "2025-08-02,B,x,,,1,1,1.00,0,0",
    )
    summary = _import(engine, path, default_currency="EUR")
    assert summary.warnings == [
        f"{path}:3: currency: campaign 'B' has no currency; stored in EUR "
        "(choose with --currency or KPIBOT_DEFAULT_CURRENCY)"
    ]
    assert summary.spend_by_currency == {"DKK": "1.00", "EUR": "2.00"}
    # Known now: its currency is stored, so the next file with blank cells is fine.
    assert _import(engine, path, default_currency="EUR").warnings == []


def test_a_chosen_currency_answers_the_missing_column(engine: Engine, tmp_path: Path) -> None:
    summary = _import(engine, FIVETRAN_SAMPLE, default_currency="DKK", currency_chosen=True)
    assert summary.warnings == []
    path = _native(tmp_path / "blank.csv", "2025-08-01,B,x,,,1,1,1.00,0,0")
    assert _import(engine, path, default_currency="DKK", currency_chosen=True).warnings == []


@pytest.mark.parametrize("code", ["XXX", "XTS", "DEM", "XAU"])
def test_inactive_currency_codes_are_refused(
    code: str, engine: Engine, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    path = _native(tmp_path / "code.csv", f"2025-08-01,A,x,,{code},1,1,1.00,0,0")
    assert _fails(engine, sessions, path).problems == [
        f"{path}:2: currency: '{code}' is not a currency code "
        "(use an active ISO 4217 code, e.g. DKK)"
    ]


# --- every run is logged ------------------------------------------------------------------------


def test_an_unexpected_error_is_logged_as_a_failed_run_and_raised(
    engine: Engine, sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(self: MetricsLoad, new_campaigns: int) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(MetricsLoad, "merge", broken)
    with pytest.raises(RuntimeError, match="disk on fire"):
        _import(engine, FIVETRAN_SAMPLE)
    assert _snapshot(sessions) == Snapshot([], [])
    with sessions() as session:
        run = session.scalars(select(ImportRun)).one()
    assert (run.result, run.source) == ("failed", str(FIVETRAN_SAMPLE))
    assert run.message == "not imported, nothing was written: RuntimeError: disk on fire"


def test_a_failed_run_logs_the_format_and_rows_it_read(
    engine: Engine, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    path = _native(
        tmp_path / "bad.csv", "2025-08-01,A,1.00", "2025-08-02,A,x", header="date,campaign,spend"
    )
    _fails(engine, sessions, path)
    with sessions() as session:
        run = session.scalars(select(ImportRun)).one()
    assert (run.result, run.format, run.rows) == ("failed", "native", 2)
