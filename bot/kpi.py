"""KPI definitions and exact math: ratios of sums, undefined on a zero denominator."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import Enum
from typing import TypeVar, cast

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


MEASURES: tuple[str, ...] = (
    "impressions",
    "clicks",
    "leads",
    "conversions",
    "new_customers",
    "revenue_micros",
)
"""Measures a source may not report (None: unknown). Spend is always reported."""


Number = int | Decimal
"""A summed measure: impressions, clicks and micro-units are int; leads, conversions and new
customers are Decimal (data-driven attribution credits 2.5 conversions)."""


_N = TypeVar("_N", int, Decimal)


def _add(a: _N | None, b: _N | None) -> _N | None:
    if a is None:
        return b
    return a if b is None else a + b


@dataclass(frozen=True, slots=True)
class Totals:
    """Summed base measures of one scope over one period, in one currency.

    A measure is None when no day of the period measured it. `days` counts the rows (campaign
    days) summed; `measured` counts, per measure in MEASURES order, the rows that reported it,
    so a sum says how much of the period it covers. Left out, `measured` is taken to be `days`
    for every measure that has a value.
    """

    impressions: int | None = None
    clicks: int | None = None
    leads: Decimal | None = None
    conversions: Decimal | None = None
    new_customers: Decimal | None = None
    spend_micros: int = 0
    revenue_micros: int | None = None
    days: int = 0
    measured: tuple[int, ...] | None = None

    def __post_init__(self) -> None:
        if self.measured is None:
            derived = tuple(0 if getattr(self, m) is None else self.days for m in MEASURES)
            object.__setattr__(self, "measured", derived)

    def __add__(self, other: Totals) -> Totals:
        return Totals(
            impressions=_add(self.impressions, other.impressions),
            clicks=_add(self.clicks, other.clicks),
            leads=_add(self.leads, other.leads),
            conversions=_add(self.conversions, other.conversions),
            new_customers=_add(self.new_customers, other.new_customers),
            spend_micros=self.spend_micros + other.spend_micros,
            revenue_micros=_add(self.revenue_micros, other.revenue_micros),
            days=self.days + other.days,
            measured=tuple(
                a + b for a, b in zip(self.days_measured, other.days_measured, strict=True)
            ),
        )

    @property
    def days_measured(self) -> tuple[int, ...]:
        assert self.measured is not None  # set in __post_init__
        return self.measured

    def measured_days(self, measure: str) -> int:
        """Rows that reported `measure` (spend: every row)."""
        if measure == "spend_micros":
            return self.days
        return self.days_measured[MEASURES.index(measure)]

    def complete(self, measure: str) -> Number | None:
        """The measure's sum when every row reported it; None when any row did not."""
        value: Number | None = getattr(self, measure)
        if value is None or self.measured_days(measure) < self.days:
            return None
        return value

    @property
    def partly_measured(self) -> tuple[str, ...]:
        """Measures reported on some rows but not all: their sums cover less than the period."""
        return tuple(
            m for m, n in zip(MEASURES, self.days_measured, strict=True) if 0 < n < self.days
        )

    @property
    def unmeasured(self) -> tuple[str, ...]:
        """Measures no row reported."""
        return tuple(m for m in MEASURES if getattr(self, m) is None)

    @property
    def spend(self) -> Decimal:
        return from_micros(self.spend_micros)

    @property
    def revenue(self) -> Decimal | None:
        """Revenue when every row reported it (an input to ROAS, ROI, AOV, LTV)."""
        micros = self.complete("revenue_micros")
        return None if micros is None else from_micros(int(micros))

    @property
    def is_empty(self) -> bool:
        return self.days == 0


def sum_totals(items: Iterable[Totals]) -> Totals:
    """Add up totals (of one currency): the same as `+`, in one pass without the
    intermediate objects (digests add up thousands of campaigns)."""
    values: list[Number | None] = [None] * len(MEASURES)
    measured = [0] * len(MEASURES)
    spend = days = 0
    for item in items:
        spend += item.spend_micros
        days += item.days
        for i, (measure, count) in enumerate(zip(MEASURES, item.days_measured, strict=True)):
            value = getattr(item, measure)
            if value is not None:
                before = values[i]
                values[i] = value if before is None else before + value
            measured[i] += count
    impressions, clicks, leads, conversions, new_customers, revenue = values
    return Totals(
        cast("int | None", impressions),
        cast("int | None", clicks),
        cast("Decimal | None", leads),
        cast("Decimal | None", conversions),
        cast("Decimal | None", new_customers),
        spend,
        cast("int | None", revenue),
        days,
        tuple(measured),
    )


@dataclass(frozen=True, slots=True)
class Economics:
    """Business assumptions for ROI and LTV (BRIEF §2); defaults are 1 and 1."""

    gross_margin: Decimal | None = None
    purchases_per_customer: Decimal = Decimal(1)
    ltv_margin: Decimal = Decimal(1)


KpiValue = Decimal | int | None


def _div(numerator: Decimal | int | None, denominator: Decimal | int | None) -> Decimal | None:
    """numerator / denominator; undefined on a zero or unknown side."""
    if numerator is None or denominator is None or denominator == 0:
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
    inputs: tuple[str, ...] = ()
    """The measures it is computed from (spend_micros, MEASURES): for "revenue not measured"."""


