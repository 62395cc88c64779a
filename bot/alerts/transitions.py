"""From one verdict to the status to store, the history row to write and what to post (pure).

Every name here is derived from the stored status alone (incident number, reminder count,
version), so two processes that read the same status compute the same history key, and the
database lets only one of them write it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import Decimal

from bot.alerts.evaluate import Evaluation
from bot.alerts.lifecycle import DEFAULT_REPEAT, AlertState, Post, Status, step
from bot.alerts.model import CampaignStatus, StoredRule

_PLACES = Decimal("1e-10")


def exact(value: object) -> str | None:
    """A KPI value as exact decimal text for the history (10 places at most)."""
    if value is None:
        return None
    number = Decimal(str(value)) if not isinstance(value, Decimal) else value
    text = format(number.quantize(_PLACES).normalize(), "f")
    return "0" if text in ("-0", "") else text


@dataclass(frozen=True, slots=True)
class Change:
    """What one verdict changes: the new status, the history event name (None: nothing worth
    a history row, e.g. a streak counted) and the post (None: record only)."""

    status: CampaignStatus
    event: str | None
    post: Post | None


def _streak(
    old: CampaignStatus, evaluation: Evaluation | None, day: date
) -> tuple[int, date | None]:
    """Breaching evaluated days in a row up to `day` (a day judged again keeps its count; a
    day that cannot be judged neither counts nor breaks the run)."""
    if evaluation is None or evaluation.breached is None:
        return old.streak, old.last_day
    if not evaluation.breached:
        return 0, day
    if old.last_day == day:
        return max(old.streak, 1), day
    if old.last_day == day - timedelta(days=1):
        return old.streak + 1, day
    return 1, day


def change(
    stored: StoredRule,
    old: CampaignStatus,
    evaluation: Evaluation | None,
    day: date,
    now: datetime,
    repeat: timedelta = DEFAULT_REPEAT,
) -> Change | None:
    """The change one evaluation of `day` makes to (rule, campaign); None when none."""
    rule = stored.rule
    streak, last_day = _streak(old, evaluation, day)
    if rule.for_days == 1:
        streak, last_day = old.streak, old.last_day  # not tracked: nothing to store
    consecutive = streak if rule.for_days > 1 else int(bool(evaluation and evaluation.breached))
    snoozes = [s for s in (stored.snoozed_until, old.snoozed_until) if s is not None]
    transition = step(
        Status(old.state, old.notified_at, old.open_incident),
        evaluation,
        consecutive,
        rule.for_days,
        day,
        now,
        snoozed_until=max(snoozes) if snoozes else None,
        muted=old.muted,
        repeat=repeat,
    )
    if transition is not None and transition.post is Post.REMIND and old.acknowledged_by:
        transition = None  # someone is on it: no reminders
    counted = (streak, last_day) != (old.streak, old.last_day)
    if transition is None:
        if not counted:
            return None
        return Change(replace(old, streak=streak, last_day=last_day), None, None)
    new = transition.status
    post = transition.post if transition.post is not Post.NO_DATA else None
    status = replace(
        old,
        state=new.state,
        notified_at=new.notified_at,
        open_incident=new.open_incident,
        streak=streak,
        last_day=last_day,
    )
    if post is Post.FIRE:
        status = replace(
            status,
            incident=old.incident + 1,
            incident_day=day,
            reminders=0,
            channel=None,
            ts=None,
            acknowledged_by=None,
            acknowledged_at=None,
            snoozed_until=None,
        )
        event = f"fire#{old.incident + 1}"
    elif post is Post.REMIND:
        status = replace(status, reminders=old.reminders + 1)
        event = f"remind#{old.incident}.{old.reminders + 1}"
    elif post is Post.RESOLVE or new.state is AlertState.RESOLVED:
        event = f"resolve#{old.incident}"
    else:
        event = f"{new.state.value}@v{old.version + 1}"
    return Change(status, event, post)


def post_of(event: str) -> Post | None:
    """The post a history event stands for (`fire#2` → FIRE, `no_data` → the rule's notice),
    None for record-only ones (`pending@v3`, `ack@v5`)."""
    if "@" in event:
        return None
    head = event.split("#", 1)[0]
    posts = {"fire": Post.FIRE, "remind": Post.REMIND, "resolve": Post.RESOLVE}
    return Post.NO_DATA if event == "no_data" else posts.get(head)


def incident_of(event: str) -> int:
    """The incident number in `fire#2`, `remind#2.1`, `resolve#2`; 0 when none."""
    if "#" not in event:
        return 0
    return int(event.split("#", 1)[1].split(".", 1)[0])
