from datetime import date
from decimal import Decimal

from bot.alerts.evaluate import Undecided, baseline_days, evaluate, window_days
from bot.alerts.rules import parse_rule
from bot.kpi import Totals

M = 1_000_000
NO_GUARD = " min spend 0 min clicks 0"


def day(spend: int, revenue: int | None, clicks: int | None = 100, days: int = 1) -> Totals:
    return Totals(
        clicks=clicks,
        spend_micros=spend * M,
        revenue_micros=None if revenue is None else revenue * M,
        days=days,
    )


def rule(text: str):
    return parse_rule(text.split())


def judge(text: str, window: Totals, baseline: Totals | None = None, daily: int = 0):
    return evaluate(rule(text), window, baseline, Decimal(daily))


def test_roi_from_half_to_a_fifth_drops_60_percent_and_fires_a_30_percent_rule():
    # 7 days: spend 700, revenue 1050 → ROI 0.5; yesterday: spend 100, revenue 120 → ROI 0.2
    result = judge("all roi drops 30%", day(100, 120), day(700, 1050, 700, days=7))
    assert result.value == Decimal("0.2") and result.baseline == Decimal("0.5")
    assert result.change == Decimal(-60)
    assert result.breached is True
    # per-day baseline: revenue 150, spend 100 → revenue −20 %, spend ±0 %
    assert result.explanation == "ROI −60 % vs 7-day avg: revenue −20 %, spend ±0 %"


def test_a_negative_baseline_makes_a_relative_change_undefined():
    # baseline: spend 100, revenue 90 → ROI −0.1
    result = judge("all roi drops 30% vs previous day", day(100, 10), day(100, 90))
    assert result.breached is None and result.undecided is Undecided.UNDEFINED


def test_pp_compares_percentage_points():
    # ROI 0.40 → 0.10 is −30 pp
    result = judge("all roi drops 30 pp vs previous day", day(100, 110), day(100, 140))
    assert result.change == Decimal(-30) and result.breached is True


def test_a_change_just_short_of_the_amount_does_not_breach():
    result = judge("all roi drops 30 pp vs previous day", day(100, 111), day(100, 140))
    assert result.breached is False


def test_thresholds():
    assert judge("all roi < 0", day(100, 90)).breached is True
    assert judge("all roi < 0", day(100, 100)).breached is False
    assert judge("all roi <= 0", day(100, 100)).breached is True
    cpa = judge("all cpa > 40", Totals(clicks=50, conversions=2, spend_micros=100 * M, days=1))
    assert (
        cpa.breached is True and cpa.explanation == "CPA 50.00 > 40.00: spend 100.00, conversions 2"
    )


def test_unmeasured_revenue_is_undecided_not_zero():
    result = judge("all roi < 0", day(100, None))
    assert result.breached is None and result.undecided is Undecided.UNMEASURED


def test_volume_guard_holds_tiny_spend_and_unknown_clicks():
    # scope averages 1,000 a day over 28 days: the default floor is 10
    assert judge("all roi < 0", day(9, 0), daily=1000).undecided is Undecided.LOW_VOLUME
    assert judge("all roi < 0", day(10, 0), daily=1000).breached is True
    assert judge("all roi < 0", day(10, 0, clicks=19), daily=1000).breached is None
    assert judge("all roi < 0", day(10, 0, clicks=None), daily=1000).breached is None
    assert judge("all roi < 0 min clicks 0", day(10, 0, clicks=None)).breached is True
    assert judge("all roi < 0", Totals()).undecided is Undecided.LOW_VOLUME


def test_a_sum_is_compared_with_the_daily_average():
    # 28 days of spend 2,800 → 100 a day; yesterday 50 → −50 %
    result = judge("all spend drops 40% vs 28-day average" + NO_GUARD, day(50, 0), day(2800, 0))
    assert result.baseline == Decimal(100) and result.breached is True


def test_no_baseline_rows_is_undefined():
    assert judge("all roi drops 30%", day(100, 10), Totals()).breached is None


def test_windows_and_baselines():
    d = date(2025, 3, 10)
    seven = rule("all roi drops 30% vs previous day over 7d")
    assert window_days(seven, d) == (date(2025, 3, 4), d)
    assert baseline_days(seven, d) == (date(2025, 2, 25), date(2025, 3, 3))
    avg = rule("all roi drops 30%")
    assert baseline_days(avg, d) == (date(2025, 3, 3), date(2025, 3, 9))
    week = rule("all roi drops 30% vs same day last week")
    assert baseline_days(week, d) == (date(2025, 3, 3), date(2025, 3, 3))
    assert baseline_days(rule("all roi < 0"), d) is None
