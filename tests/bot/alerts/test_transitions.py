"""transitions.change (pure): the status to store, the history event name and the post, all
derived from the stored status alone: fire#N, remind#N.M, resolve#N, state@vK."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from bot.alerts.evaluate import Evaluation, Undecided
from bot.alerts.lifecycle import AlertState, Post
from bot.alerts.model import CampaignStatus, StoredRule
from bot.alerts.rules import parse_rule
from bot.alerts.transitions import change, exact, incident_of, post_of

DAY = date(2026, 3, 11)
NOW = datetime(2026, 3, 12, 7, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
BREACH = Evaluation(Decimal("-0.5"), None, True, "ROI −50 % < 0 %")
FINE = Evaluation(Decimal("1"), None, False, "ROI 100 % < 0 %")
UNSURE = Evaluation(None, None, None, "not enough volume", Undecided.LOW_VOLUME)


def stored(text: str = "all roi < 0", **kw: object) -> StoredRule:
    return StoredRule(1, "C1", parse_rule(text.split()), False, "U0OWNER", NOW, NOW, **kw)  # type: ignore[arg-type]


RULE = stored()
OK = CampaignStatus(1, 7)
FIRING = CampaignStatus(
    1,
    7,
    AlertState.FIRING,
    incident=1,
    open_incident=True,
    incident_day=DAY,
    notified_at=NOW,
    channel="C1",
    ts="1.1",
    version=2,
)


def test_a_breach_from_ok_fires_incident_1() -> None:
    found = change(RULE, OK, BREACH, DAY, NOW)
    assert found is not None
    assert (found.event, found.post) == ("fire#1", Post.FIRE)
    assert found.status == replace(
        OK,
        state=AlertState.FIRING,
        incident=1,
        open_incident=True,
        incident_day=DAY,
        notified_at=NOW,
    )


def test_reminders_are_numbered_within_the_incident_and_wait_for_the_interval() -> None:
    assert change(RULE, FIRING, BREACH, DAY, NOW + 23 * HOUR) is None
    first = change(RULE, FIRING, BREACH, DAY, NOW + 24 * HOUR)
    assert first is not None
    assert (first.event, first.post, first.status.reminders) == ("remind#1.1", Post.REMIND, 1)
    assert first.status.notified_at == NOW + 24 * HOUR
    assert (first.status.channel, first.status.ts) == ("C1", "1.1")  # the thread stays
    second = change(RULE, replace(first.status, version=3), BREACH, DAY, NOW + 48 * HOUR)
    assert second is not None and second.event == "remind#1.2"
    shorter = change(RULE, FIRING, BREACH, DAY, NOW + 2 * HOUR, repeat=2 * HOUR)
    assert shorter is not None and shorter.event == "remind#1.1"


def test_acknowledged_gets_no_reminders() -> None:
    acked = replace(FIRING, acknowledged_by="U0X", acknowledged_at=NOW)
    assert change(RULE, acked, BREACH, DAY, NOW + 48 * HOUR) is None


def test_recovery_resolves_the_incident_and_a_new_breach_is_incident_2() -> None:
    resolved = change(RULE, FIRING, FINE, DAY, NOW)
    assert resolved is not None
    assert (resolved.event, resolved.post) == ("resolve#1", Post.RESOLVE)
    assert resolved.status.state is AlertState.RESOLVED and not resolved.status.open_incident
    assert resolved.status.incident == 1 and resolved.status.ts == "1.1"
    after = replace(
        resolved.status, version=3, acknowledged_by="U0X", snoozed_until=NOW, reminders=2
    )
    again = change(RULE, after, BREACH, DAY + timedelta(days=1), NOW + 24 * HOUR)
    assert again is not None and (again.event, again.post) == ("fire#2", Post.FIRE)
    assert (again.status.incident, again.status.incident_day) == (2, DAY + timedelta(days=1))
    assert (again.status.ts, again.status.acknowledged_by, again.status.reminders) == (
        None,
        None,
        0,
    )
    assert again.status.snoozed_until is None


def test_a_muted_incident_resolves_without_a_post_and_never_fires_again() -> None:
    muted = replace(FIRING, muted=True)
    quiet = change(RULE, muted, FINE, DAY, NOW)
    assert quiet is not None and (quiet.event, quiet.post) == ("resolve#1", None)
    held = change(RULE, replace(quiet.status, version=3), BREACH, DAY, NOW + 24 * HOUR)
    assert held is not None and (held.event, held.post) == ("pending@v4", None)


def test_snoozes_hold_the_fire_until_they_end() -> None:
    rule_snoozed = stored(snoozed_until=NOW + HOUR)
    held = change(rule_snoozed, OK, BREACH, DAY, NOW)
    assert held is not None and (held.event, held.post) == ("pending@v1", None)
    later = change(rule_snoozed, replace(held.status, version=1), BREACH, DAY, NOW + HOUR)
    assert later is not None and later.event == "fire#1"
    incident_snoozed = replace(FIRING, snoozed_until=NOW + 30 * HOUR)
    assert change(RULE, incident_snoozed, BREACH, DAY, NOW + 24 * HOUR) is None
    due = change(RULE, incident_snoozed, BREACH, DAY, NOW + 30 * HOUR)
    assert due is not None and due.event == "remind#1.1"


def test_for_three_days_counts_breaching_days_in_a_row() -> None:
    rule = stored("all roi < 0 for 3 days")
    one = change(rule, OK, BREACH, DAY, NOW)
    assert one is not None and (one.event, one.post) == ("pending@v1", None)
    assert (one.status.streak, one.status.last_day) == (1, DAY)
    s1 = replace(one.status, version=1)
    assert change(rule, s1, BREACH, DAY, NOW + HOUR) is None  # the same day again
    two = change(rule, s1, BREACH, DAY + timedelta(days=1), NOW + 24 * HOUR)
    assert two is not None and (two.event, two.post, two.status.streak) == (None, None, 2)
    s2 = replace(two.status, version=2)
    # An undecided day neither counts nor breaks the run.
    assert change(rule, s2, UNSURE, DAY + timedelta(days=2), NOW + 48 * HOUR) is None
    three = change(rule, s2, BREACH, DAY + timedelta(days=2), NOW + 48 * HOUR)
    assert three is not None and (three.event, three.status.streak) == ("fire#1", 3)
    # A gap starts the count again; a good day ends the pending spell.
    gap = change(rule, s2, BREACH, DAY + timedelta(days=3), NOW + 72 * HOUR)
    assert gap is not None and (gap.event, gap.status.streak) == (None, 1)
    ok = change(rule, s2, FINE, DAY + timedelta(days=2), NOW + 48 * HOUR)
    assert ok is not None and (ok.event, ok.status.state, ok.status.streak) == (
        "ok@v3",
        AlertState.OK,
        0,
    )


def test_undecided_and_unchanged_verdicts_change_nothing() -> None:
    assert change(RULE, OK, UNSURE, DAY, NOW) is None
    assert change(RULE, OK, FINE, DAY, NOW) is None
    assert change(RULE, FIRING, UNSURE, DAY, NOW + 48 * HOUR) is None


def test_no_data_is_recorded_without_a_post_and_the_incident_resolves_in_its_thread() -> None:
    gone = change(RULE, FIRING, None, DAY, NOW)
    assert gone is not None and (gone.event, gone.post) == ("no_data@v3", None)
    assert gone.status.state is AlertState.NO_DATA and gone.status.open_incident
    waiting = replace(gone.status, version=3)
    assert change(RULE, waiting, None, DAY, NOW + HOUR) is None
    back = change(RULE, waiting, FINE, DAY + timedelta(days=1), NOW + 24 * HOUR)
    assert back is not None and (back.event, back.post) == ("resolve#1", Post.RESOLVE)
    assert back.status.ts == "1.1"
    still = change(RULE, waiting, UNSURE, DAY + timedelta(days=1), NOW + 24 * HOUR)
    assert still is not None and (still.event, still.status.state) == (
        "firing@v4",
        AlertState.FIRING,
    )


def test_the_same_status_and_verdict_give_the_same_names() -> None:
    # What lets two processes compute the same history key, and only one write it.
    assert change(RULE, FIRING, BREACH, DAY, NOW + 24 * HOUR) == change(
        RULE, FIRING, BREACH, DAY, NOW + 24 * HOUR
    )


@pytest.mark.parametrize(
    ("event", "post", "incident"),
    [
        ("fire#2", Post.FIRE, 2),
        ("remind#2.1", Post.REMIND, 2),
        ("resolve#12", Post.RESOLVE, 12),
        ("no_data", Post.NO_DATA, 0),
        ("pending@v3", None, 0),
        ("ack@v5", None, 0),
    ],
)
def test_post_and_incident_of_an_event(event: str, post: Post | None, incident: int) -> None:
    assert post_of(event) is post
    assert incident_of(event) == incident


def test_exact_values() -> None:
    assert exact(None) is None
    assert exact(Decimal("0.200")) == "0.2"
    assert exact(1) == "1"
    assert exact(Decimal(1) / 3) == "0.3333333333"
    assert exact(Decimal("-0.00000000001")) == "0"
    assert exact(Decimal("2800")) == "2800"
