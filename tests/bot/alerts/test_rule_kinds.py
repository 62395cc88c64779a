"""Each kind of rule fires exactly when it should: a real AlertService, real imports, the
fake Slack over HTTP, and numbers worked out by hand in the comments.

Every campaign-day not said otherwise is BASE: spend 100, revenue 200, 100 clicks, 10,000
impressions, 5 conversions: ROI 100 %, ROAS 2, CPA 20, CTR 1 %.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine

from bot.alerts.rules import RuleError
from bot.alerts.service import AlertService
from tests.bot.alerts.world import (
    BASE,
    NOW,
    Campaign,
    D,
    Day,
    add,
    events,
    fired,
    load,
    rows,
    text_of,
    top_level,
)
from tests.support.fake_slack import FakeSlack

MONTH = D - timedelta(days=28)  # the first of the 28 days before D


def judge(alerts: AlertService, slack: FakeSlack, texts: Sequence[str]) -> dict[str, list[str]]:
    """Add each rule in a channel of its own, check once at NOW, and say which campaigns each
    fired for; every fire is one top-level message in its rule's channel, naming it."""
    channels = {text: f"C{i + 1:02d}" for i, text in enumerate(texts)}
    ids = {text: add(alerts, text, channel=channels[text]) for text in texts}
    report = alerts.check(NOW)
    by_rule = fired(alerts)
    result = {text: by_rule.get(ids[text], []) for text in texts}
    posted = top_level(slack)
    assert Counter(c.params["channel"] for c in posted) == Counter(
        channels[text] for text, names in result.items() for _ in names
    )
    for text, names in result.items():
        shown = [text_of(c) for c in posted if c.params["channel"] == channels[text]]
        for name in names:
            assert sum(f"— {name}:" in s for s in shown) == 1, (text, name, shown)
    assert report.fired == report.sent == len(posted)
    return result


def history_of(alerts: AlertService, rule_id: int) -> dict[str, tuple[str | None, str | None]]:
    return {
        e.campaign or "?": (e.value, e.baseline)
        for e in events(alerts, rule_id)
        if e.event.startswith("fire#")
    }


def rule_id(alerts: AlertService, channel: str) -> int:
    (view,) = alerts.rules(channel)
    return view.rule.id


# ---------------------------------------------------------------------- thresholds


def _thresholds(engine: Engine, folder: Path) -> None:
    """Eleven DKK campaigns with 28 days of BASE history (spend 100 a day each): the scope's
    28-day daily average is 1,100.00, so the default volume guard asks 1 % of it: 11.00 of
    spend on the day, and 20 clicks. An EUR campaign spends 10,000 a day: its own guard is
    100.00, and it does not raise the DKK one."""
    on_d = {
        "Steady": BASE,
        "Loss": Day(revenue="90"),  # ROI −10 %, ROAS 0.9
        "BreakEven": Day(revenue="100"),  # ROI 0 % exactly, ROAS 1
        "RoasEdge": Day(revenue="150"),  # ROAS 1.5 exactly, ROI 50 %
        "Pricey": Day(conversions=2),  # CPA 100 / 2 = 50
        "CpaEdge": Day(spend="120", conversions=3),  # CPA 120 / 3 = 40 exactly, ROAS 1.67
        "LowCtr": Day(impressions=25_000),  # CTR 100 / 25,000 = 0.4 %
        "CtrEdge": Day(impressions=20_000),  # CTR 0.5 % exactly
        "JustEnough": Day(spend="11", revenue="5.50"),  # spend = the guard; ROI −50 %, ROAS 0.5
        "FewClicks": Day(clicks=19, revenue="50"),  # ROI −50 % on 19 clicks
        "Dormant": None,  # no row on D while its account (meta_ads A1) landed: inactive
    }
    lines = []
    for name, day in on_d.items():
        lines += rows(Campaign(name), MONTH, D, days={D: day})
    # New on D, no history: spend 10.99 < 11.00; ROI −100 %.
    lines += rows(Campaign("Tiny"), D, D, Day(spend="10.99", revenue="0"))
    euro = Campaign("Euro", "google_ads", "G1", "paid_search", "EUR")
    big = Day(spend="10000", revenue="20000", clicks=1000, impressions=100_000, conversions=50)
    # EUR guard 100.00: spend 99.99 on D is held; ROI −100 %.
    lines += rows(euro, MONTH, D, big, {D: Day(spend="99.99", revenue="0", clicks=1000)})
    load(engine, folder, lines)


