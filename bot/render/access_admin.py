"""Channel limits and refusals as Slack messages, terminal text and JSON (`/kpi access`,
`kpibot access`).

Limits hold what admins typed and campaign names from data, so both are escaped in every
mrkdwn string; channel and user ids become mentions only when they look like ids.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from rich.console import RenderableType
from rich.table import Table
from rich.text import Text

from bot import messages
from bot.access.service import ChannelSight
from bot.render.blocks import context_block, message_of, section_block
from bot.render.mrkdwn import escape, escaped

MAX_LISTED = 45
"""Limited channels in one `access list` message (one section each, within 50 blocks)."""

_CHANNEL_ID = re.compile(r"[CGD][A-Z0-9]{2,30}")
_USER_ID = re.compile(r"[UW][A-Z0-9]{2,30}")
_SHORT = 500


def _channel(channel: str) -> str:
    return f"<#{channel}>" if _CHANNEL_ID.fullmatch(channel) else escaped(channel, 100)


def _user(user: str | None) -> str:
    if user and _USER_ID.fullmatch(user):
        return f"<@{user}>"
    return escaped(user or messages.ACCESS_SET_BY_CLI, 100)


def _utc(moment: datetime) -> datetime:
    # SQLite gives back naive datetimes; they were stored as UTC.
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def when_text(moment: datetime) -> str:
    return f"{_utc(moment):%Y-%m-%d %H:%M} UTC"


def _note(text: str) -> dict[str, Any]:
    return message_of(text, [section_block(text)])


# --------------------------------------------------------------------------- Slack


def refusal_message(text: str) -> dict[str, Any]:
    """A refused request, said plainly (our sentence; backticks keep their code style)."""
    return _note(escape(text, code=True))


def _sight_text(
    sight: ChannelSight, where: str, clean: Callable[[str], str], who: Callable[[str | None], str]
) -> str:
    if not sight.sees.limited:
        return messages.access_sees_everything(where)
    set_by = None
    if sight.set_at is not None:
        set_by = messages.access_set_by(who(sight.set_by), when_text(sight.set_at))
    return messages.access_sees_only(where, clean(sight.sees.describe()), sight.visible, set_by)


def _short(text: str) -> str:
    return escaped(text, _SHORT)


def _slack_text(sight: ChannelSight) -> str:
    return _sight_text(sight, _channel(sight.channel), _short, _user)


def _plain_user(user: str | None) -> str:
    return user or messages.ACCESS_SET_BY_CLI


def sight_message(sight: ChannelSight) -> dict[str, Any]:
    """`/kpi access`: what the channel sees now."""
    return _note(_slack_text(sight))


def set_message(sight: ChannelSight) -> dict[str, Any]:
    """The echo of a new limit: as understood, how many campaigns it leaves, which."""
    where = _channel(sight.channel)
    text = messages.access_set(where, _short(sight.sees.describe()), sight.visible)
    blocks = [section_block(text)]
    if sight.visible:
        names = ", ".join(escaped(name, 100) for name in sight.named)
        blocks.append(
            context_block([messages.access_visible(names, sight.visible - len(sight.named))])
        )
    else:
        undo = f"/kpi access clear {sight.channel}"
        warning = escape(messages.access_nothing_visible(undo), code=True)
        blocks.append(section_block(f":warning: {warning}"))
    return message_of(text, blocks)


def cleared_message(channel: str, cleared: bool) -> dict[str, Any]:
    return _note(messages.access_cleared(_channel(channel), cleared))


def limits_message(sights: Sequence[ChannelSight]) -> dict[str, Any]:
    """`/kpi access list`: every limited channel, what it sees, who set it and when."""
    if not sights:
        return _note(escape(messages.ACCESS_NO_LIMITS))
    title = messages.access_limits_title(len(sights))
    blocks = [section_block(f"*{title}*")]
    blocks += [section_block(_slack_text(s)) for s in sights[:MAX_LISTED]]
    if len(sights) > MAX_LISTED:
        more = messages.access_more_limits(len(sights) - MAX_LISTED)
        blocks.append(context_block([escape(more, code=True)]))
    return message_of(title, blocks)


# --------------------------------------------------------------------------- terminal


def sight_line(sight: ChannelSight) -> str:
    return _sight_text(sight, sight.channel, str, _plain_user)


def set_lines(sight: ChannelSight) -> str:
    lines = [messages.access_set(sight.channel, sight.sees.describe(), sight.visible)]
    if sight.visible:
        more = sight.visible - len(sight.named)
        lines.append(messages.access_visible(", ".join(sight.named), more))
    else:
        undo = f"kpibot access clear {sight.channel}"
        lines.append("warning: " + messages.access_nothing_visible(undo))
    return "\n".join(lines)


def cleared_line(channel: str, cleared: bool) -> str:
    return messages.access_cleared(channel, cleared)


def limits_table(sights: Sequence[ChannelSight]) -> RenderableType:
    if not sights:
        return Text(messages.ACCESS_NO_LIMITS)
    table = Table(title=messages.access_limits_title(len(sights)), title_justify="left")
    for column in ("Channel", "Sees", "Campaigns", "Set by", "Set at"):
        table.add_column(column, overflow="fold")
    for s in sights:
        set_at = when_text(s.set_at) if s.set_at is not None else "—"
        cells = (s.channel, s.sees.describe(), f"{s.visible:,}", s.set_by or "—", set_at)
        table.add_row(*(Text(cell) for cell in cells))
    return table


# --------------------------------------------------------------------------- JSON


def sight_json(sight: ChannelSight) -> dict[str, Any]:
    """One channel as `kpibot access show/list --json` prints it (empty lists: no limit)."""
    return {
        "channel": sight.channel,
        "platforms": sorted(sight.sees.platforms),
        "accounts": sorted(sight.sees.accounts),
        "campaigns": list(sight.sees.campaigns),
        "set_by": sight.set_by or None,
        "set_at": _utc(sight.set_at).isoformat() if sight.set_at is not None else None,
        "visible_campaigns": sight.visible,
    }


def limits_json(sights: Sequence[ChannelSight]) -> dict[str, Any]:
    return {"limits": [sight_json(s) for s in sights]}
