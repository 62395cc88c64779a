from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from bot.alerts.evaluate import Evaluation
from bot.alerts.lifecycle import AlertState, Post, Status, step

DAY = date(2025, 3, 10)
NOW = datetime(2025, 3, 11, 7, 0, tzinfo=UTC)
BREACH = Evaluation(Decimal("0.2"), Decimal("0.5"), True, "ROI −60 %")
FINE = Evaluation(Decimal("0.5"), Decimal("0.5"), False, "ROI ±0 %")
UNSURE = Evaluation(None, None, None, "not enough volume")
FIRING = Status(AlertState.FIRING, NOW, open_incident=True)


def go(status, evaluation, breaches=1, for_days=1, now=NOW, **kw):
    return step(status, evaluation, breaches, for_days, DAY, now, **kw)


def test_a_breach_fires_once():
    fired = go(Status(), BREACH)
    assert fired.post is Post.FIRE and fired.status == FIRING and fired.event == "fire"
    assert go(fired.status, BREACH) is None


def test_for_n_days_waits_in_pending():
    pending = go(Status(), BREACH, breaches=1, for_days=2)
    assert pending.post is None and pending.status.state is AlertState.PENDING
    assert go(pending.status, BREACH, breaches=1, for_days=2) is None
    assert go(pending.status, BREACH, breaches=2, for_days=2).post is Post.FIRE
    assert go(pending.status, FINE, for_days=2).status.state is AlertState.OK


def test_reminds_once_per_repeat_interval():
    assert go(FIRING, BREACH, now=NOW + timedelta(hours=23)) is None
    reminded = go(FIRING, BREACH, now=NOW + timedelta(hours=24))
    assert reminded.post is Post.REMIND and reminded.status.notified_at == NOW + timedelta(hours=24)


def test_recovery_resolves_and_then_stays_quiet():
    resolved = go(FIRING, FINE)
    assert resolved.post is Post.RESOLVE and resolved.status.state is AlertState.RESOLVED
    assert not resolved.status.open_incident
    assert go(resolved.status, FINE) is None
    assert go(resolved.status, BREACH).post is Post.FIRE


def test_undecided_neither_fires_nor_resolves():
    assert go(Status(), UNSURE) is None
    assert go(FIRING, UNSURE) is None


def test_no_data_posts_one_notice_and_keeps_the_incident():
    notice = go(FIRING, None)
    assert notice.post is Post.NO_DATA and notice.status.state is AlertState.NO_DATA
    assert go(notice.status, None) is None
    back = go(notice.status, FINE)
    assert back.post is Post.RESOLVE
    assert go(notice.status, UNSURE).status.state is AlertState.FIRING
    assert go(notice.status, BREACH, now=NOW + timedelta(hours=1)).post is None


def test_snooze_withholds_fire_and_reminders_until_it_expires():
    until = NOW + timedelta(days=1)
    held = go(Status(), BREACH, snoozed_until=until)
    assert held.post is None and held.status.state is AlertState.PENDING
    assert go(held.status, BREACH, now=until, snoozed_until=until).post is Post.FIRE
    later = NOW + timedelta(hours=30)
    assert go(FIRING, BREACH, now=later, snoozed_until=later + timedelta(hours=1)) is None
    assert go(FIRING, FINE, snoozed_until=until).post is Post.RESOLVE


def test_mute_is_silent_even_when_it_resolves():
    assert go(Status(), BREACH, muted=True).post is None
    quiet = go(FIRING, FINE, muted=True)
    assert quiet.post is None and quiet.status.state is AlertState.RESOLVED
