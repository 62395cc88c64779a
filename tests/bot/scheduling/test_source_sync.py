"""The sources' sync in the scheduler: a real SyncService on a real database, a stand-in
connector serving what a platform would, a real APScheduler thread."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlalchemy import Engine

from bot.composition import build
from bot.config import Settings
from bot.scheduling import DigestScheduler
from bot.scheduling.jobs import SyncPass
from bot.scheduling.runner import MISFIRE_GRACE_SECONDS, SOURCE_SYNC
from bot.slack import runtimes
from bot.sources.model import Fetched, Kind, PlatformDay, SourceConfig, SourceError
from bot.sources.sync import SyncService
from storage import sources as store
from storage.database import make_engine
from storage.schema import upgrade
from tests.bot.scheduling.fakes import FakeDigests
from tests.bot.scheduling.test_jobs import logged
from tests.bot.scheduling.test_runner import wait_until

NOW = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
TODAY = date(2026, 3, 10)
FB = SourceConfig("fb", Kind.META, "act_1", {}, {})


@dataclass
class Platform:
    """The stand-in connector: yesterday's and today's rows, or an error."""

    error: SourceError | None = None
    asked: list[tuple[date, date]] = field(default_factory=list)

    def fetch(self, start: date, end: date) -> Fetched:
        self.asked.append((start, end))
        if self.error is not None:
            raise self.error
        rows = [_day(TODAY - timedelta(days=1), "12.50"), _day(TODAY, "3.00")]
        return Fetched("meta_ads", "act_1", "DKK", start, end, rows)


def _day(day: date, spend: str) -> PlatformDay:
    return PlatformDay(day, "c1", "Spring", 100, 10, Decimal(spend), Decimal(1), Decimal(40))


def syncs(engine: Engine, **platforms: Platform) -> SyncService:
    """The real SyncService, its connector for each source the stand-in named after it."""

    def no_download(config: SourceConfig, target: Path) -> int:
        raise AssertionError("not a csv-url source")

    return SyncService(
        engine,
        connect=lambda config: platforms[config.name],  # type: ignore[arg-type,return-value]
        download=no_download,
        default_currency="USD",
        tz=ZoneInfo("Europe/Copenhagen"),
        lookback_days=2,
        failing_after=timedelta(hours=6),
        clock=lambda: NOW,
    )


@pytest.fixture
def make() -> Iterator[Callable[..., DigestScheduler]]:
    made: list[DigestScheduler] = []

    def build_one(**options: object) -> DigestScheduler:
        scheduler = DigestScheduler(FakeDigests(), **options)  # type: ignore[arg-type]
        made.append(scheduler)
        return scheduler

    yield build_one
    for scheduler in made:
        scheduler.shutdown()


def sync_lines(caplog: pytest.LogCaptureFixture) -> list[dict[str, object]]:
    return [line for line in logged(caplog) if line["job"] == SOURCE_SYNC]


def test_the_sync_job_runs_at_start_then_every_configured_interval(
    engine: Engine, make: Callable[..., DigestScheduler]
) -> None:
    scheduler = make(syncs=syncs(engine), sync_every_seconds=900)
    with time_machine.travel(NOW, tick=False):
        scheduler.start(paused=True)
        job = scheduler.jobs()[SOURCE_SYNC]
    assert job.trigger.interval == timedelta(minutes=15)
    assert job.next_run_time == NOW  # a sync at once, after downtime
    assert (job.coalesce, job.max_instances) == (True, 1)
    assert job.misfire_grace_time == MISFIRE_GRACE_SECONDS


def test_without_a_sync_service_there_is_no_sync_job(
    make: Callable[..., DigestScheduler],
) -> None:
    scheduler = make()
    scheduler.start(paused=True)
    assert SOURCE_SYNC not in scheduler.jobs()


def test_the_job_syncs_every_source_and_logs_one_line(
    engine: Engine, make: Callable[..., DigestScheduler], caplog: pytest.LogCaptureFixture
) -> None:
    store.add_source(engine, FB)
    store.add_source(engine, SourceConfig("broken", Kind.META, "act_2", {}, {}))
    platform = Platform()
    refusing = Platform(error=SourceError("Meta said: Error validating access token"))
    with caplog.at_level("INFO", logger="kpibot.scheduler"):
        make(syncs=syncs(engine, fb=platform, broken=refusing)).start()
        wait_until(lambda: bool(sync_lines(caplog)))
    [line] = sync_lines(caplog)
    line.pop("latency_ms")
    assert line == {
        "job": SOURCE_SYNC,
        "outcome": "ok",
        "sources": 2,
        "ok": 1,
        "failed": 1,
        "rows": 3,  # the window's 3 days: two with rows, one zero day
    }
    fb = store.get_source(engine, "fb")
    assert (fb.data_through, fb.last_rows, fb.last_error) == (TODAY, 3, None)
    broken = store.get_source(engine, "broken")
    assert "Error validating access token" in (broken.last_error or "")
    assert platform.asked == [(TODAY - timedelta(days=2), TODAY)]


def test_no_sources_is_quiet(
    engine: Engine, make: Callable[..., DigestScheduler], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level("DEBUG", logger="kpibot.scheduler"):
        make(syncs=syncs(engine)).start()
        wait_until(lambda: bool(sync_lines(caplog)))
    [record] = [r for r in caplog.records if f'"job": "{SOURCE_SYNC}"' in r.getMessage()]
    assert record.levelname == "DEBUG"
    assert json.loads(record.getMessage().split(" ", 1)[1])["sources"] == 0


def test_a_sync_that_raises_is_logged_and_the_next_one_still_runs(
    tmp_path: Path, make: Callable[..., DigestScheduler], caplog: pytest.LogCaptureFixture
) -> None:
    """No tables yet (as with a database that went away): the pass fails, the scheduler
    stays up, and once the database is back the next pass syncs."""
    engine = make_engine(f"sqlite:///{tmp_path / 'later.db'}")
    scheduler = make(syncs=syncs(engine, fb=Platform()), sync_every_seconds=0.2)
    try:
        with caplog.at_level("INFO", logger="kpibot.scheduler"):
            scheduler.start()
            wait_until(lambda: any(line.get("outcome") == "error" for line in sync_lines(caplog)))
            upgrade(engine)
            store.add_source(engine, FB)
            wait_until(lambda: store.get_source(engine, "fb").last_rows == 3)
            assert scheduler.running
    finally:
        scheduler.shutdown()
        engine.dispose()
    errors = [r for r in caplog.records if r.levelname == "ERROR"]
    assert errors and all(f'"job": "{SOURCE_SYNC}"' in r.getMessage() for r in errors)
    assert '"outcome": "error"' in errors[0].getMessage() and errors[0].exc_info is not None


def test_a_stopped_sync_pass_starts_nothing_new(engine: Engine) -> None:
    store.add_source(engine, FB)
    platform = Platform()
    sync = SyncPass(syncs(engine, fb=platform))
    sync.stop()
    sync.run(SOURCE_SYNC)
    assert platform.asked == []


def test_the_scheduler_runtime_syncs_every_kpibot_sync_every(tmp_path: Path) -> None:
    """`kpibot scheduler` wires the sources' sync from the settings, with no Slack token and
    no sources configured."""
    url = f"sqlite:///{tmp_path / 'kpibot.db'}"
    settings = Settings.from_mapping({"DATABASE_URL": url, "KPIBOT_SYNC_EVERY": "15m"})
    components = build(settings)
    scheduler = runtimes._scheduler(components)
    try:
        scheduler.start(paused=True)
        assert scheduler.jobs()[SOURCE_SYNC].trigger.interval == timedelta(minutes=15)
    finally:
        scheduler.shutdown()
        components.dispose()
