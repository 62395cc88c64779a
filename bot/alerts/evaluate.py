"""Whether a rule breaches for one campaign: pure arithmetic on the window's and the baseline's
Totals, undecided (None) on missing measures, tiny volume or an undefined baseline."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from enum import Enum

from bot.alerts.rules import (
    DEFAULT_MIN_CLICKS,
    DEFAULT_MIN_SPEND_SHARE,
    AlertRule,
    Baseline,
    Change,
    Direction,
    Threshold,
)
from bot.kpi import KPI_BY_KEY, Economics, Kpi, KpiValue, Totals, Unit
from bot.money import from_micros

_HUNDRED = Decimal(100)
_SHORT_BASELINE = {
    Baseline.PREVIOUS_DAY: "previous day",
    Baseline.SAME_DAY_LAST_WEEK: "same day last week",
    Baseline.AVG_7D: "7-day avg",
    Baseline.AVG_28D: "28-day avg",
}


class Undecided(Enum):
    """Why an evaluation cannot say breach or not: it neither fires nor resolves."""

    LOW_VOLUME = "low_volume"
    UNMEASURED = "unmeasured"
    UNDEFINED = "undefined"


@dataclass(frozen=True, slots=True)
class InputChange:
    """One input of the KPI (a measure of bot.kpi): relative change vs the scaled baseline."""

    measure: str
    change: Decimal | None


@dataclass(frozen=True, slots=True)
class Evaluation:
    """The KPI's value, its baseline (scaled to the window), the verdict and a computed why.

    `change` is in the rule's unit (30 = 30 % or 30 pp); `breached` None means cannot say,
    and `undecided` says why.
    """

    value: KpiValue
    baseline: KpiValue
    breached: bool | None
    explanation: str
    undecided: Undecided | None = None
    change: Decimal | None = None
    inputs: tuple[InputChange, ...] = ()


def window_days(rule: AlertRule, day: date) -> tuple[date, date]:
    """First and last day of the evaluation window ending on the evaluated day."""
    return day - timedelta(days=rule.window - 1), day


def baseline_days(rule: AlertRule, day: date) -> tuple[date, date] | None:
    """First and last day of a change rule's baseline: the window before, the window a week
    earlier, or the 7 / 28 days before the window. None for a threshold."""
    if not isinstance(rule.condition, Change):
        return None
    start, _ = window_days(rule, day)
    if rule.condition.baseline is Baseline.SAME_DAY_LAST_WEEK:
        return start - timedelta(days=7), day - timedelta(days=7)
    return start - timedelta(days=_baseline_length(rule)), start - timedelta(days=1)


def _baseline_length(rule: AlertRule) -> int:
    assert isinstance(rule.condition, Change)
    averages = {Baseline.AVG_7D: 7, Baseline.AVG_28D: 28}
    return averages.get(rule.condition.baseline, rule.window)


def min_spend(rule: AlertRule, scope_daily_spend_28d: Decimal) -> Decimal:
    """The window's spend needed to judge: the rule's, or 1 % of the scope's 28-day daily
    average per day of the window."""
    if rule.min_spend is not None:
        return rule.min_spend
    return scope_daily_spend_28d * DEFAULT_MIN_SPEND_SHARE * rule.window


def evaluate(
    rule: AlertRule,
    window: Totals,
    baseline: Totals | None,
    scope_daily_spend_28d: Decimal,
    economics: Economics | None = None,
) -> Evaluation:
    """Judge one campaign: `window` sums the window's days, `baseline` the baseline_days."""
    kpi = KPI_BY_KEY[rule.kpi]
    econ = economics or Economics()
    held = _volume(rule, kpi, window, scope_daily_spend_28d)
    if held is not None:
        return held
    value = kpi.compute(window, econ)
    if value is None:
        return _undecided(Undecided.UNDEFINED, f"{kpi.label} is undefined (zero denominator)")
    if isinstance(rule.condition, Threshold):
        return _threshold(kpi, rule.condition, value, window)
    return _change(rule, kpi, rule.condition, value, window, baseline, econ)


def _undecided(reason: Undecided, why: str, value: KpiValue = None) -> Evaluation:
    return Evaluation(value, None, None, why, reason)


def _unmeasured(kpi: Kpi, totals: Totals) -> list[str]:
    return [m for m in kpi.inputs if m != "spend_micros" and totals.complete(m) is None]


def _volume(
    rule: AlertRule, kpi: Kpi, window: Totals, scope_daily_spend_28d: Decimal
) -> Evaluation | None:
    """Undecided when the window is empty, misses an input, or has too little volume."""
    if window.is_empty:
        return _undecided(Undecided.LOW_VOLUME, "no activity in the window")
    missing = _unmeasured(kpi, window)
    if missing:
        names = ", ".join(_measure_name(m) for m in missing)
        return _undecided(Undecided.UNMEASURED, f"{names} not measured for the whole window")
    floor = min_spend(rule, scope_daily_spend_28d)
    if window.spend < floor:
        why = f"not enough volume: spend {_num(window.spend)} < min {_num(floor)}"
        return _undecided(Undecided.LOW_VOLUME, why)
    min_clicks = DEFAULT_MIN_CLICKS if rule.min_clicks is None else rule.min_clicks
    clicks = window.complete("clicks")
    if min_clicks > 0 and (clicks is None or clicks < min_clicks):
        got = "unknown" if clicks is None else str(clicks)
        why = f"not enough volume: clicks {got} < min {min_clicks}"
        return _undecided(Undecided.LOW_VOLUME, why)
    return None


