"""The delivery ledger: claim before posting, record after, for digests and alerts alike.

Exactly once comes from the database, not from running one process: a delivery is a row with
a unique (kind, subject, key). A process posts only what it claimed — by inserting the row, or
by taking over a claim whose lease ran out (its process died mid-delivery) or a retry that is
due — and each claim is a conditional write whose row count says who won. No advisory locks.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, and_, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from storage.models import Delivery
from storage.write_lock import begin_write

CLAIMED = "claimed"
WAITING = "waiting"  # seen on time, held back (e.g. for data to land); not yet claimed
RETRY = "retry"
SENT = "sent"
FAILED = "failed"
SKIPPED = "skipped"
FINAL = (SENT, FAILED, SKIPPED)


@dataclass(frozen=True, slots=True)
class Claim:
    """A delivery this process may post now; `attempts` counts this one."""

    id: int
    kind: str
    subject_id: int
    key: str
    owner: str
    attempts: int


@dataclass(frozen=True, slots=True)
class DeliveryRecord:
    id: int
    kind: str
    subject_id: int
    key: str
    status: str
    attempts: int
    claimed_at: datetime
    retry_at: datetime | None
    channel: str | None
    ts: str | None
    error: str | None
    finished_at: datetime | None


def upsert_insert(connection: Connection, table: Any = Delivery) -> Any:
    """INSERT with ON CONFLICT support on the connection's dialect (SQLite or PostgreSQL)."""
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    return dialect.insert(table)


def claim(
    engine: Engine,
    kind: str,
    subject_id: int,
    key: str,
    *,
    owner: str,
    now: datetime,
    lease: timedelta,
) -> Claim | None:
    """Claim one delivery, or None when another process has it (or it is done)."""
    with engine.connect() as connection, begin_write(connection):
        inserted = connection.execute(
            upsert_insert(connection)
            .values(
                kind=kind,
                subject_id=subject_id,
                key=key,
                status=CLAIMED,
                claimed_by=owner,
                claimed_at=now,
                attempts=1,
            )
            .on_conflict_do_nothing(index_elements=["kind", "subject_id", "key"])
            # RETURNING says who won on every driver (psycopg's rowcount here is -1).
            .returning(Delivery.id)
        ).first()
        if inserted is None:
            taken = connection.execute(
                update(Delivery)
                .where(
                    Delivery.kind == kind,
                    Delivery.subject_id == subject_id,
                    Delivery.key == key,
                    or_(
                        and_(Delivery.status == CLAIMED, Delivery.claimed_at < now - lease),
                        and_(Delivery.status == RETRY, Delivery.retry_at <= now),
                        and_(Delivery.status == WAITING, Delivery.retry_at <= now),
                    ),
                )
                .values(
                    status=CLAIMED,
                    claimed_by=owner,
                    claimed_at=now,
                    attempts=Delivery.attempts + 1,
                    retry_at=None,
                )
            )
            if taken.rowcount != 1:
                return None
        row = connection.execute(
            select(Delivery.id, Delivery.attempts).where(
                Delivery.kind == kind, Delivery.subject_id == subject_id, Delivery.key == key
            )
        ).one()
    return Claim(row.id, kind, subject_id, key, owner, row.attempts)


def _finish(engine: Engine, claim: Claim, **values: Any) -> bool:
    """Update a claim this process still holds; False when its lease was taken over."""
    with engine.connect() as connection, begin_write(connection):
        result = connection.execute(
            update(Delivery)
            .where(
                Delivery.id == claim.id,
                Delivery.status == CLAIMED,
                Delivery.claimed_by == claim.owner,
            )
            .values(**values)
        )
        return bool(result.rowcount == 1)


def mark_sent(engine: Engine, claim: Claim, *, channel: str, ts: str, now: datetime) -> bool:
    return _finish(engine, claim, status=SENT, channel=channel, ts=ts, finished_at=now, error=None)


def mark_retry(engine: Engine, claim: Claim, *, retry_at: datetime, error: str) -> bool:
    """Give the delivery back, to be claimed again (by any process) from `retry_at`."""
    return _finish(engine, claim, status=RETRY, retry_at=retry_at, error=error[:2000])


def mark_failed(engine: Engine, claim: Claim, *, error: str, now: datetime) -> bool:
    return _finish(engine, claim, status=FAILED, error=error[:2000], finished_at=now)


def mark_skipped(engine: Engine, claim: Claim, *, reason: str, now: datetime) -> bool:
    """Close a claim without posting: what it would say is no longer true."""
    return _finish(engine, claim, status=SKIPPED, error=reason[:2000], finished_at=now)


