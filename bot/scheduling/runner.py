"""DigestScheduler: a thin typed wrapper around APScheduler 3's BackgroundScheduler.

Three kinds of job, all in an in-memory job store rebuilt from the database (a job store
shared between schedulers is what APScheduler's FAQ forbids):

* one CronTrigger per active subscription, in its own time zone, that wakes a delivery pass;
* a catch-up pass every minute (and once at start), the same `run_due`: after downtime, a
  skipped daylight-saving hour or a trigger that misfired, the ledger still says what is due;
* a check every 30 s of the subscriptions' fingerprint, which rebuilds the cron jobs when any
  process added, removed or edited a subscription.

Beside them, when given: the alert check (hourly, and its retries every minute) and the data
sources' sync (every KPIBOT_SYNC_EVERY), both also once at start.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from types import FrameType
from typing import Any

from apscheduler.executors.pool import ThreadPoolExecutor  # type: ignore[import-untyped]
from apscheduler.jobstores.memory import MemoryJobStore  # type: ignore[import-untyped]
from apscheduler.schedulers.background import (  # type: ignore[import-untyped]
    BackgroundScheduler,
)

from bot.digests.schedule import Schedule
from bot.scheduling.jobs import (
    AlertChecks,
    AlertPass,
    Clock,
    DeliveryPass,
    DueDigests,
    SourceSyncs,
    SyncPass,
    log_job,
    log_job_error,
)
from bot.scheduling.triggers import cron_trigger, job_id, subscription_of

CATCH_UP_SECONDS = 60
SYNC_SECONDS = 30
MISFIRE_GRACE_SECONDS = 3600
"""A job that starts late (busy process, GC pause, slow start) still runs within the hour;
APScheduler's default of 1 s would drop it silently. The ledger decides what is still due."""
CATCH_UP = "catch-up"
SYNC = "sync"
ALERT_CHECK = "alert-check"
ALERT_RETRY = "alert-retry"
ALERT_EVERY_SECONDS = 3600
SOURCE_SYNC = "source-sync"
SOURCE_SYNC_EVERY_SECONDS = 3600


def _utc_now() -> datetime:
    return datetime.now(UTC)


