"""Engines: the URLs hosting platforms set, bounded waits (connect, statement, lock, a hung
server), SQLite files left alone."""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy import Engine, event, make_url, text
from sqlalchemy.exc import OperationalError

from storage.database import (
    DEFAULT_BUSY_TIMEOUT,
    DEFAULT_CONNECT_TIMEOUT,
    UnusableDatabaseUrl,
    database_url,
    make_engine,
    missing_sqlite_file,
)
from storage.deadline import GRACE
from storage.schema import current_revision, upgrade
from tests.e2e.conftest import NATIVE_HEADER, kpibot_executable
from tests.support.tcp_proxy import TcpProxy


@pytest.mark.parametrize(
    "url",
    ["postgres://u:p@db.example:6543/kpi", "postgresql://u:p@db.example:6543/kpi"],
)
def test_heroku_and_plain_postgres_urls_use_psycopg(url: str) -> None:
    parsed = database_url(url)
    assert parsed.drivername == "postgresql+psycopg"
    assert (parsed.host, parsed.port, parsed.database) == ("db.example", 6543, "kpi")


@pytest.mark.parametrize("url", ["mysql://u:secret@h/db", "nonsense"])
def test_other_urls_are_refused_without_repeating_them(url: str) -> None:
    with pytest.raises(UnusableDatabaseUrl) as refused:
        make_engine(url)
    assert "secret" not in str(refused.value)


def _connect_params(url: str, **limits: Any) -> dict[str, Any]:
    engine = make_engine(url, **limits)
    seen: dict[str, Any] = {}

    @event.listens_for(engine, "do_connect")
    def capture(dialect: Any, record: Any, cargs: Any, cparams: dict[str, Any]) -> None:
        seen.update(cparams)

    try:
        with engine.connect() as connection:
            connection.execute(text("select 1"))
    finally:
        engine.dispose()
    return seen


@pytest.mark.postgres
def test_postgres_connections_time_out_unless_the_url_says_otherwise(postgres_url: str) -> None:
    default = int(DEFAULT_CONNECT_TIMEOUT.total_seconds())
    assert _connect_params(postgres_url)["connect_timeout"] == default
    chosen = {"connect_timeout": timedelta(seconds=3)}
    assert _connect_params(postgres_url, **chosen)["connect_timeout"] == 3
    joiner = "&" if "?" in postgres_url else "?"
    given = _connect_params(f"{postgres_url}{joiner}connect_timeout=2", **chosen)
    assert given["connect_timeout"] == "2"


def test_looking_at_a_missing_sqlite_database_does_not_create_it(tmp_path: Path) -> None:
    path = tmp_path / "kpibot.db"
    engine = make_engine(f"sqlite:///{path}")
    assert missing_sqlite_file(engine) == path
    assert current_revision(engine) is None
    assert not path.exists()
    assert missing_sqlite_file(make_engine("sqlite://")) is None


def _show(engine: Engine, setting: str) -> str:
    with engine.connect() as connection:
        return str(connection.exec_driver_sql(f"SHOW {setting}").scalar_one())


@pytest.mark.postgres
def test_the_statement_timeout_is_set_on_the_server_beside_the_urls_options(
    postgres_url: str,
) -> None:
    bounded = make_engine(postgres_url, statement_timeout=timedelta(milliseconds=1500))
    unbounded = make_engine(postgres_url)
    try:
        assert _show(bounded, "statement_timeout") == "1500ms"
        # The test URL's own options (a search_path into the test's schema) still apply.
        schema = make_url(postgres_url).query["options"].removeprefix("-csearch_path=")
        assert _show(bounded, "search_path") == schema
        assert _show(unbounded, "statement_timeout") == "0"
    finally:
        bounded.dispose()
        unbounded.dispose()


@pytest.mark.postgres
def test_a_slow_statement_is_cancelled_by_the_server_and_the_connection_stays(
    postgres_url: str,
) -> None:
    engine = make_engine(postgres_url, statement_timeout=timedelta(seconds=1))
    try:
        with engine.connect() as connection:
            started = time.monotonic()
            with pytest.raises(OperationalError) as cancelled:
                connection.exec_driver_sql("SELECT pg_sleep(4)")
            elapsed = time.monotonic() - started
            assert isinstance(cancelled.value.orig, psycopg.errors.QueryCanceled)
            assert not cancelled.value.connection_invalidated
            connection.rollback()
            assert connection.exec_driver_sql("SELECT 1").scalar_one() == 1
        # The server's cancel came, not the client's deadline (which would break the link).
        assert 0.9 < elapsed < 1 + GRACE.total_seconds()
    finally:
        engine.dispose()


