"""A limited channel through `kpibot serve`: signed /kpi commands and button presses see only
the campaigns the channel may see (card, list, top, totals, did-you-mean, forged buttons),
while a user in another channel sees everything. The limit is set directly in storage."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.access.model import parse_limit
from bot.actions import ACTION_PICK, CardRef
from bot.importing.run import import_file
from bot.periods import parse_period
from bot.query import Compare
from storage import access
from storage.database import make_engine, session_factory, session_scope
from storage.models import Campaign
from storage.schema import upgrade
from tests.conftest import postgres_schema
from tests.e2e.conftest import ServedApp, buttons, message_text, start_serve
from tests.support.blockkit import assert_valid_message
from tests.support.fake_slack import FakeSlack

P = "2025-08-10..2025-08-12"
LIMITED = "C0E2E0001"  # the channel ServedApp's commands come from
OTHER = "C0E2EOTHER"
HEADER = (
    "date,campaign_id,campaign,platform,account,channel,currency,clicks,spend,conversions,revenue"
)
VISIBLE = {
    "Summer Sale DK": "m1,Summer Sale DK,meta_ads,111,social,DKK,50,100.00,2,300.00",
    "Summer Sale EU": "m2,Summer Sale EU,meta_ads,111,social,EUR,20,40.00,1,100.00",
    "Brand Awareness": "m3,Brand Awareness,meta_ads,111,social,DKK,30,50.00,1,60.00",
}
HIDDEN = {
    "Summer Sale": "g1,Summer Sale,google_ads,333,paid_search,DKK,400,1000.00,10,5000.00",
    "Summer Sale NO": "m4,Summer Sale NO,meta_ads,222,social,DKK,25,70.00,1,20.00",
    "Brand Search": "g2,Brand Search,google_ads,333,paid_search,EUR,15,30.00,3,90.00",
}
NOTE = "This channel sees only platform meta_ads · account 111."


def _seed(database_url: str, folder: Path) -> dict[str, int]:
    engine = make_engine(database_url)
    try:
        upgrade(engine)
        lines = [HEADER]
        for day in ("2025-08-10", "2025-08-11", "2025-08-12"):
            lines += [f"{day},{row}" for row in (*VISIBLE.values(), *HIDDEN.values())]
        path = folder / "limited.csv"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        import_file(engine, path, default_currency="DKK")
        sessions = session_factory(engine)
        with session_scope(sessions) as session:
            limit = parse_limit(["platform", "meta_ads", "account", "111"])
            now = datetime(2025, 8, 20, tzinfo=UTC)
            access.set_limit(session, LIMITED, limit, by="U0ADMIN", now=now)
            return {row[0]: row[1] for row in session.execute(select(Campaign.name, Campaign.id))}
    finally:
        engine.dispose()


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def limited(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[ServedApp, dict[str, int], Path]]:
    folder = tmp_path_factory.mktemp(f"limited-{request.param}")
    with ExitStack() as stack:
        if request.param == "sqlite":
            database_url = f"sqlite:///{folder / 'kpibot.db'}"
        else:
            database_url = stack.enter_context(postgres_schema())
        ids = _seed(database_url, folder)
        slack = stack.enter_context(FakeSlack())
        log = folder / "serve.log"
        url = start_serve(stack, database_url, slack, log)
        yield ServedApp(url, slack, database_url), ids, log


@pytest.fixture
def app(limited: tuple[ServedApp, dict[str, int], Path]) -> ServedApp:
    limited[0].slack.reset()
    return limited[0]


def answer(app: ServedApp, text: str, channel: str = LIMITED) -> dict[str, Any]:
    """The acknowledgement's message for `/kpi text` from `channel`."""
    _, url = app.response_url()
    body = app.command_body(text, url).replace(f"channel_id={LIMITED}", f"channel_id={channel}")
    response = app.post(body)
    assert response.status_code == 200, response.text
    message: dict[str, Any] = response.json()
    assert_valid_message(message)
    return message


def named(message: dict[str, Any]) -> set[str]:
    """Which of the campaigns a message names (as a whole name: a bold name or a button)."""
    text = message_text(message)
    return {
        n
        for n in (*VISIBLE, *HIDDEN)
        if re.search(rf"\*(\d+\. )?{re.escape(n)}\*", text) or f'"{n} (' in text
    }


def test_list_top_and_totals_show_only_the_visible_campaigns(app: ServedApp) -> None:
    assert named(answer(app, "list")) == set(VISIBLE)
    assert NOTE in message_text(answer(app, "list"))
    assert named(answer(app, f"top spend {P}")) == set(VISIBLE)
    totals = message_text(answer(app, f"all {P}"))
    assert "450.00" in totals and "120.00" in totals  # DKK (100 + 50) × 3, EUR 40 × 3
    assert "3,660.00" not in totals and "210.00" not in totals
    assert NOTE in totals


def test_another_channel_sees_everything(app: ServedApp) -> None:
    assert named(answer(app, "list", OTHER)) == set(VISIBLE) | set(HIDDEN)
    totals = message_text(answer(app, f"all {P}", OTHER))
    assert "3,660.00" in totals and "210.00" in totals
    assert "This channel sees only" not in totals


def test_cards_and_did_you_mean_offer_only_visible_campaigns(app: ServedApp) -> None:
    card = answer(app, f"summer sale dk {P}")
    assert "Summer Sale DK" in message_text(card) and "3,000.00" not in message_text(card)
    assert NOTE in message_text(card)
    # "summer sale" is the hidden Google campaign's name: here it is not there at all.
    asked = answer(app, f"summer sale {P}")
    labels = {b["text"]["text"] for b in buttons(asked) if b["action_id"].startswith(ACTION_PICK)}
    assert labels == {"Summer Sale DK (meta_ads)", "Summer Sale EU (meta_ads)"}
    assert named(answer(app, f"brand search {P}")) <= set(VISIBLE)
    elsewhere = answer(app, f"summer sale {P}", OTHER)
    assert "google_ads" in message_text(elsewhere) and "15,000.00" in message_text(elsewhere)


def test_a_forged_button_for_a_hidden_campaign_answers_as_for_a_missing_one(
    app: ServedApp, limited: tuple[ServedApp, dict[str, int], Path]
) -> None:
    _, ids, log = limited
    period = parse_period(P, date(2025, 8, 20))

    def press(campaign_id: int) -> str:
        value = CardRef(campaign_id, period, Compare.PREVIOUS).encode()
        pressed, name = app.press({"action_id": f"{ACTION_PICK}_0", "value": value})
        assert pressed.status_code == 200
        (call,) = app.slack.wait_for(f"response/{name}", count=1, ok=True)
        return message_text(call.json())

    hidden = press(ids["Summer Sale"])
    missing = press(10**9)
    assert "no longer exists" in hidden
    assert json.loads(hidden)["blocks"] == json.loads(missing)["blocks"]
    assert "1,000.00" not in hidden and "Summer Sale" not in hidden
    shown = press(ids["Summer Sale DK"])
    assert "Summer Sale DK" in shown and NOTE in shown
    served = log.read_text(errors="replace")
    assert "Brand Search" not in served and "Traceback" not in served
