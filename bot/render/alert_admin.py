"""Alert rules as Slack replies and JSON: the echo of `alert add` (the rule as understood, and
how it stands now), `alert list`, the echoes of `pause`, `resume`, `remove` and `snooze`,
`alert history`, and the confirmations of the alert buttons. The terminal's text and tables
are in alert_terminal.py (re-exported here).

Rule text and history hold campaign names from data, and explanations may name campaigns or
accounts, so all of it is escaped in every mrkdwn string; channel and user ids are shown as
Slack mentions only when they look like ids.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from bot import messages
from bot.alerts.lifecycle import AlertState
from bot.alerts.model import Action, HistoryEntry, PreviewLine, RulePreview, RuleView
from bot.alerts.rules import condition_text, scope_text
from bot.formatting import UNDEFINED, decimal_text
from bot.render.alert_blocks import (
    campaign_name,
    day_text,
    mention,
    moment_text,
    rule_text,
    rule_words,
    value_text,
)
from bot.render.alert_terminal import (
    added_line,
    changed_line,
    changed_text,
    check_lines,
    event_word,
    history_subject,
    history_table,
    history_value,
    preview_summary,
    rules_table,
)
from bot.render.blocks import context_block, message_of, section_block
from bot.render.mrkdwn import escape, escaped

__all__ = [
    "MAX_HISTORY",
    "MAX_LISTED",
    "MAX_NAMES",
    "MAX_PREVIEW",
    "acted_message",
    "added_line",
    "added_message",
    "changed_line",
    "changed_message",
    "check_lines",
    "history_json",
    "history_message",
    "history_table",
    "list_message",
    "not_yours_message",
    "preview_json",
    "rule_json",
    "rules_json",
    "rules_table",
]

MAX_LISTED = 40
"""Rules in one `alert list` message (one section each, within Slack's 50 blocks)."""
MAX_PREVIEW = 10
"""Campaign lines in the echo of `alert add`."""
MAX_HISTORY = 20
"""History entries in one `alert history` message."""
MAX_NAMES = 10
"""Campaign names per state in a list row."""

_CHANNEL_ID = re.compile(r"[CGD][A-Z0-9]{2,30}")
_NAME = 400
_LONG = 1000

_STATE_ICONS = {
    AlertState.OK: ":large_green_circle:",
    AlertState.PENDING: ":large_yellow_circle:",
    AlertState.FIRING: ":red_circle:",
    AlertState.RESOLVED: ":white_check_mark:",
    AlertState.NO_DATA: ":grey_question:",
}
_VERDICT_ICONS = {True: ":red_circle:", False: ":large_green_circle:", None: ":white_circle:"}


# --------------------------------------------------------------------------- JSON


def _iso(moment: object) -> str | None:
    isoformat = getattr(moment, "isoformat", None)
    return None if isoformat is None else str(isoformat())


def rule_json(view: RuleView) -> dict[str, Any]:
    """One rule as `kpibot alert list --json` prints it."""
    s = view.rule
    r = s.rule
    return {
        "id": s.id,
        "channel": s.channel,
        "scope": scope_text(r.scope),
        "kpi": r.kpi,
        "condition": condition_text(r.kpi, r.condition),
        "window": r.window,
        "paused": s.paused,
        "owner": s.owner,
        "state": view.state.value,
        "text": s.text,
        "for_days": r.for_days,
        "min_spend": None if r.min_spend is None else decimal_text(r.min_spend, money=True),
        "min_clicks": r.min_clicks,
        "notify": r.notify,
        "created_by": s.created_by,
        "created_at": s.created_at.isoformat(),
        "snoozed_until": _iso(s.snoozed_until),
        "last_error": s.last_error,
        "no_data_since": _iso(s.no_data_since),
        "firing": list(view.firing),
        "pending": list(view.pending),
        "muted": list(view.muted),
        "acknowledged": list(view.acknowledged),
    }


def rules_json(views: Sequence[RuleView]) -> dict[str, Any]:
    return {"rules": [rule_json(v) for v in views]}


def history_json(entries: Sequence[HistoryEntry]) -> dict[str, Any]:
    return {
        "history": [
            {
                "id": e.id,
                "rule_id": e.rule_id,
                "campaign_id": e.campaign_id,
                "campaign": e.campaign,
                "day": e.day.isoformat(),
                "event": e.event,
                "state": e.state,
                "at": e.at.isoformat(),
                "value": e.value,
                "baseline": e.baseline,
                "explanation": e.explanation,
                "by": e.by_user,
                "delivery": e.delivery,
                "error": e.error,
            }
            for e in entries
        ]
    }


def preview_json(preview: RulePreview) -> dict[str, Any]:
    """The echo of `kpibot alert add --json`: the rule as stored and how it stands now."""
    return {
        "rule": rule_json(RuleView(preview.rule, AlertState.OK)),
        "day": _iso(preview.day),
        "campaigns": preview.campaigns,
        "would_fire": preview.would_fire,
        "now": [
            {
                "campaign_id": line.campaign_id,
                "campaign": line.campaign,
                "currency": line.currency,
                "value": line.value,
                "baseline": line.baseline,
                "breached": line.breached,
                "explanation": line.explanation,
            }
            for line in preview.lines
        ],
    }


# --------------------------------------------------------------------------- Slack


def _channel(channel: str) -> str:
    return f"<#{channel}>" if _CHANNEL_ID.fullmatch(channel) else escaped(channel, 100)


def _user(user: str | None) -> str:
    return mention(user) or escaped(user or "kpibot", 100)


def _note(text: str) -> dict[str, Any]:
    """One sentence of ours (its pieces escaped already) as a message."""
    return message_of(text, [section_block(text)])


def added_message(preview: RulePreview) -> dict[str, Any]:
    """The echo of `alert add`: the rule as understood, and each campaign's value now (those
    that would fire first)."""
    s = preview.rule
    title = messages.alert_added(s.id, rule_words(s), _channel(s.channel))
    summary = escape(preview_summary(preview))
    blocks = [section_block(f":bell: {title}"), section_block(f"*{summary}*")]
    shown = preview.lines[:MAX_PREVIEW]
    if shown:
        blocks.append(section_block("\n".join(_preview_row(preview, line) for line in shown)))
    if preview.campaigns > len(shown) and preview.day is not None:
        blocks.append(context_block([messages.and_more(preview.campaigns - len(shown))]))
    return message_of(f"{title} {summary}", blocks)


def _preview_row(preview: RulePreview, line: PreviewLine) -> str:
    name = escaped(campaign_name(line.campaign, line.campaign_id), _NAME)
    value = escape(value_text(preview.rule, line.value, line.baseline, line.currency))
    why = f" · {escaped(line.explanation, _LONG)}" if line.explanation.strip() else ""
    return f"{_VERDICT_ICONS[line.breached]} *{name}* — {value}{why}"


def list_message(
    views: Sequence[RuleView], channel: str, *, now: datetime | None = None
) -> dict[str, Any]:
    """`alert list`: this channel's rules, one section each; `now` hides a snooze that is
    over (without it every recorded snooze is shown)."""
    where = _channel(channel)
    if not views:
        return _note(messages.no_alerts_in(where))
    title = messages.alerts_in(where, len(views))
    blocks = [section_block(f"*{title}*")]
    blocks += [section_block(_row(view, now)) for view in views[:MAX_LISTED]]
    if len(views) > MAX_LISTED:
        blocks.append(context_block([messages.alerts_listed_elsewhere(len(views) - MAX_LISTED)]))
    return message_of(title, blocks)


def _names(names: Sequence[str]) -> str:
    shown = ", ".join(escaped(name, 200) for name in names[:MAX_NAMES])
    if len(names) > MAX_NAMES:
        shown += " " + messages.and_more(len(names) - MAX_NAMES)
    return shown


def _row(view: RuleView, now: datetime | None) -> str:
    s = view.rule
    state = messages.ALERT_STATES[view.state.value]
    if view.state is AlertState.NO_DATA and s.no_data_since is not None:
        state = messages.alert_no_data_since(day_text(s.no_data_since))
    status = [f"{_STATE_ICONS[view.state]} {escape(state)}"]
    if s.paused:
        status.append(f"*{messages.ALERT_PAUSED}*")
    if s.snoozed_until is not None and (now is None or s.snoozed(now)):
        status.append(escape(messages.alert_snoozed_state(moment_text(s.snoozed_until))))
    status.append(messages.alert_notifies(_user(s.owner)))
    lines = [rule_text(s), " · ".join(status)]
    for word, names in (
        (messages.ALERT_STATES["firing"], view.firing),
        (messages.ALERT_STATES["pending"], view.pending),
        (messages.ALERT_EVENTS["ack"], view.acknowledged),
        (messages.ALERT_EVENTS["mute"], view.muted),
    ):
        if names:
            lines.append(messages.alert_campaigns(word, _names(names)))
    if s.last_error:
        lines.append(f":warning: {messages.alert_error(escape(s.last_error))}")
    return "\n".join(lines)


def changed_message(action: str, rule_id: int, view: RuleView | None) -> dict[str, Any]:
    """The echo of `alert pause`, `resume`, `remove` or `snooze`."""
    return _note(escape(changed_text(action, rule_id, view), code=True))


def not_yours_message(rule_id: int, creator: str) -> dict[str, Any]:
    """A change refused to someone who is neither its creator, the person it notifies nor an
    admin, naming the creator as a mention (error_message would escape it into visible angle
    brackets)."""
    text = messages.alert_not_yours(rule_id, creator)
    return message_of(text, [section_block(f":warning: {text}")])


def history_message(entries: Sequence[HistoryEntry], rule_id: int | None) -> dict[str, Any]:
    """`alert history [<id>]`: the newest entries first, one section each."""
    if not entries:
        return _note(messages.no_alert_history(rule_id))
    newest = sorted(entries, key=lambda e: (e.at, e.id), reverse=True)
    shown = newest[:MAX_HISTORY]
    title = messages.alert_history_title(rule_id, len(shown))
    blocks = [section_block(f"*{title}*")]
    blocks += [section_block(_history_row(e, with_rule=rule_id is None)) for e in shown]
    if len(newest) > MAX_HISTORY:
        blocks.append(context_block([messages.and_more(len(newest) - MAX_HISTORY)]))
    return message_of(title, blocks)


def _history_row(e: HistoryEntry, *, with_rule: bool) -> str:
    subject = history_subject(e)
    head = f"`{e.day.isoformat()}` *{escape(event_word(e.event))}*"
    if with_rule:
        head += f" · #{e.rule_id}"
    parts = [head, f"*{escaped(subject, _NAME)}*"]
    if e.value is not None or e.baseline is not None:
        parts.append(escape(history_value(e)))
    if e.explanation.strip():
        parts.append(escaped(e.explanation, _LONG))
    if e.by_user:
        parts.append(messages.alert_by(_user(e.by_user)))
    if e.delivery:
        error = escaped(e.error, 300) if e.error else None
        parts.append(messages.alert_delivery(escape(e.delivery), error))
    parts.append(escape(moment_text(e.at)))
    return " · ".join(parts)


def acted_message(action: Action, who: str, until: datetime | None) -> dict[str, Any]:
    """The ephemeral confirmation of an alert button (or the CLI's act)."""
    if action is Action.ACKNOWLEDGE:
        return _note(messages.alert_acked(_user(who)))
    if action is Action.SNOOZE:
        when = moment_text(until) if until is not None else UNDEFINED
        return _note(escape(messages.alert_snoozed_incident(when)))
    return _note(messages.ALERT_MUTED_INCIDENT)
