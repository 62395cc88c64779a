"""`kpibot serve` at the Slack edge: a 429 asking for an hour stalls nobody else, a slow
response_url gets its answer once and no apology, and answers go only to Slack's URLs.

Every answer goes through response_url (KPIBOT_ACK_BUDGET_SECONDS=0), as a slow one would.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
import requests

from bot.slack.clients import HTTP_TIMEOUT_SECONDS
from tests.e2e.conftest import ServedApp, buttons, message_text, seed, start_serve
from tests.support.fake_slack import FakeSlack

SAMPLE = "summer-sale 2025-08-10..2025-08-12"
CHANNEL = "C0LIMITS1"


@dataclass
class Served:
    app: ServedApp
    log: Path

    def log_since(self, offset: int) -> str:
        return self.log.read_bytes()[offset:].decode("utf-8", "replace")

    def log_size(self) -> int:
        return self.log.stat().st_size

    def wait_in_log(self, offset: int, text: str, count: int = 1, timeout: float = 10) -> str:
        deadline = time.monotonic() + timeout
        while True:
            logged = self.log_since(offset)
            if logged.count(text) >= count or time.monotonic() > deadline:
                assert logged.count(text) >= count, f"{text!r} x{count} not in log:\n{logged}"
                return logged
            time.sleep(0.1)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    folder = tmp_path_factory.mktemp("slack-limits")
    database_url = f"sqlite:///{folder / 'kpibot.db'}"
    seed(database_url, folder)
    with ExitStack() as stack:
        slack = stack.enter_context(FakeSlack())
        log = folder / "serve.log"
        url = start_serve(stack, database_url, slack, log, KPIBOT_ACK_BUDGET_SECONDS="0")
        yield Served(ServedApp(url, slack, database_url), log)


@pytest.fixture
def limits(served: Served) -> Served:
    served.app.slack.reset()
    return served


@pytest.fixture
def listener() -> Iterator[FakeSlack]:
    """A server inside the network that kpibot must never reach."""
    with FakeSlack() as fake:
        yield fake


def command(app: ServedApp, response_url: str, user: str = "U0LIMITS1") -> requests.Response:
    body = urlencode(
        {
            "team_id": "T1",
            "channel_id": CHANNEL,
            "user_id": user,
            "command": "/kpi",
            "text": SAMPLE,
            "response_url": response_url,
            "trigger_id": "1.2.3",
        }
    )
    response = app.post(body)
    assert response.status_code == 200, response.text
    return response


def press(app: ServedApp, action: dict[str, Any], response_url: str) -> requests.Response:
    payload = {
        "type": "block_actions",
        "team": {"id": "T1"},
        "user": {"id": "U0LIMITS1"},
        "channel": {"id": CHANNEL},
        "response_url": response_url,
        "trigger_id": "1.2.3",
        "actions": [{**action, "block_id": "b", "action_ts": "1"}],
    }
    response = app.post(urlencode({"payload": json.dumps(payload)}))
    assert response.status_code == 200, response.text
    return response


def share_button(app: ServedApp) -> dict[str, Any]:
    command(app, app.slack.response_url("card"))
    (call,) = app.slack.wait_for("response/card", ok=True)
    return next(b for b in buttons(call.json()) if b["action_id"] == "kpi_share")


def test_an_hour_long_retry_after_stalls_nobody_else(limits: Served) -> None:
    app, start = limits.app, limits.log_size()
    # More rate-limited answers than both workers' answer threads: had any thread slept for
    # the hour, no other answer would arrive.
    limited = [f"slow{i}" for i in range(18)]
    for name in limited:
        app.slack.fail_next_response(name, status=429, retry_after=3600)
    others = [f"user{i}" for i in range(20)]
    with ThreadPoolExecutor(20) as pool:
        list(pool.map(lambda n: command(app, app.slack.response_url(n), f"U{n}"), limited))
        started = time.monotonic()
        acks = list(pool.map(lambda n: command(app, app.slack.response_url(n), f"U{n}"), others))
    for name, ack in zip(others, acks, strict=True):
        # An answer ready within the acknowledgement budget comes in the ack itself.
        if ack.content and "1,188.00" in message_text(ack.json()):
            continue
        (answer,) = app.slack.wait_for(f"response/{name}", ok=True, timeout=15)
        assert "1,188.00" in message_text(answer.json())
    assert time.monotonic() - started < 15
    given_up = "slack gave up: response_url HTTP 429 Retry-After 3600 s is over the 30 s cap"
    logged = limits.wait_in_log(start, given_up, count=len(limited))
    for name in limited:
        assert [c.status for c in app.slack.calls_to(f"response/{name}")] == [429]
    assert logged.count("answer not delivered") == len(limited)
    assert "Traceback" not in logged


def test_a_slow_response_url_gets_the_answer_once_and_no_apology(limits: Served) -> None:
    app, start = limits.app, limits.log_size()
    app.slack.delay_next("response/slow", HTTP_TIMEOUT_SECONDS + 2)
    command(app, app.slack.response_url("slow"))
    logged = limits.wait_in_log(
        start, "it may have arrived; not apologising", timeout=HTTP_TIMEOUT_SECONDS + 10
    )
    time.sleep(1)
    (only,) = app.slack.calls_to("response/slow")
    assert "1,188.00" in message_text(only.json())
    assert "Sorry" not in message_text(only.json())
    assert "slack not retried: response_url TimeoutError" in logged
    assert "Traceback" not in limits.log_since(start)


SSRF_TARGETS = [
    ("http://127.0.0.1:{port}/internal", "scheme=http host=127.0.0.1"),
    ("file:///etc/passwd", "scheme=file host=none"),
    ("ftp://127.0.0.1:{port}/internal", "scheme=ftp host=127.0.0.1"),
    ("hooks.slack.com/x", "scheme=none host=none"),
]


@pytest.mark.parametrize(("target", "logged_as"), SSRF_TARGETS)
def test_answers_go_only_to_slacks_urls(
    limits: Served, listener: FakeSlack, target: str, logged_as: str
) -> None:
    app = limits.app
    share = share_button(app)
    start = limits.log_size()
    url = target.format(port=listener.port)
    command(app, url)
    press(app, share, url)
    refused = f"response_url refused, not Slack's ({logged_as}); not apologising"
    limits.wait_in_log(start, refused, count=2)
    time.sleep(0.5)
    assert listener.calls == []
    answered = [c.method for c in app.slack.calls if c.method.startswith("response/")]
    assert answered == ["response/card"]
    logged = limits.log_since(start)
    assert "Traceback" not in logged and "unhandled error" not in logged
    assert "/internal" not in logged and "passwd" not in logged
    assert "kind=command user=U0LIMITS1 channel=C0LIMITS1" in logged
    assert "kind=block_actions user=U0LIMITS1 channel=C0LIMITS1" in logged
