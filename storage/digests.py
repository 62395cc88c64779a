"""Digest subscriptions: the only source of truth for schedules."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, time

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from bot.digests.schedule import WEEKDAYS, Schedule
from bot.query import ScopeSpec
from storage.deliveries import utc
from storage.models import Campaign, DailyMetrics, DigestSubscription


@dataclass(frozen=True, slots=True)
class Subscription:
    id: int
    channel: str
    schedule: Schedule
    scope: ScopeSpec
    paused: bool
    created_by: str
    created_at: datetime
    updated_at: datetime
    last_error: str | None


def _days_text(schedule: Schedule) -> str:
    return ",".join(WEEKDAYS[d] for d in sorted(schedule.days))


def _subscription(row: DigestSubscription) -> Subscription:
    hour, minute = row.at.split(":")
    schedule = Schedule(
        frozenset(WEEKDAYS.index(d) for d in row.days.split(",")),
        time(int(hour), int(minute)),
        row.timezone,
    )
    values = tuple(str(v) for v in json.loads(row.scope_values or "[]"))
    return Subscription(
        row.id,
        row.channel,
        schedule,
        ScopeSpec(row.scope_kind, values),
        row.paused,
        row.created_by,
        utc(row.created_at),
        utc(row.updated_at),
        row.last_error,
    )


def add_subscription(
    session: Session,
    *,
    channel: str,
    schedule: Schedule,
    scope: ScopeSpec,
    created_by: str,
    now: datetime,
) -> Subscription:
    row = DigestSubscription(
        channel=channel,
        days=_days_text(schedule),
        at=schedule.at.strftime("%H:%M"),
        timezone=schedule.timezone,
        scope_kind=scope.kind,
        scope_values=json.dumps(list(scope.values), ensure_ascii=False),
        paused=False,
        created_by=created_by,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    session.flush()
    return _subscription(row)


def get_subscription(session: Session, subscription_id: int) -> Subscription | None:
    row = session.get(DigestSubscription, subscription_id)
    return None if row is None else _subscription(row)


def list_subscriptions(session: Session, channel: str | None = None) -> list[Subscription]:
    statement = select(DigestSubscription).order_by(DigestSubscription.id)
    if channel is not None:
        statement = statement.where(DigestSubscription.channel == channel)
    return [_subscription(row) for row in session.scalars(statement)]


def set_paused(session: Session, subscription_id: int, paused: bool, now: datetime) -> bool:
    result = session.execute(
        update(DigestSubscription)
        .where(DigestSubscription.id == subscription_id)
        .values(paused=paused, updated_at=now)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def set_last_error(
    session: Session, subscription_id: int, error: str | None, now: datetime
) -> None:
    """A permanent failure (channel_not_found, …) to show in `digest list`; None clears it."""
    session.execute(
        update(DigestSubscription)
        .where(DigestSubscription.id == subscription_id)
        .values(last_error=error, updated_at=now)
    )


def remove_subscription(session: Session, subscription_id: int) -> bool:
    result = session.execute(
        delete(DigestSubscription).where(DigestSubscription.id == subscription_id)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def subscriptions_fingerprint(session: Session) -> tuple[int, int, str]:
    """Changes whenever a subscription is added, removed or edited (by any process)."""
    row = session.execute(
        select(
            func.count(),
            func.coalesce(func.max(DigestSubscription.id), 0),
            func.max(DigestSubscription.updated_at),
        ).select_from(DigestSubscription)
    ).one()
    return int(row[0]), int(row[1]), str(row[2])


def accounts_last_day(
    session: Session, start: date, end: date, campaign_ids: list[int] | None = None
) -> dict[tuple[str, str], date]:
    """Per ad account (platform, account): the newest day in [start, end] with any row."""
    statement = (
        select(Campaign.platform, Campaign.account, func.max(DailyMetrics.day))
        .join(DailyMetrics, DailyMetrics.campaign_id == Campaign.id)
        .where(DailyMetrics.day >= start, DailyMetrics.day <= end)
        .group_by(Campaign.platform, Campaign.account)
    )
    if campaign_ids is not None:
        statement = statement.where(Campaign.id.in_(campaign_ids))
    return {(row[0], row[1]): row[2] for row in session.execute(statement)}
