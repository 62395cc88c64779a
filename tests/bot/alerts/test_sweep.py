"""The set-based pass (pure): which date ranges the rules need, campaigns by scope, which ad
accounts have landed the day, and the verdicts built from per-range totals."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta

import pytest

from bot.alerts.durations import parse_duration
from bot.alerts.evaluate import Undecided
from bot.alerts.model import StoredRule
from bot.alerts.rules import RuleError, parse_rule
from bot.alerts.sweep import (
    DateRange,
    RuleData,
    Scopes,
    account_name,
    landed,
    ranges,
    sweep,
    volume_range,
)
from bot.campaign import CampaignInfo
from bot.kpi import Economics, Totals
from bot.query import ScopeSpec

D = date(2026, 3, 11)
AT = datetime(2026, 3, 12, 7, tzinfo=UTC)
M = 1_000_000


def rule(text: str, rule_id: int = 1) -> StoredRule:
    return StoredRule(rule_id, "C1", parse_rule(text.split()), False, "U0OWNER", AT, AT)


def days(first: int, last: int) -> DateRange:
    """D−first .. D−last."""
    return D - timedelta(days=first), D - timedelta(days=last)


ALPHA = CampaignInfo(1, "a", "Alpha", "meta_ads", "A1", "social", "DKK")
BETA = CampaignInfo(2, "b", "Beta Sale", "meta_ads", "A1", "social", "DKK")
GAMMA = CampaignInfo(3, "g", "Gamma", "google_ads", "G1", "paid_search", "DKK")
EURO = CampaignInfo(4, "e", "Euro", "google_ads", "G2", "paid_search", "EUR")
ALL = (ALPHA, BETA, GAMMA, EURO)


def test_ranges_are_the_windows_baselines_and_volume_guard_of_all_rules() -> None:
    assert ranges([], D) == set()
    assert ranges([rule("all roi < 0")], D) == {(D, D), days(28, 1)}
    assert volume_range(D) == days(28, 1)
    assert ranges([rule("all roi < 0 min spend 0")], D) == {(D, D)}
    assert ranges([rule("all roi drops 30% vs previous day min spend 1")], D) == {
        (D, D),
        days(1, 1),
    }
    assert ranges([rule("all roi drops 30% min spend 1")], D) == {(D, D), days(7, 1)}
    assert ranges([rule("all roi drops 30% vs 28d min spend 1")], D) == {(D, D), days(28, 1)}
    week = rule("all roi drops 30% vs same day last week over 7d min spend 1")
    assert ranges([week], D) == {days(6, 0), days(13, 7)}
    seven = rule("all roi drops 30% over 7d min spend 1")  # the 7 days before the window
    assert ranges([seven], D) == {days(6, 0), days(13, 7)}
    # Rules share ranges: four rules, three ranges to sum.
    many = [rule("all roi < 0"), rule("all cpa > 40"), rule("all roi drops 30% vs 28d")]
    assert ranges([*many, rule("Alpha ctr < 1%")], D) == {(D, D), days(28, 1)}


def test_scopes() -> None:
    scopes = Scopes(ALL)
    assert scopes.of(ScopeSpec("all")) == ALL
    assert list(scopes.of(ScopeSpec("channel", ("social",)))) == [ALPHA, BETA]
    assert list(scopes.of(ScopeSpec("channel", ("email",)))) == []
    assert list(scopes.of(ScopeSpec("platform", ("google_ads",)))) == [GAMMA, EURO]
    assert list(scopes.of(ScopeSpec("campaigns", ("beta sale",)))) == [BETA]
    both = ScopeSpec("campaigns", ("Gamma", "alpha", "GAMMA"))
    assert list(scopes.of(both)) == [GAMMA, ALPHA]
    assert list(scopes.of(ScopeSpec("campaigns", ("Nobody",)))) == []


def test_an_account_has_landed_the_day_when_it_has_a_row_that_day() -> None:
    last = {("meta_ads", "A1"): D, ("google_ads", "G1"): D - timedelta(days=2)}
    assert landed(ALL, last, D) == RuleData(("google_ads G1",), D - timedelta(days=1))
    assert landed([ALPHA, BETA], last, D) == RuleData((), None)
    # G2 has no row in the week before D (not in `last`): gone, not late.
    assert landed([EURO], last, D) == RuleData((), None)
    two = {("meta_ads", "A1"): D - timedelta(days=3), ("google_ads", "G1"): D - timedelta(days=1)}
    assert landed(ALL, two, D) == RuleData(("google_ads G1", "meta_ads A1"), D - timedelta(days=2))
    assert account_name(("csv", "")) == "csv"


def _day(spend: int, revenue: int, clicks: int = 100) -> Totals:
    return Totals(clicks=clicks, spend_micros=spend * M, revenue_micros=revenue * M, days=1)


def test_sweep_judges_each_campaign_and_holds_the_late_accounts() -> None:
    sums: Mapping[DateRange, Mapping[int, Totals]] = {
        (D, D): {1: _day(100, 50), 3: _day(100, 50), 4: _day(5, 0)},  # Beta: no row on D
        # 28 days of 100 a day in DKK (Alpha, Beta) and 10 a day in EUR.
        days(28, 1): {
            1: Totals(spend_micros=2800 * M, days=28),
            2: Totals(spend_micros=2800 * M, days=28),
            4: Totals(spend_micros=280 * M, days=28),
        },
    }
    asked: list[DateRange] = []

    def totals(r: DateRange) -> Mapping[int, Totals]:
        asked.append(r)
        return sums[r]

    last = {
        ("meta_ads", "A1"): D,
        ("google_ads", "G1"): D - timedelta(days=1),
        ("google_ads", "G2"): D,
    }
    ((_, data, verdicts),) = sweep([rule("all roi < 0")], Scopes(ALL), D, totals, last, Economics())
    assert data == RuleData(("google_ads G1",), D)
    by_name = {v.campaign.name: v.evaluation for v in verdicts}
    alpha, beta, gamma, euro = (by_name[n] for n in ("Alpha", "Beta Sale", "Gamma", "Euro"))
    assert alpha is not None and alpha.breached is True
    assert beta is not None and beta.undecided is Undecided.LOW_VOLUME  # inactive, not missing
    assert gamma is None  # G1 has not landed D
    # DKK guard 1 % of 200 a day = 2.00; the EUR one is 1 % of 10 = 0.10: Euro's 5 is enough.
    assert euro is not None and euro.breached is True
    assert set(asked) == {(D, D), days(28, 1)}

    ((_, _, judged),) = sweep(
        [rule("all roi < 0")], Scopes(ALL), D, totals, last, Economics(), hold_missing=False
    )
    gamma_anyway = next(v.evaluation for v in judged if v.campaign is GAMMA)
    assert gamma_anyway is not None and gamma_anyway.breached is True


def test_the_default_guard_is_per_currency_of_the_scope() -> None:
    sums = {
        (D, D): {1: _day(3, 0), 4: _day(3, 0)},
        days(28, 1): {
            1: Totals(spend_micros=28_000 * M, days=28),  # DKK 1,000 a day: guard 10.00
            4: Totals(spend_micros=28 * M, days=28),  # EUR 1 a day: guard 0.01
        },
    }
    ((_, _, verdicts),) = sweep(
        [rule("all roi < 0")], Scopes([ALPHA, EURO]), D, sums.__getitem__, {}, Economics()
    )
    alpha, euro = (v.evaluation for v in verdicts)
    assert alpha is not None and alpha.undecided is Undecided.LOW_VOLUME
    assert alpha.explanation == "not enough volume: spend 3.00 < min 10.00"
    assert euro is not None and euro.breached is True


@pytest.mark.parametrize(
    ("text", "hours"),
    [
        ("1d", 24),
        ("12h", 12),
        ("1w", 168),
        ("30m", 0.5),
        ("2 days", 48),
        ("1 week", 168),
        ("3 dage", 72),
        ("1 uge", 168),
        (" 1D ", 24),
        ("90d", 90 * 24),
        ("12 weeks", 12 * 168),
    ],
)
def test_durations(text: str, hours: float) -> None:
    assert parse_duration(text) == timedelta(hours=hours)


@pytest.mark.parametrize(
    "text", ["", "d", "0d", "1 fortnight", "91d", "13w", "-1d", "1.5d", "1d2h"]
)
def test_bad_durations_say_how_to_write_one(text: str) -> None:
    with pytest.raises(RuleError, match="alert snooze 3 1d"):
        parse_duration(text)
