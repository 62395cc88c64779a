"""`digest add [days] [at HH:MM] [tz Area/City] [scope]`: the words, read into a typed spec."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time

from bot.digests.schedule import (
    WEEKDAYS_ONLY,
    Schedule,
    ScheduleError,
    is_days_word,
    parse_days,
    parse_time,
    zone,
)
from bot.query import QueryError, ScopeSpec, parse_scope

DEFAULT_AT = time(8, 0)
ADD_USAGE = (
    "`digest add [daily | weekdays | mon,wed,fri] [at HH:MM] [tz Area/City] "
    "[all | channel <type> | platform <name> | campaigns <a>, <b>]`"
)


@dataclass(frozen=True, slots=True)
class DigestSpec:
    """What `digest add` asked for, with the defaults filled in."""

    schedule: Schedule
    scope: ScopeSpec


def parse_digest_words(words: list[str], default_timezone: str) -> DigestSpec:
    """Read the words after `digest add`; ScheduleError/QueryError name what to fix."""
    rest = list(words)
    days = WEEKDAYS_ONLY
    at = DEFAULT_AT
    timezone = default_timezone
    # The days come first when given; "mon, wed, fri" may arrive as several words.
    if rest and is_days_word(rest[0]):
        taken = [rest.pop(0)]
        while rest and (taken[-1].endswith(",") or rest[0].startswith(",")):
            taken.append(rest.pop(0))
        days = parse_days("".join(taken))
    while rest and rest[0].lower() in ("at", "kl", "kl.", "tz"):
        keyword = rest.pop(0).lower()
        if not rest:
            what = "a time, e.g. `at 08:00`" if keyword != "tz" else "a time zone"
            raise ScheduleError(f"`{keyword}` needs {what}. Use {ADD_USAGE}.")
        value = rest.pop(0)
        if keyword == "tz":
            zone(value)
            timezone = value
        else:
            at = parse_time(value)
    try:
        scope = parse_scope(rest)
    except QueryError as exc:
        if rest and is_days_word(rest[0]):
            raise ScheduleError(
                f"Put the days first: {ADD_USAGE}, e.g. `digest add mon,fri at 07:30`."
            ) from exc
        raise
    return DigestSpec(Schedule(days, at, timezone), scope)
