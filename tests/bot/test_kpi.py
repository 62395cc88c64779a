from __future__ import annotations

from dataclasses import replace as _replace
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.kpi import (
    KPI_BY_KEY,
    KPIS,
    Economics,
    Good,
    Totals,
    Unit,
    absolute_change,
    compare,
    compute_kpis,
    is_improvement,
    relative_change,
    sum_totals,
)

M = 1_000_000  # micro-units per currency unit

# Hand-computed example: 10,000 impressions, 250 clicks, 20 leads, 50 conversions,
# 25 new customers, spend 500.00, revenue 1,500.00.
EXAMPLE = Totals(
    impressions=10_000,
    clicks=250,
    leads=20,
    conversions=50,
    new_customers=25,
    spend_micros=500 * M,
    revenue_micros=1_500 * M,
    days=3,
)

EXPECTED = {
    "spend": Decimal("500"),
    "impressions": 10_000,
    "clicks": 250,
    "ctr": Decimal("0.025"),  # 250 / 10,000
    "cpc": Decimal("2"),  # 500 / 250
    "cpm": Decimal("50"),  # 500 / 10,000 × 1000
    "leads": 20,
    "cpl": Decimal("25"),  # 500 / 20
    "conversions": 50,
    "cpa": Decimal("10"),  # 500 / 50
    "cvr": Decimal("0.2"),  # 50 / 250
    "revenue": Decimal("1500"),
    "roas": Decimal("3"),  # 1500 / 500
    "roi": Decimal("2"),  # (1500 − 500) / 500
    "aov": Decimal("30"),  # 1500 / 50
    "new_customers": 25,
    "cac": Decimal("20"),  # 500 / 25
    "ltv": Decimal("30"),  # AOV × 1 × 1
    "ltv_cac": Decimal("1.5"),  # 30 / 20
}

# Every ratio KPI and the base measure(s) its denominator is made of.
RATIO_DENOMINATORS = {
    "ctr": ("impressions",),
    "cpc": ("clicks",),
    "cpm": ("impressions",),
    "cpl": ("leads",),
    "cpa": ("conversions",),
    "cvr": ("clicks",),
    "roas": ("spend_micros",),
    "roi": ("spend_micros",),
    "aov": ("conversions",),
    "cac": ("new_customers",),
    "ltv": ("conversions",),
    "ltv_cac": ("new_customers",),
}

BRIEF_KEYS = {
    "spend",
    "impressions",
    "clicks",
    "leads",
    "conversions",
    "revenue",
    "new_customers",
    "ctr",
    "cpc",
    "cpm",
    "cpl",
    "cpa",
    "cvr",
    "roas",
    "roi",
    "aov",
    "cac",
    "ltv",
    "ltv_cac",
}


def test_every_kpi_of_the_brief_is_defined_once() -> None:
    assert {k.key for k in KPIS} == BRIEF_KEYS
    assert len(KPIS) == len(BRIEF_KEYS)


@pytest.mark.parametrize("key", sorted(EXPECTED))
def test_kpi_formula_on_hand_computed_totals(key: str) -> None:
    value = compute_kpis(EXAMPLE)[key]
    assert value == EXPECTED[key]
    assert type(value) is type(EXPECTED[key])


def test_money_kpis_keep_micro_unit_precision() -> None:
    totals = Totals(clicks=3, conversions=7, spend_micros=10_000_001, revenue_micros=1)
    kpis = compute_kpis(totals)
    assert kpis["spend"] == Decimal("10.000001")
    assert kpis["revenue"] == Decimal("0.000001")
    assert kpis["cpc"] == Decimal("10.000001") / 3
    assert kpis["cpa"] == Decimal("10.000001") / 7


@pytest.mark.parametrize("key", sorted(RATIO_DENOMINATORS))
def test_ratio_is_undefined_on_a_zero_denominator(key: str) -> None:
    zeroed = _replace(EXAMPLE, **dict.fromkeys(RATIO_DENOMINATORS[key], 0))
    assert compute_kpis(zeroed)[key] is None


