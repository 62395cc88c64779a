from __future__ import annotations

import csv
import gzip
import re
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from bot.channels import CHANNELS
from bot.demo_data import (
    COLLAPSING_CAMPAIGN,
    NATIVE_HEADER,
    PAUSED_CAMPAIGN,
    DemoCampaign,
    demo_campaigns,
    iter_rows,
    write_csv,
)

END = date(2025, 6, 30)
DAYS = 400
MONEY = re.compile(r"^\d+\.\d{2}$")
COL = {name: i for i, name in enumerate(NATIVE_HEADER)}


def _slug(text: str) -> str:
    return re.sub(r"[^0-9a-z]+", "-", text.lower()).strip("-")


def _rows(
    campaigns: list[DemoCampaign] | None = None, seed: int = 7, days: int = DAYS
) -> list[tuple[str, ...]]:
    return list(iter_rows(campaigns or demo_campaigns(), END, days, seed=seed))


@pytest.fixture(scope="module")
def rows() -> list[tuple[str, ...]]:
    return _rows()


def test_header_order() -> None:
    assert NATIVE_HEADER == (
        "date",
        "campaign_id",
        "campaign",
        "platform",
        "channel",
        "currency",
        "impressions",
        "clicks",
        "spend",
        "leads",
        "conversions",
        "revenue",
        "new_customers",
    )


def test_same_seed_same_rows_different_seed_different(rows: list[tuple[str, ...]]) -> None:
    assert demo_campaigns(seed=7) == demo_campaigns(seed=7)
    assert demo_campaigns(seed=7) != demo_campaigns(seed=8)
    assert _rows(seed=7) == rows
    assert _rows(seed=8) != rows
    assert _rows(demo_campaigns(seed=8)) != rows


def test_a_dates_rows_do_not_depend_on_the_window(rows: list[tuple[str, ...]]) -> None:
    short = _rows(days=30)
    assert short == rows[-len(short) :]


def test_row_shape_and_order(rows: list[tuple[str, ...]]) -> None:
    campaigns = demo_campaigns()
    assert len(rows) == DAYS * len(campaigns)
    start = END - timedelta(days=DAYS - 1)
    for i, row in enumerate(rows):
        assert len(row) == len(NATIVE_HEADER)
        assert all(isinstance(cell, str) for cell in row)
        day, index = divmod(i, len(campaigns))
        assert row[COL["date"]] == (start + timedelta(days=day)).isoformat()
        assert row[COL["campaign_id"]] == campaigns[index].external_id
        assert row[COL["campaign"]] == campaigns[index].name
    assert rows[-1][COL["date"]] == END.isoformat()


def test_invariants_hold_on_every_row(rows: list[tuple[str, ...]]) -> None:
    for row in rows:
        date.fromisoformat(row[COL["date"]])
        counts = {
            k: int(row[COL[k]])
            for k in ("impressions", "clicks", "leads", "conversions", "new_customers")
        }
        assert all(v >= 0 for v in counts.values()), row
        assert counts["clicks"] <= counts["impressions"], row
        assert counts["conversions"] <= counts["clicks"], row
        assert counts["new_customers"] <= counts["conversions"], row
        assert MONEY.match(row[COL["spend"]]), row
        assert MONEY.match(row[COL["revenue"]]), row
        assert row[COL["currency"]] in {"DKK", "EUR"}
        assert row[COL["channel"]] in CHANNELS


def test_default_mix() -> None:
    campaigns = demo_campaigns()
    assert len(campaigns) >= 12
    assert len({c.channel for c in campaigns}) >= 8
    assert len({c.platform for c in campaigns}) >= 5
    currencies = [c.currency for c in campaigns]
    assert set(currencies) == {"DKK", "EUR"}
    assert currencies.count("DKK") > currencies.count("EUR")
    ids = {c.external_id for c in campaigns}
    assert COLLAPSING_CAMPAIGN in ids
    assert PAUSED_CAMPAIGN in ids
    assert any(c.lead_bp > 0 for c in campaigns)
    assert any(c.lead_bp == 0 for c in campaigns)


@pytest.mark.parametrize("count", [14, 1000])
def test_names_ids_and_slugs_are_unique(count: int) -> None:
    campaigns = demo_campaigns(count)
    assert len(campaigns) == count
    assert len({c.name.casefold() for c in campaigns}) == count
    assert len({_slug(c.name) for c in campaigns}) == count
    assert len({c.name.lower().replace(" ", "-") for c in campaigns}) == count
    assert len({c.external_id for c in campaigns}) == count


def test_large_sets_keep_the_mix() -> None:
    campaigns = demo_campaigns(1000)
    assert campaigns[:14] == demo_campaigns(14)
    assert len({c.channel for c in campaigns}) >= 8
    assert {c.currency for c in campaigns} == {"DKK", "EUR"}
    assert sum(c.collapse_days > 0 for c in campaigns) == 1
    assert sum(c.paused_days > 0 for c in campaigns) == 1


