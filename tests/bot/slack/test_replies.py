from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from slack_bolt import BoltRequest

from bot.answers import Answer
from bot.composition import build
from bot.config import Settings
from bot.service import KpiService
from bot.slack.app import create_app
from bot.slack.replies import ANSWER_CAPACITY, AnswerLoad
from bot.slack.signing import signed_headers
from tests.support.fake_slack import FakeSlack


def test_answer_load_is_busy_at_capacity_and_frees_up_when_answers_finish() -> None:
    load = AnswerLoad(capacity=2)
    release = threading.Event()

    def slow() -> dict[str, Any]:
        release.wait(5)
        return {"text": "done"}

    with ThreadPoolExecutor(max_workers=4) as pool:
        assert not load.busy()
        first = load.submit(pool, slow)
        assert not load.busy()
        second = load.submit(pool, slow)
        assert load.busy()
        release.set()
        assert first.result(5) == second.result(5) == {"text": "done"}
    assert not load.busy()


# --------------------------------------------------------------------------- a burst of /kpi

SECRET = "burst-signing-secret"


def _command(text: str, response_url: str) -> BoltRequest:
    body = urlencode(
        {
            "team_id": "T1",
            "channel_id": "C1",
            "user_id": "U1",
            "command": "/kpi",
            "text": text,
            "response_url": response_url,
            "trigger_id": "1.2.3",
        }
    )
    return BoltRequest(body=body, headers=signed_headers(SECRET, body))


def test_a_burst_past_capacity_is_acknowledged_at_once_and_answered_later(
    tmp_path: Path,
) -> None:
    entered = threading.Semaphore(0)
    release = threading.Event()

    class Stuck(KpiService):
        """Answers only when released, as a slow database would."""

        def answer(
            self, text: str, today: date | None = None, *, channel: str | None = None
        ) -> Answer:
            entered.release()
            release.wait(10)
            return super().answer(text, today, channel=channel)

    with FakeSlack() as slack, ThreadPoolExecutor(max_workers=ANSWER_CAPACITY) as senders:
        settings = Settings.from_mapping(
            {
                "DATABASE_URL": f"sqlite:///{tmp_path / 'kpibot.db'}",
                "SLACK_API_URL": slack.url,
                "SLACK_BOT_TOKEN": "xoxb-burst",
                "SLACK_SIGNING_SECRET": SECRET,
                "KPIBOT_ACK_BUDGET_SECONDS": "2",
            }
        )
        components = build(settings)
        stuck = Stuck(components.sessions, components.kpis.economics, components.kpis.timezone)
        app = create_app(replace(components, kpis=stuck), http_mode=True)
        try:
            waiting = [
                senders.submit(app.dispatch, _command("help", slack.response_url(f"r{i}")))
                for i in range(ANSWER_CAPACITY)
            ]
            for _ in range(ANSWER_CAPACITY):
                assert entered.acquire(timeout=5)
            started = time.monotonic()
            burst = app.dispatch(_command("help", slack.response_url("burst")))
            acknowledged_in = time.monotonic() - started
            release.set()
            assert burst.status == 200
            assert burst.body == ""  # an empty ack: the answer goes to response_url
            assert acknowledged_in < 1.0, "past capacity, /kpi must not spend its ack budget"
            # Released within their budget, the first ones answer in their acknowledgement.
            assert all("/kpi help" in f.result(10).body for f in waiting)
            (answer,) = slack.wait_for("response/burst", ok=True)
            assert "/kpi help" in answer.json()["text"]
        finally:
            release.set()
            components.dispose()