def test_ratios_of_empty_totals_are_all_undefined_never_zero() -> None:
    kpis = compute_kpis(Totals())
    for key in RATIO_DENOMINATORS:
        assert kpis[key] is None, key
    assert kpis["spend"] == 0
    assert kpis["clicks"] is None  # nothing measured: unknown, not 0


def test_cpa_is_undefined_without_conversions() -> None:
    kpis = compute_kpis(Totals(impressions=1000, clicks=10, spend_micros=50 * M))
    assert kpis["cpa"] is None
    assert kpis["cpc"] == Decimal(5)


def test_zero_numerator_is_zero_not_undefined() -> None:
    kpis = compute_kpis(
        Totals(impressions=1000, clicks=10, conversions=2, spend_micros=50 * M, revenue_micros=0)
    )
    assert kpis["revenue"] == 0
    assert kpis["roas"] == 0
    assert kpis["aov"] == 0
    assert kpis["roi"] == -1


def test_roi_uses_the_gross_margin_when_configured() -> None:
    kpis = compute_kpis(EXAMPLE, Economics(gross_margin=Decimal("0.4")))
    # (1500 × 0.4 − 500) / 500
    assert kpis["roi"] == Decimal("0.2")
    assert compute_kpis(EXAMPLE, Economics(gross_margin=Decimal("0.25")))["roi"] == Decimal("-0.25")
    # ROAS is not affected by the margin
    assert kpis["roas"] == Decimal(3)


def test_ltv_and_ltv_cac_use_the_economics() -> None:
    economics = Economics(purchases_per_customer=Decimal(3), ltv_margin=Decimal("0.5"))
    kpis = compute_kpis(EXAMPLE, economics)
    assert kpis["ltv"] == Decimal(45)  # 30 × 3 × 0.5
    assert kpis["ltv_cac"] == Decimal("2.25")  # 45 / 20
    assert kpis["cac"] == Decimal(20)


def test_ltv_cac_is_undefined_without_new_customers_or_conversions() -> None:
    assert compute_kpis(_replace(EXAMPLE, new_customers=0))["ltv_cac"] is None
    assert compute_kpis(_replace(EXAMPLE, conversions=0))["ltv_cac"] is None
    assert compute_kpis(_replace(EXAMPLE, spend_micros=0))["ltv_cac"] is None


def test_default_economics_are_one_and_one() -> None:
    assert compute_kpis(EXAMPLE) == compute_kpis(EXAMPLE, Economics())
    assert Economics().purchases_per_customer == 1
    assert Economics().ltv_margin == 1
    assert Economics().gross_margin is None


def test_every_kpi_knows_its_direction_of_good() -> None:
    lower = {k.key for k in KPIS if k.good is Good.LOWER}
    assert lower == {"cpc", "cpm", "cpl", "cpa", "cac"}
    neither = {k.key for k in KPIS if k.good is Good.NEITHER}
    assert neither == {"spend"}
    assert is_improvement("spend", Decimal("0.5")) is None


def test_money_kpis_are_decimal() -> None:
    kpis = compute_kpis(EXAMPLE)
    for kpi in KPIS:
        if kpi.unit is Unit.MONEY:
            assert isinstance(kpis[kpi.key], Decimal), kpi.key
        if kpi.unit is Unit.COUNT:
            assert type(kpis[kpi.key]) is int, kpi.key


# --- changes ------------------------------------------------------------------------------------


def test_relative_change_is_against_the_previous_value() -> None:
    assert relative_change(Decimal(150), Decimal(100)) == Decimal("0.5")
    assert relative_change(50, 100) == Decimal("-0.5")
    assert relative_change(Decimal(-50), Decimal(-100)) == Decimal("0.5")


def test_relative_change_from_zero_or_undefined_is_undefined() -> None:
    assert relative_change(Decimal(5), Decimal(0)) is None
    assert relative_change(5, 0) is None
    assert relative_change(Decimal(5), None) is None
    assert relative_change(None, Decimal(5)) is None
    assert relative_change(0, 0) is None


def test_absolute_change() -> None:
    assert absolute_change(Decimal("12.5"), Decimal(10)) == Decimal("2.5")
    assert absolute_change(3, 5) == -2
    assert absolute_change(None, 5) is None
    assert absolute_change(5, None) is None


