"""`kpibot access …` in-process on SQLite and PostgreSQL: the operator's twin of `/kpi access`
(no admin check, no Slack), JSON for scripts, exit 2 and nothing stored on words to fix."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
import time_machine
from click.testing import CliRunner, Result

from bot.cli import main
from bot.importing.run import import_file
from storage.database import make_engine
from storage.schema import upgrade
from tests.conftest import FIVETRAN_SAMPLE

KEYS = {
    "channel",
    "platforms",
    "accounts",
    "campaigns",
    "set_by",
    "set_at",
    "visible_campaigns",
}
SET_AT = datetime(2026, 3, 30, 6, 45, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _isolated(clean_env: None) -> None:
    """Every test here runs with a clean environment (tests/conftest.py): no Slack token."""


@pytest.fixture
def db(database_url: str) -> str:
    engine = make_engine(database_url)
    try:
        upgrade(engine)
        import_file(engine, FIVETRAN_SAMPLE, default_currency="USD")
    finally:
        engine.dispose()
    return database_url


def run(db: str, *args: str) -> Result:
    return CliRunner().invoke(
        main, ["--db", db, "access", *args], env={"COLUMNS": "1000"}, catch_exceptions=False
    )


def as_json(result: Result) -> Any:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_set_show_list_and_clear_a_limit(db: str) -> None:
    with time_machine.travel(SET_AT, tick=False):
        set_ = run(db, "C0SALES01", "platform", "Google Ads", "account", "ACC001")
    assert set_.exit_code == 0, set_.output
    assert set_.stdout.splitlines() == [
        "Limit set: C0SALES01 now sees only platform google_ads · account acc001, 1 campaign now.",
        "Visible: Back to School.",
    ]

    shown = as_json(run(db, "show", "C0SALES01", "--json"))
    assert shown == {
        "channel": "C0SALES01",
        "platforms": ["google_ads"],
        "accounts": ["acc001"],
        "campaigns": [],
        "set_by": None,
        "set_at": "2026-03-30T06:45:00+00:00",
        "visible_campaigns": 1,
    }
    line = run(db, "show", "<#C0SALES01|sales>").stdout.strip()
    assert line == (
        "C0SALES01 sees only platform google_ads · account acc001: 1 campaign now; set by the "
        "command line on 2026-03-30 06:45 UTC."
    )

    run(db, "set", "G0PRIV01", "campaign", "summer*, awareness*")
    listed = as_json(run(db, "list", "--json"))
    assert [set(entry) for entry in listed["limits"]] == [KEYS, KEYS]
    assert [(e["channel"], e["campaigns"], e["visible_campaigns"]) for e in listed["limits"]] == [
        ("C0SALES01", [], 1),
        ("G0PRIV01", ["summer*", "awareness*"], 2),
    ]
    table = run(db, "list").stdout
    assert "2 channels with a limit" in table
    assert "campaigns summer*, awareness*" in table

    assert as_json(run(db, "clear", "C0SALES01", "--json")) == {
        "channel": "C0SALES01",
        "cleared": True,
    }
    assert run(db, "clear", "#C0SALES01").stdout.strip() == (
        "C0SALES01 had no limit: it already sees every campaign."
    )
    assert [e["channel"] for e in as_json(run(db, "list", "--json"))["limits"]] == ["G0PRIV01"]
    unlimited = as_json(run(db, "show", "C0SALES01", "--json"))
    assert (unlimited["platforms"], unlimited["set_at"], unlimited["visible_campaigns"]) == (
        [],
        None,
        3,
    )


def test_a_limit_that_leaves_nothing_visible_warns(db: str) -> None:
    result = run(db, "C0EMPTY01", "platform", "snapchat_ads", "--json")
    assert as_json(result)["visible_campaigns"] == 0
    text = run(db, "C0EMPTY01", "platform", "snapchat_ads").stdout
    assert "0 campaigns now" in text
    assert "warning: No campaign matches this limit now" in text
    assert "`kpibot access clear C0EMPTY01`" in text


def test_no_limits_listed(db: str) -> None:
    assert as_json(run(db, "list", "--json")) == {"limits": []}
    assert "No channel has a limit" in run(db, "list").stdout


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("C0BAD01", "bogus", "words"), "`bogus` is not a kind of limit"),
        (("C0BAD01", "platform"), "Say which platform"),
        (("#marketing", "platform", "meta_ads"), "cannot look up `#marketing` by name"),
        (("marketing", "platform", "meta_ads"), "`marketing` is not a channel"),
        (("here", "platform", "meta_ads"), "give the channel's ID instead"),
        (("show", "general"), "`general` is not a channel"),
        (("clear", "#general"), "cannot look up `#general` by name"),
    ],
)
def test_words_to_fix_exit_2_with_the_message_and_store_nothing(
    db: str, args: tuple[str, ...], says: str
) -> None:
    result = run(db, *args)
    assert result.exit_code == 2
    assert says in result.stderr
    failed = run(db, *args, "--json")
    assert failed.exit_code == 2
    assert json.loads(failed.stdout)["error"]["code"] == "bad_query"
    assert says in json.loads(failed.stdout)["error"]["message"]
    assert as_json(run(db, "list", "--json")) == {"limits": []}


def test_a_channel_with_no_words_is_a_usage_error(db: str) -> None:
    result = run(db, "C0BAD01")
    assert result.exit_code == 2
    assert "Missing argument 'WORDS...'" in result.output
