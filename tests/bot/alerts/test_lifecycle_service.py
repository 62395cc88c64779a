"""The lifecycle through `check(now)` over successive days: fire, remind in the thread,
acknowledge, snooze, mute, resume, resolve with a reply and a chat.update — each posted once,
as the fake Slack's recorded calls show."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine

from bot.alerts.model import Action, CampaignStatus
from bot.alerts.service import AlertService, IncidentRef, NotAllowed
from storage import alerts as stored
from storage.database import session_scope
from tests.bot.alerts.world import (
    NOW,
    OWNER,
    Campaign,
    Clock,
    D,
    Day,
    add,
    events,
    load,
    morning_after,
    replies,
    rows,
    text_of,
    top_level,
)
from tests.support.fake_slack import Call, FakeSlack

HOUR = timedelta(hours=1)
START = D - timedelta(days=28)
END = D + timedelta(days=6)
LOSING = Day(revenue="50")  # ROI −50 %
FINE = Day()  # ROI 100 %


def _data(engine: Engine, folder: Path, **campaigns: dict[date, Day]) -> None:
    """Steady all along; each named campaign BASE up to D−1, losing from D unless said."""
    lines = rows(Campaign("Steady"), START, END)
    for name, days in campaigns.items():
        losing = {D + timedelta(days=n): LOSING for n in range((END - D).days + 1)}
        lines += rows(Campaign(name), START, END, days=losing | days)
    load(engine, folder, lines)


def _restore(engine: Engine, folder: Path, name: str, *days: date) -> None:
    """A re-import that makes these days good again for the campaign."""
    load(engine, folder, [r for d in days for r in rows(Campaign(name), d, d, FINE)])


def _status(alerts: AlertService, rule_id: int, name: str) -> CampaignStatus:
    with session_scope(alerts.sessions) as session:
        found = stored.statuses(session, [rule_id])
        by_name = {c.name: c.id for c in alerts.directory.current(session).campaigns}
    return found[(rule_id, by_name[name])]


def _ref(alerts: AlertService, rule_id: int, name: str) -> IncidentRef:
    status = _status(alerts, rule_id, name)
    return IncidentRef(rule_id, status.campaign_id, status.incident)


def _buttons(call: Call) -> list[str]:
    return [
        element["action_id"]
        for block in call.params["blocks"]
        if block["type"] == "actions"
        for element in block["elements"]
    ]


def _quiet(alerts: AlertService, slack: FakeSlack, *moments: object) -> None:
    """Checks at these moments post and update nothing."""
    before = len(slack.calls)
    for moment in moments:
        alerts.check(moment)  # type: ignore[arg-type]
    assert slack.calls[before:] == []


def test_fire_then_one_reminder_a_day_in_the_thread_then_resolve_and_update(
    engine: Engine, alerts: AlertService, slack: FakeSlack, tmp_path: Path
) -> None:
    _data(engine, tmp_path / "csv", Sinker={})
    rule = add(alerts, "all roi < 0", channel="C1")

    report = alerts.check(NOW)
    assert (report.fired, report.sent) == (1, 1)
    (fire,) = top_level(slack)
    assert fire.params["channel"] == "C1"
    assert str(fire.params["text"]).startswith(f"<@{OWNER}> ROI below")
    assert "Sinker" in text_of(fire) and "on Wed 11 Mar" in text_of(fire)
    assert _buttons(fire) == [
        "alert_ack",
        "alert_snooze_1d",
        "alert_snooze_1w",
        "alert_mute",
        "alert_card",
    ]
    status = _status(alerts, rule, "Sinker")
    assert (status.channel, status.ts, status.incident) == ("C1", "1700000000.000100", 1)

    # The same moment, later the same day, and up to 24 h after the fire: nothing.
    _quiet(
        alerts,
        slack,
        NOW,
        NOW + HOUR,
        NOW + 12 * HOUR,
        NOW + 23 * HOUR,
        NOW + 24 * HOUR - timedelta(seconds=1),
    )
    alerts.check(NOW + 24 * HOUR)
    (reminder,) = replies(slack)
    assert reminder.params["thread_ts"] == status.ts and reminder.params["channel"] == "C1"
    assert "Still firing since Wed 11 Mar — *Sinker*" in str(
        reminder.params["blocks"][0]["text"]["text"]
    )
    _quiet(alerts, slack, NOW + 25 * HOUR, NOW + 47 * HOUR)
    alerts.check(NOW + 48 * HOUR)
    assert len(replies(slack)) == 2

    _restore(engine, tmp_path / "csv", "Sinker", D + timedelta(days=2))
    report = alerts.check(NOW + 49 * HOUR)
    assert (report.resolved, report.sent) == (1, 1)
    resolve = replies(slack)[-1]
    assert resolve.params["thread_ts"] == status.ts
    assert text_of(resolve).startswith("Resolved — Sinker: ROI 100.00% vs threshold 0.00%")
    (update,) = slack.calls_to("chat.update")
    assert (update.params["channel"], update.params["ts"]) == ("C1", status.ts)
    assert "Resolved on Sat 14 Mar (08:00 UTC)" in text_of(update)
    assert _buttons(update) == ["alert_card"]  # nothing left to acknowledge, snooze or mute
    _quiet(alerts, slack, NOW + 49 * HOUR, NOW + 50 * HOUR)

    assert [(e.event, e.day, e.delivery) for e in events(alerts, rule)] == [
        ("fire#1", D, "sent"),
        ("remind#1.1", D + timedelta(days=1), "sent"),
        ("remind#1.2", D + timedelta(days=2), "sent"),
        ("resolve#1", D + timedelta(days=2), "sent"),
    ]
    assert len(top_level(slack)) == 1


def test_a_reimport_that_restores_the_day_resolves_it_and_nothing_more_is_posted(
    engine: Engine, alerts: AlertService, slack: FakeSlack, tmp_path: Path
) -> None:
    _data(engine, tmp_path / "csv", Sinker={})
    add(alerts, "all roi < 0", channel="C1")
    alerts.check(NOW)
    _restore(engine, tmp_path / "csv", "Sinker", D)
    assert alerts.check(NOW + HOUR).resolved == 1
    assert (len(top_level(slack)), len(replies(slack))) == (1, 1)
    assert len(slack.calls_to("chat.update")) == 1
    _quiet(alerts, slack, NOW + HOUR, NOW + 2 * HOUR)


def test_for_three_days_is_pending_until_the_third_breaching_day_in_a_row(
    engine: Engine, alerts: AlertService, slack: FakeSlack, tmp_path: Path
) -> None:
    # Wobbly loses on D, D+1, is fine on D+2, then loses from D+3: it fires on D+5.
    _data(engine, tmp_path / "csv", Sinker={}, Wobbly={D + timedelta(days=2): FINE})
    rule = add(alerts, "all roi < 0 for 3 days", channel="C1")

    alerts.check(morning_after(D))
    alerts.check(morning_after(D) + HOUR)  # a day judged again is not a second day
    alerts.check(morning_after(D + timedelta(days=1)))
    assert top_level(slack) == []
    assert _status(alerts, rule, "Sinker").state.value == "pending"
    assert _status(alerts, rule, "Sinker").streak == 2

    alerts.check(morning_after(D + timedelta(days=2)))
    assert [text_of(c).count("Sinker") > 0 for c in top_level(slack)] == [True]
    assert _status(alerts, rule, "Wobbly").streak == 0

    alerts.check(morning_after(D + timedelta(days=3)))
    alerts.check(morning_after(D + timedelta(days=4)))
    assert len(top_level(slack)) == 1
    alerts.check(morning_after(D + timedelta(days=5)))
    assert len(top_level(slack)) == 2 and "Wobbly" in text_of(top_level(slack)[1])
    fires = [(e.event, e.campaign, e.day) for e in events(alerts, rule) if "fire#" in e.event]
    assert fires == [
        ("fire#1", "Sinker", D + timedelta(days=2)),
        ("fire#1", "Wobbly", D + timedelta(days=5)),
    ]


def test_acknowledged_means_no_reminders_but_it_still_resolves(
    engine: Engine, alerts: AlertService, slack: FakeSlack, clock: Clock, tmp_path: Path
) -> None:
    _data(engine, tmp_path / "csv", Sinker={})
    rule = add(alerts, "all roi < 0", channel="C1")
    alerts.check(NOW)
    clock.at(NOW + HOUR)
    notice = alerts.act(_ref(alerts, rule, "Sinker"), Action.ACKNOWLEDGE, user="U0COLLEAGUE")
    assert notice.acknowledged_by == "U0COLLEAGUE"

    _quiet(alerts, slack, NOW + 24 * HOUR, NOW + 48 * HOUR)
    _restore(engine, tmp_path / "csv", "Sinker", D + timedelta(days=2))
    alerts.check(NOW + 49 * HOUR)
    assert len(replies(slack)) == 1  # the resolve
    (update,) = slack.calls_to("chat.update")
    assert "Acknowledged by <@U0COLLEAGUE>" in text_of(update)
    ack = [e for e in events(alerts, rule) if e.event.startswith("ack@")]
    assert [(e.by_user, e.delivery) for e in ack] == [("U0COLLEAGUE", None)]


def test_a_rule_snooze_holds_the_fire_until_it_expires(
    engine: Engine, alerts: AlertService, slack: FakeSlack, clock: Clock, tmp_path: Path
) -> None:
    _data(engine, tmp_path / "csv", Sinker={})
    rule = add(alerts, "all roi < 0", channel="C1")
    clock.at(NOW - HOUR)
    view = alerts.snooze(rule, "1d", user=OWNER, is_admin=False)
    assert view.rule.snoozed_until == NOW + 23 * HOUR

    _quiet(alerts, slack, NOW, NOW + 12 * HOUR, NOW + 23 * HOUR - timedelta(seconds=1))
    assert _status(alerts, rule, "Sinker").state.value == "pending"
    alerts.check(NOW + 23 * HOUR)
    (fire,) = top_level(slack)
    assert "on Thu 12 Mar" in text_of(fire)  # the day evaluated when the snooze ran out


def test_resume_clears_the_rule_snooze(
    engine: Engine, alerts: AlertService, slack: FakeSlack, clock: Clock, tmp_path: Path
) -> None:
    _data(engine, tmp_path / "csv", Sinker={})
    rule = add(alerts, "all roi < 0", channel="C1")
    alerts.snooze(rule, "1w", user=OWNER, is_admin=False)
    _quiet(alerts, slack, NOW)
    alerts.change(rule, "resume", user=OWNER, is_admin=False)
    alerts.check(NOW)
    assert len(top_level(slack)) == 1


def test_an_incident_snooze_holds_reminders_until_it_expires(
    engine: Engine, alerts: AlertService, slack: FakeSlack, clock: Clock, tmp_path: Path
) -> None:
    _data(engine, tmp_path / "csv", Sinker={})
    rule = add(alerts, "all roi < 0", channel="C1")
    alerts.check(NOW)
    ref = _ref(alerts, rule, "Sinker")
    clock.at(NOW + HOUR)
    with pytest.raises(NotAllowed):
        alerts.act(ref, Action.SNOOZE, user="U0SOMEONE", length=timedelta(days=2))
    notice = alerts.act(ref, Action.SNOOZE, user=OWNER, length=timedelta(days=2))
    assert notice.snoozed_until == NOW + 49 * HOUR

    _quiet(alerts, slack, NOW + 24 * HOUR, NOW + 48 * HOUR, NOW + 49 * HOUR - timedelta(seconds=1))
    alerts.check(NOW + 49 * HOUR)
    (reminder,) = replies(slack)
    assert reminder.params["thread_ts"] == _status(alerts, rule, "Sinker").ts


def test_resume_clears_an_incident_snooze(
    engine: Engine, alerts: AlertService, slack: FakeSlack, clock: Clock, tmp_path: Path
) -> None:
    _data(engine, tmp_path / "csv", Sinker={})
    rule = add(alerts, "all roi < 0", channel="C1")
    alerts.check(NOW)
    alerts.act(_ref(alerts, rule, "Sinker"), Action.SNOOZE, user=OWNER, length=timedelta(days=7))
    alerts.change(rule, "resume", user=OWNER, is_admin=False)
    alerts.check(NOW + 24 * HOUR)
    assert len(replies(slack)) == 1


def test_mute_silences_one_campaign_until_resume(
    engine: Engine, alerts: AlertService, slack: FakeSlack, clock: Clock, tmp_path: Path
) -> None:
    # SinkA recovers on D+1 and loses again from D+2; SinkB loses all along.
    _data(engine, tmp_path / "csv", SinkA={D + timedelta(days=1): FINE}, SinkB={})
    rule = add(alerts, "all roi < 0", channel="C1")
    alerts.check(NOW)
    assert len(top_level(slack)) == 2
    clock.at(NOW + HOUR)
    notice = alerts.act(_ref(alerts, rule, "SinkA"), Action.MUTE, user=OWNER)
    assert notice.muted

    alerts.check(NOW + 24 * HOUR)  # SinkA resolves silently; SinkB is reminded
    assert ["SinkB" in text_of(c) for c in replies(slack)] == [True]
    assert slack.calls_to("chat.update") == []
    assert _status(alerts, rule, "SinkA").state.value == "resolved"
    alerts.check(NOW + 48 * HOUR)  # SinkA loses again: muted, so no new incident
    assert len(top_level(slack)) == 2 and len(replies(slack)) == 2
    assert _status(alerts, rule, "SinkA").incident == 1

    alerts.change(rule, "resume", user=OWNER, is_admin=False)
    alerts.check(NOW + 49 * HOUR)
    assert len(top_level(slack)) == 3 and "SinkA" in text_of(top_level(slack)[-1])
    assert _status(alerts, rule, "SinkA").incident == 2
    assert [e.event for e in events(alerts, rule) if e.campaign == "SinkA" and "#" in e.event] == [
        "fire#1",
        "resolve#1",
        "fire#2",
    ]
