"""The delivery pass: one at a time per process, logged as one structured line."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime

import pytest

from bot.digests.service import RunReport
from bot.scheduling.jobs import DeliveryPass
from tests.bot.scheduling.fakes import FakeDigests

NOW = datetime(2026, 11, 30, 7, 0, tzinfo=UTC)


def logged(caplog: pytest.LogCaptureFixture) -> list[dict[str, object]]:
    prefix = "scheduled_job "
    return [
        json.loads(r.getMessage()[len(prefix) :])
        for r in caplog.records
        if r.getMessage().startswith(prefix)
    ]


def test_a_pass_logs_what_it_did_in_one_line(caplog: pytest.LogCaptureFixture) -> None:
    digests = FakeDigests(report=RunReport(due=5, sent=3, skipped=1, waiting=1, retried=1))
    with caplog.at_level("INFO", logger="kpibot.scheduler"):
        DeliveryPass(digests, lambda: NOW).wake("digest:7")
    (line,) = logged(caplog)
    latency = line.pop("latency_ms")
    assert float(str(latency)) >= 0
    assert line == {
        "job": "digest:7",
        "outcome": "ok",
        "due": 5,
        "sent": 3,
        "skipped": 1,
        "waiting": 1,
        "failed": 0,
        "retried": 1,
        "busy": 0,
    }
    assert digests.calls == [NOW]


def test_an_idle_pass_logs_only_at_debug(caplog: pytest.LogCaptureFixture) -> None:
    digests = FakeDigests(report=RunReport(due=2, busy=2))
    with caplog.at_level("INFO", logger="kpibot.scheduler"):
        DeliveryPass(digests, lambda: NOW).wake("catch-up")
    assert logged(caplog) == []


def test_wake_ups_during_a_pass_become_one_more_pass() -> None:
    hold = threading.Event()
    digests = FakeDigests(hold=hold)
    delivery = DeliveryPass(digests, lambda: NOW)
    first = threading.Thread(target=delivery.wake, args=("digest:1",))
    first.start()
    assert digests.entered.wait(5)
    for n in range(2, 12):  # ten more triggers at 08:00 return at once
        delivery.wake(f"digest:{n}")
    hold.set()
    first.join(5)
    assert len(digests.calls) == 2


def test_a_stopped_pass_starts_nothing_new() -> None:
    digests = FakeDigests()
    delivery = DeliveryPass(digests, lambda: NOW)
    delivery.stop()
    delivery.wake("catch-up")
    assert digests.calls == []
