"""storage.alerts on SQLite and PostgreSQL: `apply` writes the history row and the status
change together or neither (compare-and-set on `version`, unique history key)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.alerts.lifecycle import AlertState
from bot.alerts.model import CampaignStatus
from bot.alerts.rules import parse_rule
from storage import alerts
from storage.database import session_scope

DAY = date(2026, 3, 11)
NOW = datetime(2026, 3, 12, 7, 0, tzinfo=UTC)


def _rule(sessions: sessionmaker[Session]) -> int:
    with session_scope(sessions) as session:
        rule = parse_rule(["all", "roi", "<", "0"])
        return alerts.add_rule(session, channel="C1", rule=rule, created_by="U0OWNER", now=NOW).id


def _event(rule_id: int, name: str, state: str = "firing") -> alerts.EventRow:
    return alerts.EventRow(rule_id, 7, DAY, name, state, NOW, "-0.5", None, "why")


def _stored(sessions: sessionmaker[Session], rule_id: int) -> CampaignStatus:
    with session_scope(sessions) as session:
        return alerts.statuses(session, [rule_id])[(rule_id, 7)]


def _events(sessions: sessionmaker[Session], rule_id: int) -> list[str]:
    with session_scope(sessions) as session:
        return sorted(e.event for e in alerts.history(session, rule_id))


def test_apply_is_a_compare_and_set_with_its_history_row(
    engine: Engine, sessions: sessionmaker[Session]
) -> None:
    rule_id = _rule(sessions)
    ok = CampaignStatus(rule_id, 7)
    firing = replace(ok, state=AlertState.FIRING, incident=1, open_incident=True, incident_day=DAY)

    assert alerts.apply(engine, ok, firing, _event(rule_id, "fire#1"), NOW)
    v1 = _stored(sessions, rule_id)
    assert (v1.state, v1.incident, v1.version) == (AlertState.FIRING, 1, 1)
    # A second process that read the same (empty) status loses, and writes nothing.
    assert alerts.apply(engine, ok, firing, _event(rule_id, "fire#1"), NOW) is None
    assert alerts.apply(engine, ok, firing, _event(rule_id, "other"), NOW) is None
    assert _events(sessions, rule_id) == ["fire#1"]

    reminded = replace(v1, reminders=1)
    assert alerts.apply(engine, v1, reminded, _event(rule_id, "remind#1.1"), NOW)
    v2 = _stored(sessions, rule_id)
    assert (v2.reminders, v2.version) == (1, 2)

    # Stale (version 1): the status is not changed and the history row is rolled back...
    resolved = replace(v1, state=AlertState.RESOLVED, open_incident=False)
    assert alerts.apply(engine, v1, resolved, _event(rule_id, "resolve#1", "resolved"), NOW) is None
    assert _stored(sessions, rule_id) == v2
    assert _events(sessions, rule_id) == ["fire#1", "remind#1.1"]
    # ...so the process that read version 2 can still write that very key.
    fresh = replace(v2, state=AlertState.RESOLVED, open_incident=False)
    assert alerts.apply(engine, v2, fresh, _event(rule_id, "resolve#1", "resolved"), NOW)
    v3 = _stored(sessions, rule_id)
    assert (v3.state, v3.version) == (AlertState.RESOLVED, 3)

    # The current version but a key already written: lost, status untouched.
    assert alerts.apply(engine, v3, replace(v3, streak=9), _event(rule_id, "fire#1"), NOW) is None
    assert _stored(sessions, rule_id) == v3

    # A change without a history row (a streak counted) returns 0 and bumps the version.
    assert alerts.apply(engine, v3, replace(v3, streak=2), None, NOW) == 0
    assert _stored(sessions, rule_id).version == 4


def test_set_message_moves_the_version_on(engine: Engine, sessions: sessionmaker[Session]) -> None:
    rule_id = _rule(sessions)
    ok = CampaignStatus(rule_id, 7)
    firing = replace(ok, state=AlertState.FIRING, incident=1, open_incident=True)
    alerts.apply(engine, ok, firing, _event(rule_id, "fire#1"), NOW)
    read = _stored(sessions, rule_id)
    alerts.set_message(engine, rule_id, 7, 1, "C1", "1700000000.000100")
    posted = _stored(sessions, rule_id)
    assert (posted.channel, posted.ts, posted.version) == ("C1", "1700000000.000100", 2)
    # Someone who read the status before the ts was stored cannot overwrite it.
    assert alerts.apply(engine, read, replace(read, muted=True), None, NOW) is None
    alerts.set_message(engine, rule_id, 7, 2, "C1", "other")  # another incident: no-op
    assert _stored(sessions, rule_id) == posted


def test_record_event_once_and_unmute_clears_mutes_and_snoozes(
    engine: Engine, sessions: sessionmaker[Session]
) -> None:
    rule_id = _rule(sessions)
    notice = alerts.EventRow(rule_id, 0, DAY, "no_data", "no_data", NOW, explanation="x")
    assert alerts.record_event(engine, notice)
    assert alerts.record_event(engine, notice) is None

    ok = CampaignStatus(rule_id, 7)
    quiet = replace(ok, muted=True, snoozed_until=NOW + timedelta(days=1))
    alerts.apply(engine, ok, quiet, None, NOW)
    other = CampaignStatus(rule_id, 8)
    alerts.apply(engine, other, replace(other, snoozed_until=NOW + timedelta(days=1)), None, NOW)
    alerts.unmute(engine, rule_id, NOW)
    with session_scope(sessions) as session:
        found = alerts.statuses(session, [rule_id])
    assert [(s.muted, s.snoozed_until, s.version) for s in found.values()] == [
        (False, None, 2),
        (False, None, 2),
    ]
