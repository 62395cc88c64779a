"""Which days a comparison really compares (pure): never a change that measures the import.

A card compares a period with another (previous, a month or a year earlier). When both have
data on every day, the whole periods are compared. When either has days without data — last
year's data starts in October, `mtd` includes a today without data yet, an import left a gap —
the change is computed over the days both sides have data for, each day paired with its
counterpart (the same calendar date a month or year earlier, or the same offset into the
previous period), or withheld when no day pairs up.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from datetime import date
from decimal import Decimal

from bot.kpi import KPI_BY_KEY, Economics, KpiValue, Totals, compare, compute_kpis, sum_totals
from bot.periods import Period, months_later
from bot.query import Compare


def comparison_period(period: Period, comparison: Compare) -> Period:
    """The period a card is compared with: like with like (see Period.previous)."""
    if comparison is Compare.YEAR:
        return period.year_ago()
    if comparison is Compare.MONTH:
        return period.month_ago()
    return period.previous()


def counterpart(period: Period, other: Period, comparison: Compare) -> Callable[[date], date]:
    """The day of `other` that a day of `period` is compared with."""
    if comparison is Compare.YEAR:
        return lambda d: months_later(d, -12)
    if comparison is Compare.MONTH:
        return lambda d: months_later(d, -1)
    return lambda d: other.start + (d - period.start)


def common_days(
    period: Period,
    other: Period,
    comparison: Compare,
    now_days: Collection[date],
    then_days: Collection[date],
) -> tuple[list[date], list[date]]:
    """(days of `period`, days of `other`) that both have data, paired by `counterpart`."""
    back = counterpart(period, other, comparison)
    then = set(then_days)
    current: list[date] = []
    previous: dict[date, None] = {}  # ordered, and Mar 29–31 → Feb 28 counts Feb 28 once
    for day in sorted(now_days):
        twin = back(day)
        if twin in then and other.contains(twin):
            current.append(day)
            previous[twin] = None
    return current, list(previous)


def sum_days(rows: Mapping[date, Totals], days: Collection[date]) -> Totals:
    return sum_totals(rows[d] for d in days if d in rows)


def _reported(totals: Totals, measure: str) -> bool:
    return measure == "spend_micros" or totals.complete(measure) is not None


def comparable_change(
    now: Totals, then: Totals, economics: Economics
) -> tuple[dict[str, KpiValue], dict[str, KpiValue], dict[str, Decimal | None]]:
    """KPIs of both sides and the change of each, undefined where either side lacks a
    measure the KPI needs on any of its days (a partly measured sum is no basis for a change).
    """
    now_kpis = compute_kpis(now, economics) if not now.is_empty else {}
    then_kpis = compute_kpis(then, economics) if not then.is_empty else {}
    keys = list(KPI_BY_KEY)
    now_kpis = {k: now_kpis.get(k) for k in keys}
    then_kpis = {k: then_kpis.get(k) for k in keys}
    change = compare(now_kpis, then_kpis)
    for key in keys:
        inputs = KPI_BY_KEY[key].inputs
        if not all(_reported(t, m) for t in (now, then) for m in inputs):
            change[key] = None
    return now_kpis, then_kpis, change
