from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from bot.scheduling.triggers import cron_trigger, job_id, subscription_of
from tests.bot.scheduling.fakes import WEEKDAYS, schedule


def test_a_cron_trigger_fires_on_the_days_at_local_time_in_its_zone() -> None:
    trigger = cron_trigger(schedule(frozenset({0, 2, 4}), "09:15", "Asia/Kolkata"))
    assert trigger.timezone == ZoneInfo("Asia/Kolkata")
    assert str(trigger) == "cron[day_of_week='mon,wed,fri', hour='9', minute='15', second='0']"
    friday_noon = datetime(2026, 3, 27, 12, 0, tzinfo=UTC)
    monday = trigger.get_next_fire_time(None, friday_noon)
    assert monday.astimezone(UTC) == datetime(2026, 3, 30, 3, 45, tzinfo=UTC)


def test_after_the_spring_change_a_weekday_digest_fires_at_summer_time() -> None:
    trigger = cron_trigger(schedule(WEEKDAYS, "08:00", "Europe/Copenhagen"))
    friday_noon = datetime(2026, 3, 27, 12, 0, tzinfo=UTC)  # clocks go forward on Sunday 29th
    fires = trigger.get_next_fire_time(None, friday_noon)
    assert fires.astimezone(UTC) == datetime(2026, 3, 30, 6, 0, tzinfo=UTC)


def test_job_ids_name_the_subscription() -> None:
    assert subscription_of(job_id(42)) == 42
    assert subscription_of("catch-up") is None
