"""The alert issue's "Done when" on the demo database, SQLite and PostgreSQL: `kpibot alert add
all roi drops 30% --channel C1` then `kpibot alert check` posts one alert, for the collapsing
campaign only; an import that restores its ROI resolves it in the thread and updates the
original; checking again posts nothing new.

The kpibot commands run in this process (CliRunner) under a frozen clock, and post over real
HTTP to the fake Slack (SLACK_BOT_TOKEN and SLACK_API_URL in their environment).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import time_machine
from click.testing import CliRunner, Result

from bot.cli import main
from bot.config import Settings
from bot.demo import DEMO_DB, build_demo, demo_url
from tests.conftest import postgres_schema
from tests.e2e.conftest import buttons
from tests.e2e.test_alert_cli import (
    COLLAPSING,
    DEMO_END,
    NOW,
    TIMEZONE,
    incident_messages,
    load_demo,
    write_demo_csv,
    write_restore_csv,
)
from tests.support.blockkit import assert_valid_message
from tests.support.fake_slack import Call, FakeSlack

OWNER = "U0DEMO0001"
RULE_KEYS = {"id", "channel", "scope", "kpi", "condition", "window", "paused", "owner", "state"}
BUTTONS = ["alert_ack", "alert_snooze_1d", "alert_snooze_1w", "alert_mute", "alert_card"]


@pytest.fixture(scope="module")
def demo_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """`kpibot demo`'s database, built with the clock at NOW, and the same rows as CSV."""
    folder = tmp_path_factory.mktemp("alert-demo")
    with time_machine.travel(NOW, tick=False):
        build_demo(Settings.from_mapping({"KPIBOT_TIMEZONE": TIMEZONE}), folder)
    return folder / DEMO_DB, write_demo_csv(folder / "demo.csv", DEMO_END)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def demo(
    request: pytest.FixtureRequest, demo_files: tuple[Path, Path], tmp_path: Path
) -> Iterator[str]:
    """A fresh copy of the demo database for each test: SQLite, or loaded into PostgreSQL."""
    database, csv = demo_files
    if request.param == "sqlite":
        shutil.copy(database, tmp_path / DEMO_DB)
        yield demo_url(tmp_path)
        return
    with postgres_schema() as url:
        load_demo(url, csv)
        yield url


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        yield fake


@pytest.fixture(autouse=True)
def _frozen(clean_env: None) -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


def run(url: str, slack: FakeSlack, *args: str) -> Result:
    """`kpibot --db URL args…` in this process, posting to the fake Slack."""
    env = {
        "KPIBOT_TIMEZONE": TIMEZONE,
        "SLACK_BOT_TOKEN": "xoxb-demo",
        "SLACK_API_URL": slack.url,
        "COLUMNS": "120",
    }
    return CliRunner().invoke(main, ["--db", url, *args], env=env, catch_exceptions=False)


def kpibot(url: str, slack: FakeSlack, *args: str) -> Result:
    result = run(url, slack, *args)
    assert result.exit_code == 0, (args, result.stdout, result.stderr)
    return result


def as_json(result: Result) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(result.stdout)
    return document


def rules(url: str, slack: FakeSlack) -> list[dict[str, Any]]:
    document = as_json(kpibot(url, slack, "alert", "list", "--json"))
    assert set(document) == {"rules"}
    found: list[dict[str, Any]] = document["rules"]
    for rule in found:
        assert set(rule) >= RULE_KEYS, set(rule)
    return found


def history(url: str, slack: FakeSlack) -> list[dict[str, Any]]:
    document = as_json(kpibot(url, slack, "alert", "history", "--json"))
    assert set(document) == {"history"}
    entries: list[dict[str, Any]] = document["history"]
    return entries


def add_roi_drop(url: str, slack: FakeSlack, *extra: str) -> dict[str, Any]:
    """`kpibot alert add all roi drops 30% --channel C1 --json …`: the echo."""
    words = ("all", "roi", "drops", "30%")
    return as_json(kpibot(url, slack, "alert", "add", *words, "--channel", "C1", "--json", *extra))


def posts(slack: FakeSlack) -> list[Call]:
    return slack.calls_to("chat.postMessage")


