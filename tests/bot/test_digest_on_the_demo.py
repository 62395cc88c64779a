"""The digest on the demo database: the terminal view, and JSON equal to `kpibot kpi --json`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import time_machine
from click.testing import CliRunner

from bot.cli import main
from bot.config import Settings
from bot.demo import build_demo, demo_url

NOW = "2026-12-03T07:30:00+00:00"  # 08:30 in Copenhagen: yesterday is Wed 2 December


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("demo")
    with time_machine.travel(NOW, tick=False):
        build_demo(Settings.from_mapping({"KPIBOT_TIMEZONE": "Europe/Copenhagen"}), folder)
    yield demo_url(folder)


@pytest.fixture(autouse=True)
def _isolated(clean_env: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A clean environment (tests/conftest.py) in Copenhagen, with a frozen clock."""
    monkeypatch.setenv("KPIBOT_TIMEZONE", "Europe/Copenhagen")
    with time_machine.travel(NOW, tick=False):
        yield


def _run(url: str, *args: str) -> str:
    result = CliRunner().invoke(
        main, ["--db", url, *args], env={"COLUMNS": "100"}, catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    return result.stdout


def _added(url: str) -> int:
    document = json.loads(_run(url, "digest", "add", "daily", "--channel", "C1", "--json"))
    subscription: dict[str, Any] = document.get("subscription", document)
    return int(subscription["id"])


def test_preview_on_the_demo_shows_the_digest_in_the_terminal(demo: str) -> None:
    digest = _added(demo)
    out = _run(demo, "digest", "preview", str(digest), "--now", NOW)
    assert "Wed 2 Dec" in out
    assert "DKK" in out and "EUR" in out
    assert "Retargeting EU" in out  # the demo's collapsing campaign lost money


def test_preview_json_equals_kpi_json_for_the_same_day(demo: str) -> None:
    digest = _added(demo)
    preview = json.loads(_run(demo, "digest", "preview", str(digest), "--json", "--now", NOW))
    assert preview["day"] == "2026-12-02"
    answer = json.loads(_run(demo, "kpi", "all", "yesterday", "--json"))
    totals = {row["currency"]: row["kpis"] for row in answer["rows"]}
    for block in preview["totals"]:
        expected = totals[block["currency"]]
        for key, value in block["kpis"].items():
            assert value == expected[key], (block["currency"], key)
    month = json.loads(_run(demo, "kpi", "all", "mtd", "--json"))
    month_totals = {row["currency"]: row["kpis"] for row in month["rows"]}
    for block in preview["totals"]:
        # Month to date at send time runs to yesterday; `mtd` today has no data for today.
        assert block["month_to_date"]["spend"] == month_totals[block["currency"]]["spend"]
    for row in preview["losing_money"]:
        card = json.loads(_run(demo, "kpi", row["scope"]["id"], "yesterday", "--json"))
        assert row["kpis"]["roi"] == card["kpis"]["roi"]
        assert row["kpis"]["spend"] == card["kpis"]["spend"]