def test_thresholds_and_the_volume_guard(
    engine: Engine, alerts: AlertService, slack: FakeSlack, tmp_path: Path
) -> None:
    _thresholds(engine, tmp_path / "csv")
    result = judge(
        alerts,
        slack,
        [
            "all roi < 0",
            "all roi <= 0",
            "all cpa > 40",
            "all cpa >= 40",
            "all ctr < 0.5%",
            "all roas < 1.5",
            "all roi < 0 min spend 50",
            "all roi < 0 min clicks 10",
            "all roi < 0 min spend 0 min clicks 0",
        ],
    )
    assert result == {
        # Tiny (10.99 < 11.00), FewClicks (19 < 20 clicks), Euro (99.99 < 100.00 EUR) held.
        "all roi < 0": ["JustEnough", "Loss"],
        "all roi <= 0": ["BreakEven", "JustEnough", "Loss"],
        "all cpa > 40": ["Pricey"],
        "all cpa >= 40": ["CpaEdge", "Pricey"],
        "all ctr < 0.5%": ["LowCtr"],  # FewClicks' 0.19 % is held by its 19 clicks
        "all roas < 1.5": ["BreakEven", "JustEnough", "Loss"],
        # An amount in each campaign's currency: JustEnough spent 11, Euro 99.99 EUR.
        "all roi < 0 min spend 50": ["Euro", "Loss"],
        # min clicks alone keeps the default spend guard: Tiny is still held.
        "all roi < 0 min clicks 10": ["FewClicks", "JustEnough", "Loss"],
        # No guard at all; Dormant has no activity on D whatever the guard.
        "all roi < 0 min spend 0 min clicks 0": ["Euro", "FewClicks", "JustEnough", "Loss", "Tiny"],
    }
    assert history_of(alerts, rule_id(alerts, "C01")) == {
        "JustEnough": ("-0.5", None),
        "Loss": ("-0.1", None),
    }
    assert history_of(alerts, rule_id(alerts, "C03")) == {"Pricey": ("50", None)}
    assert history_of(alerts, rule_id(alerts, "C05")) == {"LowCtr": ("0.004", None)}
    assert history_of(alerts, rule_id(alerts, "C06"))["BreakEven"] == ("1", None)
    (loss,) = [c for c in top_level(slack) if c.params["channel"] == "C01" and "Loss" in text_of(c)]
    assert "ROI −10 % < 0 %: revenue 90.00, spend 100.00" in text_of(loss)
    # Nothing said about Dormant's account: it landed D (other campaigns have rows).
    assert not [c for c in top_level(slack) if "no data" in text_of(c).lower()]


def test_adding_a_rule_echoes_what_it_would_say_now(
    engine: Engine, alerts: AlertService, tmp_path: Path
) -> None:
    _thresholds(engine, tmp_path / "csv")
    preview = alerts.add(["all", "roi", "<", "0"], channel="C1", user="U0OWNER")
    assert preview.day == D and preview.campaigns == 13 and preview.would_fire == 2
    first, second = preview.lines[:2]
    assert (first.campaign, first.value, first.breached) == ("JustEnough", "-0.5", True)
    assert (second.campaign, second.value, second.breached) == ("Loss", "-0.1", True)
    held = {line.campaign: line.explanation for line in preview.lines if line.breached is None}
    assert held["Euro"] == "not enough volume: spend 99.99 < min 100.00"
    assert held["FewClicks"] == "not enough volume: clicks 19 < min 20"
    assert held["Dormant"] == "no activity in the window"


# ---------------------------------------------------------------------- changes


