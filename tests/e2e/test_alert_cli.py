"""`kpibot alert check` as real processes on the demo data: two started together on
PostgreSQL post each transition exactly once (counted at the fake Slack).

Also home to the demo helpers the other alert tests share: the demo CSV for a fixed day,
loading it into any database, and the CSV that restores the collapsing campaign's ROI.
"""

from __future__ import annotations

import json
import subprocess
from collections import Counter
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from bot.composition import build
from bot.config import Settings
from bot.demo import DEMO_DAYS, DEMO_SEED
from bot.demo_data import COLLAPSING_CAMPAIGN, NATIVE_HEADER, demo_campaigns, iter_rows, write_csv
from bot.importing.run import import_file
from storage import alerts
from storage.database import make_engine, session_factory
from storage.schema import upgrade
from tests.e2e.conftest import kpibot_executable, serve_env
from tests.support.fake_slack import Call, FakeSlack

TIMEZONE = "Europe/Copenhagen"
DEMO_END = date(2026, 12, 2)
"""The demo's last day (a Wednesday); tests/bot/test_demo_alert_story.py checks the story on it."""
NOW = "2026-12-03T07:30:00+00:00"
"""08:30 in Copenhagen on Thu 3 December: the latest completed day is DEMO_END."""
COLLAPSING = "Retargeting EU"
OWNER = "U0E2E0001"
# Rules that fire for several demo campaigns on DEMO_END (and a few that fire for none), each
# in a channel of its own, so a double post shows up as a channel with one post too many.
MANY_RULES = (
    "all roi drops 30%",
    "all roas > 2",
    "all roi < 0",
    "all cpc > 1",
    "all ctr > 0.1%",
    "all spend > 100",
    "all cpa > 10",
    "channel social roi drops 30% vs previous day",
    "all roi drops 30% over 7d",
    "platform google_ads cpc > 0.5",
)
COL = {name: i for i, name in enumerate(NATIVE_HEADER)}


# --------------------------------------------------------------------------- shared helpers


def write_demo_csv(path: Path, end: date = DEMO_END) -> Path:
    """The demo's rows as `kpibot demo` writes them, ending on `end`."""
    write_csv(path, demo_campaigns(seed=DEMO_SEED), end, DEMO_DAYS, seed=DEMO_SEED)
    return path


def load_demo(database_url: str, csv: Path) -> None:
    """The demo CSV in an empty database (any backend), schema first."""
    engine = make_engine(database_url)
    try:
        upgrade(engine)
        import_file(engine, csv, default_currency="DKK")
    finally:
        engine.dispose()


def write_restore_csv(path: Path, end: date = DEMO_END) -> Path:
    """The collapsing campaign's row for `end` again (same id, platform, account), with the
    revenue it would have had: three times its spend, ROI 200 %, above its 7-day average."""
    campaigns = demo_campaigns(seed=DEMO_SEED)
    (row,) = (
        list(r)
        for r in iter_rows(campaigns, end, 1, seed=DEMO_SEED)
        if r[COL["campaign_id"]] == COLLAPSING_CAMPAIGN
    )
    row[COL["revenue"]] = f"{Decimal(row[COL['spend']]) * 3:.2f}"
    row[COL["conversions"]] = str(int(row[COL["conversions"]]) * 5)
    path.write_text(",".join(NATIVE_HEADER) + "\n" + ",".join(row) + "\n", encoding="utf-8")
    return path


def cli_env(database_url: str, slack: FakeSlack) -> dict[str, str]:
    """The environment of a `kpibot` process that posts to the fake Slack."""
    env = serve_env(database_url, slack, KPIBOT_TIMEZONE=TIMEZONE)
    del env["SLACK_SIGNING_SECRET"]
    return env


def kpibot(env: dict[str, str], *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [kpibot_executable(), *args], env=env, capture_output=True, text=True, timeout=120
    )
    if check:
        assert result.returncode == 0, (args, result.stdout, result.stderr)
    return result


def channel_posts(slack: FakeSlack) -> Counter[str]:
    return Counter(str(c.params["channel"]) for c in slack.calls_to("chat.postMessage"))


