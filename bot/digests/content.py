"""What a morning digest says, from per-campaign totals (pure: no SQL, no Slack).

One block per currency (never merged): yesterday against the day before and against the same
weekday a week earlier, month to date; the campaigns whose ROI moved most against a week
earlier, among those with meaningful volume; the campaigns that lost money yesterday.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from bot.campaign import CampaignInfo
from bot.kpi import Economics, KpiValue, Totals, compute_kpis, sum_totals

DIGEST_KPIS = ("spend", "revenue", "roas", "roi", "conversions", "cpa")
MONTH_KPIS = ("spend", "roas")
MOVERS = 3
MIN_SHARE_OF_DAILY_SPEND = Decimal("0.01")
MIN_CLICKS = 20
VOLUME_DAYS = 28


@dataclass(frozen=True, slots=True)
class DigestDays:
    """The days a digest for local day `day` (yesterday at send time) looks at."""

    day: date

    @property
    def day_before(self) -> date:
        return self.day - timedelta(days=1)

    @property
    def week_ago(self) -> date:
        return self.day - timedelta(days=7)

    @property
    def month_start(self) -> date:
        return self.day.replace(day=1)

    @property
    def volume_start(self) -> date:
        """First of the 28 days before `day`, whose daily average spend sets the volume bar."""
        return self.day - timedelta(days=VOLUME_DAYS)

    @property
    def volume_end(self) -> date:
        return self.day - timedelta(days=1)


@dataclass(frozen=True, slots=True)
class DigestInput:
    """Per-campaign totals of the scope's campaigns over each of the digest's periods."""

    campaigns: Mapping[int, CampaignInfo]
    day: Mapping[int, Totals]
    day_before: Mapping[int, Totals]
    week_ago: Mapping[int, Totals]
    month_to_date: Mapping[int, Totals]
    volume: Mapping[int, Totals]  # the 28 days before `day`


@dataclass(frozen=True, slots=True)
class CurrencyBlock:
    currency: str
    kpis: dict[str, KpiValue]
    previous_day: dict[str, KpiValue]
    week_ago: dict[str, KpiValue]
    month_to_date: dict[str, KpiValue]


@dataclass(frozen=True, slots=True)
class Mover:
    """One campaign's day, with its ROI a week earlier."""

    campaign: CampaignInfo
    kpis: dict[str, KpiValue]
    roi_week_ago: Decimal | None

    @property
    def roi_change(self) -> Decimal | None:
        """ROI yesterday minus ROI a week earlier, in ROI units (0.1 = 10 percentage points)."""
        roi = self.kpis.get("roi")
        if roi is None or self.roi_week_ago is None:
            return None
        return Decimal(roi) - self.roi_week_ago


@dataclass(frozen=True, slots=True)
class DigestContent:
    day: date
    totals: tuple[CurrencyBlock, ...]
    improvers: tuple[Mover, ...]
    decliners: tuple[Mover, ...]
    losing_money: tuple[Mover, ...]

    @property
    def is_empty(self) -> bool:
        return not self.totals


def _pick(kpis: Mapping[str, KpiValue], keys: Iterable[str]) -> dict[str, KpiValue]:
    return {key: kpis.get(key) for key in keys}


def _kpis(totals: Totals, economics: Economics, keys: Iterable[str]) -> dict[str, KpiValue]:
    if totals.is_empty:
        return dict.fromkeys(keys)
    return _pick(compute_kpis(totals, economics), keys)


def _by_currency(
    campaigns: Mapping[int, CampaignInfo], totals: Mapping[int, Totals]
) -> dict[str, Totals]:
    grouped: dict[str, list[Totals]] = defaultdict(list)
    for campaign_id, found in totals.items():
        campaign = campaigns.get(campaign_id)
        if campaign is not None:
            grouped[campaign.currency].append(found)
    return {code: sum_totals(items) for code, items in grouped.items()}