def test_the_roi_collapse_fires_once_resolves_in_its_thread_and_stays_quiet(
    demo: str, slack: FakeSlack, tmp_path: Path
) -> None:
    added = add_roi_drop(demo, slack, "--user", OWNER)
    rule = added["rule"]
    assert (rule["channel"], rule["scope"], rule["kpi"]) == ("C1", "all", "roi")
    assert added["would_fire"] == 1
    assert [line["campaign"] for line in added["now"] if line["breached"]] == [COLLAPSING]
    assert [c.params["channel"] for c in slack.calls_to("conversations.info")] == ["C1"]
    assert posts(slack) == []
    (listed,) = rules(demo, slack)
    assert {k: listed[k] for k in RULE_KEYS} == {
        "id": rule["id"],
        "channel": "C1",
        "scope": "all",
        "kpi": "roi",
        "condition": "ROI drops 30 % vs 7-day average",
        "window": 1,
        "paused": False,
        "owner": OWNER,
        "state": "ok",
    }

    checked = kpibot(demo, slack, "alert", "check")
    assert "day=2026-12-02 rules=1 evaluated=14 fired=1" in checked.stdout
    assert "sent=1" in checked.stdout
    (alert,) = posts(slack)
    assert alert.ok
    assert alert.params["channel"] == "C1"
    assert "thread_ts" not in alert.params  # a top-level message
    assert COLLAPSING in alert.params["text"]
    assert alert.params["text"].startswith(f"<@{OWNER}> ")
    assert f"<@{OWNER}>" in json.dumps(alert.params["blocks"])
    assert "Retargeting EU" in json.dumps(alert.params["blocks"], ensure_ascii=False)
    assert [b["action_id"] for b in buttons(alert.params)] == BUTTONS
    assert_valid_message({"blocks": alert.params["blocks"]})
    (listed,) = rules(demo, slack)
    assert listed["state"] == "firing"
    assert listed["firing"] == [COLLAPSING]
    ((channel, alert_ts),) = incident_messages(demo).values()  # the ts Slack gave the alert
    assert channel == "C1"
    (fired,) = history(demo, slack)
    assert (fired["event"], fired["campaign"], fired["delivery"]) == ("fire#1", COLLAPSING, "sent")
    assert fired["day"] == DEMO_END.isoformat()

    # The same check again, before any new data: nothing new (no reminder within 24 h).
    assert "fired=0" in kpibot(demo, slack, "alert", "check").stdout
    assert len(posts(slack)) == 1

    # An import that restores the campaign's ROI for that day checks the alerts itself.
    restore = write_restore_csv(tmp_path / "restore.csv")
    imported = kpibot(demo, slack, "import", str(restore))
    assert "imported 1 row" in imported.stdout
    assert "alerts: day=2026-12-02 rules=1 evaluated=14 fired=0" in imported.stdout
    assert "resolved=1" in imported.stdout and "sent=1" in imported.stdout
    _, resolve = posts(slack)
    (update,) = slack.calls_to("chat.update")
    assert resolve.ok and update.ok
    assert resolve.params["channel"] == "C1"
    assert resolve.params["thread_ts"] == alert_ts  # a reply in the alert's thread
    assert "Resolved" in resolve.params["text"] and COLLAPSING in resolve.params["text"]
    assert (update.params["channel"], update.params["ts"]) == ("C1", alert_ts)
    updated = json.dumps(update.params["blocks"], ensure_ascii=False)
    assert "Resolved on Thu 3 Dec" in updated and COLLAPSING in updated
    # Resolved: only Open card is left of the buttons.
    assert [b["action_id"] for b in buttons(update.params)] == ["alert_card"]
    assert_valid_message({"blocks": update.params["blocks"]})

    # And again: nothing new, neither posted nor updated.
    again = kpibot(demo, slack, "alert", "check")
    assert "fired=0" in again.stdout and "resolved=0" in again.stdout and "sent=0" in again.stdout
    assert len(posts(slack)) == 2
    assert len(slack.calls_to("chat.update")) == 1

    entries = history(demo, slack)
    assert [(e["event"], e["campaign"], e["delivery"]) for e in entries] == [
        ("resolve#1", COLLAPSING, "sent"),
        ("fire#1", COLLAPSING, "sent"),
    ]
    (listed,) = rules(demo, slack)
    assert listed["state"] == "ok"
    assert listed["firing"] == []


def test_without_a_user_the_alert_mentions_nobody(demo: str, slack: FakeSlack) -> None:
    add_roi_drop(demo, slack)
    kpibot(demo, slack, "alert", "check")
    (alert,) = posts(slack)
    assert COLLAPSING in alert.params["text"]
    assert "<@" not in json.dumps(alert.params)


def test_a_dry_run_posts_and_records_nothing(demo: str, slack: FakeSlack) -> None:
    add_roi_drop(demo, slack, "--user", OWNER)
    dry = kpibot(demo, slack, "alert", "check", "--dry-run")
    assert "fired=1" in dry.stdout and "sent=0" in dry.stdout
    (would,) = [line for line in dry.stdout.splitlines() if line.startswith("would post")]
    assert "would post fire: rule #1 Retargeting EU" in would
    assert posts(slack) == [] and slack.calls_to("chat.update") == []
    assert history(demo, slack) == []
    (listed,) = rules(demo, slack)
    assert listed["state"] == "ok"
    # Nothing was taken: the real check posts the alert.
    kpibot(demo, slack, "alert", "check")
    assert len(posts(slack)) == 1


@pytest.mark.parametrize(
    ("words", "says"),
    [
        ("all roix drops 30%", "`roix` is not a KPI. Use one of"),
        ("all clicks drops 5 pp", "`pp` (percentage points) only goes with CTR, CVR and ROI"),
        ("all cpa >", "Give CPA a number, e.g. `all cpa > 40`"),
        ("all cpa > lots", "Give CPA a number, not `lots`"),
        ("platform snapchat roi < 0", "No campaign is in `platform snapchat`"),
        ("no-such-campaign roi < 0", "No campaign is called “no-such-campaign”"),
        ("channel carrier_pigeon roi < 0", "`carrier_pigeon` is not a channel type"),
    ],
)
def test_an_invalid_rule_is_refused_with_what_to_fix_and_stores_nothing(
    demo: str, slack: FakeSlack, words: str, says: str
) -> None:
    args = ["alert", "add", *words.split(), "--channel", "C1"]
    text = run(demo, slack, *args)
    assert text.exit_code != 0
    assert says in text.stderr
    assert text.stdout == ""

    failed = run(demo, slack, *args, "--json")
    assert failed.exit_code == text.exit_code
    document = json.loads(failed.stdout)
    assert set(document) == {"error"}
    assert set(document["error"]) == {"code", "message"}
    assert says in document["error"]["message"]
    assert document["error"]["code"] in ("bad_rule", "bad_query")

    assert rules(demo, slack) == []
    assert slack.calls == []  # the words are checked before Slack is asked about the channel
