"""Two imports at once: both land (or one waits and says so), and both are logged."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy import Connection, Engine, func, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

import bot.importing.run
import storage.write_lock
from bot.demo_data import demo_campaigns, write_csv
from bot.importing.run import ImportFailed, import_file
from storage.models import Campaign, DailyMetrics, ImportRun

REPO = Path(__file__).resolve().parents[3]
KPIBOT = Path(sys.executable).with_name("kpibot")
DAYS = 400


def _kpibot_import(database_url: str, path: Path) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KPIBOT_", "SLACK_"))}
    env["DATABASE_URL"] = database_url
    return subprocess.Popen(
        [str(KPIBOT), "import", str(path)],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _files(tmp_path: Path) -> tuple[Path, Path, int]:
    """Two files of different new campaigns, plus one new campaign both share (other days)."""
    campaigns = demo_campaigns(41)
    shared = campaigns[40]
    first, second = tmp_path / "first.csv", tmp_path / "second.csv"
    write_csv(first, [*campaigns[:20], shared], date(2025, 6, 30), DAYS)
    write_csv(second, [*campaigns[20:40], shared], date(2024, 5, 25), DAYS)
    return first, second, 41


def test_two_kpibot_imports_at_once_both_land(
    engine: Engine, sessions: sessionmaker[Session], database_url: str, tmp_path: Path
) -> None:
    first, second, campaigns = _files(tmp_path)
    processes = [_kpibot_import(database_url, first), _kpibot_import(database_url, second)]
    outcomes = [(p.wait(timeout=300), *p.communicate()) for p in processes]
    for returncode, stdout, stderr in outcomes:
        assert returncode == 0, stderr
        assert f"imported {21 * DAYS:,} rows" in stdout
        for failure in ("Traceback", "locked", "UniqueViolation", "IntegrityError"):
            assert failure not in stderr
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Campaign)) == campaigns
        assert session.scalar(select(func.count()).select_from(DailyMetrics)) == 42 * DAYS
        runs = session.execute(select(ImportRun.source, ImportRun.result)).all()
    assert sorted(runs) == [(str(first), "ok"), (str(second), "ok")]


# --- SQLite: one writer at a time ---------------------------------------------------------------


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    from storage.database import make_engine
    from storage.schema import upgrade

    engine = make_engine(f"sqlite:///{tmp_path / 'kpibot.db'}")
    upgrade(engine)
    yield engine
    engine.dispose()


class _OtherWriter:
    """Another writer on the SQLite file, driven by the test, not by a clock: it takes the
    write lock the moment the import is ready to write, and gives it back when told."""

    def __init__(self, database: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self._connection = sqlite3.connect(database, isolation_level=None)
        self.held = False
        real = bot.importing.run.begin_write

        def begin_write_after_the_other(connection: Connection, *args: Any, **kwargs: Any) -> Any:
            self._take()
            return real(connection, *args, **kwargs)

        monkeypatch.setattr(bot.importing.run, "begin_write", begin_write_after_the_other)

    def _take(self) -> None:
        self._connection.execute("BEGIN IMMEDIATE")
        self._connection.execute(
            "INSERT INTO campaigns (platform, account, external_id, name, channel, "
            "currency) VALUES ('csv', '', 'other', 'Other', 'other', 'DKK')"
        )
        self.held = True

    def release(self) -> None:
        if self.held:
            self._connection.execute("COMMIT")
            self.held = False

    def close(self) -> None:
        self.release()
        self._connection.close()


@pytest.fixture
def other_writer(
    sqlite_engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[_OtherWriter]:
    writer = _OtherWriter(tmp_path / "kpibot.db", monkeypatch)
    yield writer
    writer.close()


def test_an_import_waits_for_the_sqlite_write_lock_and_says_so(
    sqlite_engine: Engine,
    other_writer: _OtherWriter,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(storage.write_lock, "LOCK_NOTICE_SECONDS", 0.1)
    first, _, _ = _files(tmp_path)
    said: list[str] = []

    def notify(message: str) -> None:
        said.append(message)
        # The other writer finishes only once the import has said it is waiting.
        other_writer.release()

    summary = import_file(sqlite_engine, first, default_currency="USD", notify=notify)
    assert said == [f"{first}: waiting for another import to finish…"]
    assert summary.new_campaigns == 21
    with sqlite_engine.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(Campaign)) == 22
        assert connection.scalar(select(func.count()).select_from(ImportRun)) == 1


def test_an_import_that_cannot_get_the_lock_fails_cleanly_and_is_logged(
    sqlite_engine: Engine,
    other_writer: _OtherWriter,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(storage.write_lock, "LOCK_NOTICE_SECONDS", 0.05)
    monkeypatch.setattr(storage.write_lock, "LOCK_PATIENCE_SECONDS", 0.5)
    first, _, _ = _files(tmp_path)
    real_record = bot.importing.run.record_import_run

    def record_once_the_other_is_done(*args: Any, **kwargs: Any) -> None:
        # The other writer holds the lock until the import has given up, however slow the
        # machine; then the failed run can be logged.
        other_writer.release()
        real_record(*args, **kwargs)

    monkeypatch.setattr(bot.importing.run, "record_import_run", record_once_the_other_is_done)
    started = time.monotonic()
    with pytest.raises(ImportFailed) as info:
        import_file(sqlite_engine, first, default_currency="USD")
    (problem,) = info.value.problems
    assert problem.startswith(f"{first}: not written, the database stayed busy (another writer")
    assert time.monotonic() - started >= 0.5, "it gives up only after LOCK_PATIENCE_SECONDS"
    with sqlite_engine.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(DailyMetrics)) == 0
        assert connection.execute(select(ImportRun.result)).scalars().all() == ["failed"]
        # The other writer's row, committed after the import gave up.
        assert connection.scalar(select(func.count()).select_from(Campaign)) == 1


# --- PostgreSQL: the campaign another import is creating ----------------------------------------


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.mark.postgres
@pytest.mark.parametrize("currency", ["USD", "EUR"])
def test_a_campaign_created_meanwhile_by_another_import_is_taken_not_duplicated(
    currency: str, postgres_url: str, tmp_path: Path
) -> None:
    from storage.database import make_engine
    from storage.schema import upgrade

    engine = make_engine(postgres_url)
    upgrade(engine)
    path = tmp_path / "new.csv"
    path.write_text("date,campaign,spend\n2025-08-01,Shared,1.00\n2025-08-01,Mine,2.00\n")
    with psycopg.connect(_libpq(postgres_url)) as other:
        # The other import has inserted "Shared" and not committed yet.
        other.execute(
            "INSERT INTO campaigns (platform, account, external_id, name, channel, currency) "
            "VALUES ('csv', '', 'Shared', 'Shared', 'other', %s)",
            (currency,),
        )
        outcome: list[object] = []
        worker = threading.Thread(
            target=lambda: outcome.append(_try_import(engine, path)), daemon=True
        )
        worker.start()
        worker.join(1.0)
        assert worker.is_alive(), "the import must wait for the other transaction"
        other.commit()
        worker.join(30)
    try:
        (result,) = outcome
        with engine.connect() as connection:
            campaigns = connection.execute(
                select(Campaign.external_id, Campaign.currency).order_by(Campaign.external_id)
            ).all()
            runs = connection.execute(select(ImportRun.result)).scalars().all()
        if currency == "USD":
            assert not isinstance(result, Exception), result
            assert result.new_campaigns == 1  # "Mine"; "Shared" was the other import's
            assert [tuple(c) for c in campaigns] == [("Mine", "USD"), ("Shared", "USD")]
            assert runs == ["ok"]
        else:
            assert isinstance(result, ImportFailed)
            assert result.problems == [
                f"{path}:2: currency: campaign 'Shared' is stored in EUR, but the file "
                "gives it no currency and KPIBOT_DEFAULT_CURRENCY said USD; "
                "import it with --currency EUR"
            ]
            assert [tuple(c) for c in campaigns] == [("Shared", "EUR")]
            assert runs == ["failed"]
    finally:
        engine.dispose()


def _try_import(engine: Engine, path: Path) -> object:
    try:
        return import_file(engine, path, default_currency="USD")
    except Exception as exc:  # handed to the test thread
        return exc
