"""Exact money: integer micro-units in storage, Decimal in code, never float."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

from babel.numbers import list_currencies

MICROS_PER_UNIT = 1_000_000
_MICRO = Decimal("0.000001")
_CURRENCIES: frozenset[str] = frozenset(list_currencies())


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


def is_currency(code: str) -> bool:
    """True for an ISO 4217 code Babel knows (upper case)."""
    return code in _CURRENCIES


def normalize_currency(code: str) -> str:
    """Upper-case and validate a currency code, or raise MoneyError."""
    upper = code.strip().upper()
    if not is_currency(upper):
        raise MoneyError(f"unknown currency code {code!r} (use ISO 4217, e.g. DKK, EUR, USD)")
    return upper