@contextmanager
def _proxied(postgres_url: str, **limits: Any) -> Iterator[tuple[TcpProxy, Engine]]:
    """An engine whose connections go through a TcpProxy in front of the test PostgreSQL."""
    url = make_url(postgres_url)
    assert url.host is not None and url.port is not None
    with TcpProxy(url.host, url.port) as proxy:
        engine = make_engine(url.set(host="127.0.0.1", port=proxy.port), **limits)
        try:
            yield proxy, engine
        finally:
            proxy.resume()
            engine.dispose()


LIMITS = {"statement_timeout": timedelta(seconds=1), "connect_timeout": timedelta(seconds=2)}
DEADLINE = 1 + GRACE.total_seconds()


@pytest.mark.postgres
def test_a_statement_on_a_hung_server_fails_at_its_deadline(postgres_url: str) -> None:
    with _proxied(postgres_url, **LIMITS) as (proxy, engine):
        with engine.connect() as connection:
            assert connection.exec_driver_sql("SELECT 1").scalar_one() == 1
            proxy.hang()
            started = time.monotonic()
            with pytest.raises(OperationalError) as ended:
                connection.exec_driver_sql("SELECT 2")
            elapsed = time.monotonic() - started
        assert ended.value.connection_invalidated
        assert DEADLINE - 0.2 < elapsed < DEADLINE + 1.5
        proxy.resume()
        with engine.connect() as connection:
            assert connection.exec_driver_sql("SELECT 3").scalar_one() == 3


@pytest.mark.postgres
def test_a_commit_on_a_hung_server_fails_at_its_deadline(postgres_url: str) -> None:
    with _proxied(postgres_url, **LIMITS) as (proxy, engine):
        connection = engine.connect()
        connection.exec_driver_sql("SELECT 1")
        proxy.hang()
        started = time.monotonic()
        with pytest.raises(OperationalError):
            connection.commit()
        elapsed = time.monotonic() - started
        connection.close()
        assert DEADLINE - 0.2 < elapsed < DEADLINE + 1.5


@pytest.mark.postgres
def test_a_hung_pooled_connection_is_replaced_and_connecting_is_bounded(
    postgres_url: str,
) -> None:
    with _proxied(postgres_url, ping=True, **LIMITS) as (proxy, engine):
        with engine.connect() as connection:
            connection.exec_driver_sql("SELECT 1")
        proxy.hang()
        started = time.monotonic()
        with pytest.raises(OperationalError), engine.connect():
            pass
        elapsed = time.monotonic() - started
        # The ping gives up after connect_timeout, then the fresh connection times out too.
        assert 2 * 2 - 0.3 < elapsed < 2 * 2 + 2
        proxy.resume()
        before = proxy.accepted
        with engine.connect() as connection:
            assert connection.exec_driver_sql("SELECT 1").scalar_one() == 1
        with engine.connect() as connection:  # pooled and pinged, not replaced
            assert connection.exec_driver_sql("SELECT 2").scalar_one() == 2
        assert proxy.accepted == before + 1


@pytest.mark.postgres
def test_finished_and_failed_statements_leave_nothing_to_end(postgres_url: str) -> None:
    engine = make_engine(postgres_url, **LIMITS)
    try:
        with engine.connect() as connection, engine.connect() as autocommit:
            connection.exec_driver_sql("SELECT 1")
            connection.commit()
            # Autocommit: nothing after the failure (no ROLLBACK) touches the connection.
            autocommit.execution_options(isolation_level="AUTOCOMMIT")
            with pytest.raises(Exception, match="syntax"):
                autocommit.exec_driver_sql("SELEC 1")
            time.sleep(DEADLINE + 0.5)  # idle past any deadline a statement had
            assert connection.exec_driver_sql("SELECT 2").scalar_one() == 2
            assert autocommit.exec_driver_sql("SELECT 3").scalar_one() == 3
    finally:
        engine.dispose()


def test_a_runaway_sqlite_statement_is_interrupted_at_its_deadline(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'k.db'}", statement_timeout=timedelta(seconds=1))
    endless = (
        "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n) SELECT count(*) FROM n"
    )
    try:
        with engine.connect() as connection:
            started = time.monotonic()
            with pytest.raises(OperationalError, match="interrupted"):
                connection.exec_driver_sql(endless)
            elapsed = time.monotonic() - started
            connection.rollback()
            assert connection.exec_driver_sql("SELECT 1").scalar_one() == 1
        assert DEADLINE - 0.2 < elapsed < DEADLINE + 1.5
    finally:
        engine.dispose()


