"""`/kpi alert …`: add, list, remove, pause, resume, snooze and history of alert rules.

Reached through /kpi (handlers/kpi_command.py), which acknowledges in time and posts slower
answers through response_url; every reply here is ephemeral.
"""

from __future__ import annotations

from typing import Any

from bot import messages
from bot.alerts.guards import add_alert, change_alert
from bot.alerts.service import NotAllowed
from bot.query import QueryError
from bot.render.alert_admin import (
    added_message,
    changed_message,
    history_message,
    list_message,
    not_yours_message,
)
from bot.render.blocks import error_message
from bot.slack.replies import SlackDeps

WORD = "alert"
CHANGES = ("pause", "resume", "remove", "snooze")


def is_alert_command(text: str) -> bool:
    words = text.split()
    return bool(words) and words[0].lower() in (WORD, "alerts")


def alert_reply(deps: SlackDeps, command: dict[str, Any]) -> dict[str, Any]:
    """The reply to one `/kpi alert …`; mistakes the user can fix come back kindly."""
    try:
        return _reply(deps, command)
    except QueryError as exc:
        return error_message(str(exc))


def _reply(deps: SlackDeps, command: dict[str, Any]) -> dict[str, Any]:
    alerts = deps.alerts
    if alerts is None:
        raise QueryError(messages.ALERTS_NOT_SET_UP)
    words = str(command.get("text") or "").split()[1:]
    action = words[0].lower() if words else ""
    rest = words[1:]
    channel = str(command.get("channel_id") or "")
    user = str(command.get("user_id") or "")
    if action == "add":
        return added_message(add_alert(alerts, deps.slack, rest, channel=channel, user=user))
    if action == "list":
        return list_message(alerts.rules(channel), channel, now=alerts.clock())
    if action == "history":
        rule_id = alert_id(rest, action) if rest else None
        # Without an id: this channel's rules, as `alert list` shows them.
        entries = alerts.history(rule_id, channel=None if rule_id else channel, viewer=channel)
        return history_message(entries, rule_id)
    if action in CHANGES:
        rule_id = alert_id(rest[:1], action)
        duration = " ".join(rest[1:]) if action == "snooze" else None
        if action == "snooze" and not duration:
            raise QueryError(messages.alert_bad_duration(""))
        try:
            view = change_alert(
                alerts, deps.slack, rule_id, action, user=user, duration=duration, viewer=channel
            )
        except NotAllowed:
            return not_yours_message(rule_id, alerts.get(rule_id, viewer=channel).created_by)
        return changed_message(action, rule_id, view)
    raise QueryError(messages.alert_usage(action or None))


def alert_id(words: list[str], action: str) -> int:
    """The id after `alert <action>`: `3` or `#3`; QueryError saying how to write one."""
    text = " ".join(words).strip()
    number = text.removeprefix("#")
    if not number.isascii() or not number.isdigit() or len(number) > 9:
        raise QueryError(messages.alert_bad_id(text, action))
    return int(number)
