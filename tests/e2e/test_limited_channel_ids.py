"""Digests and alert rules by id from a limited channel, through `kpibot serve`: another
channel's do not exist there — preview, send, pause, resume, remove, snooze, history and the
alert buttons answer exactly as for an id that was never used, and change or post nothing —
while the limited channel's own, and an unlimited channel, work as before."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any
from urllib.parse import urlencode

import pytest

from bot.alerts.model import StoredRule
from bot.render.alert_blocks import ACTION_ACK, ACTION_SNOOZE_WEEK
from storage import alerts, digests
from storage.database import make_engine, session_factory
from storage.digests import Subscription
from tests.conftest import postgres_schema
from tests.e2e.conftest import USER_ID, ServedApp, message_text, start_serve
from tests.e2e.test_limited_channel import LIMITED, OTHER, _seed
from tests.support.blockkit import assert_valid_message
from tests.support.fake_slack import FakeSlack

UNUSED = 987654


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def served(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[ServedApp, dict[str, int]]]:
    folder = tmp_path_factory.mktemp(f"limited-ids-{request.param}")
    with ExitStack() as stack:
        if request.param == "sqlite":
            database_url = f"sqlite:///{folder / 'kpibot.db'}"
        else:
            database_url = stack.enter_context(postgres_schema())
        ids = _seed(database_url, folder)
        slack = stack.enter_context(FakeSlack())
        url = start_serve(stack, database_url, slack, folder / "serve.log")
        yield ServedApp(url, slack, database_url), ids


@pytest.fixture
def app(served: tuple[ServedApp, dict[str, int]]) -> ServedApp:
    served[0].slack.reset()
    return served[0]


def say(app: ServedApp, text: str, channel: str) -> dict[str, Any]:
    """The reply to `/kpi text` from `channel`: the acknowledgement, or the response_url post."""
    name, url = app.response_url()
    body = app.command_body(text, url).replace(f"channel_id={LIMITED}", f"channel_id={channel}")
    response = app.post(body)
    assert response.status_code == 200, response.text
    message: dict[str, Any] = response.json() if response.content else {}
    if not message.get("blocks"):
        (call,) = app.slack.wait_for(f"response/{name}", ok=True, timeout=10)
        message = call.json()
    assert_valid_message(message)
    return message


def press(app: ServedApp, action_id: str, value: str, channel: str) -> dict[str, Any]:
    """`action_id` pressed with `value` on a message in `channel`: what the presser is sent."""
    name, url = app.response_url()
    payload = {
        "type": "block_actions",
        "team": {"id": "T1"},
        "user": {"id": USER_ID, "name": "lead"},
        "channel": {"id": channel},
        "container": {"type": "message", "channel_id": channel, "is_ephemeral": False},
        "response_url": url,
        "trigger_id": "1.2.3",
        "actions": [
            {
                "type": "button",
                "action_id": action_id,
                "block_id": "b",
                "value": value,
                "action_ts": "1",
            }
        ],
    }
    response = app.post(urlencode({"payload": json.dumps(payload)}))
    assert response.status_code == 200, response.text
    (call,) = app.slack.wait_for(f"response/{name}", timeout=10)
    message: dict[str, Any] = call.json()
    return message


def added(message: dict[str, Any], pattern: str) -> int:
    found = re.search(pattern, message_text(message))
    assert found, message_text(message)
    return int(found.group(1))


def the_digest(app: ServedApp, subscription_id: int) -> Subscription | None:
    engine = make_engine(app.database_url)
    try:
        with session_factory(engine)() as session:
            return digests.get_subscription(session, subscription_id)
    finally:
        engine.dispose()


def the_rule(app: ServedApp, rule_id: int) -> StoredRule | None:
    engine = make_engine(app.database_url)
    try:
        with session_factory(engine)() as session:
            return alerts.get_rule(session, rule_id)
    finally:
        engine.dispose()


def as_unknown(message: dict[str, Any], real: int) -> str:
    """The message with the real id written as the unused one, to compare with its reply."""
    return message_text(message).replace(str(real), str(UNUSED))


def assert_answers_as_unknown(app: ServedApp, command: str, real: int) -> None:
    """`command` (with `{}` for the id) from the limited channel reads exactly as it does for
    an id nobody ever used: not even the id's existence is confirmed."""
    hidden = say(app, command.format(real), LIMITED)
    unknown = say(app, command.format(UNUSED), LIMITED)
    assert as_unknown(hidden, real) == message_text(unknown), command
    assert "There is no" in message_text(hidden), message_text(hidden)