# Ratios use a measure only when every row reported it (Totals.complete): a CPL over three days
# of spend and one day of leads would look three times worse than it is. A measure on its own
# is the sum of the rows that reported it; its coverage is in Totals.measured.


def _full(t: Totals, measure: str) -> Number | None:
    return t.complete(measure)


def _money(micros: int | None) -> Decimal | None:
    return None if micros is None else from_micros(micros)


def _roi(t: Totals, e: Economics) -> Decimal | None:
    revenue_micros = t.complete("revenue_micros")
    if t.spend_micros == 0 or revenue_micros is None:
        return None
    revenue = Decimal(revenue_micros)
    if e.gross_margin is not None:
        revenue = revenue * e.gross_margin
    return (revenue - Decimal(t.spend_micros)) / Decimal(t.spend_micros)


def _aov(t: Totals, e: Economics) -> Decimal | None:
    return _div(t.revenue, _full(t, "conversions"))


def _ltv(t: Totals, e: Economics) -> Decimal | None:
    aov = _aov(t, e)
    if aov is None:
        return None
    return aov * e.purchases_per_customer * e.ltv_margin


def _ltv_cac(t: Totals, e: Economics) -> Decimal | None:
    ltv = _ltv(t, e)
    cac = _div(t.spend, _full(t, "new_customers"))
    if ltv is None or cac is None:
        return None
    return _div(ltv, cac)


_SPEND = "spend_micros"
_REV = "revenue_micros"

KPIS: tuple[Kpi, ...] = (
    # More spend is neither good nor bad on its own: its arrow is never coloured.
    Kpi("spend", "Spend", Unit.MONEY, Good.NEITHER, lambda t, e: t.spend, (_SPEND,)),
    Kpi(
        "impressions",
        "Impressions",
        Unit.COUNT,
        Good.HIGHER,
        lambda t, e: t.impressions,
        ("impressions",),
    ),
    Kpi("clicks", "Clicks", Unit.COUNT, Good.HIGHER, lambda t, e: t.clicks, ("clicks",)),
    Kpi(
        "ctr",
        "CTR",
        Unit.PERCENT,
        Good.HIGHER,
        lambda t, e: _div(_full(t, "clicks"), _full(t, "impressions")),
        ("clicks", "impressions"),
    ),
    Kpi(
        "cpc",
        "CPC",
        Unit.MONEY,
        Good.LOWER,
        lambda t, e: _div(t.spend, _full(t, "clicks")),
        (_SPEND, "clicks"),
    ),
    Kpi(
        "cpm",
        "CPM",
        Unit.MONEY,
        Good.LOWER,
        lambda t, e: _div(t.spend * 1000, _full(t, "impressions")),
        (_SPEND, "impressions"),
    ),
    Kpi("leads", "Leads", Unit.COUNT, Good.HIGHER, lambda t, e: t.leads, ("leads",)),
    Kpi(
        "cpl",
        "CPL",
        Unit.MONEY,
        Good.LOWER,
        lambda t, e: _div(t.spend, _full(t, "leads")),
        (_SPEND, "leads"),
    ),
    Kpi(
        "conversions",
        "Conversions",
        Unit.COUNT,
        Good.HIGHER,
        lambda t, e: t.conversions,
        ("conversions",),
    ),
    Kpi(
        "cpa",
        "CPA",
        Unit.MONEY,
        Good.LOWER,
        lambda t, e: _div(t.spend, _full(t, "conversions")),
        (_SPEND, "conversions"),
    ),
    Kpi(
        "cvr",
        "Conv. rate",
        Unit.PERCENT,
        Good.HIGHER,
        lambda t, e: _div(_full(t, "conversions"), _full(t, "clicks")),
        ("conversions", "clicks"),
    ),
    Kpi(
        "revenue",
        "Revenue",
        Unit.MONEY,
        Good.HIGHER,
        lambda t, e: _money(t.revenue_micros),
        (_REV,),
    ),
    Kpi(
        "roas",
        "ROAS",
        Unit.MULTIPLE,
        Good.HIGHER,
        lambda t, e: _div(t.revenue, t.spend),
        (_REV, _SPEND),
    ),
    Kpi("roi", "ROI", Unit.PERCENT, Good.HIGHER, _roi, (_REV, _SPEND)),
    Kpi("aov", "AOV", Unit.MONEY, Good.HIGHER, _aov, (_REV, "conversions")),
    Kpi(
        "new_customers",
        "New customers",
        Unit.COUNT,
        Good.HIGHER,
        lambda t, e: t.new_customers,
        ("new_customers",),
    ),
    Kpi(
        "cac",
        "CAC",
        Unit.MONEY,
        Good.LOWER,
        lambda t, e: _div(t.spend, _full(t, "new_customers")),
        (_SPEND, "new_customers"),
    ),
    Kpi("ltv", "LTV", Unit.MONEY, Good.HIGHER, _ltv, (_REV, "conversions")),
    Kpi(
        "ltv_cac",
        "LTV:CAC",
        Unit.RATIO,
        Good.HIGHER,
        _ltv_cac,
        (_REV, "conversions", _SPEND, "new_customers"),
    ),
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
