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

from bot.access.model import Visibility
from bot.campaign import CampaignInfo
from bot.kpi import KPI_BY_KEY, Economics, KpiValue, Totals, sum_totals

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


def _kpis(totals: Totals, economics: Economics, keys: Iterable[str]) -> dict[str, KpiValue]:
    """Only the KPIs a digest shows: thousands of campaigns are computed per digest."""
    if totals.is_empty:
        return dict.fromkeys(keys)
    return {key: KPI_BY_KEY[key].compute(totals, economics) for key in keys}


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
    rows = _rows(data, economics)
    losing = sorted(
        (r for r in rows if r.roi is not None and r.roi < 0),
        key=lambda r: (r.roi, r.campaign.name.lower()),
    )
    ranked = sorted(
        (r for r in _with_volume(rows, data) if r.change is not None),
        key=lambda r: (-(r.change or 0), r.campaign.name.lower()),
    )
    improvers = [r for r in ranked if (r.change or 0) > 0][:MOVERS]
    decliners = [r for r in reversed(ranked) if (r.change or 0) < 0][:MOVERS]

    def mover(row: _Row) -> Mover:
        # Every KPI only for the campaigns shown: a digest may look at thousands.
        return Mover(row.campaign, _kpis(row.totals, economics, DIGEST_KPIS), row.roi_week)

    return DigestContent(
        days.day,
        blocks,
        tuple(map(mover, improvers)),
        tuple(map(mover, decliners)),
        tuple(map(mover, losing)),
    )


@dataclass(frozen=True, slots=True)
class _Row:
    campaign: CampaignInfo
    totals: Totals
    roi: Decimal | None
    roi_week: Decimal | None

    @property
    def change(self) -> Decimal | None:
        return None if self.roi is None or self.roi_week is None else self.roi - self.roi_week


def _rows(data: DigestInput, economics: Economics) -> list[_Row]:
    """Every campaign of the day with its ROI then and a week earlier (ROI only, for speed)."""
    roi = KPI_BY_KEY["roi"].compute
    rows = []
    for cid, totals in data.day.items():
        campaign = data.campaigns.get(cid)
        if campaign is None:
            continue
        week = data.week_ago.get(cid)
        now_roi = roi(totals, economics)
        then_roi = None if week is None or week.is_empty else roi(week, economics)
        rows.append(
            _Row(
                campaign,
                totals,
                None if now_roi is None else Decimal(now_roi),
                None if then_roi is None else Decimal(then_roi),
            )
        )
    return rows


def _with_volume(rows: list[_Row], data: DigestInput) -> list[_Row]:
    """Campaigns with meaningful volume yesterday: spend at least 1 % of their currency's
    daily average over the 28 days before, and at least 20 clicks (measured)."""
    volume = _by_currency(data.campaigns, data.volume)
    kept = []
    for row in rows:
        spent = volume.get(row.campaign.currency, Totals()).spend_micros
        if row.totals.spend_micros < MIN_SHARE_OF_DAILY_SPEND * Decimal(spent) / VOLUME_DAYS:
            continue
        clicks = row.totals.complete("clicks")
        if clicks is None or clicks < MIN_CLICKS:
            continue
        kept.append(row)
    return kept


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
    sees: Visibility | None = None
    """The channel's limit when it has one: the digest covers only what that allows."""
