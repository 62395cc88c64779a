"""Button payloads round-trip what decides the answer, periods' grain included."""

from __future__ import annotations

import json
from datetime import date

import pytest

from bot.actions import CardRef, PayloadError
from bot.periods import Grain, parse_period
from bot.query import Compare

TODAY = date(2026, 12, 3)


@pytest.mark.parametrize("text", ["mtd", "last month", "q3", "ytd", "7d", "2026-11-01..2026-11-05"])
def test_a_card_button_keeps_what_its_period_is_compared_with(text: str) -> None:
    period = parse_period(text, TODAY)
    ref = CardRef(3, period, Compare.PREVIOUS)
    decoded = CardRef.decode(ref.encode())
    assert decoded == ref
    assert decoded.period.previous() == period.previous()


def test_a_button_written_before_grains_is_a_run_of_days() -> None:
    old = json.dumps({"c": 1, "s": "2026-12-01", "e": "2026-12-03", "l": "mtd", "v": "previous"})
    ref = CardRef.decode(old)
    assert ref.period.grain is Grain.DAY
    assert not ref.period.to_date


def test_a_button_with_an_unknown_grain_is_out_of_date() -> None:
    bad = json.dumps(
        {"c": 1, "s": "2026-12-01", "e": "2026-12-03", "l": "x", "g": "decade", "v": "previous"}
    )
    with pytest.raises(PayloadError):
        CardRef.decode(bad)