class DigestScheduler:
    """Wakes `digests.run_due` on each subscription's schedule, and every minute regardless."""

    def __init__(
        self,
        digests: DueDigests,
        *,
        clock: Clock = _utc_now,
        catch_up_seconds: float = CATCH_UP_SECONDS,
        sync_seconds: float = SYNC_SECONDS,
        alerts: AlertChecks | None = None,
        alert_every_seconds: float = ALERT_EVERY_SECONDS,
        syncs: SourceSyncs | None = None,
        sync_every_seconds: float = SOURCE_SYNC_EVERY_SECONDS,
    ) -> None:
        self._digests = digests
        self._alerts = None if alerts is None else AlertPass(alerts, clock)
        self._alert_every_seconds = alert_every_seconds
        self._syncs = None if syncs is None else SyncPass(syncs)
        self._sync_every_seconds = sync_every_seconds
        self._clock = clock
        self._catch_up_seconds = catch_up_seconds
        self._sync_seconds = sync_seconds
        self._pass = DeliveryPass(digests, clock)
        self._sync_lock = threading.Lock()
        self._fingerprint: tuple[int, int, str] | None = None
        self._schedules: dict[int, Schedule] = {}
        self._scheduler: Any = BackgroundScheduler(
            timezone=UTC,
            jobstores={"default": MemoryJobStore()},
            executors={"default": ThreadPoolExecutor(max_workers=4)},
            job_defaults={
                "coalesce": True,
                "max_instances": 1,
                "misfire_grace_time": MISFIRE_GRACE_SECONDS,
            },
        )

    @property
    def running(self) -> bool:
        return bool(self._scheduler.running)

    def start(self, *, paused: bool = False) -> None:
        """Build the cron jobs from the database, start the thread, run a catch-up pass now."""
        self._guarded_sync()
        self._scheduler.add_job(
            self._pass.wake,
            "interval",
            seconds=self._catch_up_seconds,
            args=[CATCH_UP],
            id=CATCH_UP,
            name=CATCH_UP,
            next_run_time=_utc_now(),  # the scheduler's own time, whatever `clock` says
        )
        self._scheduler.add_job(
            self._guarded_sync,
            "interval",
            seconds=self._sync_seconds,
            id=SYNC,
            name=SYNC,
        )
        if self._alerts is not None:
            # Evaluation hourly (and at start); posts that failed are retried every minute.
            self._scheduler.add_job(
                self._alerts.check,
                "interval",
                seconds=self._alert_every_seconds,
                args=[ALERT_CHECK],
                id=ALERT_CHECK,
                name=ALERT_CHECK,
                next_run_time=_utc_now(),
            )
            self._scheduler.add_job(
                self._alerts.retry,
                "interval",
                seconds=self._catch_up_seconds,
                args=[ALERT_RETRY],
                id=ALERT_RETRY,
                name=ALERT_RETRY,
            )
        if self._syncs is not None:
            # Every source, at start and then every KPIBOT_SYNC_EVERY; none configured costs
            # one query and a DEBUG line.
            self._scheduler.add_job(
                self._syncs.run,
                "interval",
                seconds=self._sync_every_seconds,
                args=[SOURCE_SYNC],
                id=SOURCE_SYNC,
                name=SOURCE_SYNC,
                next_run_time=_utc_now(),
            )
        self._scheduler.start(paused=paused)
        fields: dict[str, str | int] = {
            "digests": len(self._schedules),
            "alerts": "on" if self._alerts is not None else "off",
            "sources": "on" if self._syncs is not None else "off",
        }
        log_job("start", time.perf_counter(), fields, quiet=False)

    def shutdown(self) -> None:
        """Stop: a pass in progress finishes its delivery and ledger row; no new pass starts."""
        self._pass.stop()
        if self._alerts is not None:
            self._alerts.stop()
        if self._syncs is not None:
            self._syncs.stop()
        if self._scheduler.running:
            self._scheduler.shutdown(wait=True)

    def sync(self) -> bool:
        """Rebuild the cron jobs if the subscriptions changed since last time; True if so."""
        with self._sync_lock:
            fingerprint = self._digests.fingerprint()
            if fingerprint == self._fingerprint:
                return False
            wanted = dict(self._digests.schedules())
            for subscription_id, schedule in self._schedules.items():
                if wanted.get(subscription_id) != schedule:
                    self._scheduler.remove_job(job_id(subscription_id))
            for subscription_id, schedule in wanted.items():
                if self._schedules.get(subscription_id) != schedule:
                    self._add_cron_job(subscription_id, schedule)
            self._schedules = wanted
            self._fingerprint = fingerprint
            return True

    def cron_triggers(self) -> dict[int, Any]:
        """Each subscription's CronTrigger, by subscription id (for `kpibot` and tests)."""
        found: dict[int, Any] = {}
        for job in self._scheduler.get_jobs():
            subscription_id = subscription_of(job.id)
            if subscription_id is not None:
                found[subscription_id] = job.trigger
        return found

    def jobs(self) -> dict[str, Any]:
        """Every APScheduler job, by id."""
        return {job.id: job for job in self._scheduler.get_jobs()}

    def _add_cron_job(self, subscription_id: int, schedule: Schedule) -> None:
        name = job_id(subscription_id)
        self._scheduler.add_job(
            self._pass.wake,
            cron_trigger(schedule),
            args=[name],
            id=name,
            name=name,
            replace_existing=True,
        )

    def _guarded_sync(self) -> None:
        started = time.perf_counter()
        try:
            changed = self.sync()
        except Exception as exc:  # the database is away: keep the jobs we have, look again
            log_job_error(SYNC, started, exc)
            return
        fields: dict[str, str | int] = {
            "outcome": "rebuilt" if changed else "unchanged",
            "digests": len(self._schedules),
        }
        log_job(SYNC, started, fields, quiet=not changed)


_STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


def run_until_signalled(scheduler: DigestScheduler) -> None:
    """Run until SIGTERM or SIGINT, then shut down cleanly (`kpibot scheduler`)."""
    stop = threading.Event()
    with _stop_on_signals(stop):
        scheduler.start()
        try:
            while not stop.wait(timeout=1.0):
                pass
        finally:
            scheduler.shutdown()


@contextmanager
def _stop_on_signals(stop: threading.Event) -> Iterator[None]:
    def handle(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, handle) for sig in _STOP_SIGNALS}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
