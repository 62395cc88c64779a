"""KPI definitions and exact math: ratios of sums, undefined on a zero denominator."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import Enum

from bot.money import from_micros


class Good(Enum):
    """Which direction of change is good for a KPI."""

    HIGHER = "higher"
    LOWER = "lower"
    NEITHER = "neither"


class Unit(Enum):
    """How a KPI value is shown."""

    COUNT = "count"
    MONEY = "money"
    PERCENT = "percent"
    MULTIPLE = "multiple"
    RATIO = "ratio"


@dataclass(frozen=True, slots=True)
class Totals:
    """Summed base measures of one scope over one period, in one currency."""

    impressions: int = 0
    clicks: int = 0
    leads: int = 0
    conversions: int = 0
    new_customers: int = 0
    spend_micros: int = 0
    revenue_micros: int = 0
    days: int = 0

    def __add__(self, other: Totals) -> Totals:
        return Totals(
            impressions=self.impressions + other.impressions,
            clicks=self.clicks + other.clicks,
            leads=self.leads + other.leads,
            conversions=self.conversions + other.conversions,
            new_customers=self.new_customers + other.new_customers,
            spend_micros=self.spend_micros + other.spend_micros,
            revenue_micros=self.revenue_micros + other.revenue_micros,
            days=self.days + other.days,
        )

    @property
    def spend(self) -> Decimal:
        return from_micros(self.spend_micros)

    @property
    def revenue(self) -> Decimal:
        return from_micros(self.revenue_micros)

    @property
    def is_empty(self) -> bool:
        return self.days == 0


def sum_totals(items: Iterable[Totals]) -> Totals:
    """Add up totals (of one currency)."""
    total = Totals()
    for item in items:
        total = total + item
    return total


@dataclass(frozen=True, slots=True)
class Economics:
    """Business assumptions for ROI and LTV (BRIEF §2); defaults are 1 and 1."""

    gross_margin: Decimal | None = None
    purchases_per_customer: Decimal = Decimal(1)
    ltv_margin: Decimal = Decimal(1)


KpiValue = Decimal | int | None


def _div(numerator: Decimal | int, denominator: Decimal | int) -> Decimal | None:
    if denominator == 0:
        return None
    return Decimal(numerator) / Decimal(denominator)


@dataclass(frozen=True, slots=True)
class Kpi:
    """One KPI: its canonical key, label, unit, direction of good and formula."""

    key: str
    label: str
    unit: Unit
    good: Good
    compute: Callable[[Totals, Economics], KpiValue] = field(repr=False)


def _roi(t: Totals, e: Economics) -> Decimal | None:
    if t.spend_micros == 0:
        return None
    revenue = Decimal(t.revenue_micros)
    if e.gross_margin is not None:
        revenue = revenue * e.gross_margin
    return (revenue - Decimal(t.spend_micros)) / Decimal(t.spend_micros)


def _ltv(t: Totals, e: Economics) -> Decimal | None:
    aov = _div(t.revenue, t.conversions)
    if aov is None:
        return None
    return aov * e.purchases_per_customer * e.ltv_margin


def _ltv_cac(t: Totals, e: Economics) -> Decimal | None:
    ltv = _ltv(t, e)
    cac = _div(t.spend, t.new_customers)
    if ltv is None or cac is None:
        return None
    return _div(ltv, cac)


KPIS: tuple[Kpi, ...] = (
    # More spend is neither good nor bad on its own: its arrow is never coloured.
    Kpi("spend", "Spend", Unit.MONEY, Good.NEITHER, lambda t, e: t.spend),
    Kpi("impressions", "Impressions", Unit.COUNT, Good.HIGHER, lambda t, e: t.impressions),
    Kpi("clicks", "Clicks", Unit.COUNT, Good.HIGHER, lambda t, e: t.clicks),
    Kpi("ctr", "CTR", Unit.PERCENT, Good.HIGHER, lambda t, e: _div(t.clicks, t.impressions)),
    Kpi("cpc", "CPC", Unit.MONEY, Good.LOWER, lambda t, e: _div(t.spend, t.clicks)),
    Kpi(
        "cpm",
        "CPM",
        Unit.MONEY,
        Good.LOWER,
        lambda t, e: _div(t.spend * 1000, t.impressions),
    ),
    Kpi("leads", "Leads", Unit.COUNT, Good.HIGHER, lambda t, e: t.leads),
    Kpi("cpl", "CPL", Unit.MONEY, Good.LOWER, lambda t, e: _div(t.spend, t.leads)),
    Kpi("conversions", "Conversions", Unit.COUNT, Good.HIGHER, lambda t, e: t.conversions),
    Kpi("cpa", "CPA", Unit.MONEY, Good.LOWER, lambda t, e: _div(t.spend, t.conversions)),
    Kpi("cvr", "Conv. rate", Unit.PERCENT, Good.HIGHER, lambda t, e: _div(t.conversions, t.clicks)),
    Kpi("revenue", "Revenue", Unit.MONEY, Good.HIGHER, lambda t, e: t.revenue),
    Kpi("roas", "ROAS", Unit.MULTIPLE, Good.HIGHER, lambda t, e: _div(t.revenue, t.spend)),
    Kpi("roi", "ROI", Unit.PERCENT, Good.HIGHER, _roi),
    Kpi("aov", "AOV", Unit.MONEY, Good.HIGHER, lambda t, e: _div(t.revenue, t.conversions)),
    Kpi("new_customers", "New customers", Unit.COUNT, Good.HIGHER, lambda t, e: t.new_customers),
    Kpi("cac", "CAC", Unit.MONEY, Good.LOWER, lambda t, e: _div(t.spend, t.new_customers)),
    Kpi("ltv", "LTV", Unit.MONEY, Good.HIGHER, _ltv),
    Kpi("ltv_cac", "LTV:CAC", Unit.RATIO, Good.HIGHER, _ltv_cac),
)

KPI_BY_KEY: Mapping[str, Kpi] = {k.key: k for k in KPIS}


def compute_kpis(totals: Totals, economics: Economics | None = None) -> dict[str, KpiValue]:
    """Every KPI of BRIEF §2 for these totals, keyed by canonical key."""
    econ = economics or Economics()
    return {k.key: k.compute(totals, econ) for k in KPIS}


def relative_change(current: KpiValue, previous: KpiValue) -> Decimal | None:
    """(current − previous) / |previous|; undefined from an undefined or zero base."""
    if current is None or previous is None or previous == 0:
        return None
    return (Decimal(current) - Decimal(previous)) / abs(Decimal(previous))


def absolute_change(current: KpiValue, previous: KpiValue) -> Decimal | None:
    """current − previous; undefined when either side is undefined."""
    if current is None or previous is None:
        return None
    return Decimal(current) - Decimal(previous)


def compare(
    current: Mapping[str, KpiValue], previous: Mapping[str, KpiValue]
) -> dict[str, Decimal | None]:
    """Relative change of every KPI key present in both mappings."""
    return {key: relative_change(current[key], previous.get(key)) for key in current}


def is_improvement(key: str, change: Decimal | None) -> bool | None:
    """Whether a change is good for this KPI; None when flat or undefined."""
    kpi = KPI_BY_KEY[key]
    if change is None or change == 0 or kpi.good is Good.NEITHER:
        return None
    return (change > 0) == (kpi.good is Good.HIGHER)