def started_together(env: dict[str, str], *args: str, count: int = 2) -> list[tuple[int, str]]:
    """`count` kpibot processes started back to back; (exit code, stdout + stderr) of each."""
    processes = [
        subprocess.Popen(
            [kpibot_executable(), *args],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for _ in range(count)
    ]
    done = []
    for process in processes:
        out, _ = process.communicate(timeout=120)
        done.append((process.returncode, out))
    return done


def report_of(output: str) -> dict[str, int]:
    """The counts of a `kpibot alert check` line (`day=… rules=3 … sent=2 …`)."""
    line = next(line for line in output.splitlines() if line.startswith("day="))
    fields = dict(part.split("=", 1) for part in line.split())
    return {k: int(v) for k, v in fields.items() if k != "day"}


def incident_messages(database_url: str) -> dict[tuple[int, int], tuple[str, str]]:
    """Each incident's top-level message (channel, ts), by (rule id, campaign id), as stored."""
    engine = make_engine(database_url)
    try:
        with session_factory(engine)() as session:
            found = alerts.statuses(session)
    finally:
        engine.dispose()
    return {key: (s.channel, s.ts) for key, s in found.items() if s.channel and s.ts}


def texts(calls: list[Call]) -> list[str]:
    return [json.dumps(c.params, ensure_ascii=False) for c in calls]


# --------------------------------------------------------------------------- tests


@pytest.fixture
def demo_pg(postgres_url: str, tmp_path: Path) -> str:
    load_demo(postgres_url, write_demo_csv(tmp_path / "demo.csv"))
    return postgres_url


def _add_rules(env: dict[str, str]) -> dict[int, str]:
    """Each rule of MANY_RULES in its own channel, added in this process (quicker than ten
    `kpibot alert add`, which tests/bot/test_alert_on_the_demo.py runs); channel by rule id."""
    components = build(Settings.from_mapping(env))
    try:
        channels = {}
        for n, words in enumerate(MANY_RULES):
            stored = components.alerts.add(words.split(), channel=f"CMANY{n:02d}", user=OWNER)
            channels[stored.rule.id] = stored.rule.channel
        return channels
    finally:
        components.dispose()


def _planned_fires(env: dict[str, str]) -> int:
    components = build(Settings.from_mapping(env))
    try:
        return components.alerts.check(datetime.fromisoformat(NOW), dry_run=True).fired
    finally:
        components.dispose()


@pytest.mark.postgres
def test_two_concurrent_checks_post_each_transition_once(demo_pg: str, tmp_path: Path) -> None:
    with FakeSlack() as slack:
        env = cli_env(demo_pg, slack)
        channels = _add_rules(env)
        planned = _planned_fires(env)
        assert planned >= 20  # several campaigns fire, for most of the rules
        assert slack.calls_to("chat.postMessage") == []

        runs = started_together(env, "alert", "check", "--now", NOW)
        assert [code for code, _ in runs] == [0, 0], runs
        reports = [report_of(out) for _, out in runs]
        assert sum(r["sent"] for r in reports) == planned, reports
        assert sum(r["failed"] for r in reports) == 0, reports

        posts = slack.calls_to("chat.postMessage")
        assert len(posts) == planned
        assert all(c.ok and "thread_ts" not in c.params for c in posts)
        assert len(set(texts(posts))) == len(posts)  # no message twice, from either process
        messages = incident_messages(demo_pg)
        assert len(messages) == planned
        assert channel_posts(slack) == Counter(channel for channel, _ in messages.values())
        assert Counter(channels[rule] for rule, _ in messages) == channel_posts(slack)
        roi_rule = min(channels)  # MANY_RULES[0], the demo's story: one alert
        (roi_drop,) = (c for c in posts if c.params["channel"] == channels[roi_rule])
        assert COLLAPSING in roi_drop.params["text"]

        # The restore resolves the ROI drop (and `roi < 0`, and fires `roas > 2`): two checks at
        # once post each resolve once, in its incident's thread, and update each alert once.
        engine = make_engine(demo_pg)
        try:
            import_file(engine, write_restore_csv(tmp_path / "restore.csv"), default_currency="DKK")
        finally:
            engine.dispose()
        slack.reset()
        runs = started_together(env, "alert", "check", "--now", NOW)
        assert [code for code, _ in runs] == [0, 0], runs
        resolved = sum(report_of(out)["resolved"] for _, out in runs)
        fired = sum(report_of(out)["fired"] for _, out in runs)
        posted = slack.calls_to("chat.postMessage")
        resolves = [c for c in posted if "thread_ts" in c.params]
        updates = slack.calls_to("chat.update")
        assert resolved >= 1
        assert len(posted) == resolved + fired  # each new fire is a new top-level message
        assert len(resolves) == len(updates) == resolved
        assert all(c.ok for c in resolves + updates)
        threads = [(c.params["channel"], c.params.get("thread_ts")) for c in resolves]
        updated = [(c.params["channel"], c.params["ts"]) for c in updates]
        assert len(set(threads)) == len(threads) and sorted(threads) == sorted(updated)
        assert set(updated) <= set(messages.values())
        roi_message = next(m for (rule, _), m in messages.items() if rule == roi_rule)
        assert roi_message in threads

        # Both at once again: nothing is left to post.
        slack.reset()
        runs = started_together(env, "alert", "check", "--now", NOW)
        assert [code for code, _ in runs] == [0, 0], runs
        assert slack.calls_to("chat.postMessage") == []
        assert slack.calls_to("chat.update") == []
