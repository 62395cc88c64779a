"""The seen-request record: a signed Slack request's key, kept until Slack's window has passed.

Once for all workers and processes comes from the primary key: INSERT … ON CONFLICT, whose
RETURNING row says which transaction's sighting landed. No locks beyond the row itself.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Connection, Engine, delete, func, select

from storage.deliveries import upsert_insert
from storage.models import SeenRequest
from storage.write_lock import begin_write

# Expired rows deleted per sighting: bounded work per request, and still faster than Slack
# can send requests, so the table stays about one window's worth of requests.
SWEEP_ROWS = 50
# How long a sighting waits for SQLite's write lock before failing (closed): Slack waits 3 s.
LOCK_PATIENCE_SECONDS = 2.0


def first_sighting(
    engine: Engine,
    key: str,
    *,
    expires_at: datetime,
    now: datetime,
    patience: float = LOCK_PATIENCE_SECONDS,
) -> bool:
    """Record `key` until `expires_at`; True only for the one transaction whose record landed.

    A record already past its expiry counts as absent, so a key seen again after its window
    is a first sighting again.
    """
    now, expires_at = now.astimezone(UTC), expires_at.astimezone(UTC)
    if _recorded(engine, key, now):
        # A replay of a recorded request takes no write lock: on SQLite a flood of replays
        # would otherwise stall (or break) the writes of the request being answered.
        return False
    with engine.connect() as connection, begin_write(connection, patience=patience):
        _forget_expired(connection, now)
        insert = upsert_insert(connection, SeenRequest).values(key=key, expires_at=expires_at)
        landed = connection.execute(
            insert.on_conflict_do_update(
                index_elements=["key"],
                set_={"expires_at": insert.excluded.expires_at},
                where=SeenRequest.expires_at <= now,
            )
            # RETURNING says who won on every driver (psycopg's rowcount here is -1).
            .returning(SeenRequest.key)
        ).first()
        return landed is not None


def _recorded(engine: Engine, key: str, now: datetime) -> bool:
    """Whether `key` is recorded and not yet expired: a read, no lock taken."""
    with engine.connect() as connection:
        found = connection.execute(
            select(SeenRequest.key).where(SeenRequest.key == key, SeenRequest.expires_at > now)
        ).first()
        return found is not None


def _forget_expired(connection: Connection, now: datetime) -> None:
    """Delete up to SWEEP_ROWS expired records (the expires_at index finds them)."""
    oldest = (
        select(SeenRequest.key)
        .where(SeenRequest.expires_at <= now)
        .order_by(SeenRequest.expires_at)
        .limit(SWEEP_ROWS)
        # PostgreSQL: rows another sweep is deleting are skipped, never waited for (SQLite
        # has one writer at a time and no FOR UPDATE: SQLAlchemy leaves it out there).
        .with_for_update(skip_locked=True)
    )
    connection.execute(delete(SeenRequest).where(SeenRequest.key.in_(oldest)))


def count_seen(engine: Engine) -> int:
    """How many records are kept (expired or not), for tests and diagnostics."""
    with engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(SeenRequest)).scalar_one())
