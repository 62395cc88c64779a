"""Client-side deadlines on database work: one watchdog thread ends a statement, commit,
rollback or ping that gets no answer, so the thread waiting on a hung server is freed.

A server-side statement_timeout cannot help when the server (or the network to it) stops
answering: its cancellation never arrives. libpq's connect_timeout covers only new
connections. So each call into the driver is registered with a due time, and a call still
running then is ended from outside: on PostgreSQL the socket is shut down (psycopg raises
OperationalError and marks the connection broken, SQLAlchemy invalidates it), on SQLite the
statement is interrupted.
"""

from __future__ import annotations

import logging
import math
import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.exc import DisconnectionError

log = logging.getLogger("kpibot.database")

GRACE = timedelta(seconds=2)
"""How much longer than the server's statement_timeout the client waits: a server that still
answers cancels the statement itself (QueryCanceled) well before this."""

_FRESH = "kpibot_fresh_connection"
Ender = Callable[[Any], None]


def bound_statements(engine: Engine, limit: timedelta) -> None:
    """End every statement, commit and rollback on engine still running after limit."""
    end = _ender(engine)
    if end is None:
        return
    seconds = limit.total_seconds()

    def before(_conn: Any, cursor: Any, *_args: Any) -> None:
        _watchdog().start(cursor.connection, seconds, end, "statement")

    def after(_conn: Any, cursor: Any, *_args: Any) -> None:
        _watchdog().finish(cursor.connection)

    def failed(_context: Any) -> None:
        # The statement that failed was this thread's (SQLAlchemy 2.1 leaves
        # ExceptionContext.cursor unset, so the thread is the reliable key).
        _watchdog().finish_thread()

    def checked_in(dbapi_connection: Any, _record: Any) -> None:
        # A safety net: nothing left registered can end a connection resting in the pool.
        if dbapi_connection is not None:
            _watchdog().finish(dbapi_connection)

    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    event.listen(engine, "handle_error", failed)
    event.listen(engine, "checkin", checked_in)
    # COMMIT and ROLLBACK go to the driver without cursor events (the pool's reset on
    # return too, through the same dialect): bound them by wrapping this engine's dialect.
    dialect = engine.dialect
    for name, what in (("do_commit", "commit"), ("do_rollback", "rollback")):
        setattr(dialect, name, _bounded(getattr(dialect, name), seconds, end, what))


def ping_on_checkout(engine: Engine, limit: timedelta) -> None:
    """Check each pooled connection on checkout, within limit: one that does not answer is
    replaced (DisconnectionError makes the pool connect afresh, under connect_timeout).

    SQLAlchemy's pool_pre_ping would wait forever on a hung connection, with no cursor events
    to bound it; a connection that has just connected has answered already and is not pinged.
    """
    end = _ender(engine)
    if end is None:
        return
    dialect = engine.dialect
    seconds = limit.total_seconds()

    def connected(_dbapi_connection: Any, record: Any) -> None:
        record.info[_FRESH] = True

    def checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        if record.info.pop(_FRESH, False):
            return
        watchdog = _watchdog()
        watchdog.start(dbapi_connection, seconds, end, "ping")
        try:
            dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as exc:
            log.info("pooled connection failed its ping (%s): reconnecting", type(exc).__name__)
            raise DisconnectionError("the pooled connection did not answer its ping") from exc
        finally:
            watchdog.finish(dbapi_connection)

    event.listen(engine, "connect", connected)
    event.listen(engine, "checkout", checkout)


def _bounded(operation: Ender, seconds: float, end: Ender, what: str) -> Ender:
    def bounded(connection: Any) -> None:
        # The dialect is handed the pool's proxy; the watchdog ends the driver's connection.
        driver = getattr(connection, "dbapi_connection", connection)
        watchdog = _watchdog()
        watchdog.start(driver, seconds, end, what)
        try:
            operation(connection)
        finally:
            watchdog.finish(driver)

    return bounded


def _ender(engine: Engine) -> Ender | None:
    if engine.dialect.name == "sqlite":
        return _interrupt
    if engine.dialect.driver == "psycopg":
        return _shut_down
    return None


def _shut_down(connection: Any) -> None:
    """psycopg's wait sees end of stream, raises OperationalError, the connection is broken."""
    # A duplicate of the descriptor: shutdown acts on the socket, close only on the duplicate,
    # so psycopg still owns (and later closes) its own descriptor.
    with socket.socket(fileno=os.dup(connection.pgconn.socket)) as duplicate:
        duplicate.shutdown(socket.SHUT_RDWR)


def _interrupt(connection: Any) -> None:
    """sqlite3 raises OperationalError("interrupted"); the connection stays usable."""
    connection.interrupt()


@dataclass(frozen=True)
class _Running:
    due: float
    started: float
    end: Ender
    connection: Any
    what: str
    thread: str
    thread_id: int


class _Watchdog:
    """The running driver calls of this process, one per connection, and the thread that ends
    those past their due time."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._running: dict[int, _Running] = {}
        self._wake_at = math.inf
        thread = threading.Thread(target=self._watch, name="kpibot-db-deadline", daemon=True)
        thread.start()

    def start(self, connection: Any, seconds: float, end: Ender, what: str) -> None:
        now = time.monotonic()
        thread = threading.current_thread()
        running = _Running(
            now + seconds, now, end, connection, what, thread.name, thread.ident or 0
        )
        with self._cond:
            self._running[id(connection)] = running
            # Usually the watchdog already wakes earlier (every due is now + the same limit).
            if running.due < self._wake_at:
                self._cond.notify()

    def finish(self, connection: Any) -> None:
        with self._cond:
            self._running.pop(id(connection), None)

    def finish_thread(self) -> None:
        """Whatever this thread was running has returned (a thread waits on one call)."""
        ident = threading.get_ident()
        with self._cond:
            for key in [k for k, r in self._running.items() if r.thread_id == ident]:
                del self._running[key]

    def _watch(self) -> None:
        with self._cond:
            while True:
                now = time.monotonic()
                for key, running in list(self._running.items()):
                    if running.due <= now:
                        del self._running[key]
                        # Under the lock: the call cannot finish and its connection move on
                        # to other work while it is being ended.
                        _end(running, now)
                self._wake_at = min((r.due for r in self._running.values()), default=math.inf)
                wait = None if self._wake_at == math.inf else self._wake_at - time.monotonic()
                self._cond.wait(None if wait is None else max(0.0, wait))


def _end(running: _Running, now: float) -> None:
    log.warning(
        "database gave no answer to a %s for %.1f s (thread %s): ending it",
        running.what,
        now - running.started,
        running.thread,
    )
    try:
        running.end(running.connection)
    except Exception as exc:  # already closed: nothing is waiting on it any more
        log.info("could not end the %s: %s", running.what, type(exc).__name__)


_lock = threading.Lock()
_current: _Watchdog | None = None


def _watchdog() -> _Watchdog:
    global _current
    watchdog = _current
    if watchdog is None:
        with _lock:
            if _current is None:
                _current = _Watchdog()
            watchdog = _current
    return watchdog


def _forget() -> None:
    # A forked child (a gunicorn worker) has no watchdog thread and maybe a held lock.
    global _current, _lock
    _current = None
    _lock = threading.Lock()


os.register_at_fork(after_in_child=_forget)