def test_a_drop_against_each_baseline(
    engine: Engine, alerts: AlertService, slack: FakeSlack, tmp_path: Path
) -> None:
    """On D every campaign has ROI 100 % unless said; what differs is the baseline."""
    lines: list[list[str]] = []

    def add_campaign(name: str, days: dict[date, Day | None], base: Day = BASE) -> None:
        lines.extend(rows(Campaign(name), MONTH, D, base, days))

    add_campaign("Flat", {})
    # D−1 ROI (400 − 100) / 100 = 300 %: −66.7 % vs the previous day; the 7-day window
    # D−7..D−1 sums revenue 6 × 200 + 400 = 1,600 on spend 700: ROI 128.6 %, −22.2 %; the 28
    # days 5,800 on 2,800: ROI 107.1 %, −6.7 %.
    add_campaign("PrevHigh", {D - timedelta(days=1): Day(revenue="400")})
    # The same, a week before D: only the same day last week sees 300 %.
    add_campaign("WeekHigh", {D - timedelta(days=7): Day(revenue="400")})
    # D−6..D−2 revenue 340: the 7 days sum 2 × 200 + 5 × 340 = 2,100 on 700, ROI 200 %: −50 %;
    # D−1 and D−7 are BASE; the 28 days: 23 × 200 + 1,700 = 6,300 on 2,800, ROI 125 %: −20 %.
    add_campaign("WeekAvgHigh", {D - timedelta(days=n): Day(revenue="340") for n in range(2, 7)})
    # D−28..D−8 revenue 300: the 28 days sum 21 × 300 + 7 × 200 = 7,700 on 2,800: ROI 175 %,
    # so 100 % is −42.9 %; the last 7 days are BASE.
    add_campaign("MonthHigh", {D - timedelta(days=n): Day(revenue="300") for n in range(8, 29)})
    # ROI 70 % on D: exactly −30 % against every baseline (100 %), which is a drop of 30 %.
    add_campaign("Edge", {D: Day(revenue="170")})
    add_campaign("Short", {D: Day(revenue="171")})  # ROI 71 %: −29 %
    # Baselines ≤ 0: ROI −50 % and 0 % every day before D, −90 % on D: never a relative change.
    add_campaign("Negative", {D: Day(revenue="10")}, Day(revenue="50"))
    add_campaign("ZeroBase", {D: Day(revenue="10")}, Day(revenue="100"))
    load(engine, tmp_path / "csv", lines)

    result = judge(
        alerts,
        slack,
        [
            "all roi drops 30% vs previous day",
            "all roi drops 30% vs same day last week",
            "all roi drops 30% vs 7-day average",
            "all roi drops 30% vs 28-day average",
        ],
    )
    assert result == {
        "all roi drops 30% vs previous day": ["Edge", "PrevHigh"],
        "all roi drops 30% vs same day last week": ["Edge", "WeekHigh"],
        "all roi drops 30% vs 7-day average": ["Edge", "WeekAvgHigh"],
        "all roi drops 30% vs 28-day average": ["Edge", "MonthHigh"],
    }
    assert history_of(alerts, rule_id(alerts, "C01")) == {
        "Edge": ("0.7", "1"),
        "PrevHigh": ("1", "3"),
    }
    assert history_of(alerts, rule_id(alerts, "C02"))["WeekHigh"] == ("1", "3")
    assert history_of(alerts, rule_id(alerts, "C03"))["WeekAvgHigh"] == ("1", "2")
    assert history_of(alerts, rule_id(alerts, "C04"))["MonthHigh"] == ("1", "1.75")
    # Revenue 200 against the 7 days' 2,100 / 7 = 300 a day: −33 %; spend 100 vs 100.
    (why,) = [
        e.explanation for e in events(alerts, rule_id(alerts, "C03")) if e.campaign == "WeekAvgHigh"
    ]
    assert why == "ROI −50 % vs 7-day avg: revenue −33 %, spend ±0 %"


def test_rises_sums_and_percentage_points(
    engine: Engine, alerts: AlertService, slack: FakeSlack, tmp_path: Path
) -> None:
    on_d = {
        "Flat": BASE,
        "Surge": Day(spend="150", revenue="300"),  # spend +50 %, CPA 30 (+50 %), ROI 100 %
        "Nudge": Day(spend="149", revenue="298", conversions=7),  # spend +49 %, CPA 21.29
        "ClickDrop": Day(clicks=70),  # CTR 0.7 %: −0.3 pp; clicks −30 %
        "ClickDip": Day(clicks=71),  # CTR 0.71 %: −0.29 pp
        "ClickCrash": Day(clicks=50),  # CTR 0.5 %: −0.5 pp; clicks 50 vs 2,800 / 28 = 100: −50 %
        "Boom": Day(revenue="400"),  # ROI 300 %: +200 % vs the 7-day 100 %
        "CpaEdge": Day(conversions=4),  # CPA 25: +25 % exactly
    }
    lines = []
    for name, day in on_d.items():
        lines += rows(Campaign(name), MONTH, D, days={D: day})
    load(engine, tmp_path / "csv", lines)

    result = judge(
        alerts,
        slack,
        [
            "all spend rises 50% vs previous day",
            "all clicks drops 40% vs 28-day average",
            "all ctr drops 0.3 pp vs previous day",
            "all roi rises 100%",
            "all cpa rises 25% vs same day last week",
        ],
    )
    assert result == {
        "all spend rises 50% vs previous day": ["Surge"],
        "all clicks drops 40% vs 28-day average": ["ClickCrash"],
        "all ctr drops 0.3 pp vs previous day": ["ClickCrash", "ClickDrop"],
        "all roi rises 100%": ["Boom"],
        "all cpa rises 25% vs same day last week": ["CpaEdge", "Surge"],
    }
    # A sum's baseline is per day of the window: 2,800 clicks over 28 days → 100.
    assert history_of(alerts, rule_id(alerts, "C02")) == {"ClickCrash": ("50", "100")}
    assert history_of(alerts, rule_id(alerts, "C03"))["ClickDrop"] == ("0.007", "0.01")
    (why,) = [
        e.explanation for e in events(alerts, rule_id(alerts, "C03")) if e.campaign == "ClickDrop"
    ]
    assert why == "CTR −0.3 pp vs previous day: clicks −30 %, impressions ±0 %"