def test_leads_only_for_lead_gen_campaigns(rows: list[tuple[str, ...]]) -> None:
    lead_gen = {c.external_id for c in demo_campaigns() if c.lead_bp > 0}
    leads: dict[str, int] = defaultdict(int)
    for row in rows:
        leads[row[COL["campaign_id"]]] += int(row[COL["leads"]])
    assert all(leads[cid] > 0 for cid in lead_gen)
    assert all(v == 0 for cid, v in leads.items() if cid not in lead_gen)


def _roas(rows: list[tuple[str, ...]], campaign: str, first: date, last: date) -> Decimal:
    spend = revenue = Decimal(0)
    for row in rows:
        if row[COL["campaign_id"]] == campaign and first <= date.fromisoformat(row[0]) <= last:
            spend += Decimal(row[COL["spend"]])
            revenue += Decimal(row[COL["revenue"]])
    assert spend > 0
    return revenue / spend


@pytest.mark.parametrize("seed", [7, 1, 2, 3, 42])
def test_collapsing_campaign_roas_collapses_in_the_last_three_days(seed: int) -> None:
    rows = list(iter_rows(demo_campaigns(seed=seed), END, 60, seed=seed))
    last3 = _roas(rows, COLLAPSING_CAMPAIGN, END - timedelta(days=2), END)
    before = _roas(rows, COLLAPSING_CAMPAIGN, END - timedelta(days=16), END - timedelta(days=3))
    assert last3 < before * Decimal("0.4")
    # Spend stays where it was.
    spend: dict[bool, Decimal] = defaultdict(Decimal)
    for row in rows:
        if row[COL["campaign_id"]] == COLLAPSING_CAMPAIGN:
            recent = date.fromisoformat(row[0]) > END - timedelta(days=3)
            spend[recent] += Decimal(row[COL["spend"]])
    assert spend[True] / 3 > spend[False] / 57 * Decimal("0.6")


def test_paused_campaign_has_zero_days_with_rows_present(rows: list[tuple[str, ...]]) -> None:
    paused = [r for r in rows if r[COL["campaign_id"]] == PAUSED_CAMPAIGN]
    assert len(paused) == DAYS
    zero = [
        date.fromisoformat(r[0])
        for r in paused
        if r[COL["spend"]] == "0.00" and r[COL["impressions"]] == "0" and r[COL["clicks"]] == "0"
    ]
    tail = {END - timedelta(days=i) for i in range(20)}
    assert tail <= set(zero)
    assert any(d < END - timedelta(days=30) for d in zero)  # earlier gaps too
    assert len(zero) < DAYS // 2
    # Other campaigns deliver every day.
    for row in rows:
        if row[COL["campaign_id"]] != PAUSED_CAMPAIGN:
            assert int(row[COL["impressions"]]) > 0, row


def test_weekends_differ_from_weekdays(rows: list[tuple[str, ...]]) -> None:
    per_kind: dict[bool, list[Decimal]] = {True: [], False: []}
    for row in rows:
        if row[COL["campaign_id"]] == "li-linkedin-b2b-lead-gen":
            per_kind[date.fromisoformat(row[0]).weekday() >= 5].append(Decimal(row[COL["spend"]]))
    weekend = sum(per_kind[True], Decimal(0)) / len(per_kind[True])
    weekday = sum(per_kind[False], Decimal(0)) / len(per_kind[False])
    assert weekend < weekday * Decimal("0.6")


def test_yearly_seasonality_has_a_q4_peak() -> None:
    rows = list(iter_rows(demo_campaigns(), date(2025, 1, 31), 365))
    monthly: dict[int, Decimal] = defaultdict(Decimal)
    for row in rows:
        monthly[date.fromisoformat(row[0]).month] += Decimal(row[COL["spend"]])
    assert monthly[11] > monthly[2] * Decimal("1.2")


@pytest.mark.parametrize("packed", [False, True])
def test_write_csv_matches_iter_rows(tmp_path: Path, packed: bool) -> None:
    campaigns = demo_campaigns()
    path = tmp_path / ("demo.csv.gz" if packed else "demo.csv")
    written = write_csv(path, campaigns, END, 30, seed=3, gzip=packed)
    expected = list(iter_rows(campaigns, END, 30, seed=3))
    assert written == len(expected) == 30 * len(campaigns)
    if packed:
        with gzip.open(path, "rt", encoding="utf-8", newline="") as fh:
            got = [tuple(r) for r in csv.reader(fh)]
    else:
        with path.open(encoding="utf-8", newline="") as fh:
            got = [tuple(r) for r in csv.reader(fh)]
    assert got[0] == NATIVE_HEADER
    assert got[1:] == expected


def test_gzip_output_is_reproducible(tmp_path: Path) -> None:
    campaigns = demo_campaigns()
    a, b = tmp_path / "a.csv.gz", tmp_path / "b.csv.gz"
    write_csv(a, campaigns, END, 10, gzip=True)
    write_csv(b, campaigns, END, 10, gzip=True)
    assert a.read_bytes() == b.read_bytes()


def test_edge_cases() -> None:
    assert demo_campaigns(0) == []
    assert list(iter_rows(demo_campaigns(), END, 0)) == []
    with pytest.raises(ValueError):
        list(iter_rows(demo_campaigns(), END, -1))
    with pytest.raises(ValueError):
        demo_campaigns(-1)
