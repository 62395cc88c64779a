"""`kpibot console` answers the identity lookups itself: its user is a member and admin of its
own workspace, so /kpi and /kpi access work there without Slack."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from bot.config import Settings
from bot.importing.run import import_file
from bot.slack.console import CHANNEL_ID, run_console
from storage.database import make_engine
from storage.schema import upgrade
from tests.conftest import FIVETRAN_SAMPLE


def script(*lines: str) -> Callable[[str], str]:
    feed: Iterator[str] = iter(lines)

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


def test_the_console_user_is_admitted_and_may_limit_its_channel(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    run_console(
        settings,
        script("/kpi access here platform google_ads", "/kpi list", "/kpi access clear here"),
    )
    out = " ".join(capsys.readouterr().out.split())  # panels wrap long lines
    assert "could not check who you are" not in out
    assert f"Limit set: <#{CHANNEL_ID}> now sees only platform google_ads, 1 campaign now." in out
    listed = out.split("/kpi access clear")[0].split("Visible: Back to School.")[1]
    assert "Back to School" in listed
    assert "Summer Sale" not in listed and "Awareness Push" not in listed
    assert f"Limit cleared: <#{CHANNEL_ID}> sees every campaign again." in out
