"""Digest subscriptions as Slack messages, terminal text and JSON: the lists and the echoes of
`digest add`, `pause`, `resume`, `remove` and `send` (the digest itself: digest_blocks.py).

Scopes hold campaign names from data and schedules hold what users typed, so both are escaped
in every mrkdwn string; channel and user ids are shown as Slack mentions only when they look
like ids (a stored `<!channel>` can never broadcast).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from bot import messages
from bot.digests.schedule import WEEKDAYS, zone
from bot.digests.service import DigestView, RunReport, describe_schedule
from bot.query import ScopeSpec
from bot.render.blocks import context_block, message_of, section_block
from bot.render.mrkdwn import escape, escaped
from storage.deliveries import DeliveryRecord

__all__ = [
    "MAX_LISTED",
    "added_line",
    "added_message",
    "changed_line",
    "changed_message",
    "list_message",
    "list_table",
    "not_yours_message",
    "scope_words",
    "sent_line",
    "sent_message",
    "subscription_json",
    "subscriptions_json",
    "when_text",
]

MAX_LISTED = 45
"""Subscriptions in one `digest list` message (one section each, within Slack's 50 blocks)."""

_CHANNEL_ID = re.compile(r"[CGD][A-Z0-9]{2,30}")
_USER_ID = re.compile(r"[UW][A-Z0-9]{2,30}")
_SHORT = 500


# --------------------------------------------------------------------------- shared words


def scope_words(scope: ScopeSpec) -> str:
    """The scope as `digest add` words: `all`, `channel social`, `campaigns Summer Sale, Brand`."""
    return "all" if scope.kind == "all" else scope.describe()


def when_text(moment: datetime, timezone: str) -> str:
    """`Mon 30 Nov 08:00 Europe/Copenhagen`: an instant in the subscription's own zone."""
    local = moment.astimezone(zone(timezone))
    return f"{local:%a} {local.day} {local:%b %H:%M} {timezone}"


def _next(view: DigestView) -> str:
    if view.next_run is None:
        return messages.DIGEST_PAUSED
    return when_text(view.next_run, view.subscription.schedule.timezone)


def _last(view: DigestView) -> str:
    record = view.last
    if record is None:
        return messages.NEVER_DELIVERED
    moment = record.finished_at or record.claimed_at
    when = when_text(moment, view.subscription.schedule.timezone)
    return messages.digest_last(record.status, when, record.error)


# --------------------------------------------------------------------------- JSON


def subscription_json(view: DigestView) -> dict[str, Any]:
    """One subscription as `kpibot digest list --json` prints it."""
    s = view.subscription
    schedule = s.schedule
    next_run = None
    if view.next_run is not None:
        next_run = view.next_run.astimezone(schedule.zone).isoformat()
    return {
        "id": s.id,
        "channel": s.channel,
        "days": ",".join(WEEKDAYS[d] for d in sorted(schedule.days)),
        "at": schedule.at.strftime("%H:%M"),
        "timezone": schedule.timezone,
        "scope": scope_words(s.scope),
        "paused": s.paused,
        "created_by": s.created_by,
        "next_run": next_run,
        "last_error": s.last_error,
        "last_delivery": _delivery_json(view.last),
    }


def _delivery_json(record: DeliveryRecord | None) -> dict[str, Any] | None:
    if record is None:
        return None
    moment = record.finished_at or record.claimed_at
    return {
        "status": record.status,
        "key": record.key,
        "error": record.error,
        "ts": record.ts,
        "at": moment.isoformat(),
    }


def subscriptions_json(views: Sequence[DigestView]) -> dict[str, Any]:
    return {"subscriptions": [subscription_json(v) for v in views]}


# --------------------------------------------------------------------------- Slack


def _channel(channel: str) -> str:
    return f"<#{channel}>" if _CHANNEL_ID.fullmatch(channel) else escaped(channel, 100)


def _user(user: str) -> str:
    return f"<@{user}>" if _USER_ID.fullmatch(user) else escaped(user or "kpibot", 100)


def _note(text: str) -> dict[str, Any]:
    """One sentence of ours (its pieces escaped already) as a message."""
    return message_of(text, [section_block(text)])


def added_message(view: DigestView) -> dict[str, Any]:
    """The echo of `digest add`: what was understood and when the first digest arrives."""
    s = view.subscription
    text = messages.digest_added(
        s.id,
        escaped(describe_schedule(s.schedule), _SHORT),
        escaped(s.scope.describe(), _SHORT),
        _channel(s.channel),
        escape(_next(view)),
    )
    return _note(text)


def changed_message(action: str, subscription_id: int, view: DigestView | None) -> dict[str, Any]:
    """The echo of `digest pause`, `resume` or `remove`."""
    return _note(_changed(action, subscription_id, view, escape))


def _changed(
    action: str, subscription_id: int, view: DigestView | None, clean: Callable[[str], str] = str
) -> str:
    if action == "remove" or view is None:
        return messages.digest_removed(subscription_id)
    if action == "pause":
        return messages.digest_paused(subscription_id)
    return messages.digest_resumed(subscription_id, clean(_next(view)))


def sent_message(
    subscription_id: int, channel: str, report: RunReport, error: str | None
) -> dict[str, Any]:
    """The echo of `digest send`: posted, to be retried, or failed with Slack's error."""
    return _note(_sent(subscription_id, _channel(channel), report, error, escape))


def _sent(
    subscription_id: int,
    where: str,
    report: RunReport,
    error: str | None,
    clean: Callable[[str], str] = str,
) -> str:
    if report.sent:
        return messages.digest_sent(subscription_id, where)
    if report.failed or not report.notes:
        return messages.digest_not_sent(subscription_id, clean(error or "unknown error"))
    return messages.digest_send_later(subscription_id, clean("; ".join(report.notes)))


def not_yours_message(subscription_id: int, creator: str) -> dict[str, Any]:
    """A change refused to someone who is neither the creator nor an admin, naming the creator
    as a mention (error_message would escape it into visible angle brackets)."""
    who = creator if _USER_ID.fullmatch(creator) else ""
    text = messages.digest_not_yours(subscription_id, who)
    return message_of(text, [section_block(f":warning: {text}")])


def list_message(views: Sequence[DigestView], channel: str) -> dict[str, Any]:
    """`digest list`: this channel's digests, one section each."""
    where = _channel(channel)
    if not views:
        return _note(messages.no_digests_in(where))
    title = messages.digests_in(where, len(views))
    blocks = [section_block(f"*{title}*")]
    blocks += [section_block(_row(view)) for view in views[:MAX_LISTED]]
    if len(views) > MAX_LISTED:
        blocks.append(context_block([messages.digests_listed_elsewhere(len(views) - MAX_LISTED)]))
    return message_of(title, blocks)


def _row(view: DigestView) -> str:
    s = view.subscription
    head = (
        f"*Digest {s.id}* · {escaped(describe_schedule(s.schedule), _SHORT)} · "
        f"{escaped(s.scope.describe(), _SHORT)}"
    )
    status = (
        f"*{messages.DIGEST_PAUSED}*" if s.paused else escape(messages.digest_next(_next(view)))
    )
    lines = [head, f"{status} · {messages.digest_created_by(_user(s.created_by))}"]
    lines.append(escape(_last(view), code=True))
    if s.last_error:
        lines.append(f":warning: {escape(messages.digest_error(s.last_error), code=True)}")
    return "\n".join(lines)


# --------------------------------------------------------------------------- terminal


def added_line(view: DigestView) -> str:
    s = view.subscription
    return messages.digest_added(
        s.id, describe_schedule(s.schedule), s.scope.describe(), s.channel, _next(view)
    )


def changed_line(action: str, subscription_id: int, view: DigestView | None) -> str:
    return _changed(action, subscription_id, view)


def sent_line(subscription_id: int, channel: str, report: RunReport, error: str | None) -> str:
    return _sent(subscription_id, channel, report, error)


def list_table(views: Sequence[DigestView]) -> RenderableType:
    """`kpibot digest list`: every digest, one row each."""
    if not views:
        return Text(messages.NO_DIGESTS)
    table = Table(title=messages.digests_in("this workspace", len(views)), title_justify="left")
    for column in ("Id", "Channel", "Schedule", "Scope", "Next", "Created by", "Last delivery"):
        table.add_column(column, overflow="fold")
    for view in views:
        s = view.subscription
        last = _last(view) + (f"\n{messages.digest_error(s.last_error)}" if s.last_error else "")
        table.add_row(
            *(
                Text(cell)
                for cell in (
                    str(s.id),
                    s.channel,
                    describe_schedule(s.schedule),
                    scope_words(s.scope),
                    _next(view),
                    s.created_by or "—",
                    last,
                )
            )
        )
    return Group(table)
