"""A limited channel's answers: only the campaigns it may see, in every kind of answer.

Hand-made data on two platforms and three ad accounts, with names that match across the
boundary: the channel may see Meta account 111; the best match for "summer sale" is a Google
campaign it may not see. Each answer is checked by hand and against a database that holds only
the visible campaigns (a hidden campaign must be indistinguishable from a missing one).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner
from rich.console import Console
from sqlalchemy import Engine, event, select
from sqlalchemy.orm import Session, sessionmaker

from bot import messages
from bot.access.model import Visibility, parse_limit
from bot.answers import Answer, CampaignCard, Suggestions, Table
from bot.cli import main
from bot.importing.run import import_file
from bot.kpi import Economics
from bot.periods import parse_period
from bot.query import Compare, NothingToShow, QueryError
from bot.render.blocks import answer_message
from bot.render.json_answer import answer_json
from bot.render.mrkdwn import unescape
from bot.render.terminal import render_answer
from bot.service import KpiService
from storage import access
from storage.database import make_engine, session_factory, session_scope
from storage.models import Campaign
from storage.schema import upgrade

NOW = datetime(2025, 8, 20, 12, 0, tzinfo=UTC)
P = "2025-08-10..2025-08-12"
DAYS = ("2025-08-10", "2025-08-11", "2025-08-12")
LIMITED = "C0LIMITED"
OPEN = "C0OPEN"
HEADER = (
    "date,campaign_id,campaign,platform,account,channel,currency,clicks,spend,conversions,revenue"
)
# id, name, platform, account, channel, currency, clicks, spend, conversions, revenue (per day)
VISIBLE = [
    ("m1", "Summer Sale DK", "meta_ads", "111", "social", "DKK", 50, "100.00", 2, "300.00"),
    ("m2", "Summer Sale EU", "meta_ads", "111", "social", "EUR", 20, "40.00", 1, "100.00"),
    ("m3", "Brand Awareness", "meta_ads", "111", "social", "DKK", 30, "50.00", 1, "60.00"),
]
HIDDEN = [
    ("g1", "Summer Sale", "google_ads", "333", "paid_search", "DKK", 400, "1000.00", 10, "5000.00"),
    ("m4", "Summer Sale NO", "meta_ads", "222", "social", "DKK", 25, "70.00", 1, "20.00"),
    ("g2", "Brand Search", "google_ads", "333", "paid_search", "EUR", 15, "30.00", 3, "90.00"),
]
LIMIT = ["platform", "meta_ads", "account", "111"]
NOTE = "This channel sees only platform meta_ads · account 111."


def write(engine: Engine, path: Path, campaigns: list[tuple[Any, ...]]) -> None:
    lines = [HEADER]
    for day in DAYS:
        lines += [",".join(str(v) for v in (day, *c)) for c in campaigns]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    import_file(engine, path, default_currency="DKK")


def set_limit(sessions: sessionmaker[Session], channel: str, words: list[str]) -> Visibility:
    with session_scope(sessions) as session:
        return access.set_limit(session, channel, parse_limit(words), by="U0ADMIN", now=NOW).sees


def kpis(sessions: sessionmaker[Session]) -> KpiService:
    return KpiService(sessions, Economics(), ZoneInfo("UTC"), lambda: NOW)


@pytest.fixture
def service(engine: Engine, sessions: sessionmaker[Session], tmp_path: Path) -> KpiService:
    write(engine, tmp_path / "all.csv", VISIBLE + HIDDEN)
    set_limit(sessions, LIMITED, LIMIT)
    return kpis(sessions)


@pytest.fixture
def visible_only(tmp_path: Path) -> Iterator[KpiService]:
    """The same service over a database that holds only the visible campaigns."""
    engine = make_engine(f"sqlite:///{tmp_path / 'visible.db'}")
    upgrade(engine)
    write(engine, tmp_path / "visible.csv", VISIBLE)
    yield kpis(session_factory(engine))
    engine.dispose()


def ids(sessions: sessionmaker[Session]) -> dict[str, int]:
    with session_scope(sessions) as session:
        return {row[0]: row[1] for row in session.execute(select(Campaign.name, Campaign.id))}


def shape(service: KpiService, text: str, channel: str | None = None) -> tuple[Any, ...]:
    """What an answer says, without database ids (the two databases number differently)."""
    try:
        answer = service.answer(text, channel=channel)
    except QueryError as exc:
        return ("error", type(exc).__name__, str(exc))
    if isinstance(answer, Table):
        rows = tuple(
            (r.scope.type, r.scope.name, r.currency, tuple(sorted(r.kpis.items())), r.data_through)
            for r in answer.rows
        )
        return ("table", answer.kind, answer.title, rows, answer.note)
    if isinstance(answer, Suggestions):
        return ("suggest", answer.text, tuple(c.name for c in answer.candidates), answer.ambiguous)
    assert isinstance(answer, CampaignCard), answer
    comparison = answer.comparison
    return ("card", answer.scope.name, answer.kpis, comparison and comparison.kpis)


def names(answer: Answer) -> list[str]:
    if isinstance(answer, Suggestions):
        return [c.name for c in answer.candidates]
    assert isinstance(answer, Table), answer
    return [r.scope.name for r in answer.rows if r.scope.type != "total"]


def totals(answer: Answer) -> dict[str, Any]:
    assert isinstance(answer, Table), answer
    return {r.currency: r.kpis for r in answer.rows if r.scope.type == "total"}


QUERIES = (
    "list",
    "list summer",
    "list sale",
    f"top spend {P}",
    f"bottom roas {P} 2",
    f"all {P}",
    f"channel social {P}",
    f"channel paid_search {P}",
    f"platform meta_ads {P}",
    f"platform google_ads {P}",
    f"summer sale {P}",
    f"sumer sale {P}",
    f"Summer Sale NO {P}",
    f"brand search {P}",
    f"brand {P}",
    f"summer sale dk {P}",
    "summer sale h2",
    "g1",
)


@pytest.mark.parametrize("text", QUERIES)
def test_a_limited_channel_answers_as_if_hidden_campaigns_did_not_exist(
    service: KpiService, visible_only: KpiService, text: str
) -> None:
    assert shape(service, text, LIMITED) == shape(visible_only, text)


def test_the_limited_channels_answers_carry_the_limit_and_other_channels_see_everything(
    service: KpiService,
) -> None:
    everything = {c[1] for c in VISIBLE + HIDDEN}
    assert set(names(service.answer("list", channel=LIMITED))) == {c[1] for c in VISIBLE}
    assert set(names(service.answer("list", channel=OPEN))) == everything
    assert set(names(service.answer("list"))) == everything  # the CLI without --channel
    limited = service.answer(f"all {P}", channel=LIMITED)
    assert limited.sees == parse_limit(LIMIT)  # type: ignore[union-attr]
    assert service.answer(f"all {P}", channel=OPEN).sees is None  # type: ignore[union-attr]


def test_totals_never_include_hidden_campaigns(service: KpiService) -> None:
    limited = totals(service.answer(f"all {P}", channel=LIMITED))
    # Visible: DKK 100 + 50 a day, EUR 40 a day, three days each.
    assert limited["DKK"]["spend"] == Decimal("450.00")
    assert limited["DKK"]["revenue"] == Decimal("1080.00")
    assert limited["DKK"]["conversions"] == 9
    assert limited["EUR"]["spend"] == Decimal("120.00")
    assert limited["EUR"]["conversions"] == 3
    everything = totals(service.answer(f"all {P}", channel=OPEN))
    assert everything["DKK"]["spend"] == Decimal("3660.00")  # (100 + 50 + 1000 + 70) × 3
    assert everything["EUR"]["spend"] == Decimal("210.00")  # (40 + 30) × 3
    social = totals(service.answer(f"channel social {P}", channel=LIMITED))
    assert social["DKK"]["spend"] == Decimal("450.00")  # Summer Sale NO is social, but hidden


def test_rankings_rank_only_visible_campaigns(service: KpiService) -> None:
    top = service.answer(f"top spend {P}", channel=LIMITED)
    # Money ranks within each currency: DKK (300, 150), then EUR (120).
    assert names(top) == ["Summer Sale DK", "Brand Awareness", "Summer Sale EU"]
    assert names(service.answer(f"top spend {P} 1", channel=OPEN))[0] == "Summer Sale"


def test_did_you_mean_never_offers_a_hidden_campaign(service: KpiService) -> None:
    # Open: "summer sale" is the Google campaign by name; limited, only the visible ones.
    card = service.answer(f"summer sale {P}", channel=OPEN)
    assert isinstance(card, CampaignCard) and card.scope.platform == "google_ads"
    limited = service.answer(f"summer sale {P}", channel=LIMITED)
    assert isinstance(limited, Suggestions)
    assert set(names(limited)) == {"Summer Sale DK", "Summer Sale EU"}
    assert limited.sees == parse_limit(LIMIT)
    fuzzy = service.answer(f"sumer sale {P}", channel=OPEN)
    best = fuzzy.scope.name if isinstance(fuzzy, CampaignCard) else names(fuzzy)[0]
    assert best == "Summer Sale"  # the hidden campaign is the best match…
    shown = service.answer(f"sumer sale {P}", channel=LIMITED)
    assert isinstance(shown, Suggestions) and shown.candidates  # …and is not offered
    assert set(names(shown)) <= {c[1] for c in VISIBLE}
    hidden = service.answer(f"brand search {P}", channel=LIMITED)
    assert "Brand Search" not in names(hidden)


def test_a_forged_card_id_of_a_hidden_campaign_is_refused_as_a_missing_one(
    service: KpiService, sessions: sessionmaker[Session]
) -> None:
    found = ids(sessions)
    period = parse_period(P, NOW.date())
    with pytest.raises(QueryError) as missing:
        service.card_for(10**9, period, Compare.PREVIOUS, channel=LIMITED)
    with pytest.raises(QueryError) as hidden:
        service.card_for(found["Summer Sale"], period, Compare.PREVIOUS, channel=LIMITED)
    assert str(hidden.value) == str(missing.value) == messages.CAMPAIGN_GONE
    card = service.card_for(found["Summer Sale"], period, Compare.PREVIOUS, channel=OPEN)
    assert card.scope.name == "Summer Sale" and card.sees is None
    mine = service.card_for(found["Summer Sale DK"], period, Compare.PREVIOUS, channel=LIMITED)
    assert mine.kpis["spend"] == Decimal("300.00") and mine.sees == parse_limit(LIMIT)


def test_grouped_queries_sum_only_the_visible_ids_in_one_query(
    service: KpiService, engine: Engine, sessions: sessionmaker[Session]
) -> None:
    statements: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(" ".join(statement.lower().split()))

    visible = {ids(sessions)[c[1]] for c in VISIBLE}
    event.listen(engine, "before_cursor_execute", seen)
    try:
        for text in (f"all {P}", f"top spend {P}", f"channel social {P}"):
            statements.clear()
            service.answer(text, channel=LIMITED)
            grouped = [s for s in statements if "group by" in s]
            assert len(grouped) == 1, (text, grouped)
            assert "campaign_id in" in grouped[0], text
        statements.clear()
        service.answer(f"all {P}", channel=OPEN)
        (whole,) = [s for s in statements if "group by" in s]
        assert "campaign_id in" not in whole
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert len(visible) == 3


def test_a_channel_that_may_see_nothing_says_so_not_no_data(
    service: KpiService, sessions: sessionmaker[Session]
) -> None:
    set_limit(sessions, LIMITED, ["platform", "tiktok_ads"])
    for text in ("list", f"all {P}", f"top roas {P}", f"summer sale {P}"):
        with pytest.raises(NothingToShow) as refused:
            service.answer(text, channel=LIMITED)
        assert str(refused.value) == messages.CHANNEL_SEES_NOTHING


def _texts(message: dict[str, Any]) -> str:
    return unescape(json.dumps(message, ensure_ascii=False))


def test_slack_terminal_and_json_show_the_limit(service: KpiService) -> None:
    for text in (f"summer sale dk {P}", f"all {P}", "list", f"summer sale {P}"):
        limited = service.answer(text, channel=LIMITED)
        assert NOTE in _texts(answer_message(limited)), text
        console = Console(record=True, width=300)
        console.print(render_answer(limited))
        assert NOTE in console.export_text(), text
        document = answer_json(limited)
        found = document.get("access") or document.get("error", {}).get("access")
        assert found == {"platforms": ["meta_ads"], "accounts": ["111"], "campaigns": []}
        open_answer = service.answer(text, channel=OPEN)
        assert "This channel sees only" not in _texts(answer_message(open_answer))
        document = answer_json(open_answer)
        assert (document.get("access") or document.get("error", {}).get("access")) is None


def test_the_limit_line_is_escaped(service: KpiService, sessions: sessionmaker[Session]) -> None:
    set_limit(sessions, LIMITED, ["campaign", "*sale*", ",", "<!channel>"])
    message = answer_message(service.answer(f"all {P}", channel=LIMITED))
    raw = json.dumps(message, ensure_ascii=False)
    assert "*sale*" not in raw and "<!channel>" not in raw
    assert "This channel sees only campaigns ∗sale∗, &lt;!channel&gt;." in raw
    assert set(names(service.answer("list", channel=LIMITED))) == {
        "Summer Sale DK",
        "Summer Sale EU",
        "Summer Sale",
        "Summer Sale NO",
    }


def test_cli_channel_option_answers_as_that_channel_sees(
    service: KpiService, database_url: str, clean_env: None
) -> None:
    def run(*args: str) -> dict[str, Any]:
        result = CliRunner().invoke(main, ["--db", database_url, "kpi", *args, "--json"])
        assert result.exit_code == 0, result.output
        document: dict[str, Any] = json.loads(result.output)
        return document

    limited = run("--channel", LIMITED, "all", P)
    rows = {r["scope"]["name"]: r for r in limited["rows"]}
    assert rows["Total DKK"]["kpis"]["spend"] == "450.00"
    assert limited["access"] == {"platforms": ["meta_ads"], "accounts": ["111"], "campaigns": []}
    everything = run("all", P)
    assert {r["scope"]["name"]: r for r in everything["rows"]}["Total DKK"]["kpis"][
        "spend"
    ] == "3660.00"
    assert everything["access"] is None