def test_compare_gives_the_change_of_every_kpi() -> None:
    current = compute_kpis(EXAMPLE)
    previous = compute_kpis(_replace(EXAMPLE, spend_micros=400 * M, conversions=0))
    change = compare(current, previous)
    assert set(change) == set(current)
    assert change["spend"] == Decimal("0.25")
    assert change["cpa"] is None  # previous CPA undefined
    assert change["clicks"] == 0


@pytest.mark.parametrize(
    ("key", "change", "expected"),
    [
        ("cpa", Decimal("-0.1"), True),
        ("cpa", Decimal("0.1"), False),
        ("cpc", Decimal("-0.5"), True),
        ("spend", Decimal("0.2"), None),
        ("roas", Decimal("0.1"), True),
        ("roas", Decimal("-0.1"), False),
        ("ctr", Decimal("0.01"), True),
        ("ltv_cac", Decimal("-1"), False),
        ("roas", Decimal(0), None),
        ("cpa", None, None),
    ],
)
def test_is_improvement_follows_the_direction_of_good(
    key: str, change: Decimal | None, expected: bool | None
) -> None:
    assert is_improvement(key, change) is expected


@pytest.mark.parametrize("kpi", KPIS, ids=lambda k: k.key)
def test_is_improvement_for_every_kpi(kpi: object) -> None:
    key = kpi.key  # type: ignore[attr-defined]
    up = is_improvement(key, Decimal("0.01"))
    down = is_improvement(key, Decimal("-0.01"))
    if KPI_BY_KEY[key].good is Good.NEITHER:
        assert up is None
        assert down is None
        return
    assert up is (KPI_BY_KEY[key].good is Good.HIGHER)
    assert down is (not up)


# --- properties ---------------------------------------------------------------------------------

counts = st.integers(min_value=0, max_value=10**9)
micros = st.integers(min_value=0, max_value=10**15)
totals_strategy = st.builds(
    Totals,
    impressions=counts,
    clicks=counts,
    leads=counts,
    conversions=counts,
    new_customers=counts,
    spend_micros=micros,
    revenue_micros=micros,
    days=st.integers(min_value=0, max_value=400),
)


def _close(value: Decimal, exact: Fraction) -> bool:
    """Decimal division rounds to 28 significant digits; allow exactly that much."""
    return abs(Fraction(value) - exact) <= abs(exact) * Fraction(1, 10**26)


@given(st.lists(totals_strategy, min_size=1, max_size=8))
def test_kpi_of_summed_totals_is_the_ratio_of_sums(days: list[Totals]) -> None:
    kpis = compute_kpis(sum_totals(days))
    spend = Fraction(sum(t.spend_micros for t in days), M)
    revenue = Fraction(sum(t.revenue_micros for t in days), M)
    clicks = sum(t.clicks for t in days)
    impressions = sum(t.impressions for t in days)
    conversions = sum(t.conversions for t in days)
    leads = sum(t.leads for t in days)
    new_customers = sum(t.new_customers for t in days)
    ratios = {
        "cpa": (spend, conversions),
        "cpc": (spend, clicks),
        "cpm": (spend * 1000, impressions),
        "cpl": (spend, leads),
        "ctr": (Fraction(clicks), impressions),
        "cvr": (Fraction(conversions), clicks),
        "roas": (revenue, spend),
        "aov": (revenue, conversions),
        "cac": (spend, new_customers),
    }
    for key, (numerator, denominator) in ratios.items():
        value = kpis[key]
        if denominator == 0:
            assert value is None, key
        else:
            assert isinstance(value, Decimal)
            assert _close(value, numerator / denominator), key
    assert kpis["spend"] == Decimal(sum(t.spend_micros for t in days)) / M
    assert kpis["conversions"] == conversions