def record_skipped(
    engine: Engine, kind: str, subject_id: int, key: str, *, reason: str, now: datetime
) -> bool:
    """Record an occurrence that will not be posted (e.g. missed beyond the grace period);
    False when it was already claimed, posted or recorded."""
    return _record(engine, kind, subject_id, key, SKIPPED, reason, now)


def record_waiting(
    engine: Engine,
    kind: str,
    subject_id: int,
    key: str,
    *,
    reason: str,
    now: datetime,
    until: datetime,
) -> None:
    """Note that an occurrence was due and is held back until `until`: then it is claimable
    again (no grace period applies to it), and `digest list` can say why it has not arrived."""
    if _record(engine, kind, subject_id, key, WAITING, reason, now, retry_at=until):
        return
    with engine.connect() as connection, begin_write(connection):
        connection.execute(
            update(Delivery)
            .where(
                Delivery.kind == kind,
                Delivery.subject_id == subject_id,
                Delivery.key == key,
                Delivery.status == WAITING,
            )
            .values(retry_at=until, error=reason[:2000])
        )


def _record(
    engine: Engine,
    kind: str,
    subject_id: int,
    key: str,
    status: str,
    reason: str,
    now: datetime,
    *,
    retry_at: datetime | None = None,
) -> bool:
    with engine.connect() as connection, begin_write(connection):
        result = connection.execute(
            upsert_insert(connection)
            .values(
                kind=kind,
                subject_id=subject_id,
                key=key,
                status=status,
                claimed_by="",
                claimed_at=now,
                attempts=0,
                error=reason[:2000],
                retry_at=retry_at,
                finished_at=now if status == SKIPPED else None,
            )
            .on_conflict_do_nothing(index_elements=["kind", "subject_id", "key"])
            .returning(Delivery.id)
        ).first()
        return result is not None


_RECORD_COLUMNS = (
    Delivery.id,
    Delivery.kind,
    Delivery.subject_id,
    Delivery.key,
    Delivery.status,
    Delivery.attempts,
    Delivery.claimed_at,
    Delivery.retry_at,
    Delivery.channel,
    Delivery.ts,
    Delivery.error,
    Delivery.finished_at,
)


def _records(engine: Engine, statement: Any) -> list[DeliveryRecord]:
    with engine.connect() as connection:
        rows = connection.execute(statement)
        return [
            replace(
                record,
                claimed_at=utc(record.claimed_at),
                retry_at=utc(record.retry_at) if record.retry_at else None,
                finished_at=utc(record.finished_at) if record.finished_at else None,
            )
            for record in (DeliveryRecord(**row._asdict()) for row in rows)
        ]


def records(
    engine: Engine, kind: str, subject_ids: Collection[int], keys: Collection[str]
) -> dict[tuple[int, str], DeliveryRecord]:
    """The ledger rows of these (subject, key) pairs, in one query."""
    if not subject_ids or not keys:
        return {}
    found = _records(
        engine,
        select(*_RECORD_COLUMNS).where(
            Delivery.kind == kind,
            Delivery.subject_id.in_(list(subject_ids)),
            Delivery.key.in_(list(keys)),
        ),
    )
    return {(r.subject_id, r.key): r for r in found}


def due(engine: Engine, kind: str, now: datetime, lease: timedelta) -> list[DeliveryRecord]:
    """Deliveries of `kind` that `claim` could take over now: retries that are due, and claims
    whose process died mid-delivery."""
    return _records(
        engine,
        select(*_RECORD_COLUMNS)
        .where(
            Delivery.kind == kind,
            or_(
                and_(Delivery.status == RETRY, Delivery.retry_at <= now),
                and_(Delivery.status == CLAIMED, Delivery.claimed_at < now - lease),
            ),
        )
        .order_by(Delivery.id),
    )


def claimable(record: DeliveryRecord, now: datetime, lease: timedelta) -> bool:
    """Whether `claim` could take this row over now (the same rule as its UPDATE)."""
    if record.status == CLAIMED:
        return record.claimed_at < now - lease
    if record.status in (RETRY, WAITING):
        return record.retry_at is not None and record.retry_at <= now
    return False


def latest(engine: Engine, kind: str, subject_ids: Collection[int]) -> dict[int, DeliveryRecord]:
    """The newest ledger row of each subject (for `digest list`)."""
    if not subject_ids:
        return {}
    found = _records(
        engine,
        select(*_RECORD_COLUMNS)
        .where(Delivery.kind == kind, Delivery.subject_id.in_(list(subject_ids)))
        .order_by(Delivery.subject_id, Delivery.claimed_at, Delivery.id),
    )
    return {r.subject_id: r for r in found}  # the last of each subject wins


def utc(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; kpibot stores only UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