def test_a_seven_day_window(
    engine: Engine, alerts: AlertService, slack: FakeSlack, tmp_path: Path
) -> None:
    """`over 7d` sums D−6..D and compares it with the 7 days before (D−13..D−7)."""
    week = {D - timedelta(days=n) for n in range(7)}
    lines = []
    lines += rows(Campaign("Flat"), MONTH, D)
    # D−6..D ROI 20 %: the window is 840 on 700, ROI 20 %: −80 %. On D alone against
    # D−7..D−1 (200 + 6 × 120 = 920 on 700, ROI 31.4 %): −36 %.
    lines += rows(Campaign("Slide"), MONTH, D, days={d: Day(revenue="120") for d in week})
    # Only D is bad (ROI −100 %): the week sums 1,200 on 700, ROI 71.4 %: −28.6 %.
    lines += rows(Campaign("Blip"), MONTH, D, days={D: Day(revenue="0")})
    # Two conversions a day all week: CPA 700 / 14 = 50.
    lines += rows(Campaign("Thin"), MONTH, D, days={d: Day(conversions=2) for d in week})
    # One bad day: 700 / (6 × 5 + 1) = 22.58.
    lines += rows(Campaign("OneBad"), MONTH, D, days={D: Day(conversions=1)})
    load(engine, tmp_path / "csv", lines)

    result = judge(
        alerts,
        slack,
        ["all roi drops 30% over 7d", "all roi drops 30%", "all cpa > 40 over 7d"],
    )
    assert result == {
        "all roi drops 30% over 7d": ["Slide"],
        "all roi drops 30%": ["Blip", "Slide"],
        "all cpa > 40 over 7d": ["Thin"],
    }
    assert history_of(alerts, rule_id(alerts, "C01")) == {"Slide": ("0.2", "1")}
    assert history_of(alerts, rule_id(alerts, "C03")) == {"Thin": ("50", None)}


def test_group_scopes_judge_each_campaign_with_the_scopes_own_volume_guard(
    engine: Engine, alerts: AlertService, slack: FakeSlack, tmp_path: Path
) -> None:
    big = Day(spend="1000", revenue="2000", clicks=1000, impressions=100_000, conversions=50)
    bad = Day(spend="1000", revenue="500", clicks=1000, impressions=100_000, conversions=50)
    small = Day(spend="5", revenue="10", clicks=50, impressions=5_000, conversions=1)
    lines = []
    lines += rows(Campaign("MetaLoss"), MONTH, D, big, {D: bad})  # ROI −50 %
    lines += rows(Campaign("MetaFine"), MONTH, D, big)
    search = Campaign("SearchLoss", "google_ads", "G1", "paid_search")
    lines += rows(search, MONTH, D, big, {D: bad})
    # ROI −100 % on 5.00 of spend: held where the scope averages more than 500 a day.
    minnow = Campaign("Minnow", "tiktok_ads", "T1", "social")
    lines += rows(minnow, MONTH, D, small, {D: Day(spend="5", revenue="0", clicks=50)})
    load(engine, tmp_path / "csv", lines)

    result = judge(
        alerts,
        slack,
        [
            "all roi < 0",  # guard 1 % of 3,005 = 30.05
            "channel social roi < 0",  # 1 % of 2,005 = 20.05
            "channel search roi < 0",
            "platform meta_ads roi < 0",
            "platform tiktok_ads roi < 0",  # 1 % of 5 = 0.05
            "Minnow roi < 0",
        ],
    )
    assert result == {
        "all roi < 0": ["MetaLoss", "SearchLoss"],
        "channel social roi < 0": ["MetaLoss"],
        "channel search roi < 0": ["SearchLoss"],
        "platform meta_ads roi < 0": ["MetaLoss"],
        "platform tiktok_ads roi < 0": ["Minnow"],
        "Minnow roi < 0": ["Minnow"],
    }
    with pytest.raises(RuleError, match="could never fire"):
        add(alerts, "platform bing_ads roi < 0")
