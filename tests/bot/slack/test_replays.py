"""Replays of requests with side effects, in-process: which requests count, the key and its
expiry, and the real Bolt app (signed requests, SQLite, the fake Slack) acting once."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

import pytest
from slack_bolt import BoltRequest
from sqlalchemy import Engine, select, text

from bot.actions import ACTION_PAGE, ACTION_PICK, ACTION_SHARE
from bot.composition import Components, build
from bot.config import Settings
from bot.importing.run import import_file
from bot.render.alert_blocks import (
    ACTION_ACK,
    ACTION_CARD,
    ACTION_MUTE,
    ACTION_SNOOZE_DAY,
    ACTION_SNOOZE_WEEK,
)
from bot.slack.app import create_app
from bot.slack.replays import (
    CLOCK_MARGIN,
    SLACK_WINDOW,
    ReplayGuard,
    command_changes,
    has_side_effects,
    request_key,
)
from bot.slack.request_log import LoggedApp
from bot.slack.signing import signed_headers
from storage.alerts import list_rules
from storage.database import make_engine, session_factory
from storage.models import SeenRequest
from storage.schema import upgrade
from storage.seen_requests import count_seen, first_sighting
from tests.conftest import FIVETRAN_SAMPLE
from tests.support.fake_slack import FakeSlack

SECRET = "replay-test-secret"
SAMPLE = "summer-sale 2025-08-10..2025-08-12"

# --------------------------------------------------------------------------- what counts


@pytest.mark.parametrize(
    "text",
    [
        "digest add daily at 08:00 all",
        "Digest PAUSE 3",
        "digest resume #3",
        "digest remove 3",
        "digest send 3",
        "alert add all roi drops 30%",
        "alerts remove 2",
        "alert pause 2",
        "alert resume 2",
        "alert snooze 2 3d",
        "access <#C123|marketing> platform meta_ads account 123",
        "access clear <#C123>",
        "access clear",  # says which channel to clear: recorded all the same
        "ACCESS C123 campaign summer*",
    ],
)
def test_commands_that_change_something_are_recorded(text: str) -> None:
    assert command_changes(text)
    assert has_side_effects({"command": "/kpi", "text": text})


@pytest.mark.parametrize(
    "text",
    [
        "",
        "summer-sale 30d",
        "top roas 7d",
        "list",
        "help",
        "add",  # a campaign query, not a digest
        "digest",
        "digest list",
        "digest preview 3",
        "digest frobnicate",
        "alert",
        "alert list",
        "alerts history 2",
        "access",
        "access list",
        "access help",
        "access <#C123|marketing>",
        "access C123",
        "summer-sale digest add",
    ],
)
def test_read_only_commands_are_not_recorded(text: str) -> None:
    assert not command_changes(text)
    assert not has_side_effects({"command": "/kpi", "text": text})


def _press(*action_ids: str) -> dict[str, Any]:
    return {"type": "block_actions", "actions": [{"action_id": a} for a in action_ids]}


@pytest.mark.parametrize(
    "action_id", [ACTION_SHARE, ACTION_ACK, ACTION_SNOOZE_DAY, ACTION_SNOOZE_WEEK, ACTION_MUTE]
)
def test_buttons_with_side_effects_are_recorded(action_id: str) -> None:
    assert has_side_effects(_press(action_id))


@pytest.mark.parametrize(
    "body",
    [
        _press(f"{ACTION_PICK}_0"),
        _press(f"{ACTION_PAGE}_next"),
        _press(ACTION_CARD),
        _press(),
        {"type": "view_submission", "actions": [{"action_id": ACTION_SHARE}]},
        {"type": "block_actions", "actions": "kpi_share"},
        {"type": "block_actions", "actions": [ACTION_SHARE]},
        {"type": "block_actions"},
        [ACTION_SHARE],
        "kpi_share",
        None,
    ],
)
def test_read_only_and_malformed_requests_are_not_recorded(body: Any) -> None:
    assert not has_side_effects(body)


def test_the_key_is_the_same_for_a_replay_and_differs_for_another_request() -> None:
    key = request_key("1700000000", "v0=abc")
    assert key == request_key("1700000000", "v0=abc")
    assert len(key) == 64 and int(key, 16) >= 0
    assert key != request_key("1700000001", "v0=abc")
    assert key != request_key("1700000000", "v0=abd")
    # The separator keeps the two parts apart.
    assert request_key("17", "00v0=abc") != request_key("1700", "v0=abc")


# --------------------------------------------------------------------------- expiry


@dataclass
class Clock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'seen.db'}")
    upgrade(engine)
    yield engine
    engine.dispose()


def test_a_request_is_kept_until_slack_would_refuse_its_timestamp(sqlite_engine: Engine) -> None:
    sent = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
    clock = Clock(sent + timedelta(seconds=20))

    def record(key: str, *, expires_at: datetime, now: datetime) -> bool:
        return first_sighting(sqlite_engine, key, expires_at=expires_at, now=now)

    guard = ReplayGuard(record, clock)
    stamp = str(int(sent.timestamp()))
    assert guard.first_time(stamp, "v0=one")
    with sqlite_engine.connect() as connection:
        (expires_at,) = connection.scalars(select(SeenRequest.expires_at))
    assert expires_at.replace(tzinfo=UTC) == sent + SLACK_WINDOW + CLOCK_MARGIN
    clock.now = sent + SLACK_WINDOW  # the last moment Bolt accepts the timestamp
    assert not guard.first_time(stamp, "v0=one")
    assert guard.first_time(stamp, "v0=two")
    clock.now = sent + SLACK_WINDOW + CLOCK_MARGIN + timedelta(seconds=1)
    assert guard.first_time(stamp, "v0=one")  # long refused by Bolt: nothing to protect
    # A timestamp Bolt would not have let through is still kept a full window.
    assert guard.first_time("not a number", "v0=one")
    clock.now += SLACK_WINDOW
    assert not guard.first_time("not a number", "v0=one")


# --------------------------------------------------------------------------- the real app


@dataclass
class Served:
    app: LoggedApp
    components: Components
    slack: FakeSlack


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    with FakeSlack() as slack:
        settings = Settings.from_mapping(
            {
                "DATABASE_URL": f"sqlite:///{tmp_path / 'kpibot.db'}",
                "SLACK_API_URL": slack.url,
                "SLACK_BOT_TOKEN": "xoxb-replay",
                "SLACK_SIGNING_SECRET": SECRET,
                "KPIBOT_DEFAULT_CURRENCY": "USD",
            }
        )
        components = build(settings)
        import_file(components.engine, FIVETRAN_SAMPLE, default_currency="USD")
        try:
            yield Served(create_app(components, http_mode=True), components, slack)
        finally:
            components.dispose()


def _signed(body: str, timestamp: int | None = None) -> dict[str, Any]:
    return dict(signed_headers(SECRET, body, timestamp=timestamp))


def _command_body(text: str, response_url: str, channel: str = "C1") -> str:
    return urlencode(
        {
            "team_id": "T1",
            "channel_id": channel,
            "user_id": "U1",
            "command": "/kpi",
            "text": text,
            "response_url": response_url,
            "trigger_id": "1.2.3",
        }
    )


def _share_body(served: Served, response_url: str) -> str:
    body = _command_body(SAMPLE, served.slack.response_url("card"))
    answer = json.loads(served.app.dispatch(BoltRequest(body=body, headers=_signed(body))).body)
    share = next(
        element
        for block in answer["blocks"]
        if block["type"] == "actions"
        for element in block["elements"]
        if element["action_id"] == ACTION_SHARE
    )
    payload = {
        "type": "block_actions",
        "team": {"id": "T1"},
        "user": {"id": "U1"},
        "channel": {"id": "C1"},
        "response_url": response_url,
        "actions": [{"action_id": ACTION_SHARE, "value": share["value"], "type": "button"}],
    }
    return urlencode({"payload": json.dumps(payload)})


def _posts(slack: FakeSlack, name: str, settle: float = 0.5) -> list[dict[str, Any]]:
    """What reached response_url `name`, once the answering threads had time to post."""
    time.sleep(settle)
    return [call.json() for call in slack.calls_to(f"response/{name}")]


def _request_lines(caplog: pytest.LogCaptureFixture) -> list[dict[str, str]]:
    """The `slack_request` line of each request, without its latency."""
    lines = [
        json.loads(r.getMessage().removeprefix("slack_request "))
        for r in caplog.records
        if r.name == "kpibot.requests" and r.getMessage().startswith("slack_request ")
    ]
    for line in lines:
        line.pop("latency_ms")
    return lines


def _refusals(caplog: pytest.LogCaptureFixture) -> list[dict[str, str]]:
    return [line for line in _request_lines(caplog) if line.get("reason") == "replay"]


def test_a_replayed_share_is_acknowledged_posts_once_and_is_logged_without_the_body(
    served: Served, caplog: pytest.LogCaptureFixture
) -> None:
    response_url = served.slack.response_url("shared")
    body = _share_body(served, response_url)
    headers = _signed(body)
    with caplog.at_level(logging.INFO):
        first = served.app.dispatch(BoltRequest(body=body, headers=headers))
        served.slack.wait_for("response/shared", ok=True)
        replays = [served.app.dispatch(BoltRequest(body=body, headers=headers)) for _ in range(3)]
    assert first.status == 200
    assert [(r.status, r.body) for r in replays] == [(200, "")] * 3
    (posted,) = _posts(served.slack, "shared")
    assert posted["response_type"] == "in_channel"
    # One line per request: the first acted on, each replay ignored.
    lines = _request_lines(caplog)
    assert [line["outcome"] for line in lines] == ["ok", "ignored", "ignored", "ignored"]
    refusals = _refusals(caplog)
    assert len(refusals) == 3
    assert refusals[0] == {
        "kind": "block_actions",
        "action": ACTION_SHARE,
        "user": "U1",
        "channel": "C1",
        "status": "200",
        "outcome": "ignored",
        "reason": "replay",
    }
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert response_url not in logged and "Summer" not in logged
    assert count_seen(served.components.engine) == 1


def test_two_genuine_presses_both_act(served: Served) -> None:
    response_url = served.slack.response_url("twice")
    body = _share_body(served, response_url)
    now = int(time.time())
    for stamp in (now - 1, now):
        response = served.app.dispatch(BoltRequest(body=body, headers=_signed(body, stamp)))
        assert (response.status, response.body) == (200, "")
    served.slack.wait_for("response/twice", count=2, ok=True)
    assert len(_posts(served.slack, "twice")) == 2


def test_a_replayed_alert_add_stores_one_rule(served: Served) -> None:
    body = _command_body("alert add all roi drops 30%", served.slack.response_url("a"), "CA1")
    headers = _signed(body)
    answers = [served.app.dispatch(BoltRequest(body=body, headers=headers)) for _ in range(3)]
    assert "added" in answers[0].body
    assert [(a.status, a.body) for a in answers[1:]] == [(200, "")] * 2
    with session_factory(served.components.engine)() as session:
        assert len(list_rules(session, "CA1")) == 1


def test_a_replayed_read_only_query_still_answers_and_writes_nothing(served: Served) -> None:
    body = _command_body(SAMPLE, served.slack.response_url("q"))
    headers = _signed(body)
    answers = [served.app.dispatch(BoltRequest(body=body, headers=headers)) for _ in range(2)]
    assert all("Summer Sale" in a.body for a in answers)
    assert count_seen(served.components.engine) == 0


def test_socket_mode_requests_are_not_recorded(served: Served) -> None:
    app = create_app(served.components, http_mode=False)
    response_url = served.slack.response_url("socket")
    payload = json.loads(dict(parse_qsl(_share_body(served, response_url)))["payload"])
    for _ in range(2):
        assert app.dispatch(BoltRequest(body=payload, mode="socket_mode")).status == 200
    served.slack.wait_for("response/socket", count=2, ok=True)
    assert count_seen(served.components.engine) == 0


def _lose_the_record(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(text("DROP TABLE seen_requests"))


def test_when_the_record_fails_a_command_is_not_run_and_the_user_gets_an_apology(
    served: Served,
) -> None:
    _lose_the_record(served.components.engine)
    body = _command_body("alert add all roi drops 30%", served.slack.response_url("x"), "CF1")
    answer = served.app.dispatch(BoltRequest(body=body, headers=_signed(body)))
    assert answer.status == 200
    assert "Sorry" in json.loads(answer.body)["text"]
    with session_factory(served.components.engine)() as session:
        assert list_rules(session, "CF1") == []


def test_when_the_record_fails_a_press_is_not_run_and_the_apology_goes_to_response_url(
    served: Served,
) -> None:
    response_url = served.slack.response_url("broken")
    body = _share_body(served, response_url)
    _lose_the_record(served.components.engine)
    answer = served.app.dispatch(BoltRequest(body=body, headers=_signed(body)))
    assert (answer.status, answer.body) == (200, "")
    served.slack.wait_for("response/broken", ok=True)
    (apology,) = _posts(served.slack, "broken")
    assert "Sorry" in apology["text"]
    assert apology["response_type"] == "ephemeral"
