"""`kpibot console`: typed lines go through the real Bolt app and come back drawn."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.config import Settings
from bot.importing.run import import_file
from bot.slack.console import run_console
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
