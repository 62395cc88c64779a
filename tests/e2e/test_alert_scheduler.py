"""The alert check in real `kpibot scheduler` processes: it runs at start (then every
KPIBOT_ALERT_EVERY) and posts the demo's ROI collapse once — also with two schedulers on one
PostgreSQL database, and after a restart.

A scheduler has no --now: the demo here ends yesterday, by the real clock in KPIBOT_TIMEZONE.
"""

from __future__ import annotations

import signal
import subprocess
import time
from contextlib import ExitStack
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.composition import build
from bot.config import Settings
from bot.periods import today_in
from tests.e2e.conftest import kpibot_executable
from tests.e2e.test_alert_cli import (
    COLLAPSING,
    TIMEZONE,
    cli_env,
    load_demo,
    write_demo_csv,
)
from tests.e2e.test_scheduler import wait_for_line
from tests.support.fake_slack import FakeSlack

CHECKED = '"job": "alert-check"'
"""The scheduler's log line once its check at start is done (at DEBUG when it did nothing)."""


def _past_midnight_soon(tz: ZoneInfo) -> None:
    """Start at least a minute from midnight, so the day the demo ends is still yesterday when
    the schedulers check."""
    now = datetime.now(tz)
    midnight = datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), tzinfo=tz)
    if midnight - now < timedelta(minutes=1):
        time.sleep((midnight - now).total_seconds() + 1)


def demo_through_yesterday(url: str, folder: Path) -> None:
    """The demo data through yesterday, with `all roi drops 30%` in channel CSCHED."""
    tz = ZoneInfo(TIMEZONE)
    _past_midnight_soon(tz)
    load_demo(url, write_demo_csv(folder / "demo.csv", today_in(tz) - timedelta(days=1)))
    components = build(Settings.from_mapping({"DATABASE_URL": url, "KPIBOT_TIMEZONE": TIMEZONE}))
    try:
        components.alerts.add(["all", "roi", "drops", "30%"], channel="CSCHED", user="U0E2E0001")
    finally:
        components.dispose()


def start(stack: ExitStack, url: str, slack: FakeSlack, log: Path) -> subprocess.Popen[bytes]:
    env = cli_env(url, slack)
    # Every minute (the least there is): one check at start within a test. DEBUG: a check
    # that posted nothing logs its line too.
    env.update(KPIBOT_ALERT_EVERY="1m", KPIBOT_DIGEST_WAIT="0", KPIBOT_LOG_LEVEL="DEBUG")
    out = stack.enter_context(log.open("wb"))
    process = subprocess.Popen(
        [kpibot_executable(), "scheduler"],
        env=env,
        stdout=out,
        stderr=subprocess.STDOUT,
        cwd=log.parent,
    )

    def stop() -> None:
        if process.poll() is None:
            process.kill()
            process.wait()

    stack.callback(stop)
    return process


def stop(process: subprocess.Popen[bytes]) -> int:
    process.send_signal(signal.SIGTERM)
    return process.wait(timeout=15)


def alert_posts(slack: FakeSlack) -> list[str]:
    return [
        str(c.params["text"])
        for c in slack.calls_to("chat.postMessage")
        if c.params["channel"] == "CSCHED"
    ]


def test_the_scheduler_posts_the_alert_once_and_a_restart_does_not_repeat_it(
    database_url: str, tmp_path: Path
) -> None:
    demo_through_yesterday(database_url, tmp_path)
    with ExitStack() as stack:
        slack = stack.enter_context(FakeSlack())
        first = start(stack, database_url, slack, tmp_path / "first.log")
        wait_for_line(first, tmp_path / "first.log", CHECKED)
        assert stop(first) == 0
        (text,) = alert_posts(slack)
        assert COLLAPSING in text and "ROI dropped" in text
        assert len(slack.calls_to("chat.postMessage")) == 1  # for the collapsing campaign only

        again = start(stack, database_url, slack, tmp_path / "again.log")
        wait_for_line(again, tmp_path / "again.log", CHECKED)  # nothing new to post
        assert stop(again) == 0
        assert len(slack.calls_to("chat.postMessage")) == 1
    log = (tmp_path / "first.log").read_text() + (tmp_path / "again.log").read_text()
    assert '"fired": 1' in log and '"sent": 1' in log
    assert "Traceback" not in log


@pytest.mark.postgres
def test_two_schedulers_post_the_alert_once_in_total(postgres_url: str, tmp_path: Path) -> None:
    demo_through_yesterday(postgres_url, tmp_path)
    with ExitStack() as stack:
        slack = stack.enter_context(FakeSlack())
        first = start(stack, postgres_url, slack, tmp_path / "first.log")
        second = start(stack, postgres_url, slack, tmp_path / "second.log")
        for process, name in ((first, "first"), (second, "second")):
            wait_for_line(process, tmp_path / f"{name}.log", CHECKED)
        assert [stop(first), stop(second)] == [0, 0]
    (text,) = alert_posts(slack)
    assert COLLAPSING in text
    assert len(slack.calls_to("chat.postMessage")) == 1
    logs = (tmp_path / "first.log").read_text() + (tmp_path / "second.log").read_text()
    assert logs.count(CHECKED) == 2 and logs.count('"fired": 1') == 1
    assert "Traceback" not in logs