def test_kpi_of_a_period_is_not_the_mean_of_daily_kpis() -> None:
    day1 = Totals(conversions=1, spend_micros=100 * M, days=1)  # CPA 100
    day2 = Totals(conversions=100, spend_micros=100 * M, days=1)  # CPA 1
    period = compute_kpis(day1 + day2)["cpa"]
    mean_of_days = (compute_kpis(day1)["cpa"] + compute_kpis(day2)["cpa"]) / 2  # type: ignore[operator]
    assert mean_of_days == Decimal("50.5")
    assert period == Decimal(200) / Decimal(101)  # ≈ 1.98
    assert period != mean_of_days


@given(totals_strategy, totals_strategy, totals_strategy)
def test_totals_addition_is_associative_and_commutative(a: Totals, b: Totals, c: Totals) -> None:
    assert a + b == b + a
    assert (a + b) + c == a + (b + c)
    assert a + Totals() == a
    assert sum_totals([a, b, c]) == sum_totals([c, a, b])


@given(totals_strategy, st.none() | st.decimals(min_value=Decimal("0.01"), max_value=1, places=2))
def test_no_float_anywhere(totals: Totals, margin: Decimal | None) -> None:
    kpis = compute_kpis(totals, Economics(gross_margin=margin))
    for key, value in kpis.items():
        assert not isinstance(value, float), key
        assert value is None or isinstance(value, Decimal | int), key
        if KPI_BY_KEY[key].unit is Unit.MONEY:
            assert value is None or isinstance(value, Decimal), key
    for value in compare(kpis, kpis).values():
        assert value is None or isinstance(value, Decimal)


# --------------------------------------------------------------------------- unmeasured


def test_an_unmeasured_measure_is_unknown_and_so_is_every_kpi_that_needs_it() -> None:
    kpis = compute_kpis(Totals(impressions=1000, clicks=10, spend_micros=50 * M, days=2))
    for key in ("revenue", "roas", "roi", "aov", "ltv", "ltv_cac", "leads", "cpl", "cpa"):
        assert kpis[key] is None, key
    assert kpis["cpc"] == 5  # spend and clicks are measured
    assert kpis["ctr"] == Decimal("0.01")


def test_a_measure_reported_on_some_days_sums_what_was_reported_but_feeds_no_ratio() -> None:
    reported = Totals(leads=4, clicks=10, spend_micros=100 * M, days=1)
    silent = Totals(clicks=10, spend_micros=100 * M, days=1)  # no leads column that day
    total = reported + silent
    assert total.leads == 4
    assert total.measured_days("leads") == 1
    assert total.measured_days("clicks") == 2
    assert total.partly_measured == ("leads",)
    assert total.complete("leads") is None
    kpis = compute_kpis(total)
    assert kpis["leads"] == 4
    assert kpis["cpl"] is None  # 200 of spend against leads of one day would be 50, not 25
    assert kpis["cpc"] == 10


def test_a_measured_zero_is_zero_not_unknown() -> None:
    kpis = compute_kpis(Totals(clicks=10, spend_micros=100 * M, revenue_micros=0, days=1))
    assert kpis["revenue"] == 0
    assert kpis["roas"] == 0
    assert kpis["roi"] == -1


optional_counts = st.none() | counts
partial_totals = st.builds(
    lambda days, values, revenue, spend: Totals(
        *values,
        spend_micros=spend,
        revenue_micros=revenue,
        days=days,
    ),
    st.integers(min_value=1, max_value=400),
    st.tuples(optional_counts, optional_counts, optional_counts, optional_counts, optional_counts),
    st.none() | micros,
    micros,
)


@given(st.lists(partial_totals, min_size=1, max_size=6))
def test_sums_of_partly_measured_totals_say_how_much_is_measured(parts: list[Totals]) -> None:
    total = sum_totals(parts)
    assert total.days == sum(p.days for p in parts)
    for measure in ("impressions", "clicks", "leads", "conversions", "new_customers"):
        reported = [getattr(p, measure) for p in parts if getattr(p, measure) is not None]
        assert getattr(total, measure) == (sum(reported) if reported else None)
        assert total.measured_days(measure) == sum(p.measured_days(measure) for p in parts)
        assert 0 <= total.measured_days(measure) <= total.days
        fully = all(getattr(p, measure) is not None for p in parts)
        assert (total.complete(measure) is not None) == fully
    assert sum_totals(reversed(parts)) == total
