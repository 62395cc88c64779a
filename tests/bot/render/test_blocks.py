"""Block Kit rendering: exact card values, pagination limits, buttons and escaping."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.actions import ACTION_PAGE, ACTION_PICK, ACTION_SHARE, CardRef, PageRef
from bot.answers import CampaignCard, Comparison, Help, Row, Scope, Suggestions, Table
from bot.campaign import CampaignInfo
from bot.kpi import KPIS, Totals, compare, compute_kpis
from bot.periods import PERIOD_EXAMPLES, Period
from bot.query import COMMANDS, Compare
from bot.render.blocks import (
    MAX_PICKS,
    PAGE_SIZE,
    answer_message,
    apology_message,
    card_message,
    error_message,
    help_message,
    suggestions_message,
    table_message,
)
from bot.render.card_fields import CARD_KPIS, CUSTOMER_KPIS
from bot.render.mrkdwn import unescape
from tests.support.blockkit import assert_no_mentions, assert_valid_message

AUGUST = Period(date(2025, 8, 1), date(2025, 8, 31), "last month")
JULY = Period(date(2025, 7, 1), date(2025, 7, 31), "previous period")
JULY_LAST_YEAR = Period(date(2024, 8, 1), date(2024, 8, 31), "same period last year")
MICROS = 1_000_000
LABELS = {k.key: k.label for k in KPIS}

NOW = Totals(
    impressions=120_000,
    clicks=2_124,  # CTR 1.77%
    conversions=54,  # CPA $22.00
    spend_micros=1_188 * MICROS,
    revenue_micros=2_435_400_000,  # ROAS 2.05×
    days=31,
)
BEFORE = Totals(
    impressions=115_000,
    clicks=1_800,
    conversions=40,  # CPA $25.00: CPA goes down, which is good
    spend_micros=1_000 * MICROS,  # spend goes up, which is bad
    revenue_micros=2_000 * MICROS,  # ROAS 2.00 → 2.05: up, good
    days=31,
)

INJECTIONS = [
    "<!channel> Promo",
    "<!here|x>",
    "<@U123>",
    "<#C123>",
    "<http://evil|click>",
    "&amp;",
    "a & b",
    "<!subteam^S123>",
    "x > y < z",
]


# --------------------------------------------------------------------------- builders


def card(
    *,
    name: str = "Summer Sale",
    now: Totals = NOW,
    before: Totals | None = BEFORE,
    label: str = "previous period",
    platform: str = "meta_ads",
    channel: str = "social",
    currency: str = "USD",
    campaign_id: int | None = 7,
) -> CampaignCard:
    kpis = dict.fromkeys(compute_kpis(now)) if now.is_empty else compute_kpis(now)
    comparison = None
    if before is not None:
        other = JULY if label == "previous period" else JULY_LAST_YEAR
        then = compute_kpis(before)
        kind = Compare.PREVIOUS if label == "previous period" else Compare.YEAR
        comparison = Comparison(kind, label, other, before, then, compare(kpis, then))
    return CampaignCard(
        scope=Scope("campaign", name, campaign_id, "ext-7", platform, channel),
        period=AUGUST,
        currency=currency,
        totals=now,
        kpis=kpis,
        data_from=None if now.is_empty else date(2025, 8, 1),
        data_through=None if now.is_empty else date(2025, 8, 31),
        comparison=comparison,
        query_text="summer-sale last month",
    )


def row(name: str, *, i: int = 1, kind: str = "campaign", currency: str = "DKK") -> Row:
    scope = Scope(kind, name, i, f"ext-{i}", "meta_ads", "social")
    return Row(scope, currency, compute_kpis(NOW), date(2025, 8, 30))


def table(
    rows: list[Row],
    *,
    kind: str = "top",
    query: str = "top roas last month 50",
    note: str = "",
    title: str = "Top 5 by ROAS",
) -> Table:
    columns = () if kind == "list" else ("roas", "spend", "conversions", "cpa", "revenue")
    period = None if kind == "list" else AUGUST
    return Table(kind, title, period, tuple(rows), columns, "roas", note, query)


def info(i: int, name: str = "Summer Sale", platform: str = "meta_ads") -> CampaignInfo:
    return CampaignInfo(i, f"ext-{i}", name, platform, "acct", "social", "DKK")


def suggestions(
    candidates: list[CampaignInfo], *, text: str = "sale", ambiguous: bool = True
) -> Suggestions:
    return Suggestions(text, tuple(candidates), AUGUST, "year", ambiguous)


# --------------------------------------------------------------------------- inspection


def check(message: dict[str, Any], *, allowed: tuple[str, ...] = ()) -> None:
    """Valid for Slack, with fallback text, and no mention/link other than `allowed`."""
    assert set(message) == {"text", "blocks"}
    assert len(message["text"]) <= 3000
    assert_valid_message(message, require_fallback_text=True)
    assert_no_mentions(message, allowed_prefixes=("<http", *allowed))


def mrkdwn_texts(message: dict[str, Any]) -> list[str]:
    out: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, list):
            for item in node:
                walk(item)
        elif isinstance(node, dict):
            if node.get("type") == "mrkdwn":
                out.append(node["text"])
            for value in node.values():
                walk(value)

    walk(message["blocks"])
    return out


def all_text(message: dict[str, Any]) -> str:
    return "\n".join([message["text"], *mrkdwn_texts(message)])


def fields(message: dict[str, Any]) -> dict[str, str]:
    """KPI fields of a card by their bold label."""
    out = {}
    for block in message["blocks"]:
        for f in block.get("fields", []):
            label = f["text"].split("\n", 1)[0].strip("*")
            out[label] = f["text"]
    return out


def buttons(message: dict[str, Any]) -> list[dict[str, Any]]:
    return [e for b in message["blocks"] if b["type"] == "actions" for e in b["elements"]]


def blocks_of(message: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [b for b in message["blocks"] if b["type"] == kind]


# --------------------------------------------------------------------------- card


def test_card_shows_exact_values() -> None:
    message = card_message(card())
    check(message)
    f = fields(message)
    assert f["Spend"].startswith("*Spend*\n$1,188.00  ")
    assert f["ROAS"].startswith("*ROAS*\n2.05×  ")
    assert f["CTR"].startswith("*CTR*\n1.77%  ")
    assert f["CPA"].startswith("*CPA*\n$22.00  ")
    assert f["Impressions"].startswith("*Impressions*\n120,000  ")
    assert "_was $25.00_" in f["CPA"]
    header = message["blocks"][0]
    assert header == {
        "type": "header",
        "text": {"type": "plain_text", "text": "Summer Sale · last month", "emoji": True},
    }
    assert "2025-08-01–2025-08-31" in message["blocks"][1]["text"]["text"]
    assert "$1,188.00" in message["text"] and "2.05×" in message["text"]


def test_card_fields_follow_card_kpis_in_sections_of_at_most_ten() -> None:
    plain_card = card_message(card())
    assert list(fields(plain_card)) == [LABELS[k] for k in CARD_KPIS]
    with_customers = card_message(card(now=replace(NOW, new_customers=9)))
    check(with_customers)
    assert list(fields(with_customers)) == [LABELS[k] for k in CARD_KPIS + CUSTOMER_KPIS]
    assert "New customers" in fields(with_customers)
    for block in blocks_of(with_customers, "section"):
        assert len(block.get("fields", [])) <= 10


def test_undefined_values_show_a_dash() -> None:
    message = card_message(card())
    f = fields(message)
    assert f["CPL"].startswith("*CPL*\n—  —")  # no leads: CPL undefined, change undefined
    empty = card_message(card(now=Totals(), before=None))
    check(empty)
    for text in fields(empty).values():
        assert text.split("\n")[1] == "—"  # no data is undefined, never 0
    assert "no data in this period" in all_text(empty)


def test_arrows_and_colours_follow_the_direction_of_good() -> None:
    f = fields(card_message(card()))
    assert "$22.00  :large_green_circle: ↓ −12.0%" in f["CPA"]  # lower CPA is good
    assert "↑ +18.8%" in f["Spend"]  # spend is neither good nor bad: no colour
    assert "circle" not in f["Spend"]
    assert ":large_green_circle: ↑" in f["ROAS"]
    assert ":large_green_circle: ↑" in f["CTR"]
    worse = fields(card_message(card(now=BEFORE, before=NOW)))
    assert ":red_circle: ↓" in worse["ROAS"]
    assert ":red_circle: ↑ +13.6%" in worse["CPA"]
    assert "circle" not in worse["Spend"]


def test_flat_and_undefined_changes_have_no_colour() -> None:
    f = fields(card_message(card(now=NOW, before=NOW)))
    for text in f.values():
        assert ":large_green_circle:" not in text and ":red_circle:" not in text
    assert f["Spend"] == "*Spend*\n$1,188.00  ±0.0%\n_was $1,188.00_"
    assert f["CPL"] == "*CPL*\n—  —\n_was —_"


def test_card_without_comparison_has_no_change() -> None:
    message = card_message(card(before=None))
    check(message)
    assert fields(message)["Spend"] == "*Spend*\n$1,188.00"
    assert "vs " not in all_text(message)


def test_card_context_has_freshness_currency_platform_and_comparison() -> None:
    context = [e["text"] for b in blocks_of(card_message(card()), "context") for e in b["elements"]]
    assert context == [
        "data through 2025-08-31",
        "USD",
        "meta_ads · social",
        "vs previous period (2025-07-01–2025-07-31)",
        "Not measured: Leads, New customers.",  # NOW has no leads or new customers
    ]


@pytest.mark.parametrize(
    ("label", "expected"),
    [("previous period", Compare.PREVIOUS), ("same period last year", Compare.YEAR)],
)
def test_share_button_round_trips(label: str, expected: Compare) -> None:
    message = card_message(card(label=label))
    check(message)
    [button] = buttons(message)
    assert button["action_id"] == ACTION_SHARE
    assert button["text"]["text"] == "Share in channel"
    assert CardRef.decode(button["value"]) == CardRef(7, AUGUST, expected)


def test_no_share_button_without_actions_or_campaign_id() -> None:
    assert buttons(card_message(card(), with_actions=False)) == []
    assert buttons(card_message(card(campaign_id=None))) == []


def test_shared_by_mentions_only_a_valid_user_id() -> None:
    message = card_message(card(), shared_by="U012ABCDEF", with_actions=False)
    check(message, allowed=("<@U012ABCDEF>",))
    assert "Shared by <@U012ABCDEF>" in mrkdwn_texts(message)
    for bad in ["<!channel>", "U1", "u123abc", "U123>", "U123\n", "U123 <!here>", "C123ABC", ""]:
        bad_message = card_message(card(), shared_by=bad)
        check(bad_message)
        assert "Shared by" not in all_text(bad_message)


@settings(max_examples=30, deadline=None)
@given(st.from_regex(r"[UW][A-Z0-9]{2,12}", fullmatch=True))
def test_any_valid_user_id_is_mentioned(user_id: str) -> None:
    message = card_message(card(), shared_by=user_id)
    check(message, allowed=(f"<@{user_id}>",))
    assert f"Shared by <@{user_id}>" in mrkdwn_texts(message)


def test_long_names_are_cut_in_the_header() -> None:
    message = card_message(card(name="x" * 512))
    check(message)
    header = message["blocks"][0]["text"]["text"]
    assert len(header) == 150 and header.endswith("…")


# --------------------------------------------------------------------------- tables


ROW_ID = re.compile(r"row(\d{4})")


def long_name(i: int) -> str:
    return (f"row{i:04d} " + "&<>" * 200)[:512]


@pytest.mark.parametrize("n", [0, 1, 15, 16, 1000])
def test_pagination_covers_every_row_once_within_limits(n: int) -> None:
    rows = [row(long_name(i), i=i) for i in range(n)]
    answer = table(rows)
    pages = max(1, -(-n // PAGE_SIZE))
    seen: list[int] = []
    for page in range(pages):
        message = table_message(answer, page=page)
        check(message)
        sections = [s["text"]["text"] for s in blocks_of(message, "section")]
        seen += [int(m) for text in sections for m in ROW_ID.findall(text)]
        ids = {b["action_id"]: b for b in buttons(message)}
        prev, nxt = ids.get(f"{ACTION_PAGE}_prev"), ids.get(f"{ACTION_PAGE}_next")
        assert (prev is not None) == (page > 0)
        assert (nxt is not None) == (page < pages - 1)
        if prev is not None:
            assert PageRef.decode(prev["value"]) == PageRef(answer.query_text, page - 1)
        if nxt is not None:
            assert PageRef.decode(nxt["value"]) == PageRef(answer.query_text, page + 1)
        if pages > 1:
            rows_text = f"{n:,} rows"
            assert f"Page {page + 1} of {pages} · {rows_text}" in mrkdwn_texts(message)
    assert seen == list(range(n))


def test_pagination_context_and_clamping() -> None:
    answer = table([row(f"row{i:04d}", i=i) for i in range(101)])
    last = table_message(answer, page=6)
    assert "Page 7 of 7 · 101 rows" in mrkdwn_texts(last)
    assert table_message(answer, page=99) == last
    assert table_message(answer, page=-3) == table_message(answer, page=0)


def test_empty_table_says_nothing_to_show() -> None:
    message = table_message(table([]))
    check(message)
    assert buttons(message) == []
    said = "No campaign has data for last month (2025-08-01–2025-08-31). `/kpi list` shows"
    assert any(t.startswith(said) for t in mrkdwn_texts(message))


def test_table_rows_show_rank_kpis_and_bold_totals() -> None:
    rows = [row("Summer Sale", i=1), row("Winter", i=2), row("Total DKK", kind="total")]
    message = table_message(table(rows, kind="channel", title="Channel social"))
    check(message)
    texts = [s["text"]["text"] for s in blocks_of(message, "section")]
    assert texts[0] == (
        "*1. Summer Sale* (meta_ads · DKK)\n"
        "ROAS 2.05× · Spend DKK1,188.00 · Conversions 54 · CPA DKK22.00 · Revenue DKK2,435.40"
    )
    assert texts[1].startswith("*2. Winter*")
    assert texts[2].startswith("*Total DKK*\n*ROAS 2.05× · ")
    assert message["blocks"][0]["text"]["text"] == "Channel social · last month"


def test_list_rows_show_platform_channel_currency_and_data_through() -> None:
    message = table_message(table([row("Summer Sale")], kind="list", title="All campaigns"))
    check(message)
    [section] = blocks_of(message, "section")
    assert section["text"]["text"] == (
        "*1. Summer Sale*\nmeta_ads · social · DKK · data through 2025-08-30"
    )
    assert message["blocks"][0]["text"]["text"] == "All campaigns"


def test_table_note_is_a_context_block() -> None:
    message = table_message(table([row("a")], note="2 campaign(s) without a ROAS <left out>"))
    check(message)
    assert "2 campaign(s) without a ROAS &lt;left out&gt;" in mrkdwn_texts(message)


@pytest.mark.parametrize("query", ["", "   ", "ø" * 1000])
def test_no_page_buttons_when_the_query_cannot_be_asked_again(query: str) -> None:
    message = table_message(table([row(f"r{i}", i=i) for i in range(40)], query=query))
    check(message)
    assert buttons(message) == []
    assert "Page 1 of 3 · 40 rows" in mrkdwn_texts(message)


# --------------------------------------------------------------------------- suggestions


def test_suggestion_buttons_pick_a_campaign() -> None:
    candidates = [info(i, f"Sale {i}") for i in range(7)]
    message = suggestions_message(suggestions(candidates))
    check(message)
    found = buttons(message)
    assert len(found) == MAX_PICKS
    assert [b["action_id"] for b in found] == [f"{ACTION_PICK}_{i}" for i in range(MAX_PICKS)]
    assert found[0]["text"]["text"] == "Sale 0 (meta_ads)"
    for i, button in enumerate(found):
        assert CardRef.decode(button["value"]) == CardRef(i, AUGUST, Compare.YEAR)
    assert message["text"] == "“sale” could be several campaigns — did you mean:"


def test_suggestion_labels_are_cut_to_button_size() -> None:
    message = suggestions_message(suggestions([info(1, "y" * 70), info(2, "z" * 300)]))
    check(message)
    first, second = (b["text"]["text"] for b in buttons(message))
    assert first == "y" * 70  # no room for the platform
    assert len(second) == 75 and second.endswith("…")


def test_not_ambiguous_and_no_candidates() -> None:
    message = suggestions_message(suggestions([info(1)], text="sumer", ambiguous=False))
    check(message)
    assert message["text"].startswith("No campaign is called “sumer”")
    none = suggestions_message(suggestions([], text="nope", ambiguous=False))
    check(none)
    assert buttons(none) == []
    assert "`/kpi list`" in none["blocks"][0]["text"]["text"]


# --------------------------------------------------------------------------- help


def test_help_is_generated_from_the_answer() -> None:
    kpis = tuple((k.key, k.label) for k in KPIS)
    message = help_message(Help(COMMANDS, PERIOD_EXAMPLES, kpis))
    check(message)
    text = "\n".join(mrkdwn_texts(message))
    for usage, what, example in COMMANDS:
        assert f"`/kpi {usage.replace('<', '&lt;').replace('>', '&gt;')}`" in text
        assert what in text
        if example != usage:
            assert f"e.g. `/kpi {example}`" in text
    for example, _ in PERIOD_EXAMPLES:
        assert f"`{example}`" in text
    for key, label in kpis:
        assert f"`{key}` {label}" in text


def test_help_hard_codes_no_examples() -> None:
    made_up = Help((("frob <x>", "frobs", "frob 3"),), (("someday", "eventually"),), ())
    message = help_message(made_up)
    check(message)
    text = "\n".join(mrkdwn_texts(message))
    assert "`/kpi frob &lt;x&gt;` — frobs, e.g. `/kpi frob 3`" in text
    assert "`someday` — eventually" in text
    assert "summer" not in text and "roas" not in text and "*KPIs*" not in text


def test_huge_help_stays_within_limits() -> None:
    commands = tuple((f"cmd{i} " + "<x>" * 300, "w" * 900, "e" * 900) for i in range(200))
    check(help_message(Help(commands, PERIOD_EXAMPLES * 50, (("k", "K"),) * 500)))


# --------------------------------------------------------------------------- errors


def test_error_message_escapes_but_keeps_backticks() -> None:
    message = error_message('Unknown period "<!here>". Try e.g. `7d` & `last month`.')
    check(message)
    body = message["blocks"][0]["text"]["text"]
    assert "&lt;!here&gt;" in body and "`7d` &amp; `last month`" in body
    check(error_message("x" * 5000))
    check(error_message("   "))


def test_apology_carries_the_reference() -> None:
    message = apology_message("AB12CD")
    check(message)
    assert message["text"].startswith("Sorry, something went wrong (ref `AB12CD`)")
    check(apology_message("<!channel>"))


def test_answer_message_dispatches() -> None:
    assert answer_message(card()) == card_message(card())
    answer = table([row(f"r{i}", i=i) for i in range(40)])
    assert answer_message(answer, page=1) == table_message(answer, page=1)
    s = suggestions([info(1)])
    assert answer_message(s) == suggestions_message(s)
    h = Help(COMMANDS, PERIOD_EXAMPLES)
    assert answer_message(h) == help_message(h)


# --------------------------------------------------------------------------- injection


def every_message(name: str, query: str = "q") -> list[dict[str, Any]]:
    rows = [row(name, i=1), row(name, i=2), row(f"Total {name}", kind="total", currency=name)]
    candidate = CampaignInfo(1, name, name, name, name, name, name)
    return [
        card_message(card(name=name, platform=name, channel=name, currency=name)),
        card_message(card(name=name), shared_by=name),
        table_message(table(rows, kind="platform", title=name, query=query, note=name)),
        table_message(table(rows * 10, query=query, title=f"Top by “{name}”"), page=1),
        table_message(table(rows, kind="list", title=f"Campaigns matching “{name}”")),
        table_message(table([], title=name, query=query)),
        suggestions_message(Suggestions(name, (candidate,) * 3, AUGUST, "previous", True)),
        suggestions_message(Suggestions(name, (), AUGUST, "previous", False)),
        help_message(Help(((name, name, name),), ((name, name),), ((name, name),))),
        error_message(name),
        apology_message(name),
    ]


@pytest.mark.parametrize("name", INJECTIONS)
def test_data_never_mentions_or_links(name: str) -> None:
    for message in every_message(name, query=name):
        check(message)
    escaped_name = name.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    card_text = all_text(card_message(card(name=name)))
    assert escaped_name in card_text


@settings(max_examples=60, deadline=None)
@given(name=st.text(max_size=600), query=st.text(max_size=1200))
def test_any_text_gives_a_valid_message(name: str, query: str) -> None:
    mention = (f"<@{name}>",) if re.fullmatch(r"[UW][A-Z0-9]{2,30}", name) else ()
    for message in every_message(name, query):
        check(message, allowed=mention)


FORMATTED = "*NEW* _promo_ ~old~ `x`"


def test_data_never_formats_but_our_labels_do() -> None:
    quoted = error_message(FORMATTED)  # our sentence, whose backticks are code style
    for message in every_message(FORMATTED, query=FORMATTED):
        check(message)
        if message == quoted:
            assert "∗NEW∗ ˍpromoˍ ∼old∼" in message["text"]
            continue
        for text in [message["text"], *mrkdwn_texts(message)]:
            for marked in ("*NEW*", "_promo_", "~old~", "`x`"):
                assert marked not in text
    rows = [row(FORMATTED, i=1), row("Total DKK", kind="total")]
    texts = mrkdwn_texts(table_message(table(rows)))
    assert any(t.startswith("*1. ") and unescape(t).startswith(f"*1. {FORMATTED}*") for t in texts)
    assert any(t.startswith("*Total DKK*\n*ROAS ") for t in texts)
    assert fields(card_message(card(name=FORMATTED)))["Spend"].startswith("*Spend*\n")


def test_snake_case_platforms_and_kpi_keys_keep_their_underscores() -> None:
    listed = mrkdwn_texts(table_message(table([row("A", i=1)], kind="list")))
    assert any("meta_ads · social" in t for t in listed)
    helped = "\n".join(mrkdwn_texts(help_message(Help(COMMANDS, PERIOD_EXAMPLES, LABELS_HELP))))
    assert "`new_customers` New customers" in helped
    assert "`ltv_cac`" in helped


LABELS_HELP = tuple((k.key, k.label) for k in KPIS)


def test_a_per_currency_ranking_numbers_each_currency_from_one() -> None:
    rows = [
        row("DK A", i=1, currency="DKK"),
        row("DK B", i=2, currency="DKK"),
        row("EU A", i=3, currency="EUR"),
        row("EU B", i=4, currency="EUR"),
    ]
    ranked = replace(table(rows, title="Top 2 by CPA in each currency"), rank_kpi="cpa")
    texts = [b["text"]["text"] for b in blocks_of(table_message(ranked), "section")]
    assert [t.split("*")[1].split(".")[0] for t in texts] == ["1", "2", "1", "2"]
    by_roas = table(rows)  # ROAS is no money KPI: one ranking across currencies
    texts = [b["text"]["text"] for b in blocks_of(table_message(by_roas), "section")]
    assert [t.split("*")[1].split(".")[0] for t in texts] == ["1", "2", "3", "4"]
