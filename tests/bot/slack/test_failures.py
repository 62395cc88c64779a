"""Unexpected failures reach the user as a short apology with a reference, never silence."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from urllib.parse import urlencode

import pytest
from slack_bolt import BoltRequest

from bot.actions import CardRef
from bot.composition import build
from bot.config import Settings
from bot.periods import Period
from bot.query import Compare
from bot.slack.app import create_app
from bot.slack.request_log import LoggedApp
from bot.slack.signing import signed_headers
from tests.support.fake_slack import FakeSlack

SECRET = "failure-test-secret"


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        yield fake


@pytest.fixture
def broken_app(tmp_path: Path, slack: FakeSlack) -> LoggedApp:
    """A real app whose database stops answering after start-up."""
    db = tmp_path / "k.db"
    settings = Settings.from_mapping(
        {
            "DATABASE_URL": f"sqlite:///{db}",
            "SLACK_BOT_TOKEN": "xoxb-test",
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": slack.url,
        }
    )
    components = build(settings)
    app = create_app(components, http_mode=True)
    components.engine.dispose()
    db.write_bytes(b"not a database" * 200)
    return app


def _dispatch(app: LoggedApp, body: str) -> tuple[int, str]:
    response = app.dispatch(BoltRequest(body=body, headers=signed_headers(SECRET, body)))
    return response.status, response.body


def test_a_failure_before_the_ack_is_answered_with_an_apology(
    broken_app: LoggedApp, slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    body = urlencode(
        {
            "command": "/kpi",
            "text": "summer-sale 30d",
            "user_id": "U1",
            "channel_id": "C1",
            "team_id": "T1",
            "response_url": slack.response_url("r1"),
        }
    )
    with caplog.at_level(logging.INFO):
        status, text = _dispatch(broken_app, body)
    assert status == 200
    message = json.loads(text)
    assert "Sorry" in message["text"]
    reference = message["text"].split("ref `")[1].split("`")[0]
    assert any(reference in r.getMessage() and r.exc_info for r in caplog.records)
    logged = [r.getMessage() for r in caplog.records if "slack_request" in r.getMessage()]
    assert '"outcome": "error"' in logged[-1]


def test_a_failure_after_the_ack_is_apologised_for_through_response_url(
    broken_app: LoggedApp, slack: FakeSlack
) -> None:
    period = Period(date(2025, 8, 10), date(2025, 8, 12), "2025-08-10..2025-08-12")
    ref = CardRef(1, period, Compare.PREVIOUS)
    payload = {
        "type": "block_actions",
        "user": {"id": "U1"},
        "team": {"id": "T1"},
        "response_url": slack.response_url("r2"),
        "actions": [{"action_id": "kpi_share", "value": ref.encode(), "type": "button"}],
    }
    status, _ = _dispatch(broken_app, urlencode({"payload": json.dumps(payload)}))
    assert status == 200
    (call,) = slack.wait_for("response/r2", ok=True)
    assert "Sorry" in call.json()["text"]


def test_an_unsigned_request_of_any_shape_is_refused_not_crashed_on(
    broken_app: LoggedApp,
) -> None:
    body = urlencode({"payload": json.dumps({"type": "block_actions", "user": "U1", "actions": 3})})
    response = broken_app.dispatch(BoltRequest(body=body, headers={}))
    assert response.status == 401
