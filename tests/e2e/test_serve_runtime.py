"""`kpibot serve` as a process: settings it refuses, health, and the response_url path."""

from __future__ import annotations

import subprocess
from contextlib import ExitStack
from pathlib import Path

import requests

from storage.database import make_engine
from storage.schema import head_revision
from tests.e2e.conftest import (
    ServedApp,
    kpibot_executable,
    message_text,
    seed,
    serve_env,
    start_serve,
)
from tests.support.blockkit import assert_valid_message
from tests.support.fake_slack import FakeSlack


def test_serve_refuses_to_start_without_a_signing_secret(tmp_path: Path) -> None:
    with FakeSlack() as slack:
        env = serve_env(f"sqlite:///{tmp_path / 'k.db'}", slack)
        del env["SLACK_SIGNING_SECRET"]
        result = subprocess.run(
            [kpibot_executable(), "serve", "--port", "0"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode != 0
    assert "SLACK_SIGNING_SECRET" in result.stderr


def test_healthz_reports_the_schema_version(database_url: str, tmp_path: Path) -> None:
    seed(database_url, tmp_path)
    with ExitStack() as stack:
        slack = stack.enter_context(FakeSlack())
        url = start_serve(stack, database_url, slack, tmp_path / "serve.log")
        health = requests.get(f"{url}healthz", timeout=5)
        assert health.status_code == 200
        assert health.json() == {"status": "ok", "schema": head_revision(make_engine(database_url))}


def test_slow_answers_arrive_through_response_url(database_url: str, tmp_path: Path) -> None:
    seed(database_url, tmp_path)
    with ExitStack() as stack:
        slack = stack.enter_context(FakeSlack())
        url = start_serve(
            stack, database_url, slack, tmp_path / "serve.log", KPIBOT_ACK_BUDGET_SECONDS="0"
        )
        app = ServedApp(url, slack, database_url)
        response, name = app.command("summer-sale 2025-08-10..2025-08-12")
        assert response.status_code == 200
        assert response.text == ""
        (call,) = slack.wait_for(f"response/{name}", ok=True)
        message = call.json()
        assert_valid_message(message)
        assert message["response_type"] == "ephemeral"
        assert "1,188.00" in message_text(message)
