"""The demo's alert story: `all roi drops 30%` fires for Retargeting EU and nothing else.

`kpibot demo` builds its data up to yesterday of whatever day it runs, and each date's noise
is seeded by that date, so the story has to hold on any end date, not just one. Pure: the rows
are generated in memory and summed into Totals the way storage.metrics sums database rows
(every native-CSV row reports every measure, so each counts as measured).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

import pytest

from bot.alerts.evaluate import baseline_days, evaluate, window_days
from bot.alerts.rules import AlertRule, parse_rule
from bot.demo import DEMO_SEED
from bot.demo_data import COLLAPSING_CAMPAIGN, NATIVE_HEADER, demo_campaigns, iter_rows
from bot.importing.cells import parse_money
from bot.kpi import KPI_BY_KEY, Economics, Totals, sum_totals

COL = {name: i for i, name in enumerate(NATIVE_HEADER)}
SCOPE_DAYS = 28  # the volume guard: the scope's daily average spend over the 28 days before
# 60 end dates spread over two years (every 12th day: all weekdays, all seasons), and the
# end date tests/bot/test_digest_on_the_demo.py builds the demo for.
END_DATES = [date(2025, 1, 3) + timedelta(days=12 * i) for i in range(60)] + [date(2026, 12, 2)]
RULES = ("all roi drops 30%", "all roi drops 30% over 7d")


def _money(text: str) -> int:
    micros = parse_money(text)
    assert micros is not None
    return micros


def _day_totals(row: tuple[str, ...]) -> Totals:
    """One campaign-day as the database holds it: every measure reported."""
    return Totals(
        impressions=int(row[COL["impressions"]]),
        clicks=int(row[COL["clicks"]]),
        leads=int(row[COL["leads"]]),
        conversions=int(row[COL["conversions"]]),
        new_customers=int(row[COL["new_customers"]]),
        spend_micros=_money(row[COL["spend"]]),
        revenue_micros=_money(row[COL["revenue"]]),
        days=1,
    )


def _breaches(rule: AlertRule, end: date) -> dict[str, bool | None]:
    """Each campaign's verdict on `end`, from the demo built with `end` as yesterday."""
    window = window_days(rule, end)
    baseline = baseline_days(rule, end)
    assert baseline is not None
    scope_days = (end - timedelta(days=SCOPE_DAYS), end - timedelta(days=1))
    first = min(baseline[0], scope_days[0])
    campaigns = demo_campaigns(seed=DEMO_SEED)
    currency = {c.name: c.currency for c in campaigns}
    daily: dict[str, dict[date, Totals]] = defaultdict(dict)
    for row in iter_rows(campaigns, end, (end - first).days + 1, seed=DEMO_SEED):
        daily[row[COL["campaign"]]][date.fromisoformat(row[COL["date"]])] = _day_totals(row)

    def span(name: str, days: tuple[date, date]) -> Totals:
        return sum_totals(t for d, t in daily[name].items() if days[0] <= d <= days[1])

    scope_spend: dict[str, int] = defaultdict(int)
    for name in daily:
        scope_spend[currency[name]] += span(name, scope_days).spend_micros
    verdicts: dict[str, bool | None] = {}
    for name in daily:
        daily_average = Decimal(scope_spend[currency[name]]) / SCOPE_DAYS / 1_000_000
        result = evaluate(rule, span(name, window), span(name, baseline), daily_average)
        verdicts[name] = result.breached
    return verdicts


@pytest.mark.parametrize("text", RULES)
def test_roi_drops_30_percent_fires_for_the_collapsing_campaign_only(text: str) -> None:
    rule = parse_rule(text.split())
    collapsing = next(c.name for c in demo_campaigns() if c.external_id == COLLAPSING_CAMPAIGN)
    for end in END_DATES:
        verdicts = _breaches(rule, end)
        assert len(verdicts) == 14
        fired = sorted(name for name, breached in verdicts.items() if breached)
        assert fired == [collapsing], (text, end.isoformat())


def test_the_collapsing_campaign_loses_money_on_its_last_day() -> None:
    """What the digest shows under "Lost money yesterday", on any end date."""
    roi = KPI_BY_KEY["roi"]
    campaigns = demo_campaigns(seed=DEMO_SEED)
    for end in END_DATES:
        (row,) = (
            r
            for r in iter_rows(campaigns, end, 1, seed=DEMO_SEED)
            if r[COL["campaign_id"]] == COLLAPSING_CAMPAIGN
        )
        value = roi.compute(_day_totals(row), Economics())
        assert value is not None and value < 0, end.isoformat()
