"""A stand-in for DigestService: subscriptions in a dict, run_due recorded."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime, time

from bot.digests.schedule import Schedule
from bot.digests.service import RunReport

WEEKDAYS = frozenset(range(5))


def schedule(days: frozenset[int], at: str, timezone: str) -> Schedule:
    hour, minute = (int(part) for part in at.split(":"))
    return Schedule(days, time(hour, minute), timezone)


@dataclass
class FakeDigests:
    subscriptions: dict[int, Schedule] = field(default_factory=dict)
    report: RunReport = field(default_factory=lambda: RunReport(due=1, sent=1))
    failures: int = 0
    """How many of the next run_due calls raise."""
    hold: threading.Event | None = None
    """When set, run_due waits for it before returning (a slow pass)."""
    calls: list[datetime] = field(default_factory=list)
    finished: int = 0
    schedule_reads: int = 0
    version: int = 0
    entered: threading.Event = field(default_factory=threading.Event)

    def run_due(self, now: datetime) -> RunReport:
        self.calls.append(now)
        self.entered.set()
        if self.hold is not None:
            self.hold.wait(5)
        if self.failures:
            self.failures -= 1
            raise RuntimeError("database went away")
        self.finished += 1
        return self.report

    def schedules(self) -> list[tuple[int, Schedule]]:
        self.schedule_reads += 1
        return sorted(self.subscriptions.items())

    def fingerprint(self) -> tuple[int, int, str]:
        return len(self.subscriptions), max(self.subscriptions, default=0), str(self.version)

    def edit(self, **changes: Schedule | None) -> None:
        """As another process would: `s3=schedule(...)` adds or changes, `s3=None` removes."""
        for key, value in changes.items():
            subscription_id = int(key.removeprefix("s"))
            if value is None:
                del self.subscriptions[subscription_id]
            else:
                self.subscriptions[subscription_id] = value
        self.version += 1
