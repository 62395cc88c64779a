"""`kpibot console`: typed lines go through the real Bolt app and come back drawn."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console, Group
from rich.panel import Panel
from rich.text import Text

from bot.answers import Help, Row, Scope, Table
from bot.config import Settings
from bot.importing.run import import_file
from bot.kpi import KPIS
from bot.periods import PERIOD_EXAMPLES
from bot.query import COMMANDS
from bot.render.blocks import help_message, table_message
from bot.slack.console import run_console
from bot.slack.console_view import render_message
from storage.database import make_engine
from storage.schema import upgrade
from tests.conftest import FIVETRAN_SAMPLE


def _lines(*lines: str) -> Iterator[str]:
    yield from lines


def _script(*lines: str):  # type: ignore[no-untyped-def]
    feed = _lines(*lines)

    def read_line(prompt: str) -> str:
        try:
            return next(feed)
        except StopIteration:
            raise EOFError from None

    return read_line


@pytest.fixture
def settings(database_url: str) -> Settings:
    engine = make_engine(database_url)
    upgrade(engine)
    import_file(engine, FIVETRAN_SAMPLE, default_currency="USD")
    engine.dispose()
    return Settings.from_mapping({"DATABASE_URL": database_url})


def test_console_answers_a_typed_kpi_command(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    run_console(settings, _script("/kpi summer-sale 2025-08-10..2025-08-12", "quit"))
    out = capsys.readouterr().out
    assert "Summer Sale" in out
    assert "1,188.00" in out
    assert "2.05×" in out
    assert "[1] Share in channel" in out


def test_pressing_share_shows_the_card_for_everyone(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    run_console(settings, _script("summer-sale 2025-08-10..2025-08-12", "press 1"))
    out = capsys.readouterr().out
    assert "visible to everyone" in out
    assert "Shared by" in out


def test_pressing_a_button_that_is_not_there_says_so(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    run_console(settings, _script("press 3", "help"))
    out = capsys.readouterr().out
    assert "There is no button 3" in out
    assert "press N" in out


def test_console_works_on_the_demo_database(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.demo import build_demo, demo_url

    base = Settings.from_mapping({})
    build_demo(base, tmp_path)
    settings = Settings.from_mapping({"DATABASE_URL": demo_url(tmp_path)})
    run_console(settings, _script("/kpi top roas 30d 3", "/kpi list", "press 1"))
    out = capsys.readouterr().out
    assert "Top 3 by ROAS" in out
    assert "Summer Sale" in out


def _drawn(message: dict[str, Any]) -> str:
    console = Console(width=120, record=True)
    console.print(render_message(message)[0])
    return console.export_text()


def test_data_text_is_drawn_literally_with_its_stars_and_underscores() -> None:
    scope = Scope("campaign", "*NEW* _promo_ <b> & co", 1, "e1", "google_ads", "paid_search")
    rows = (Row(scope, "DKK", {}, date(2025, 8, 30)),)
    out = _drawn(table_message(Table("list", "All campaigns", None, rows, (), query_text="list")))
    assert "1. *NEW* _promo_ <b> & co" in out
    assert "google_ads · paid_search · DKK" in out


def test_help_keeps_the_underscores_of_kpi_keys() -> None:
    kpis = tuple((k.key, k.label) for k in KPIS)
    out = " ".join(_drawn(help_message(Help(COMMANDS, PERIOD_EXAMPLES, kpis))).split())
    assert "`new_customers` New customers" in out
    assert "`ltv_cac` LTV:CAC" in out
    assert "platform google_ads 7d" in out


def test_our_own_bold_and_italic_are_styled_not_shown() -> None:
    section = {"type": "mrkdwn", "text": "*Spend*\n$1.00 _was $2.00_ google_ads"}
    panel, _ = render_message({"blocks": [{"type": "section", "text": section}]})
    assert isinstance(panel, Panel) and isinstance(panel.renderable, Group)
    text = panel.renderable.renderables[0]
    assert isinstance(text, Text)
    assert text.plain == "Spend\n$1.00 was $2.00 google_ads"
    styles = {text.plain[s.start : s.end]: str(s.style) for s in text.spans}
    assert styles == {"Spend": "bold", "was $2.00": "italic dim"}
