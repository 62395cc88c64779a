"""A fetch as a native CSV file, so a sync lands through the same import as `kpibot import`:
the same checks, one transaction, and the source's days in the window replaced."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path

from bot.sources.model import Fetched, PlatformDay

HEADER = (
    "date",
    "campaign_id",
    "campaign",
    "platform",
    "account",
    "currency",
    "impressions",
    "clicks",
    "spend",
    "leads",
    "conversions",
    "revenue",
)


def with_zero_days(fetched: Fetched, known: Iterable[PlatformDay] = ()) -> list[PlatformDay]:
    """The rows plus a zero row for every covered day a campaign seen in the window has none:
    platforms omit all-zero rows, and a covered day without a row is a day nothing happened,
    not a day nobody knows about. A measure the source never reports stays unknown.

    `known` are campaigns already stored for the window (one example row each, its None
    measures the unreported ones): a campaign paused all week has no row at all, and its
    days become zero days too instead of vanishing with the replaced window."""
    seen: dict[str, PlatformDay] = {}
    days: set[tuple[str, date]] = set()
    for row in fetched.rows:
        seen.setdefault(row.campaign_id, row)
        days.add((row.campaign_id, row.day))
    for example in known:
        seen.setdefault(example.campaign_id, example)
    rows = list(fetched.rows)
    span = (fetched.end - fetched.start).days + 1
    for campaign_id, example in seen.items():
        for offset in range(span):
            day = fetched.start + timedelta(days=offset)
            if (campaign_id, day) in days:
                continue
            rows.append(
                PlatformDay(
                    day=day,
                    campaign_id=campaign_id,
                    campaign_name=example.campaign_name,
                    impressions=None if example.impressions is None else 0,
                    clicks=None if example.clicks is None else 0,
                    spend=Decimal(0),
                    conversions=None if example.conversions is None else Decimal(0),
                    revenue=None if example.revenue is None else Decimal(0),
                    leads=None if example.leads is None else Decimal(0),
                )
            )
    rows.sort(key=lambda r: (r.campaign_id, r.day))
    return rows


def write_native(fetched: Fetched, path: Path, known: Iterable[PlatformDay] = ()) -> int:
    """Write the fetch (zero days added, see with_zero_days) as a native CSV; how many rows."""
    rows = with_zero_days(fetched, known)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for row in rows:
            writer.writerow(
                (
                    row.day.isoformat(),
                    row.campaign_id,
                    row.campaign_name,
                    fetched.platform,
                    fetched.account,
                    fetched.currency,
                    _cell(row.impressions),
                    _cell(row.clicks),
                    _cell(row.spend),
                    _cell(row.leads),
                    _cell(row.conversions),
                    _cell(row.revenue),
                )
            )
    return len(rows)


_MICRO = Decimal("0.000001")


def _cell(value: int | Decimal | None) -> str:
    """A measure as the import reads it: at most 6 decimals (platforms send doubles such as
    1.6666666666666667 conversions; kpibot keeps micro-units), rounded half-even."""
    if value is None:
        return ""
    if isinstance(value, Decimal):
        if value == value.to_integral_value():
            return f"{value.quantize(Decimal(1)):f}"
        return f"{value.quantize(_MICRO, rounding=ROUND_HALF_EVEN).normalize():f}"
    return str(value)
