"""Two evaluating processes at once: each on its own engine and owner, checking the same
database at the same moment from threads; every transition is posted exactly once."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine

from bot.alerts.model import CheckReport
from bot.alerts.service import AlertService
from storage.database import make_engine
from tests.bot.alerts.world import (
    NOW,
    Campaign,
    Clock,
    D,
    Day,
    add,
    events,
    load,
    replies,
    rows,
    service,
    text_of,
    top_level,
)
from tests.support.fake_slack import Call, FakeSlack

NAMES = [f"Sink{i}" for i in range(6)]
RULES = ["all roi < 0", "all roas < 1.5", "all roi drops 30%", "channel social roi < 0"]


@pytest.fixture
def twins(database_url: str, engine: Engine, slack: FakeSlack) -> Iterator[list[AlertService]]:
    """Two AlertServices as two processes would have them: own engine, own owner."""
    engines = [make_engine(database_url) for _ in range(2)]
    yield [service(e, slack, Clock(), owner=f"process-{i}") for i, e in enumerate(engines)]
    for e in engines:
        e.dispose()


def _together(services: list[AlertService], moment: datetime) -> CheckReport:
    """Both check at `moment` at once; what they did, added up."""
    start = threading.Barrier(len(services))
    errors: list[BaseException] = []
    reports: list[CheckReport] = []

    def run(alerts: AlertService) -> None:
        try:
            start.wait()
            reports.append(alerts.check(moment))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(s,)) for s in services]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    total = CheckReport()
    for r in reports:
        for name in ("fired", "reminded", "resolved", "sent", "failed"):
            setattr(total, name, getattr(total, name) + getattr(r, name))
    return total


def _each(calls: list[Call]) -> Counter[tuple[str, str]]:
    """(channel, campaign) of each call."""
    return Counter(
        (str(c.params["channel"]), next(n for n in NAMES if n in text_of(c))) for c in calls
    )


def test_two_checks_at_once_post_each_transition_once(
    engine: Engine, twins: list[AlertService], slack: FakeSlack, tmp_path: Path
) -> None:
    lines = []
    for name in NAMES:  # ROI −50 % (ROAS 0.5) on D and D+1 after 28 days of ROI 100 %
        losing = {D + timedelta(days=n): Day(revenue="50") for n in range(2)}
        lines += rows(Campaign(name), D - timedelta(days=28), D + timedelta(days=2), days=losing)
    load(engine, tmp_path / "csv", lines)
    channels = [f"C{i + 1}" for i in range(len(RULES))]
    for text, channel in zip(RULES, channels, strict=True):
        add(twins[0], text, channel=channel)
    everyone = Counter({(c, n): 1 for c in channels for n in NAMES})

    assert (_together(twins, NOW).fired, _together(twins, NOW).fired) == (24, 0)
    assert _each(top_level(slack)) == everyone

    done = _together(twins, NOW + timedelta(hours=24))
    assert (done.reminded, done.sent) == (24, 24)
    assert _each(replies(slack)) == everyone

    done = _together(twins, NOW + timedelta(hours=48))  # D+2 is a good day: all resolve
    assert (done.resolved, done.sent) == (24, 24)
    assert _each(replies(slack)) == everyone + everyone
    assert _each(slack.calls_to("chat.update")) == everyone
    assert _together(twins, NOW + timedelta(hours=48, minutes=5)).sent == 0

    assert len(top_level(slack)) == 24 and len(replies(slack)) == 48
    history = events(twins[1])
    assert Counter(e.event.split("#")[0] for e in history) == {
        "fire": 24,
        "remind": 24,
        "resolve": 24,
    }
    assert {e.delivery for e in history} == {"sent"}
