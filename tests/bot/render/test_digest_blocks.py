"""The digest as Block Kit: per-currency KPIs with both changes, capped lists, escaped names."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.campaign import CampaignInfo
from bot.digests.content import (
    DIGEST_KPIS,
    MONTH_KPIS,
    CurrencyBlock,
    DigestContent,
    DigestPreview,
    Mover,
)
from bot.formatting import format_kpi
from bot.kpi import KpiValue, Totals, compute_kpis
from bot.render.digest_blocks import MAX_LINES, digest_message, format_points
from bot.render.mrkdwn import unescape
from tests.support.blockkit import assert_no_mentions, assert_valid_message

DAY = date(2026, 12, 2)  # a Wednesday
MICROS = 1_000_000

YESTERDAY = Totals(
    conversions=54, spend_micros=1_188 * MICROS, revenue_micros=2_435_400_000, days=3
)
DAY_BEFORE = Totals(
    conversions=40, spend_micros=1_000 * MICROS, revenue_micros=2_000 * MICROS, days=3
)
WEEK_AGO = Totals(
    conversions=60, spend_micros=1_320 * MICROS, revenue_micros=2_640 * MICROS, days=3
)
MONTH = YESTERDAY + DAY_BEFORE  # 1–2 Dec

INJECTIONS = ["<!channel> Promo", "<@U123>", "<#C123>", "<http://evil|click>", "a & b", "*bold*"]


# --------------------------------------------------------------------------- builders


def kpis(totals: Totals, keys: tuple[str, ...] = DIGEST_KPIS) -> dict[str, KpiValue]:
    computed = compute_kpis(totals)
    return {key: computed[key] for key in keys}


def currency_block(code: str = "EUR") -> CurrencyBlock:
    return CurrencyBlock(
        code,
        kpis(YESTERDAY),
        kpis(DAY_BEFORE),
        kpis(WEEK_AGO),
        kpis(MONTH, MONTH_KPIS),
    )


def campaign(i: int, name: str = "Summer Sale", currency: str = "EUR") -> CampaignInfo:
    return CampaignInfo(i, f"ext-{i}", name, "meta_ads", "acct-1", "social", currency)


def mover(i: int, name: str, *, spend: int, revenue: int, roi_week_ago: str | None) -> Mover:
    totals = Totals(
        clicks=100, spend_micros=spend * MICROS, revenue_micros=revenue * MICROS, days=1
    )
    week = None if roi_week_ago is None else Decimal(roi_week_ago)
    return Mover(campaign(i, name), kpis(totals), week)


def content(
    *,
    totals: tuple[CurrencyBlock, ...] | None = None,
    improvers: tuple[Mover, ...] | None = None,
    decliners: tuple[Mover, ...] | None = None,
    losing: tuple[Mover, ...] | None = None,
) -> DigestContent:
    return DigestContent(
        DAY,
        (currency_block(),) if totals is None else totals,
        (mover(1, "Winter Boost", spend=100, revenue=150, roi_week_ago="0.2"),)
        if improvers is None
        else improvers,
        (mover(2, "Spring Clean", spend=200, revenue=220, roi_week_ago="0.4"),)
        if decliners is None
        else decliners,
        (mover(3, "Money Pit", spend=50, revenue=40, roi_week_ago=None),)
        if losing is None
        else losing,
    )


def preview(
    body: DigestContent | None = None,
    *,
    incomplete: tuple[str, ...] | None = None,
    scope: str = "all campaigns",
    schedule: str = "weekdays at 08:00 Europe/Copenhagen",
) -> DigestPreview:
    days = tuple((DAY - timedelta(days=13 - i), Decimal(100 + i)) for i in range(14))
    revenue = tuple((d, None if i == 3 else v * 2) for i, (d, v) in enumerate(days))
    return DigestPreview(
        subscription_id=42,
        channel="C0123",
        schedule_text=schedule,
        scope_text=scope,
        day=DAY,
        data_through=DAY,
        incomplete=incomplete,
        content=content() if body is None else body,
        trend=(("EUR", days),),
        revenue_trend=(("EUR", revenue),),
    )


def losers(count: int, name: str = "Loser") -> tuple[Mover, ...]:
    return tuple(
        mover(100 + i, f"{name} {i}", spend=10, revenue=5, roi_week_ago=None) for i in range(count)
    )


# --------------------------------------------------------------------------- inspection


def check(message: dict[str, Any]) -> None:
    assert set(message) == {"text", "blocks"}
    assert len(message["text"]) <= 3000
    assert_valid_message(message, require_fallback_text=True)
    assert_no_mentions(message)


def texts(message: dict[str, Any]) -> list[str]:
    """Every mrkdwn/plain text in the blocks, in order."""
    found: list[str] = []
    for block in message["blocks"]:
        if "text" in block:
            found.append(block["text"]["text"])
        found += [f["text"] for f in block.get("fields", ())]
        found += [e["text"] for e in block.get("elements", ())]
    return found


def field(message: dict[str, Any], currency: str, label: str) -> str:
    for block in message["blocks"]:
        if block["type"] == "section" and block["text"]["text"] == f"*{currency}*":
            return next(f["text"] for f in block["fields"] if f["text"].startswith(f"*{label}*"))
    raise AssertionError(f"no {label} field for {currency}")


# --------------------------------------------------------------------------- tests


def test_header_names_the_day_and_context_says_scope_freshness_and_schedule() -> None:
    message = digest_message(preview())
    check(message)
    assert message["blocks"][0] == {
        "type": "header",
        "text": {"type": "plain_text", "text": "Morning digest · Wed 2 Dec", "emoji": True},
    }
    context = [e["text"] for e in message["blocks"][1]["elements"]]
    assert context == [
        "all campaigns",
        "data through 2026-12-02",
        "weekdays at 08:00 Europe/Copenhagen",
    ]


def test_each_kpi_shows_its_change_vs_the_day_before_and_a_week_earlier() -> None:
    message = digest_message(preview())
    spend = field(message, "EUR", "Spend")
    # Spend 1,188 vs 1,000 (+18.8%) and vs 1,320 (−10.0%): never coloured.
    assert spend == "*Spend*\n€1,188.00\n↑ +18.8% vs Tue\n↓ −10.0% vs Wed 25 Nov"
    # CPA 22.00 vs 25.00 (down: good) and vs 22.00 (flat).
    cpa = field(message, "EUR", "CPA")
    assert cpa == "*CPA*\n€22.00\n:large_green_circle: ↓ −12.0% vs Tue\n±0.0% vs Wed 25 Nov"
    # ROAS 2.05× vs 2.00× (+2.5%, good) and vs 2.00× again.
    roas = field(message, "EUR", "ROAS")
    assert ":large_green_circle: ↑ +2.5% vs Tue" in roas
    conversions = field(message, "EUR", "Conversions")
    assert conversions.startswith("*Conversions*\n54\n:large_green_circle: ↑ +35.0% vs Tue")
    assert ":red_circle: ↓ −10.0% vs Wed 25 Nov" in conversions


def test_unmeasured_kpis_show_a_dash_and_no_change() -> None:
    unmeasured = Totals(spend_micros=10 * MICROS, days=1)  # no revenue, no conversions
    block = CurrencyBlock("EUR", kpis(unmeasured), kpis(DAY_BEFORE), kpis(WEEK_AGO), {})
    message = digest_message(preview(content(totals=(block,))))
    check(message)
    assert field(message, "EUR", "Revenue") == "*Revenue*\n—\n— vs Tue\n— vs Wed 25 Nov"


def test_currencies_are_never_merged_and_month_to_date_follows_each() -> None:
    body = content(totals=(currency_block("DKK"), currency_block("EUR")))
    message = digest_message(preview(body))
    check(message)
    headings = [b["text"]["text"] for b in message["blocks"] if b.get("fields")]
    assert headings == ["*DKK*", "*EUR*"]
    assert all(len(b["fields"]) == 6 for b in message["blocks"] if b.get("fields"))
    month = [t for t in texts(message) if t.startswith("Month to date")]
    assert month == [
        f"Month to date (since Tue 1 Dec): Spend {format_kpi('spend', 2188, 'DKK')} · ROAS 2.03×",
        "Month to date (since Tue 1 Dec): Spend €2,188.00 · ROAS 2.03×",
    ]


def test_movers_list_roi_its_change_in_points_and_spend() -> None:
    message = digest_message(preview())
    all_text = texts(message)
    improvers = next(t for t in all_text if t.startswith("*Top improvers*"))
    assert improvers == (
        "*Top improvers* · ROI vs Wed 25 Nov\n"
        "1. *Winter Boost* — ROI 50.00% (+30.0 pp) · Spend €100.00"
    )
    decliners = next(t for t in all_text if t.startswith("*Top decliners*"))
    assert decliners.endswith("1. *Spring Clean* — ROI 10.00% (−30.0 pp) · Spend €200.00")
    losing = next(t for t in all_text if t.startswith("*Lost money yesterday*"))
    assert (
        losing == "*Lost money yesterday* (1 campaign)\n• *Money Pit* — Spend €50.00 · ROI -20.00%"
    )


def test_no_movers_says_so_and_no_losers_leaves_the_section_out() -> None:
    message = digest_message(preview(content(improvers=(), decliners=(), losing=())))
    check(message)
    all_text = texts(message)
    assert any(t.startswith("*Top improvers*") and "None among" in t for t in all_text)
    assert not any("Lost money" in t for t in all_text)


def test_five_thousand_campaigns_losing_money_still_make_a_valid_message() -> None:
    body = content(losing=losers(5_000, "<!channel> " + "x" * 300))
    message = digest_message(preview(body, incomplete=tuple(f"acct {i}" for i in range(900))))
    check(message)
    assert len(message["blocks"]) <= 50
    losing = next(t for t in texts(message) if t.startswith("*Lost money yesterday*"))
    assert "(5,000 campaigns)" in losing
    assert losing.count("\n• ") <= MAX_LINES
    shown = losing.count("\n• ")
    assert losing.endswith(f"… and {5_000 - shown:,} more")
    assert len(losing) <= 3000


def test_many_currencies_stay_within_fifty_blocks() -> None:
    codes = [f"C{i:02d}" for i in range(40)]
    message = digest_message(preview(content(totals=tuple(currency_block(c) for c in codes))))
    check(message)
    assert len(message["blocks"]) <= 50
    assert any("… and 20 more currencies" in t for t in texts(message))


def test_incomplete_data_is_a_visible_escaped_warning() -> None:
    message = digest_message(preview(incomplete=("meta_ads <!channel>", "google_ads 123")))
    check(message)
    warning = message["blocks"][2]["text"]["text"]
    assert warning.startswith(
        ":warning: Data incomplete: meta_ads &lt;!channel&gt;, google_ads 123"
    )
    assert "data incomplete" in message["text"]


def test_complete_data_has_no_warning() -> None:
    assert not any("incomplete" in t.lower() for t in texts(digest_message(preview())))


def test_many_missing_accounts_are_capped() -> None:
    missing = tuple(f"account {i}" for i in range(500))
    warning = digest_message(preview(incomplete=missing))["blocks"][2]["text"]["text"]
    assert f"… and {500 - MAX_LINES:,} more" in warning
    assert len(warning) <= 3000


def test_an_empty_scope_says_so_plainly() -> None:
    empty = DigestContent(DAY, (), (), (), ())
    message = digest_message(preview(empty, scope="channel social"))
    check(message)
    assert [b["type"] for b in message["blocks"]] == ["header", "context", "section"]
    assert message["blocks"][2]["text"]["text"] == (
        "No data for channel social on Wed 2 Dec: none of its campaigns had any rows that day."
    )


def test_fallback_text_is_escaped_and_summarises_each_currency() -> None:
    message = digest_message(preview(scope="campaigns <!channel>"))
    assert message["text"] == (
        "Morning digest · Wed 2 Dec · campaigns &lt;!channel&gt;: EUR spend €1,188.00 · ROAS 2.05×"
    )


def test_names_are_escaped_and_shown_as_typed() -> None:
    names = tuple(
        mover(i, name, spend=10, revenue=5, roi_week_ago=None) for i, name in enumerate(INJECTIONS)
    )
    message = digest_message(preview(content(losing=names)))
    check(message)
    losing = next(t for t in texts(message) if t.startswith("*Lost money"))
    for name in INJECTIONS:
        assert f"• *{name}* —" in unescape(losing)


def test_percentage_points_are_signed() -> None:
    assert format_points(Decimal("0.3")) == "+30.0 pp"
    assert format_points(Decimal("-0.051")) == "−5.1 pp"
    assert format_points(Decimal("0.0001")) == "±0.0 pp"
    assert format_points(None) == "—"


names = st.text(min_size=0, max_size=400)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    movers=st.lists(names, min_size=0, max_size=30),
    scope=names,
    schedule=names,
    missing=st.none() | st.lists(names, max_size=30).map(tuple),
    currencies=st.lists(st.text(min_size=1, max_size=20), max_size=25, unique=True),
)
def test_any_names_give_a_valid_message_without_mentions(
    movers: list[str],
    scope: str,
    schedule: str,
    missing: tuple[str, ...] | None,
    currencies: list[str],
) -> None:
    rows = tuple(
        mover(i, name, spend=10, revenue=5, roi_week_ago="0.1") for i, name in enumerate(movers)
    )
    blocks = tuple(replace(currency_block(), currency=code) for code in currencies)
    body = content(totals=blocks, improvers=rows[:3], decliners=rows[3:6], losing=rows)
    message = digest_message(preview(body, incomplete=missing, scope=scope, schedule=schedule))
    check(message)