@pytest.fixture
def others(app: ServedApp) -> tuple[int, int]:
    """A digest and an alert rule of the unlimited channel OTHER, added from there."""
    digest = added(say(app, "digest add daily at 08:00 all", OTHER), r"Digest (\d+) added")
    rule = added(say(app, "alert add all roi < 0", OTHER), r"Alert #(\d+) added")
    app.slack.reset()
    return digest, rule


def test_another_channels_digest_is_unknown_from_a_limited_channel(
    app: ServedApp, others: tuple[int, int]
) -> None:
    digest, _ = others
    for command in (
        "digest preview {}",
        "digest send {}",
        "digest pause {}",
        "digest resume {}",
        "digest remove {}",
    ):
        assert_answers_as_unknown(app, command, digest)
    stored = the_digest(app, digest)
    assert stored is not None and stored.channel == OTHER and not stored.paused
    assert app.slack.calls_to("chat.postMessage") == []


def test_another_channels_alert_is_unknown_from_a_limited_channel(
    app: ServedApp, others: tuple[int, int]
) -> None:
    _, rule = others
    for command in (
        "alert pause {}",
        "alert resume {}",
        "alert snooze {} 1d",
        "alert history {}",
        "alert remove {}",
    ):
        assert_answers_as_unknown(app, command, rule)
    stored = the_rule(app, rule)
    assert stored is not None and stored.channel == OTHER
    assert not stored.paused and stored.snoozed_until is None
    assert app.slack.calls_to("chat.postMessage") == []


def test_alert_buttons_for_another_channels_rule_are_refused_in_a_limited_channel(
    app: ServedApp, others: tuple[int, int]
) -> None:
    _, rule = others
    for action_id in (ACTION_SNOOZE_WEEK, ACTION_ACK):
        hidden = press(app, action_id, f"{rule}:1:1", LIMITED)
        unknown = press(app, action_id, f"{UNUSED}:1:1", LIMITED)
        assert as_unknown(hidden, rule) == message_text(unknown)
        assert "There is no alert" in message_text(hidden)
    stored = the_rule(app, rule)
    assert stored is not None and stored.snoozed_until is None


def test_the_limited_channels_own_and_an_unlimited_channel_still_work(
    app: ServedApp, others: tuple[int, int]
) -> None:
    digest, rule = others
    own = added(say(app, "digest add daily at 07:00 all", LIMITED), r"Digest (\d+) added")
    assert "There is no" not in message_text(say(app, f"digest preview {own}", LIMITED))
    say(app, f"digest pause {own}", LIMITED)
    paused = the_digest(app, own)
    assert paused is not None and paused.paused
    own_rule = added(say(app, "alert add all roi < 0", LIMITED), r"Alert #(\d+) added")
    say(app, f"alert pause {own_rule}", LIMITED)
    paused_rule = the_rule(app, own_rule)
    assert paused_rule is not None and paused_rule.paused
    # An unlimited channel may see the limited channel's digest, and acts on its own.
    assert "There is no" not in message_text(say(app, f"digest preview {own}", OTHER))
    say(app, f"digest pause {digest}", OTHER)
    say(app, f"alert snooze {rule} 1d", OTHER)
    theirs, their_rule = the_digest(app, digest), the_rule(app, rule)
    assert theirs is not None and theirs.paused
    assert their_rule is not None and their_rule.snoozed_until is not None
