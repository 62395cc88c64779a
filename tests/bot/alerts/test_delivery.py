"""Failed posts: 429 is retried after its Retry-After (not before), 5xx with backoff, and a
permanent error is recorded on the history and the rule and told to the owner by DM once."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine

from bot.alerts.service import AlertService
from tests.bot.alerts.world import (
    NOW,
    OWNER,
    Campaign,
    D,
    Day,
    add,
    dms,
    events,
    load,
    replies,
    rows,
    top_level,
)
from tests.support.fake_slack import FakeSlack

SECOND = timedelta(seconds=1)


def _data(engine: Engine, folder: Path, *names: str) -> None:
    lines = []
    for name in names:
        losing = {D + timedelta(days=n): Day(revenue="50") for n in range(4)}
        lines += rows(Campaign(name), D - timedelta(days=28), D + timedelta(days=3), days=losing)
    load(engine, folder, lines)


def _posts(slack: FakeSlack) -> list[int]:
    """The HTTP status of each chat.postMessage into a channel (DMs left out)."""
    return [
        c.status
        for c in slack.calls_to("chat.postMessage")
        if not str(c.params["channel"]).startswith("D")
    ]


@pytest.mark.parametrize("later", ["deliver_due", "check"])
def test_a_rate_limited_fire_is_posted_after_retry_after_and_not_before(
    engine: Engine, alerts: AlertService, slack: FakeSlack, tmp_path: Path, later: str
) -> None:
    _data(engine, tmp_path / "csv", "Sinker")
    rule = add(alerts, "all roi < 0", channel="C1")
    slack.fail_next("chat.postMessage", status=429, retry_after=30)
    report = alerts.check(NOW)
    assert (report.fired, report.sent, report.failed) == (1, 0, 0)
    assert [e.delivery for e in events(alerts, rule)] == ["retry"]

    again = getattr(alerts, later)
    assert again(NOW + 30 * SECOND - SECOND).sent == 0
    assert _posts(slack) == [429]
    report = again(NOW + 30 * SECOND)
    assert (report.sent, report.retried) == (1, 1)
    assert _posts(slack) == [429, 200]
    assert [e.delivery for e in events(alerts, rule)] == ["sent"]
    assert again(NOW + 60 * SECOND).sent == 0

    # The incident's thread is the message that finally went out.
    alerts.check(NOW + timedelta(hours=24))
    (reminder,) = replies(slack)
    assert reminder.params["thread_ts"] == "1700000000.000100"


def test_server_errors_back_off_30_seconds_then_a_minute(
    engine: Engine, alerts: AlertService, slack: FakeSlack, tmp_path: Path
) -> None:
    _data(engine, tmp_path / "csv", "Sinker")
    add(alerts, "all roi < 0", channel="C1")
    # SlackPoster retries a 5xx twice in place: 3 calls per attempt; two attempts fail.
    slack.fail_next("chat.postMessage", status=500, times=6)
    alerts.check(NOW)
    assert _posts(slack) == [500] * 3
    assert alerts.deliver_due(NOW + 30 * SECOND - SECOND).sent == 0
    alerts.deliver_due(NOW + 30 * SECOND)
    assert _posts(slack) == [500] * 6
    assert alerts.deliver_due(NOW + 90 * SECOND - SECOND).sent == 0  # 30 s + 60 s
    assert alerts.deliver_due(NOW + 90 * SECOND).sent == 1
    assert _posts(slack) == [500] * 6 + [200]
    assert dms(slack) == []


def test_server_errors_that_never_stop_give_up_after_six_attempts_and_dm_once(
    engine: Engine, alerts: AlertService, slack: FakeSlack, tmp_path: Path
) -> None:
    _data(engine, tmp_path / "csv", "Sinker")
    rule = add(alerts, "all roi < 0", channel="C1")
    slack.fail_next("chat.postMessage", status=500, times=18)
    alerts.check(NOW)
    at = NOW
    for wait in (30, 60, 120, 240, 480):  # attempts 2..6
        at += timedelta(seconds=wait)
        alerts.deliver_due(at)
    assert len(_posts(slack)) == 18
    (entry,) = events(alerts, rule)
    assert (entry.delivery, entry.error) == ("failed", "internal_error (6 attempts)")
    assert len(dms(slack)) == 1
    assert alerts.deliver_due(at + timedelta(hours=1)).sent == 0


def test_a_permanent_error_is_recorded_and_the_owner_told_once(
    engine: Engine, alerts: AlertService, slack: FakeSlack, tmp_path: Path
) -> None:
    _data(engine, tmp_path / "csv", "SinkA", "SinkB")
    slack.set_channel("C404", exists=False)
    rule = add(alerts, "all roi < 0", channel="C404")

    report = alerts.check(NOW)
    assert (report.fired, report.sent, report.failed) == (2, 0, 2)
    assert [(e.event, e.delivery, e.error) for e in events(alerts, rule)] == [
        ("fire#1", "failed", "channel_not_found"),
        ("fire#1", "failed", "channel_not_found"),
    ]
    assert alerts.get(rule).last_error == "channel_not_found"
    (dm,) = dms(slack)
    assert dm.params["channel"] == f"D{OWNER.removeprefix('U')}"
    assert "<#C404>" in str(dm.params["text"]) and "channel_not_found" in str(dm.params["text"])
    assert [c.params["users"] for c in slack.calls_to("conversations.open")] == [OWNER]

    # Nothing is retried, and the next failures of the spell tell no one again.
    assert alerts.deliver_due(NOW + timedelta(hours=1)).sent == 0
    assert alerts.check(NOW + timedelta(hours=24)).failed == 2  # the reminders
    assert len(dms(slack)) == 1 and top_level(slack) == []

    # `resume` clears the error: the next failure is a new spell, told once more.
    alerts.change(rule, "resume", user=OWNER, is_admin=False)
    assert alerts.get(rule).last_error is None
    alerts.check(NOW + timedelta(hours=48))
    assert len(dms(slack)) == 2


def test_a_retry_that_is_no_longer_true_is_skipped_not_posted(
    engine: Engine, alerts: AlertService, slack: FakeSlack, tmp_path: Path
) -> None:
    _data(engine, tmp_path / "csv", "Sinker")
    rule = add(alerts, "all roi < 0", channel="C1")
    alerts.check(NOW)
    slack.fail_next("chat.postMessage", status=429, retry_after=60)
    reminded = NOW + timedelta(hours=24)
    assert alerts.check(reminded).reminded == 1  # rate limited: due a minute later
    # Before it is due, the day is re-imported good: the incident resolves in its thread.
    load(
        engine,
        tmp_path / "csv",
        rows(Campaign("Sinker"), D + timedelta(days=1), D + timedelta(days=1)),
    )
    assert alerts.check(reminded + 10 * SECOND).resolved == 1
    assert alerts.deliver_due(reminded + 60 * SECOND).sent == 0  # "still firing": not any more
    texts = [str(c.params["text"]) for c in replies(slack)]
    assert len(texts) == 1 and texts[0].startswith("Resolved")
    assert [(e.event, e.delivery) for e in events(alerts, rule)] == [
        ("fire#1", "sent"),
        ("remind#1.1", "skipped"),
        ("resolve#1", "sent"),
    ]


def test_an_incident_that_resolves_before_its_alert_went_out_posts_nothing(
    engine: Engine, alerts: AlertService, slack: FakeSlack, tmp_path: Path
) -> None:
    _data(engine, tmp_path / "csv", "Sinker")
    rule = add(alerts, "all roi < 0", channel="C1")
    slack.fail_next("chat.postMessage", status=429, retry_after=30)
    alerts.check(NOW)
    load(engine, tmp_path / "csv", rows(Campaign("Sinker"), D, D))  # D re-imported good
    assert alerts.check(NOW + 10 * SECOND).resolved == 1
    assert alerts.deliver_due(NOW + 30 * SECOND).sent == 0
    assert _posts(slack) == [429]  # no lone "Resolved", no late alert
    assert [(e.event, e.delivery) for e in events(alerts, rule)] == [
        ("fire#1", "skipped"),
        ("resolve#1", "skipped"),
    ]
