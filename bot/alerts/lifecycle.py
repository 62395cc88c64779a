"""The life of one (rule, campaign): OK → PENDING → FIRING → RESOLVED, and NO_DATA; which
message, if any, a new evaluation posts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import Enum

from bot.alerts.evaluate import Evaluation

DEFAULT_REPEAT = timedelta(hours=24)


class AlertState(Enum):
    OK = "ok"
    PENDING = "pending"
    FIRING = "firing"
    RESOLVED = "resolved"
    NO_DATA = "no_data"


class Post(Enum):
    """What to tell the channel: a new incident, a reply in its thread, or a notice."""

    FIRE = "fire"
    REMIND = "remind"
    RESOLVE = "resolve"
    NO_DATA = "no_data"


@dataclass(frozen=True, slots=True)
class Status:
    """What is stored per (rule, campaign). `open_incident` survives NO_DATA, so an incident
    whose data comes back resolves in its own thread instead of firing a second time."""

    state: AlertState = AlertState.OK
    notified_at: datetime | None = None
    open_incident: bool = False


@dataclass(frozen=True, slots=True)
class Transition:
    """The new status and what to post (None: record only). `event` with the rule, campaign and
    evaluated day is the unique key of the delivery ledger."""

    status: Status
    post: Post | None
    day: date

    @property
    def event(self) -> str:
        return self.post.value if self.post else self.status.state.value


def step(
    status: Status,
    evaluation: Evaluation | None,
    consecutive_breaches: int,
    for_days: int,
    day: date,
    now: datetime,
    snoozed_until: datetime | None = None,
    muted: bool = False,
    repeat: timedelta = DEFAULT_REPEAT,
) -> Transition | None:
    """Decide what one evaluation of `day` changes; None when nothing does.

    Args:
        evaluation: None when the scope's ad accounts have not landed `day` (no data).
        consecutive_breaches: breaching evaluated days in a row up to and including `day`.
    """
    if evaluation is None:
        if status.state is AlertState.NO_DATA:
            return None
        return _to(status, AlertState.NO_DATA, Post.NO_DATA, day, now)
    state = status.state
    if state is AlertState.NO_DATA:
        state = AlertState.FIRING if status.open_incident else AlertState.OK
    quiet = muted or (snoozed_until is not None and now < snoozed_until)
    if evaluation.breached is None:
        return _to(status, state, None, day, now) if state is not status.state else None
    if not evaluation.breached:
        if state is AlertState.FIRING:
            return _to(status, AlertState.RESOLVED, None if muted else Post.RESOLVE, day, now)
        if state is AlertState.PENDING or state is not status.state:
            return _to(status, AlertState.OK, None, day, now)
        return None
    if state is AlertState.FIRING:
        due = status.notified_at is None or now - status.notified_at >= repeat
        if due and not quiet:
            return _to(status, AlertState.FIRING, Post.REMIND, day, now)
        return _to(status, state, None, day, now) if state is not status.state else None
    if consecutive_breaches >= for_days and not quiet:
        return _to(status, AlertState.FIRING, Post.FIRE, day, now)
    if status.state is AlertState.PENDING:
        return None
    return _to(status, AlertState.PENDING, None, day, now)


def _to(
    status: Status, state: AlertState, post: Post | None, day: date, now: datetime
) -> Transition:
    notified = now if post in (Post.FIRE, Post.REMIND) else status.notified_at
    if post is Post.FIRE:
        open_incident = True
    elif state is AlertState.RESOLVED:
        open_incident = False
    else:
        open_incident = status.open_incident
    return Transition(Status(state, notified, open_incident), post, day)
