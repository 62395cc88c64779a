"""`kpibot scheduler` as real processes against the fake Slack: once each, clean stops."""

from __future__ import annotations

import signal
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.digests.schedule import DAILY, Schedule
from bot.query import ScopeSpec
from storage import digests
from storage.database import make_engine, session_factory, session_scope
from storage.schema import upgrade
from tests.e2e.conftest import kpibot_executable, seed, serve_env
from tests.support.fake_slack import FakeSlack

SUBSCRIPTIONS = 24


def scheduler_env(database_url: str, slack: FakeSlack) -> dict[str, str]:
    env = serve_env(database_url, slack, KPIBOT_DIGEST_WAIT="0")
    del env["SLACK_SIGNING_SECRET"]  # the scheduler needs only the bot token
    return env


def start_scheduler(
    stack: ExitStack, database_url: str, slack: FakeSlack, log: Path
) -> subprocess.Popen[bytes]:
    out = stack.enter_context(log.open("wb"))
    process = subprocess.Popen(
        [kpibot_executable(), "scheduler"],
        env=scheduler_env(database_url, slack),
        stdout=out,
        stderr=subprocess.STDOUT,
        cwd=log.parent,
    )

    def stop() -> None:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    stack.callback(stop)
    return process


def wait_for_line(process: subprocess.Popen[bytes], log: Path, text: str) -> None:
    deadline = time.monotonic() + 30
    while text not in log.read_text(errors="replace"):
        if process.poll() is not None or time.monotonic() > deadline:
            raise AssertionError(f"no {text!r} from kpibot scheduler: {log.read_text()[-3000:]}")
        time.sleep(0.1)


def add_due_subscriptions(database_url: str, count: int) -> dict[str, int]:
    """`count` daily digests whose time was a minute or two ago (UTC), each in its own channel;
    created before that time, so today's is due now."""
    now = datetime.now(UTC)
    at = (now - timedelta(minutes=1)).replace(second=0, microsecond=0)
    engine = make_engine(database_url)
    channels: dict[str, int] = {}
    try:
        with session_scope(session_factory(engine)) as session:
            for n in range(count):
                subscription = digests.add_subscription(
                    session,
                    channel=f"C{n:04d}",
                    schedule=Schedule(DAILY, at.time(), "UTC"),
                    scope=ScopeSpec("all"),
                    created_by="U0E2E0001",
                    now=now - timedelta(minutes=30),
                )
                channels[subscription.channel] = subscription.id
    finally:
        engine.dispose()
    return channels


@pytest.fixture
def sqlite_url(tmp_path: Path) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'kpibot.db'}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    yield url


def test_scheduler_stops_cleanly_on_sigterm(sqlite_url: str, tmp_path: Path) -> None:
    log = tmp_path / "scheduler.log"
    with ExitStack() as stack:
        slack = stack.enter_context(FakeSlack())
        process = start_scheduler(stack, sqlite_url, slack, log)
        wait_for_line(process, log, '"job": "start"')
        started = time.monotonic()
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
        assert time.monotonic() - started < 5
    assert "kpibot scheduler stopped" in log.read_text()


def test_scheduler_refuses_to_start_without_a_bot_token(sqlite_url: str) -> None:
    with FakeSlack() as slack:
        env = scheduler_env(sqlite_url, slack)
        del env["SLACK_BOT_TOKEN"]
        result = subprocess.run(
            [kpibot_executable(), "scheduler"], env=env, capture_output=True, text=True, timeout=60
        )
    assert result.returncode == 1
    assert "SLACK_BOT_TOKEN is not set" in result.stderr


@pytest.mark.postgres
def test_two_schedulers_deliver_every_due_digest_exactly_once(
    postgres_url: str, tmp_path: Path
) -> None:
    seed(postgres_url, tmp_path)
    channels = add_due_subscriptions(postgres_url, SUBSCRIPTIONS)
    with ExitStack() as stack:
        slack = stack.enter_context(FakeSlack())
        first = start_scheduler(stack, postgres_url, slack, tmp_path / "first.log")
        second = start_scheduler(stack, postgres_url, slack, tmp_path / "second.log")
        slack.wait_for("chat.postMessage", SUBSCRIPTIONS, timeout=60, ok=True)
        time.sleep(3)  # both have had their catch-up pass: a second post would be here by now
        for process in (first, second):
            process.send_signal(signal.SIGTERM)
        assert [first.wait(timeout=15), second.wait(timeout=15)] == [0, 0]
    posts = Counter(c.params["channel"] for c in slack.calls_to("chat.postMessage"))
    assert posts == Counter(dict.fromkeys(channels, 1))
    logs = (tmp_path / "first.log").read_text() + (tmp_path / "second.log").read_text()
    assert "Traceback" not in logs
