"""Set-based reads of campaigns and their summed metrics: one grouped query per question."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from bot.campaign import CampaignInfo
from bot.kpi import MEASURES, Totals
from bot.money import count_from_micros
from storage.models import MEASURE_COLUMNS, Campaign, DailyMetrics, ImportRun


@dataclass(frozen=True, slots=True)
class CampaignTotals:
    """One campaign's totals over a period, with the first and last day that had data."""

    totals: Totals
    first_day: date | None
    last_day: date | None


def all_campaigns(session: Session) -> list[CampaignInfo]:
    rows = session.execute(
        select(
            Campaign.id,
            Campaign.external_id,
            Campaign.name,
            Campaign.platform,
            Campaign.account,
            Campaign.channel,
            Campaign.currency,
        ).order_by(Campaign.name, Campaign.id)
    )
    return [CampaignInfo(*row) for row in rows]


def campaigns_fingerprint(session: Session) -> tuple[int, int, int]:
    """Changes whenever the campaign list may have: a campaign added or an import run."""
    row = session.execute(
        select(
            select(func.count()).select_from(Campaign).scalar_subquery(),
            select(func.coalesce(func.max(Campaign.id), 0)).scalar_subquery(),
            select(func.coalesce(func.max(ImportRun.id), 0)).scalar_subquery(),
        )
    ).one()
    return int(row[0]), int(row[1]), int(row[2])


_SUMMED = (
    DailyMetrics.impressions,
    DailyMetrics.clicks,
    DailyMetrics.leads_micros,
    DailyMetrics.conversions_micros,
    DailyMetrics.new_customers_micros,
    DailyMetrics.spend_micros,
    DailyMetrics.revenue_micros,
)
# COUNT(column) counts the rows that reported a measure: NULL is "not measured" (MEASURES order;
# a fractional count such as conversions is stored as conversions_micros).
_COUNTED = tuple(
    getattr(DailyMetrics, m if m in MEASURE_COLUMNS else f"{m}_micros") for m in MEASURES
)


def _totals_select() -> Select[Any]:
    return select(  # type: ignore[return-value]
        DailyMetrics.campaign_id,
        *(func.sum(c) for c in _SUMMED),
        func.count(),
        func.min(DailyMetrics.day),
        func.max(DailyMetrics.day),
        *(func.count(c) for c in _COUNTED),
    ).group_by(DailyMetrics.campaign_id)


def _int(value: Any) -> int | None:
    return None if value is None else int(value)


def _count(value: Any) -> Decimal | None:
    """A summed fractional count from its micro-units."""
    return None if value is None else count_from_micros(int(value))


def totals_by_campaign(
    session: Session,
    start: date,
    end: date,
    campaign_ids: Collection[int] | None = None,
) -> dict[int, CampaignTotals]:
    """Summed measures per campaign over [start, end], in one grouped query."""
    statement = _totals_select().where(DailyMetrics.day >= start, DailyMetrics.day <= end)
    if campaign_ids is not None:
        if not campaign_ids:
            return {}
        statement = statement.where(DailyMetrics.campaign_id.in_(list(campaign_ids)))
    result: dict[int, CampaignTotals] = {}
    for row in session.execute(statement):
        totals = Totals(
            impressions=_int(row[1]),
            clicks=_int(row[2]),
            leads=_count(row[3]),
            conversions=_count(row[4]),
            new_customers=_count(row[5]),
            spend_micros=int(row[6] or 0),
            revenue_micros=_int(row[7]),
            days=int(row[8]),
            measured=tuple(int(n) for n in row[11:]),
        )
        result[row[0]] = CampaignTotals(totals, row[9], row[10])
    return result


def last_days(session: Session, campaign_ids: Collection[int] | None = None) -> dict[int, date]:
    """The newest day with data per campaign: one index seek each, not a scan of all days."""
    newest = (
        select(func.max(DailyMetrics.day))
        .where(DailyMetrics.campaign_id == Campaign.id)
        .scalar_subquery()
    )
    statement = select(Campaign.id, newest)
    if campaign_ids is not None:
        statement = statement.where(Campaign.id.in_(list(campaign_ids)))
    return {row[0]: row[1] for row in session.execute(statement) if row[1] is not None}


def latest_day(session: Session, campaign_ids: Collection[int] | None = None) -> date | None:
    """The newest day with data for these campaigns (all when None)."""
    statement = select(func.max(DailyMetrics.day))
    if campaign_ids is not None:
        statement = statement.where(DailyMetrics.campaign_id.in_(list(campaign_ids)))
    return session.execute(statement).scalar_one_or_none()


def daily_money(
    session: Session, start: date, end: date
) -> dict[tuple[int, date], tuple[int, int | None]]:
    """(spend, revenue) in micro-units per campaign and day over [start, end], for trend
    charts; revenue None where the source does not report it."""
    rows = session.execute(
        select(
            DailyMetrics.campaign_id,
            DailyMetrics.day,
            DailyMetrics.spend_micros,
            DailyMetrics.revenue_micros,
        ).where(DailyMetrics.day >= start, DailyMetrics.day <= end)
    )
    return {(row[0], row[1]): (int(row[2]), _int(row[3])) for row in rows}


def daily_totals(session: Session, campaign_id: int, start: date, end: date) -> dict[date, Totals]:
    """One campaign's measures per day over [start, end] (for comparing the same days)."""
    rows = session.execute(
        select(DailyMetrics.day, *_SUMMED).where(
            DailyMetrics.campaign_id == campaign_id,
            DailyMetrics.day >= start,
            DailyMetrics.day <= end,
        )
    )
    return {
        row[0]: Totals(
            _int(row[1]),
            _int(row[2]),
            _count(row[3]),
            _count(row[4]),
            _count(row[5]),
            int(row[6]),
            _int(row[7]),
            1,
        )
        for row in rows
    }
