"""Replayed requests through a real `kpibot serve` (two gunicorn workers) and the fake Slack:
the very same bytes and headers sent again, many times at once, act once; genuine repeats and
read-only requests are not held back. SQLite and PostgreSQL."""

from __future__ import annotations

import json
import re
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
from slack_sdk.signature import SignatureVerifier

from storage.alerts import list_rules
from storage.database import make_engine, session_factory
from storage.digests import list_subscriptions
from storage.seen_requests import count_seen
from tests.conftest import postgres_schema
from tests.e2e.conftest import (
    SIGNING_SECRET,
    USER_ID,
    ServedApp,
    buttons,
    seed,
    start_serve,
)
from tests.support.fake_slack import FakeSlack

SAMPLE = "summer-sale 2025-08-10..2025-08-12"
COPIES = 12  # sent at once: more than one worker's threads, so both workers see the replay


@dataclass
class Replaying:
    served: ServedApp
    log: Path


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def replaying(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Replaying]:
    folder = tmp_path_factory.mktemp(f"replays-{request.param}")
    with ExitStack() as stack:
        if request.param == "sqlite":
            database_url = f"sqlite:///{folder / 'kpibot.db'}"
        else:
            database_url = stack.enter_context(postgres_schema())
        seed(database_url, folder)
        slack = stack.enter_context(FakeSlack())
        log = folder / "serve.log"
        url = start_serve(stack, database_url, slack, log)
        yield Replaying(ServedApp(url, slack, database_url), log)


@pytest.fixture
def app(replaying: Replaying) -> ServedApp:
    replaying.served.slack.reset()
    return replaying.served


@dataclass(frozen=True)
class Signed:
    """One request exactly as Slack sent it: the bytes and the headers, to send again."""

    body: bytes
    headers: dict[str, str]


def signed(body: str, timestamp: int | None = None) -> Signed:
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    signature = SignatureVerifier(SIGNING_SECRET).generate_signature(timestamp=stamp, body=body)
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": signature,
    }
    return Signed(body.encode(), headers)


def send(app: ServedApp, request: Signed, copies: int = 1) -> list[requests.Response]:
    """Send the same request `copies` times at once."""

    def one(_: int) -> requests.Response:
        return requests.post(
            f"{app.url}slack/events", data=request.body, headers=request.headers, timeout=20
        )

    with ThreadPoolExecutor(max_workers=copies) as pool:
        return list(pool.map(one, range(copies)))


def command(text: str, response_url: str, channel: str) -> str:
    return urlencode(
        {
            "team_id": "T1",
            "channel_id": channel,
            "user_id": USER_ID,
            "command": "/kpi",
            "text": text,
            "response_url": response_url,
            "trigger_id": "1.2.3",
        }
    )


def share_press(app: ServedApp, response_url: str) -> str:
    """The Share button of a real card, pressed: the payload Slack would send."""
    _, card_url = app.response_url()
    (answer,) = send(app, signed(command(SAMPLE, card_url, "C0E2E0001")))
    share = next(b for b in buttons(answer.json()) if b["action_id"] == "kpi_share")
    payload = {
        "type": "block_actions",
        "team": {"id": "T1"},
        "user": {"id": USER_ID, "name": "lead"},
        "channel": {"id": "C0E2E0001"},
        "response_url": response_url,
        "trigger_id": "1.2.3",
        "actions": [
            {"type": "button", "action_id": "kpi_share", "value": share["value"], "block_id": "b"}
        ],
    }
    return urlencode({"payload": json.dumps(payload)})


def answers(app: ServedApp, name: str, responses: list[requests.Response]) -> list[Any]:
    """Every answer the user got: in an acknowledgement or through response_url `name`."""
    time.sleep(1.0)  # answers past the ack budget go to response_url from a worker thread
    acks = [r.json() for r in responses if r.content]
    return acks + [call.json() for call in app.slack.calls_to(f"response/{name}")]


def refusals(log: Path) -> list[dict[str, str]]:
    """The `slack_request` lines (without latency) of the requests ignored as replays."""
    found = []
    for line in log.read_text().splitlines():
        if "slack_request {" in line:
            fields = json.loads(line.split("slack_request ", 1)[1])
            if fields.get("reason") == "replay":
                fields.pop("latency_ms")
                found.append(fields)
    return found


