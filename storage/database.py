"""Engine and session lifecycle; sessions open at the edges (a handler, a job, a command)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import URL, Connection, Engine, create_engine, event, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session, sessionmaker

from storage.deadline import GRACE, bound_statements, ping_on_checkout

# An unreachable host fails in seconds instead of hanging every command.
DEFAULT_CONNECT_TIMEOUT = timedelta(seconds=5)
# How long a SQLite statement waits for another writer's lock when nothing bounds it tighter.
DEFAULT_BUSY_TIMEOUT = timedelta(seconds=10)
_POSTGRES_SCHEMES = ("postgres", "postgresql")
_BACKENDS = ("sqlite", "postgresql")


class UnusableDatabaseUrl(ValueError):
    """A database URL kpibot cannot use; the message says why, never the URL (a password)."""


def database_url(url: str | URL) -> URL:
    """The URL SQLAlchemy should use: postgres:// (Heroku, Render) and postgresql:// get
    psycopg 3, the driver kpibot installs; other SQLite and PostgreSQL URLs are used as given."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise UnusableDatabaseUrl("it is not a URL") from exc
    if parsed.drivername in _POSTGRES_SCHEMES:
        return parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() not in _BACKENDS:
        raise UnusableDatabaseUrl(f"{parsed.get_backend_name()} is not SQLite or PostgreSQL")
    return parsed


def sqlite_path(url: str | URL) -> Path | None:
    """The file of a SQLite database URL; None for other databases and in-memory SQLite."""
    parsed = database_url(url)
    name = parsed.database
    if parsed.get_backend_name() != "sqlite" or not name or name == ":memory:":
        return None
    return None if name.startswith("file:") else Path(name)


def missing_sqlite_file(engine: Engine) -> Path | None:
    """The SQLite file that does not exist yet, which merely connecting would create."""
    path = sqlite_path(engine.url)
    return path if path is not None and not path.exists() else None


def make_engine(
    url: str | URL,
    *,
    connect_timeout: timedelta = DEFAULT_CONNECT_TIMEOUT,
    statement_timeout: timedelta | None = None,
    busy_timeout: timedelta = DEFAULT_BUSY_TIMEOUT,
    ping: bool = False,
    **kwargs: Any,
) -> Engine:
    """Create an engine for SQLite or PostgreSQL with the pragmas and limits kpibot relies on.

    statement_timeout bounds every statement, commit and rollback: PostgreSQL cancels one
    that runs longer (QueryCanceled), and a client-side deadline GRACE later ends one the
    server never answers (SQLite: interrupts it); None sets no limit. busy_timeout is how long
    a SQLite statement waits for a lock. ping checks a pooled PostgreSQL connection on
    checkout within connect_timeout (a hung one is replaced). The URL's own connect_timeout
    wins over the argument; statement_timeout wins over one in the URL's options, because
    the client-side deadline follows it.
    """
    url = database_url(url)
    if url.get_backend_name() == "postgresql":
        kwargs["connect_args"] = _postgres_args(url, connect_timeout, statement_timeout) | dict(
            kwargs.get("connect_args") or {}
        )
    engine = create_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":
        busy_ms = _milliseconds(busy_timeout)

        def pragmas(dbapi_connection: Any, _record: Any) -> None:
            _sqlite_pragmas(dbapi_connection, busy_ms)

        event.listen(engine, "connect", pragmas)
        event.listen(engine, "begin", _sqlite_begin)
    if statement_timeout is not None:
        bound_statements(engine, statement_timeout + GRACE)
    if ping and engine.dialect.name == "postgresql":
        ping_on_checkout(engine, connect_timeout)
    return engine


def _postgres_args(
    url: URL, connect_timeout: timedelta, statement_timeout: timedelta | None
) -> dict[str, Any]:
    args: dict[str, Any] = {}
    if "connect_timeout" not in url.query:
        args["connect_timeout"] = max(1, int(connect_timeout.total_seconds()))
    if statement_timeout is not None:
        # Server-side, from the first statement of every connection; later -c options win,
        # so this follows the URL's own options (a search_path, say).
        given = url.query.get("options") or ()
        words = [given] if isinstance(given, str) else list(given)
        words.append(f"-c statement_timeout={_milliseconds(statement_timeout)}")
        args["options"] = " ".join(words)
    return args


def _milliseconds(duration: timedelta) -> int:
    return max(1, round(duration.total_seconds() * 1000))


# Execution option: "IMMEDIATE" makes the connection's next BEGIN take SQLite's write lock at
# once (a deferred transaction that read first fails with SQLITE_BUSY_SNAPSHOT when it later
# writes after another writer committed; busy_timeout cannot help it).
SQLITE_BEGIN = "kpibot_sqlite_begin"


def _sqlite_begin(connection: Connection) -> None:
    mode = connection.get_execution_options().get(SQLITE_BEGIN)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if mode == "IMMEDIATE" else "BEGIN")


def _sqlite_pragmas(dbapi_connection: Any, busy_ms: int) -> None:
    # SQLAlchemy's pysqlite recipe: the driver emits no BEGIN of its own, _sqlite_begin does.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA busy_timeout={busy_ms}")
    cursor.close()


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