def build_digest(days: DigestDays, data: DigestInput, economics: Economics) -> DigestContent:
    """The digest of `days.day` for the campaigns in `data`."""
    day = _by_currency(data.campaigns, data.day)
    before = _by_currency(data.campaigns, data.day_before)
    week = _by_currency(data.campaigns, data.week_ago)
    month = _by_currency(data.campaigns, data.month_to_date)
    currencies = sorted(set(day) | set(month))
    blocks = tuple(
        CurrencyBlock(
            code,
            _kpis(day.get(code, Totals()), economics, DIGEST_KPIS),
            _kpis(before.get(code, Totals()), economics, DIGEST_KPIS),
            _kpis(week.get(code, Totals()), economics, DIGEST_KPIS),
            _kpis(month.get(code, Totals()), economics, MONTH_KPIS),
        )
        for code in currencies
    )
    movers = _movers(data, economics)
    ranked = [m for m in movers if m.roi_change is not None]
    ranked.sort(key=lambda m: (-(m.roi_change or 0), m.campaign.name.lower()))
    improvers = tuple(m for m in ranked if (m.roi_change or 0) > 0)[:MOVERS]
    decliners = tuple(m for m in reversed(ranked) if (m.roi_change or 0) < 0)[:MOVERS]
    losing = sorted(
        (m for m in _all_rows(data, economics) if (m.kpis.get("roi") or 0) < 0),
        key=lambda m: (Decimal(m.kpis["roi"] or 0), m.campaign.name.lower()),
    )
    return DigestContent(days.day, blocks, improvers, decliners, tuple(losing))


def _row(campaign: CampaignInfo, totals: Totals, week: Totals | None, e: Economics) -> Mover:
    kpis = _kpis(totals, e, DIGEST_KPIS)
    roi_week = None if week is None or week.is_empty else compute_kpis(week, e)["roi"]
    return Mover(campaign, kpis, None if roi_week is None else Decimal(roi_week))


def _all_rows(data: DigestInput, economics: Economics) -> list[Mover]:
    return [
        _row(data.campaigns[cid], totals, data.week_ago.get(cid), economics)
        for cid, totals in data.day.items()
        if cid in data.campaigns
    ]


def _movers(data: DigestInput, economics: Economics) -> list[Mover]:
    """Campaigns with meaningful volume yesterday: spend at least 1 % of their currency's
    daily average over the 28 days before, and at least 20 clicks (measured)."""
    volume = _by_currency(data.campaigns, data.volume)
    rows = []
    for row in _all_rows(data, economics):
        totals = data.day[row.campaign.id]
        spent = volume.get(row.campaign.currency, Totals()).spend_micros
        if totals.spend_micros < MIN_SHARE_OF_DAILY_SPEND * Decimal(spent) / VOLUME_DAYS:
            continue
        clicks = totals.complete("clicks")
        if clicks is None or clicks < MIN_CLICKS:
            continue
        rows.append(row)
    return rows


@dataclass(frozen=True, slots=True)
class DigestPreview:
    """A digest as it would be posted now: its subscription, day, freshness and content.

    `incomplete` lists the ad accounts (or campaigns) whose data for `day` has not landed,
    None when everything the scope had in the week before has landed.
    """

    subscription_id: int
    channel: str
    schedule_text: str  # e.g. "weekdays at 08:00 Europe/Copenhagen"
    scope_text: str  # e.g. "all campaigns", "channel social"
    day: date
    data_through: date | None
    incomplete: tuple[str, ...] | None
    content: DigestContent
    trend: tuple[tuple[str, tuple[tuple[date, Decimal], ...]], ...] = ()
    """Per currency, 14 days of (day, spend) ending `day`, for the chart."""
    revenue_trend: tuple[tuple[str, tuple[tuple[date, Decimal | None], ...]], ...] = ()
    """Per currency, the same days' revenue for the chart; None where it was not measured."""