def test_the_sqlite_busy_timeout_is_the_one_asked_for(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'k.db'}"
    chosen = make_engine(url, busy_timeout=timedelta(seconds=3))
    default = make_engine(url)
    try:
        assert _show_pragma(chosen) == 3000
        assert _show_pragma(default) == DEFAULT_BUSY_TIMEOUT.total_seconds() * 1000
    finally:
        chosen.dispose()
        default.dispose()


def _show_pragma(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.exec_driver_sql("PRAGMA busy_timeout").scalar_one())


def test_a_sqlite_lock_wait_ends_at_the_busy_timeout(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'k.db'}"
    engine = make_engine(url, busy_timeout=timedelta(seconds=1))
    holder = make_engine(url)
    try:
        with holder.connect() as held:
            held.exec_driver_sql("CREATE TABLE t (x INTEGER)")
            held.commit()
            held.exec_driver_sql("INSERT INTO t VALUES (1)")  # holds the write lock
            with engine.connect() as connection:
                started = time.monotonic()
                with pytest.raises(OperationalError, match="locked"):
                    connection.exec_driver_sql("INSERT INTO t VALUES (2)")
                elapsed = time.monotonic() - started
            held.rollback()
        assert 0.9 < elapsed < 3
    finally:
        engine.dispose()
        holder.dispose()


def _big_file(path: Path, campaigns: int, days: int) -> int:
    lines = [NATIVE_HEADER]
    for i in range(campaigns):
        for d in range(days):
            day = date.fromordinal(date(2024, 1, 1).toordinal() + d).isoformat()
            lines.append(
                f"{day},big-{i},Big campaign {i:04d},google_ads,paid_search,USD,"
                f"{1000 + d},{50 + i % 9},{100 + i}.25,{i % 3},{5 + d % 7},{300 + i}.00,{d % 4}"
            )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return campaigns * days


@contextmanager
def _campaigns_locked(postgres_url: str, after_a_waiter: float) -> Iterator[list[float]]:
    """Lock the campaigns table until after_a_waiter seconds after someone waits for it."""
    waited: list[float] = []
    conninfo = make_url(postgres_url).set(drivername="postgresql")
    holder = psycopg.connect(conninfo.render_as_string(hide_password=False))
    holder.execute("LOCK TABLE campaigns IN ACCESS EXCLUSIVE MODE")
    watcher = psycopg.connect(conninfo.render_as_string(hide_password=False), autocommit=True)

    def release() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not waited:
            blocked = watcher.execute("SELECT count(*) FROM pg_locks WHERE NOT granted")
            if blocked.fetchone() != (0,):
                waited.append(time.monotonic())
            time.sleep(0.05)
        time.sleep(after_a_waiter)
        holder.rollback()

    thread = threading.Thread(target=release, daemon=True)
    thread.start()
    try:
        yield waited
    finally:
        thread.join(timeout=90)
        holder.close()
        watcher.close()


def _cli_env(database_url: str, **settings: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KPIBOT_", "SLACK_"))}
    env.pop("DATABASE_URL", None)
    return env | {"DATABASE_URL": database_url, **settings}


@pytest.mark.postgres
def test_an_operators_big_import_runs_past_the_statement_timeout(
    postgres_url: str, tmp_path: Path
) -> None:
    engine = make_engine(postgres_url)
    upgrade(engine)
    rows = _big_file(tmp_path / "big.csv", campaigns=200, days=100)
    # The import's first write waits 3 s for a lock: three times the statement timeout.
    with _campaigns_locked(postgres_url, after_a_waiter=3) as waited:
        result = subprocess.run(
            [kpibot_executable(), "import", str(tmp_path / "big.csv")],
            env=_cli_env(postgres_url, KPIBOT_DB_STATEMENT_TIMEOUT="1"),
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert waited, "the import never waited for the lock"
    assert result.returncode == 0, result.stderr
    assert f"imported {rows:,} rows" in result.stdout
    try:
        with engine.connect() as connection:
            count = connection.exec_driver_sql("SELECT count(*) FROM daily_metrics").scalar_one()
        assert count == rows
    finally:
        engine.dispose()


def test_runtimes_wait_for_sqlite_locks_as_long_as_for_a_statement(tmp_path: Path) -> None:
    from bot.composition import database_engine
    from bot.config import Settings

    settings = Settings.from_mapping(
        {"DATABASE_URL": f"sqlite:///{tmp_path / 'k.db'}", "KPIBOT_DB_STATEMENT_TIMEOUT": "3"}
    )
    runtime = database_engine(settings)
    operator = database_engine(settings, long_statements=True)
    try:
        assert _show_pragma(runtime) == 3000
        assert _show_pragma(operator) == DEFAULT_BUSY_TIMEOUT.total_seconds() * 1000
    finally:
        runtime.dispose()
        operator.dispose()