def _threshold(kpi: Kpi, cond: Threshold, value: KpiValue, window: Totals) -> Evaluation:
    assert value is not None
    v = Decimal(value)
    breached = {
        "<": v < cond.value,
        "<=": v <= cond.value,
        ">": v > cond.value,
        ">=": v >= cond.value,
    }[cond.op]
    inputs = ", ".join(f"{_measure_name(m)} {_measure_value(m, window)}" for m in kpi.inputs)
    why = f"{kpi.label} {_format(kpi, v)} {cond.op} {_format(kpi, cond.value)}: {inputs}"
    return Evaluation(value, None, breached, why)


def _per_window(rule: AlertRule, value: KpiValue) -> Decimal:
    """A baseline sum per window length: a 7-day average of a sum is a seventh of the sum
    (multiplied before dividing, so 2,800 over 28 days is exactly 100 a day)."""
    assert value is not None
    return Decimal(value) * rule.window / _baseline_length(rule)


def _change(
    rule: AlertRule,
    kpi: Kpi,
    cond: Change,
    value: KpiValue,
    window: Totals,
    baseline: Totals | None,
    econ: Economics,
) -> Evaluation:
    assert value is not None
    vs = _SHORT_BASELINE[cond.baseline]
    if baseline is None or baseline.is_empty:
        return _undecided(Undecided.UNDEFINED, f"no {vs} to compare with", value)
    missing = _unmeasured(kpi, baseline)
    if missing:
        names = ", ".join(_measure_name(m) for m in missing)
        return _undecided(Undecided.UNMEASURED, f"{names} not measured for the {vs}", value)
    base = kpi.compute(baseline, econ)
    if base is not None and len(kpi.inputs) == 1:  # a sum, not a ratio: per window length
        base = _per_window(rule, base)
    now = Decimal(value)
    if base is None or (cond.unit == "%" and base <= 0):
        shown = "undefined" if base is None else _format(kpi, Decimal(base))
        why = f"{kpi.label} {vs} is {shown}: a relative change from it is undefined"
        return Evaluation(value, base, None, why, Undecided.UNDEFINED)
    # pp: ROI 0.40 → 0.10 is −30 pp; %: the same is −75 %.
    change = (now - base) * _HUNDRED if cond.unit == "pp" else (now - base) / base * _HUNDRED
    breached = (
        change <= -cond.amount if cond.direction is Direction.DROPS else change >= cond.amount
    )
    inputs = tuple(InputChange(m, _relative(rule, window, baseline, m)) for m in kpi.inputs)
    parts = ", ".join(f"{_measure_name(i.measure)} {_signed(i.change, '%')}" for i in inputs)
    why = f"{kpi.label} {_signed(change, cond.unit)} vs {vs}: {parts}"
    return Evaluation(value, base, breached, why, None, change, inputs)


def _relative(rule: AlertRule, window: Totals, baseline: Totals, measure: str) -> Decimal | None:
    now = window.complete(measure)
    before = baseline.complete(measure)
    if now is None or before is None or before == 0:
        return None
    base = _per_window(rule, before)
    return (Decimal(now) - base) / base * _HUNDRED


def _measure_name(measure: str) -> str:
    return measure.removesuffix("_micros").replace("_", " ")


def _measure_value(measure: str, totals: Totals) -> str:
    value = totals.complete(measure)
    if value is None:
        return "—"
    if measure.endswith("_micros"):
        return _num(from_micros(int(value)))
    return _trim(Decimal(value))


def _num(value: Decimal) -> str:
    return f"{value:.2f}"


def _format(kpi: Kpi, value: Decimal) -> str:
    """A KPI value in plain text (the Slack rendering formats it for the locale)."""
    if kpi.unit is Unit.PERCENT:
        return f"{_trim(value * _HUNDRED)} %"
    if kpi.unit is Unit.MULTIPLE:
        return f"{value:.2f}×"
    if kpi.unit is Unit.COUNT:
        return _trim(value)
    return _num(value)


def _trim(value: Decimal) -> str:
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return text.replace("-", "−")


def _signed(change: Decimal | None, unit: str) -> str:
    """`−38 %`, `+12 %`, `−30 pp`, `−0.3 pp`; `—` when undefined.

    Whole units from 10 on; below, up to two decimals, so a CTR drop of 0.3 pp (what a
    `ctr drops 0.3 pp` rule fires on) does not read `±0 pp`.
    """
    if change is None:
        return "—"
    places = Decimal(1) if abs(change) >= 10 else Decimal("0.01")
    rounded = change.quantize(places)
    sign = "+" if rounded > 0 else "−" if rounded < 0 else "±"
    text = format(abs(rounded), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return f"{sign}{text} {unit}"
