"""A digest schedule as an APScheduler CronTrigger in the subscription's own time zone."""

from __future__ import annotations

from typing import Any

from apscheduler.triggers.cron import CronTrigger  # type: ignore[import-untyped]

from bot.digests.schedule import WEEKDAYS, Schedule

JOB_PREFIX = "digest:"


def job_id(subscription_id: int) -> str:
    return f"{JOB_PREFIX}{subscription_id}"


def subscription_of(job: str) -> int | None:
    """The subscription id of a digest job id, None for the scheduler's own jobs."""
    return int(job.removeprefix(JOB_PREFIX)) if job.startswith(JOB_PREFIX) else None


def cron_trigger(schedule: Schedule) -> Any:
    """Fires on the schedule's weekdays at its local wall-clock time (a wake-up, not a promise:
    around daylight saving changes the catch-up pass and the ledger keep it to once a day)."""
    return CronTrigger(
        day_of_week=",".join(WEEKDAYS[day] for day in sorted(schedule.days)),
        hour=schedule.at.hour,
        minute=schedule.at.minute,
        second=0,
        timezone=schedule.zone,
    )
