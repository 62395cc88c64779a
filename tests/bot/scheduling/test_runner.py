"""DigestScheduler over a real APScheduler BackgroundScheduler and a fake DigestService."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from bot.scheduling import DigestScheduler
from bot.scheduling.runner import CATCH_UP, MISFIRE_GRACE_SECONDS, SYNC
from tests.bot.scheduling.fakes import WEEKDAYS, FakeDigests, schedule

FRIDAY_NOON = datetime(2026, 3, 27, 12, 0, tzinfo=UTC)
DAILY = frozenset(range(7))


@pytest.fixture
def digests() -> FakeDigests:
    return FakeDigests(
        {
            1: schedule(WEEKDAYS, "08:00", "Europe/Copenhagen"),
            2: schedule(DAILY, "07:30", "America/New_York"),
            3: schedule(frozenset({0, 2, 4}), "09:15", "Asia/Kolkata"),
        }
    )


@pytest.fixture
def make() -> Iterator[Callable[..., DigestScheduler]]:
    made: list[DigestScheduler] = []

    def build(digests: FakeDigests, **options: float) -> DigestScheduler:
        scheduler = DigestScheduler(digests, **options)  # type: ignore[arg-type]
        made.append(scheduler)
        return scheduler

    yield build
    for scheduler in made:
        scheduler.shutdown()


def wait_until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.02)


def test_one_cron_job_per_subscription_at_its_local_time(
    digests: FakeDigests, make: Callable[..., DigestScheduler]
) -> None:
    scheduler = make(digests)
    with time_machine.travel(FRIDAY_NOON, tick=False):
        scheduler.start(paused=True)
        jobs = scheduler.jobs()
    fires = {
        int(job_id.split(":")[1]): job.next_run_time
        for job_id, job in jobs.items()
        if ":" in job_id
    }
    assert fires == {
        # Copenhagen, weekdays 08:00: Monday, in summer time after Sunday's change.
        1: datetime(2026, 3, 30, 8, 0, tzinfo=ZoneInfo("Europe/Copenhagen")),
        # New York, daily 07:30: tomorrow.
        2: datetime(2026, 3, 28, 7, 30, tzinfo=ZoneInfo("America/New_York")),
        # Kolkata, mon,wed,fri 09:15: Monday.
        3: datetime(2026, 3, 30, 9, 15, tzinfo=ZoneInfo("Asia/Kolkata")),
    }
    triggers = scheduler.cron_triggers()
    assert {i: str(t.timezone) for i, t in triggers.items()} == {
        1: "Europe/Copenhagen",
        2: "America/New_York",
        3: "Asia/Kolkata",
    }
    assert "day_of_week='mon,tue,wed,thu,fri', hour='8', minute='0'" in str(triggers[1])


def test_jobs_are_coalesced_single_instance_with_an_hour_of_misfire_grace(
    digests: FakeDigests, make: Callable[..., DigestScheduler]
) -> None:
    scheduler = make(digests)
    with time_machine.travel(FRIDAY_NOON, tick=False):
        scheduler.start(paused=True)
        jobs = scheduler.jobs()
    assert set(jobs) == {CATCH_UP, SYNC, "digest:1", "digest:2", "digest:3"}
    for job in jobs.values():
        assert (job.coalesce, job.max_instances) == (True, 1)
        assert job.misfire_grace_time == MISFIRE_GRACE_SECONDS
    assert jobs[CATCH_UP].trigger.interval == timedelta(seconds=60)
    assert jobs[CATCH_UP].next_run_time == FRIDAY_NOON  # a pass at once, after downtime
    assert jobs[SYNC].trigger.interval == timedelta(seconds=30)
    assert str(jobs[CATCH_UP].trigger.timezone) == "UTC"


def test_changed_subscriptions_rebuild_the_cron_jobs(
    digests: FakeDigests, make: Callable[..., DigestScheduler]
) -> None:
    scheduler = make(digests)
    assert scheduler.sync() is True
    digests.edit(
        s1=None,
        s2=schedule(DAILY, "06:45", "America/New_York"),
        s4=schedule(DAILY, "02:30", "Europe/Copenhagen"),
    )
    assert scheduler.sync() is True
    triggers = scheduler.cron_triggers()
    assert sorted(triggers) == [2, 3, 4]
    assert "hour='6', minute='45'" in str(triggers[2])
    assert str(triggers[4].timezone) == "Europe/Copenhagen"


def test_an_unchanged_fingerprint_reads_no_schedules(
    digests: FakeDigests, make: Callable[..., DigestScheduler]
) -> None:
    scheduler = make(digests)
    scheduler.sync()
    assert (scheduler.sync(), digests.schedule_reads) == (False, 1)


def test_a_running_scheduler_sees_another_process_s_changes(
    digests: FakeDigests, make: Callable[..., DigestScheduler]
) -> None:
    scheduler = make(digests, sync_seconds=0.1, catch_up_seconds=60)
    scheduler.start()
    digests.edit(s9=schedule(DAILY, "12:00", "Asia/Kolkata"))
    wait_until(lambda: 9 in scheduler.cron_triggers())


def test_the_catch_up_pass_runs_at_start_with_the_clock_s_now(
    digests: FakeDigests, make: Callable[..., DigestScheduler]
) -> None:
    scheduler = make(digests, clock=lambda: FRIDAY_NOON)
    scheduler.start()
    wait_until(lambda: bool(digests.calls))
    assert digests.calls[0] == FRIDAY_NOON


def test_a_pass_that_raises_is_logged_and_the_next_one_still_runs(
    digests: FakeDigests, make: Callable[..., DigestScheduler], caplog: pytest.LogCaptureFixture
) -> None:
    digests.failures = 2
    scheduler = make(digests, catch_up_seconds=0.1)
    with caplog.at_level("INFO", logger="kpibot.scheduler"):
        scheduler.start()
        wait_until(lambda: digests.finished >= 1)
    assert scheduler.running
    errors = [r for r in caplog.records if r.levelname == "ERROR"]
    assert len(errors) == 2
    assert '"outcome": "error"' in errors[0].getMessage()
    assert errors[0].exc_info is not None


def test_a_database_outage_during_sync_keeps_the_jobs(
    digests: FakeDigests, make: Callable[..., DigestScheduler], caplog: pytest.LogCaptureFixture
) -> None:
    scheduler = make(digests)
    scheduler.sync()

    def unreachable() -> tuple[int, int, str]:
        raise ConnectionError("database unreachable")

    digests.fingerprint = unreachable  # type: ignore[method-assign]
    with caplog.at_level("INFO", logger="kpibot.scheduler"):
        scheduler._guarded_sync()
    assert sorted(scheduler.cron_triggers()) == [1, 2, 3]
    assert '"job": "sync", "outcome": "error"' in caplog.records[-1].getMessage()


def test_shutdown_lets_the_delivery_in_progress_finish(
    digests: FakeDigests, make: Callable[..., DigestScheduler]
) -> None:
    digests.hold = hold = threading.Event()
    scheduler = make(digests)
    scheduler.start()
    assert digests.entered.wait(5)
    releaser = threading.Timer(0.3, hold.set)
    releaser.start()
    scheduler.shutdown()
    assert digests.finished == 1
    assert not scheduler.running
