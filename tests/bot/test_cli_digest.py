"""`kpibot digest …` in-process: the Slack commands' words, JSON for scripts, nothing stored on
a mistake. Slack is the fake HTTP server, reached through SLACK_API_URL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from click.testing import CliRunner, Result

from bot.cli import main
from bot.importing.run import import_file
from storage.database import make_engine
from storage.schema import upgrade
from tests.conftest import FIVETRAN_SAMPLE
from tests.support.fake_slack import FakeSlack

LIST_KEYS = {
    "id",
    "channel",
    "days",
    "at",
    "timezone",
    "scope",
    "paused",
    "created_by",
    "next_run",
    "last_error",
    "last_delivery",
}


@pytest.fixture(autouse=True)
def _isolated(clean_env: None) -> None:
    """Every test here runs with a clean environment (tests/conftest.py)."""


@pytest.fixture
def db(database_url: str) -> str:
    engine = make_engine(database_url)
    try:
        upgrade(engine)
        import_file(engine, FIVETRAN_SAMPLE, default_currency="USD")
    finally:
        engine.dispose()
    return database_url


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        yield fake


def _env(slack: FakeSlack | None) -> dict[str, str]:
    env = {"COLUMNS": "1000", "KPIBOT_TIMEZONE": "Europe/Copenhagen"}
    if slack is not None:
        env |= {"SLACK_BOT_TOKEN": "xoxb-cli-test", "SLACK_API_URL": slack.url}
    return env


def run(db: str, *args: str, slack: FakeSlack | None = None) -> Result:
    return CliRunner().invoke(
        main, ["--db", db, "digest", *args], env=_env(slack), catch_exceptions=False
    )


def listed(db: str) -> list[dict[str, Any]]:
    result = run(db, "list", "--json")
    assert result.exit_code == 0, result.output
    subscriptions: list[dict[str, Any]] = json.loads(result.stdout)["subscriptions"]
    return subscriptions


def test_add_echoes_and_list_json_has_the_documented_shape(db: str, slack: FakeSlack) -> None:
    added = run(
        db, "add", "mon,wed,fri", "at", "07:30", "channel", "social", "--channel", "C0123",
        "--user", "U0123", slack=slack,
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    assert added.stdout.startswith(
        "Digest 1 added: mon,wed,fri at 07:30 Europe/Copenhagen, channel social, in C0123. Next: "
    )
    assert [c.params["channel"] for c in slack.calls_to("conversations.info")] == ["C0123"]
    (entry,) = listed(db)
    assert set(entry) == LIST_KEYS
    assert {k: entry[k] for k in LIST_KEYS - {"next_run"}} == {
        "id": 1,
        "channel": "C0123",
        "days": "mon,wed,fri",
        "at": "07:30",
        "timezone": "Europe/Copenhagen",
        "scope": "channel social",
        "paused": False,
        "created_by": "U0123",
        "last_error": None,
        "last_delivery": None,
    }
    next_run = datetime.fromisoformat(entry["next_run"])
    assert next_run.strftime("%a %H:%M") in ("Mon 07:30", "Wed 07:30", "Fri 07:30")
    assert next_run.utcoffset() is not None


def test_defaults_are_weekdays_at_eight_in_kpibot_timezone_for_all(
    db: str, slack: FakeSlack
) -> None:
    assert run(db, "add", "--channel", "C1", slack=slack).exit_code == 0
    (entry,) = listed(db)
    assert (entry["days"], entry["at"], entry["timezone"], entry["scope"]) == (
        "mon,tue,wed,thu,fri",
        "08:00",
        "Europe/Copenhagen",
        "all",
    )


@pytest.mark.parametrize(
    ("words", "code", "says"),
    [
        (["tz", "Mars/Olympus"], "bad_query", "`Mars/Olympus` is not a time zone"),
        (["at", "25:00"], "bad_query", "hours go 00–23"),
        (["funday"], "bad_query", "`funday` is not a weekday"),
        (["campaigns", "nope"], "nothing_to_show", "No campaign is called “nope”"),
        (["platform", "myspace"], "nothing_to_show", "myspace"),
    ],
)
def test_invalid_words_are_json_errors_and_store_nothing(
    db: str, slack: FakeSlack, words: list[str], code: str, says: str
) -> None:
    result = run(db, "add", *words, "--channel", "C1", "--json", slack=slack)
    assert result.exit_code == (2 if code == "bad_query" else 1)
    error = json.loads(result.stdout)["error"]
    assert error["code"] == code
    assert says in error["message"]
    assert listed(db) == []
    if code == "bad_query":  # words that do not read are refused before Slack is asked
        assert slack.calls_to("conversations.info") == []


def test_a_channel_the_bot_is_not_in_is_refused(db: str, slack: FakeSlack) -> None:
    slack.set_channel("CPRIV", name="secret", is_private=True, is_member=False)
    result = run(db, "add", "daily", "--channel", "CPRIV", slack=slack)
    assert result.exit_code == 1
    assert "I am not in #secret: invite me with `/invite @kpibot`" in result.stderr
    assert listed(db) == []
    as_json = run(db, "add", "daily", "--channel", "CPRIV", "--json", slack=slack)
    assert json.loads(as_json.stdout)["error"]["code"] == "channel_unusable"


def test_without_a_bot_token_the_digest_is_stored_with_a_note(db: str) -> None:
    result = run(db, "add", "daily", "--channel", "C1")
    assert result.exit_code == 0
    assert "SLACK_BOT_TOKEN is not set" in result.stderr
    assert len(listed(db)) == 1


def test_pause_resume_remove(db: str, slack: FakeSlack) -> None:
    run(db, "add", "--channel", "C1", slack=slack)
    paused = run(db, "pause", "1", "--json")
    assert json.loads(paused.stdout)["paused"] is True
    assert listed(db)[0]["next_run"] is None
    assert run(db, "resume", "1").stdout.startswith("Digest 1 resumed. Next: ")
    assert listed(db)[0]["paused"] is False
    assert run(db, "remove", "1").stdout.strip() == (
        "Digest 1 removed: it will not be posted again."
    )
    assert listed(db) == []
    missing = run(db, "remove", "1", "--json")
    assert missing.exit_code == 1
    assert json.loads(missing.stdout)["error"]["code"] == "not_found"


def test_preview_json_is_the_digest_document(db: str, slack: FakeSlack) -> None:
    run(db, "add", "daily", "--channel", "C1", slack=slack)
    result = run(db, "preview", "1", "--json", "--now", "2025-08-13T08:00:00+02:00")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["day"] == "2025-08-12"
    assert document["subscription"]["id"] == 1
    assert document["totals"][0]["currency"] == "USD"
    shown = run(db, "preview", "1", "--now", "2025-08-13T06:00:00Z")
    assert "Morning digest" in shown.stdout


def test_now_without_an_offset_is_refused(db: str, slack: FakeSlack) -> None:
    run(db, "add", "daily", "--channel", "C1", slack=slack)
    for command in (["preview", "1"], ["run-due"]):
        result = run(db, *command, "--now", "2025-08-13T08:00")
        assert result.exit_code == 2
        assert "is not an ISO-8601 instant with an offset" in result.output


def test_run_due_prints_the_report_and_posts_each_digest_once(db: str, slack: FakeSlack) -> None:
    run(db, "add", "daily", "at", "08:00", "--channel", "C1", slack=slack)
    entry = listed(db)[0]
    due = datetime.fromisoformat(entry["next_run"]).isoformat()
    first = run(db, "run-due", "--now", due, slack=slack)
    assert first.exit_code == 0, first.output
    assert first.stdout.startswith("due=1 sent=1 ")
    again = run(db, "run-due", "--now", due, slack=slack)
    assert again.stdout.startswith("due=1 sent=0 ")
    assert len(slack.calls_to("chat.postMessage", ok=True)) == 1
    assert listed(db)[0]["last_delivery"]["status"] == "sent"


def test_send_posts_now_and_reports_slacks_error(db: str, slack: FakeSlack) -> None:
    run(db, "add", "daily", "--channel", "C1", slack=slack)
    sent = run(db, "send", "1", slack=slack)
    assert sent.stdout.strip() == "Digest 1 posted in C1."
    slack.set_channel("C1", is_archived=True)
    failed = run(db, "send", "1", slack=slack)
    assert failed.exit_code == 1
    assert "Digest 1 could not be posted: `is_archived`" in failed.stdout
    (entry,) = listed(db)
    assert entry["last_delivery"]["status"] == "failed"
    assert entry["last_error"] == "is_archived"
