"""Job bodies: a delivery pass over the ledger, the alert check, the sources' sync, and one
structured log line per job run."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Protocol, TypeVar

from bot.alerts.model import CheckReport
from bot.digests.schedule import Schedule
from bot.digests.service import RunReport

_R = TypeVar("_R")

if TYPE_CHECKING:  # requests and the importer load only in a process that syncs
    from bot.sources.sync import SyncOutcome

log = logging.getLogger("kpibot.scheduler")

Clock = Callable[[], datetime]


class DueDigests(Protocol):
    """What the scheduler needs of bot.digests.service.DigestService."""

    def run_due(self, now: datetime) -> RunReport: ...

    def schedules(self) -> list[tuple[int, Schedule]]: ...

    def fingerprint(self) -> tuple[int, int, str]: ...


def log_job(job: str, started: float, fields: dict[str, str | int], *, quiet: bool) -> None:
    """One line per job run, like `slack_request`; idle runs only at DEBUG."""
    line = {"job": job, **fields, "latency_ms": f"{(time.perf_counter() - started) * 1000:.1f}"}
    log.log(logging.DEBUG if quiet else logging.INFO, "scheduled_job %s", json.dumps(line))


def log_job_error(job: str, started: float, error: BaseException) -> None:
    """A job body that raised: the line, then the traceback. The scheduler keeps running."""
    line = {
        "job": job,
        "outcome": "error",
        "error": type(error).__name__,
        "latency_ms": f"{(time.perf_counter() - started) * 1000:.1f}",
    }
    log.error("scheduled_job %s", json.dumps(line), exc_info=error)


def report_fields(report: RunReport) -> dict[str, str | int]:
    return {
        "outcome": "ok",
        "due": report.due,
        "sent": report.sent,
        "skipped": report.skipped,
        "waiting": report.waiting,
        "failed": report.failed,
        "retried": report.retried,
        "busy": report.busy,
    }


class DeliveryPass:
    """`run_due` for every trigger, one pass at a time in this process.

    Twenty digests due at 08:00 fire twenty triggers; the first runs a pass that delivers them
    all, the others only ask for one more pass after it (so a wake-up is never lost, and never
    costs twenty builds). Other processes are kept out by the ledger, not by this.
    """

    def __init__(self, digests: DueDigests, clock: Clock) -> None:
        self._digests = digests
        self._clock = clock
        self._state = threading.Lock()
        self._running = False
        self._again = False
        self._stopping = False

    def wake(self, job: str) -> None:
        with self._state:
            if self._stopping:
                return
            if self._running:
                self._again = True
                log_job(job, time.perf_counter(), {"outcome": "coalesced"}, quiet=True)
                return
            self._running = True
        try:
            while True:
                self._run_once(job)
                with self._state:
                    if not self._again or self._stopping:
                        return
                    self._again = False
        finally:
            with self._state:
                self._running = self._again = False

    def stop(self) -> None:
        """Finish the pass in progress, start no more (the ledger row of a post is written
        right after it, so a pass stopped between deliveries leaves nothing half-done)."""
        with self._state:
            self._stopping = True

    def _run_once(self, job: str) -> None:
        started = time.perf_counter()
        try:
            report = self._digests.run_due(self._clock())
        except Exception as exc:  # a bad pass must not stop the next one
            log_job_error(job, started, exc)
            return
        fields = report_fields(report)
        idle = not (report.sent or report.skipped or report.waiting or report.failed)
        log_job(job, started, fields, quiet=idle and not report.retried)


class AlertChecks(Protocol):
    """What the scheduler needs of bot.alerts.service.AlertService."""

    def check(self, now: datetime | None = None, *, dry_run: bool = False) -> CheckReport: ...

    def deliver_due(self, now: datetime | None = None) -> CheckReport: ...


def check_fields(report: CheckReport) -> dict[str, str | int]:
    return {
        "outcome": "ok",
        "day": report.day.isoformat() if report.day else "",
        "rules": report.rules,
        "evaluated": report.evaluated,
        "fired": report.fired,
        "reminded": report.reminded,
        "resolved": report.resolved,
        "no_data": report.no_data,
        "sent": report.sent,
        "retried": report.retried,
        "failed": report.failed,
        "busy": report.busy,
    }


class OnePass:
    """At most one pass of a job at a time in this process: a trigger that finds one running
    is skipped (the running pass sees the same state). A failing pass is logged, never raised:
    the next one tries again."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._stopping = False

    def stop(self) -> None:
        """Finish the pass in progress, start no more."""
        self._stopping = True

    def _run(
        self,
        job: str,
        work: Callable[[], _R],
        fields: Callable[[_R], dict[str, str | int]],
        quiet: Callable[[_R], bool],
    ) -> None:
        if self._stopping or not self._lock.acquire(blocking=False):
            return
        started = time.perf_counter()
        try:
            result = work()
        except Exception as exc:  # a bad pass must not stop the next one
            log_job_error(job, started, exc)
            return
        finally:
            self._lock.release()
        log_job(job, started, fields(result), quiet=quiet(result))


class AlertPass(OnePass):
    """The alert check (hourly) and its retries (every minute), one at a time per process;
    other processes are kept from double posts by the history and the ledger."""

    def __init__(self, alerts: AlertChecks, clock: Clock) -> None:
        super().__init__()
        self._alerts = alerts
        self._clock = clock

    def check(self, job: str) -> None:
        self._run(job, lambda: self._alerts.check(self._clock()), check_fields, _quiet_check)

    def retry(self, job: str) -> None:
        self._run(job, lambda: self._alerts.deliver_due(self._clock()), check_fields, _quiet_check)


def _quiet_check(report: CheckReport) -> bool:
    busy = report.sent or report.failed or report.fired or report.resolved or report.no_data
    return not (busy or report.retried)


class SourceSyncs(Protocol):
    """What the scheduler needs of bot.sources.sync.SyncService."""

    def sync(
        self, names: Sequence[str] | None = None, since: date | None = None
    ) -> list[SyncOutcome]: ...


def sync_fields(outcomes: Sequence[SyncOutcome]) -> dict[str, str | int]:
    failed = sum(1 for o in outcomes if not o.ok)
    return {
        "outcome": "ok",
        "sources": len(outcomes),
        "ok": len(outcomes) - failed,
        "failed": failed,
        "rows": sum(o.rows for o in outcomes),
    }


class SyncPass(OnePass):
    """Every configured source synced (at start, then every KPIBOT_SYNC_EVERY), one pass at a
    time per process. A second scheduler syncing too only re-reads the same window: each sync
    replaces the source's days in it, so the data ends the same. Stopping lets the sync in
    progress finish (each source lands all or nothing)."""

    def __init__(self, sources: SourceSyncs) -> None:
        super().__init__()
        self._sources = sources

    def run(self, job: str) -> None:
        # Every source; each failure is its outcome (the database away: the pass fails).
        self._run(job, self._sources.sync, sync_fields, lambda outcomes: not outcomes)
