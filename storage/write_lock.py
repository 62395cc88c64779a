"""Write transactions that wait their turn: SQLite has one writer at a time."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine, RootTransaction
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from storage.database import SQLITE_BEGIN

# How long a writer waits for SQLite's write lock in all before giving up, and how long before
# it says that it is waiting.
LOCK_PATIENCE_SECONDS = 600.0
LOCK_NOTICE_SECONDS = 1.0


class DatabaseBusy(RuntimeError):
    """Another writer held the database for longer than LOCK_PATIENCE_SECONDS."""


def begin_write(
    connection: Connection,
    on_wait: Callable[[], None] | None = None,
    *,
    notice_after: float | None = None,
    patience: float | None = None,
) -> RootTransaction:
    """Begin a transaction that will write; on SQLite take the write lock now.

    SQLite has one writer at a time: BEGIN IMMEDIATE waits for it up front (calling on_wait
    once if that takes longer than notice_after), so nothing read in the transaction can be
    outdated by the time it writes.
    """
    if connection.dialect.name != "sqlite":
        return connection.begin()
    driver = connection.connection.driver_connection
    assert driver is not None
    notice_after = LOCK_NOTICE_SECONDS if notice_after is None else notice_after
    patience = LOCK_PATIENCE_SECONDS if patience is None else patience
    usual = int(driver.execute("PRAGMA busy_timeout").fetchone()[0])
    deadline = time.monotonic() + patience
    waited = False
    connection.execution_options(**{SQLITE_BEGIN: "IMMEDIATE"})
    try:
        while True:
            left = max(0.0, deadline - time.monotonic())
            wait = min(usual / 1000, left) if waited else min(usual / 1000, notice_after, left)
            driver.execute(f"PRAGMA busy_timeout={int(wait * 1000)}")
            try:
                return connection.begin()
            except OperationalError as exc:
                if "locked" not in str(exc.orig):
                    raise
                if time.monotonic() >= deadline:
                    raise DatabaseBusy(
                        f"another writer held the database for over {patience:g} s"
                    ) from exc
            if on_wait is not None and not waited:
                on_wait()
            waited = True
    finally:
        connection.execution_options(**{SQLITE_BEGIN: "DEFERRED"})
        driver.execute(f"PRAGMA busy_timeout={usual}")


@contextmanager
def write_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """session_scope for a unit of work that reads, then writes: on SQLite its transaction
    takes the write lock when it begins (begin_write), so another writer committing between
    the read and the write makes it wait its turn instead of failing with "database is
    locked". Commit on success, roll back on any error. Nothing inside may start another
    write of its own on SQLite: it would wait for this one's lock."""
    bind = factory.kw.get("bind")
    assert isinstance(bind, Engine), "write_scope needs a sessionmaker bound to an engine"
    with bind.connect() as connection:
        transaction = begin_write(connection)
        # The session joins the transaction begun here; committing it is ours to do.
        session = factory(bind=connection, join_transaction_mode="rollback_only")
        try:
            yield session
            session.flush()
            transaction.commit()
        except BaseException:
            session.rollback()
            if transaction.is_active:
                transaction.rollback()
            raise
        finally:
            session.close()
