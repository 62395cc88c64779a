"""Numbers for people: Babel-formatted money, counts, percents and changes."""

from __future__ import annotations

from decimal import Decimal
from functools import lru_cache

from babel import Locale
from babel.numbers import format_currency, format_decimal

from bot.kpi import KPI_BY_KEY, KpiValue, Unit

UNDEFINED = "—"


@lru_cache(maxsize=16)
def _locale(name: str) -> Locale:
    """Parsed once: a card formats some forty numbers."""
    return Locale.parse(name)


def format_kpi(key: str, value: KpiValue, currency: str, locale: str = "en") -> str:
    """A KPI value as shown on screen; undefined is '—', never 0."""
    if value is None:
        return UNDEFINED
    unit = KPI_BY_KEY[key].unit
    loc = _locale(locale)
    if unit is Unit.COUNT:
        # Conversions may be fractional (2.5); whole counts show no decimals (108).
        return format_decimal(value, format="#,##0.##", locale=loc)
    number = Decimal(value)
    if unit is Unit.MONEY:
        return format_currency(number, currency, locale=loc)
    if unit is Unit.PERCENT:
        return format_decimal(number * 100, format="#,##0.00", locale=loc) + "%"
    if unit is Unit.MULTIPLE:
        return format_decimal(number, format="#,##0.00", locale=loc) + "×"
    return format_decimal(number, format="#,##0.00", locale=loc)


def format_change(change: Decimal | None, locale: str = "en") -> str:
    """A relative change as '+12.3%' / '−4.0%'; undefined as '—'."""
    if change is None:
        return UNDEFINED
    percent = change * 100
    text = format_decimal(abs(percent), format="#,##0.0", locale=_locale(locale))
    if text.strip("0.,") == "":
        return "±0.0%"
    return ("+" if percent > 0 else "−") + text + "%"


def decimal_text(value: Decimal, *, money: bool) -> str:
    """An exact decimal string for JSON: no exponent; money keeps at least two decimals."""
    if value == value.to_integral_value() and not money:
        return format(value.quantize(Decimal(1)), "f")
    text = format(value.normalize(), "f")
    if money:
        whole, _, fraction = text.partition(".")
        return f"{whole}.{fraction.ljust(2, '0')}"
    return text
