"""How long to snooze: `1d`, `12h`, `1w`, `30m`, `2 days`, `1 week`."""

from __future__ import annotations

import re
from datetime import timedelta

from bot import messages
from bot.alerts.rules import RuleError

MAX_SNOOZE = timedelta(days=90)
_UNITS = {
    "m": timedelta(minutes=1),
    "min": timedelta(minutes=1),
    "mins": timedelta(minutes=1),
    "minute": timedelta(minutes=1),
    "minutes": timedelta(minutes=1),
    "h": timedelta(hours=1),
    "hour": timedelta(hours=1),
    "hours": timedelta(hours=1),
    "t": timedelta(hours=1),  # Danish: time(r)
    "time": timedelta(hours=1),
    "timer": timedelta(hours=1),
    "d": timedelta(days=1),
    "day": timedelta(days=1),
    "days": timedelta(days=1),
    "dag": timedelta(days=1),
    "dage": timedelta(days=1),
    "w": timedelta(weeks=1),
    "week": timedelta(weeks=1),
    "weeks": timedelta(weeks=1),
    "uge": timedelta(weeks=1),
    "uger": timedelta(weeks=1),
}
_DURATION = re.compile(r"^([0-9]{1,4})\s*([a-zæøå]+)$")


def parse_duration(text: str) -> timedelta:
    """A positive duration up to 90 days; RuleError saying how to write one."""
    match = _DURATION.match(text.strip().lower())
    unit = _UNITS.get(match[2]) if match else None
    if match is None or unit is None or int(match[1]) == 0:
        raise RuleError(messages.alert_bad_duration(text))
    length = int(match[1]) * unit
    if length > MAX_SNOOZE:
        raise RuleError(messages.alert_bad_duration(text))
    return length
