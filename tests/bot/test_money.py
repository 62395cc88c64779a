from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.money import (
    MICROS_PER_UNIT,
    MoneyError,
    from_micros,
    is_currency,
    normalize_currency,
    parse_amount,
    to_micros,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("12.50", Decimal("12.50")),
        (" 0.1 ", Decimal("0.1")),
        ("1188", Decimal(1188)),
        ("0.000001", Decimal("0.000001")),
        ("-3.5", Decimal("-3.5")),
    ],
)
def test_parse_amount_is_exact(text: str, expected: Decimal) -> None:
    value = parse_amount(text)
    assert value == expected
    assert isinstance(value, Decimal)


@pytest.mark.parametrize("text", ["", "   ", "12,50", "1.000,00", "$12", "twelve"])
def test_parse_amount_rejects_what_it_cannot_read_exactly(text: str) -> None:
    with pytest.raises(MoneyError):
        parse_amount(text)


@pytest.mark.parametrize("text", ["NaN", "Infinity", "-inf"])
def test_parse_amount_rejects_non_finite_numbers(text: str) -> None:
    with pytest.raises(MoneyError, match="not a finite number"):
        parse_amount(text)


def test_comma_decimal_message_says_to_use_a_point() -> None:
    with pytest.raises(MoneyError, match=r"use \. for decimals"):
        parse_amount("12,50")


def test_to_micros_and_back() -> None:
    assert MICROS_PER_UNIT == 1_000_000
    assert to_micros(Decimal("1188.00")) == 1_188_000_000
    assert to_micros(Decimal("0.000001")) == 1
    assert from_micros(1_188_000_000) == Decimal("1188")
    assert str(from_micros(1)) == "0.000001"
    assert str(from_micros(2_430_000_000)) == "2430.000000"


def test_to_micros_rounds_half_even_below_one_micro_unit() -> None:
    assert to_micros(Decimal("1.2345675")) == 1_234_568
    assert to_micros(Decimal("1.2345665")) == 1_234_566
    assert to_micros(Decimal("0.0000004")) == 0
    assert to_micros(Decimal("0.0000006")) == 1


@given(st.integers(min_value=-(10**18), max_value=10**18))
def test_micros_round_trip_exactly(micros: int) -> None:
    amount = from_micros(micros)
    assert isinstance(amount, Decimal)
    assert to_micros(amount) == micros


@given(st.decimals(min_value=-(10**12), max_value=10**12, places=6, allow_nan=False))
def test_amounts_with_at_most_six_decimals_round_trip(amount: Decimal) -> None:
    assert from_micros(to_micros(amount)) == amount
    assert to_micros(parse_amount(str(amount))) == to_micros(amount)


def test_known_currencies() -> None:
    for code in ("DKK", "EUR", "USD", "SEK", "JPY"):
        assert is_currency(code)
    assert not is_currency("dkk")
    assert not is_currency("XYZ")
    assert not is_currency("")


def test_normalize_currency_upper_cases_and_validates() -> None:
    assert normalize_currency(" dkk ") == "DKK"
    assert normalize_currency("Eur") == "EUR"


@pytest.mark.parametrize("code", ["XYZ", "kr", "", "EURO"])
def test_unknown_currency_names_iso_4217(code: str) -> None:
    with pytest.raises(MoneyError, match="ISO 4217"):
        normalize_currency(code)
