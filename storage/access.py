"""Channel access limits: one row per limited channel (no row: the channel sees everything)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bot.access.model import EVERYTHING, Visibility
from storage.models import ChannelAccess


@dataclass(frozen=True, slots=True)
class ChannelLimit:
    channel: str
    sees: Visibility
    set_by: str
    set_at: datetime


def _visibility(row: ChannelAccess) -> Visibility:
    return Visibility(
        frozenset(json.loads(row.platforms)),
        frozenset(json.loads(row.accounts)),
        tuple(json.loads(row.campaigns)),
    )


def _limit(row: ChannelAccess) -> ChannelLimit:
    return ChannelLimit(row.channel, _visibility(row), row.set_by, row.set_at)


def visibility_of(session: Session, channel: str | None) -> Visibility:
    """What the channel may see; EVERYTHING for an unlimited channel (or none)."""
    if not channel:
        return EVERYTHING
    row = session.get(ChannelAccess, channel)
    return EVERYTHING if row is None else _visibility(row)


def all_limits(session: Session) -> list[ChannelLimit]:
    rows = session.scalars(select(ChannelAccess).order_by(ChannelAccess.channel))
    return [_limit(row) for row in rows]


def limits_by_channel(session: Session) -> dict[str, Visibility]:
    """Every limited channel's Visibility, for a pass over many channels (digests, alerts)."""
    return {limit.channel: limit.sees for limit in all_limits(session)}


def set_limit(
    session: Session, channel: str, sees: Visibility, *, by: str, now: datetime
) -> ChannelLimit:
    """Replace the channel's limit (a limit that is no limit clears it)."""
    if not sees.limited:
        clear_limit(session, channel)
        return ChannelLimit(channel, EVERYTHING, by, now)
    row = session.get(ChannelAccess, channel)
    if row is None:
        row = ChannelAccess(channel=channel)
        session.add(row)
    row.platforms = json.dumps(sorted(sees.platforms))
    row.accounts = json.dumps(sorted(sees.accounts))
    row.campaigns = json.dumps(list(sees.campaigns))
    row.set_by = by
    row.set_at = now
    session.flush()
    return _limit(row)


def clear_limit(session: Session, channel: str) -> bool:
    """Remove the channel's limit; False when it had none."""
    result = session.execute(delete(ChannelAccess).where(ChannelAccess.channel == channel))
    return bool(getattr(result, "rowcount", 0))
