"""Exact money: integer micro-units in storage, Decimal in code, never float."""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from functools import cache

from babel.core import get_global
from babel.numbers import get_territory_currencies

MICROS_PER_UNIT = 1_000_000
_MICRO = Decimal("0.000001")


class MoneyError(ValueError):
    """A money text or currency code that cannot be read exactly."""


def parse_amount(text: str) -> Decimal:
    """Read a decimal amount with `.` as separator, exactly; reject anything else."""
    cleaned = text.strip()
    if not cleaned:
        raise MoneyError("empty amount")
    try:
        value = Decimal(cleaned)
    except InvalidOperation as exc:
        raise MoneyError(f"{text!r} is not a number (use . for decimals)") from exc
    if not value.is_finite():
        raise MoneyError(f"{text!r} is not a finite number")
    return value


def to_micros(amount: Decimal) -> int:
    """Convert an amount to integer micro-units (half-even below one micro-unit)."""
    return int((amount * MICROS_PER_UNIT).to_integral_value(rounding=ROUND_HALF_EVEN))


def from_micros(micros: int) -> Decimal:
    """Convert integer micro-units to an exact Decimal amount."""
    return (Decimal(micros) / MICROS_PER_UNIT).quantize(_MICRO)


def count_from_micros(micros: int) -> Decimal:
    """A fractional count (conversions, leads, new customers) from micro-units, exactly and
    without trailing zeros: 108_000_000 is 108, 2_500_000 is 2.5."""
    whole, rest = divmod(micros, MICROS_PER_UNIT)
    if rest == 0:
        return Decimal(whole)
    return (Decimal(micros) / MICROS_PER_UNIT).normalize()


@cache
def active_currencies() -> frozenset[str]:
    """ISO 4217 codes that are legal tender somewhere today (CLDR via Babel), computed once.

    Leaves out what no team spends: historic codes (DEM, HRK), funds, metals and test codes
    (XXX, XTS, XAU).
    """
    today = date.today()
    territories = get_global("territory_currencies")
    return frozenset(
        code
        for territory in territories
        for code in get_territory_currencies(territory, today, tender=True)
    )


def is_currency(code: str) -> bool:
    """True for an active ISO 4217 code (upper case)."""
    return code in active_currencies()


def normalize_currency(code: str) -> str:
    """Upper-case and validate a currency code, or raise MoneyError."""
    upper = code.strip().upper()
    if not is_currency(upper):
        raise MoneyError(
            f"unknown currency code {code[:40]!r} (use an active ISO 4217 code, e.g. DKK, EUR, USD)"
        )
    return upper