def stored_rules(app: ServedApp, channel: str) -> int:
    engine = make_engine(app.database_url)
    try:
        with session_factory(engine)() as session:
            return len(list_rules(session, channel))
    finally:
        engine.dispose()


def seen(app: ServedApp) -> int:
    engine = make_engine(app.database_url)
    try:
        return count_seen(engine)
    finally:
        engine.dispose()


def test_a_replayed_share_posts_the_card_once(app: ServedApp, replaying: Replaying) -> None:
    name, url = app.response_url()
    press = signed(share_press(app, url))
    before, offset = len(refusals(replaying.log)), replaying.log.stat().st_size
    responses = send(app, press, COPIES)
    assert [r.status_code for r in responses] == [200] * COPIES
    assert all(r.content == b"" for r in responses)
    app.slack.wait_for(f"response/{name}", ok=True)
    (shared,) = answers(app, name, responses)
    assert shared["response_type"] == "in_channel"
    assert f"<@{USER_ID}>" in json.dumps(shared)
    logged = refusals(replaying.log)[before:]
    assert len(logged) == COPIES - 1
    assert all(
        entry
        == {"kind": "block_actions", "action": "kpi_share", "user": USER_ID}
        | {"channel": "C0E2E0001", "status": "200", "outcome": "ignored", "reason": "replay"}
        for entry in logged
    )
    text = replaying.log.read_bytes()[offset:].decode()
    assert "Traceback" not in text
    assert url not in text


def test_two_genuine_presses_both_act(app: ServedApp) -> None:
    name, url = app.response_url()
    body = share_press(app, url)
    now = int(time.time())
    responses = send(app, signed(body, now - 1)) + send(app, signed(body, now))
    app.slack.wait_for(f"response/{name}", count=2, ok=True)
    shared = answers(app, name, responses)
    assert [m["response_type"] for m in shared] == ["in_channel", "in_channel"]


def test_a_replayed_alert_add_stores_one_rule(app: ServedApp) -> None:
    name, url = app.response_url()
    add = signed(command("alert add all roi drops 30%", url, "CRPL1"))
    responses = send(app, add, COPIES)
    assert [r.status_code for r in responses] == [200] * COPIES
    (reply,) = answers(app, name, responses)
    assert re.search(r"Alert #\d+ added", json.dumps(reply)), reply
    assert stored_rules(app, "CRPL1") == 1


def _only_digest(app: ServedApp, channel: str) -> tuple[int, bool]:
    engine = make_engine(app.database_url)
    try:
        with session_factory(engine)() as session:
            (subscription,) = list_subscriptions(session, channel)
            return subscription.id, subscription.paused
    finally:
        engine.dispose()


def test_a_replayed_digest_pause_changes_once(app: ServedApp) -> None:
    _, url = app.response_url()
    send(app, signed(command("digest add daily at 08:00 all", url, "CRPL2")))
    digest, paused = _only_digest(app, "CRPL2")
    assert not paused
    name, url = app.response_url()
    pause = signed(command(f"digest pause {digest}", url, "CRPL2"))
    (reply,) = answers(app, name, send(app, pause))
    assert f"Digest {digest} paused" in json.dumps(reply), reply
    _, url = app.response_url()
    send(app, signed(command(f"digest resume {digest}", url, "CRPL2")))
    assert _only_digest(app, "CRPL2") == (digest, False)

    answered = len(app.slack.calls_to(f"response/{name}"))
    replays = send(app, pause, COPIES)
    assert [(r.status_code, r.content) for r in replays] == [(200, b"")] * COPIES
    assert len(answers(app, name, replays)) == answered  # no second "paused"
    assert _only_digest(app, "CRPL2") == (digest, False)  # the replays paused nothing


def test_a_replayed_read_only_query_still_answers_and_is_not_recorded(app: ServedApp) -> None:
    before = seen(app)
    name, url = app.response_url()
    responses = send(app, signed(command(SAMPLE, url, "C0E2E0001")), 3)
    replies = answers(app, name, responses)
    assert len(replies) == 3
    assert all("Summer Sale" in json.dumps(r) for r in replies)
    assert seen(app) == before
