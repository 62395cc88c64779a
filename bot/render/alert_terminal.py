"""Alert rules in the terminal: the echoes of `kpibot alert add`, `pause`, `resume`, `remove`
and `snooze` as lines, `alert list` and `alert history` as rich tables, and what `alert check`
did (or, under --dry-run, would post). Plain text, never rich markup: names are data.

The Slack and JSON forms of the same facts are in alert_admin.py, which re-exports these.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from bot import messages
from bot.alerts.lifecycle import Post
from bot.alerts.model import RULE, CheckReport, HistoryEntry, Notice, RulePreview, RuleView
from bot.formatting import UNDEFINED
from bot.render.alert_blocks import campaign_name, day_text, moment_text, value_text
from bot.render.blocks import one_line

__all__ = [
    "added_line",
    "changed_line",
    "changed_text",
    "check_lines",
    "event_word",
    "history_subject",
    "history_table",
    "history_value",
    "preview_summary",
    "rules_table",
]

PREVIEW_LINES = 10


# --------------------------------------------------------------------------- shared words


def preview_summary(preview: RulePreview) -> str:
    """`Would fire now for 2 of 14 campaigns (data of Wed 2 Dec).` (raw text).

    The preview's lines may be cut (those that would fire first): when every line shown
    would fire and there are more campaigns, the count is a lower bound.
    """
    if preview.day is None:
        return messages.ALERT_PREVIEW_NO_DATA
    day = day_text(preview.day)
    firing = preview.would_fire
    if not firing:
        return messages.alert_would_not_fire(preview.campaigns, day)
    at_least = preview.fires is None and firing == len(preview.lines) < preview.campaigns
    return messages.alert_would_fire(firing, preview.campaigns, day, at_least=at_least)


def changed_text(action: str, rule_id: int, view: RuleView | None) -> str:
    """The echo of pause, resume, remove or snooze (raw text; our sentences only)."""
    if action == "remove" or (view is None and action != "snooze"):
        return messages.alert_removed(rule_id)
    if action == "pause":
        return messages.alert_paused(rule_id)
    if action == "snooze":
        until = view.rule.snoozed_until if view is not None else None
        return messages.alert_snoozed(rule_id, moment_text(until) if until else UNDEFINED)
    return messages.alert_resumed(rule_id)


def event_word(event: str) -> str:
    """`fire#2` → fired, `remind#2.1` → reminded, `ack@v5` → acknowledged, `ok@v3` → ok."""
    head = event.split("#", 1)[0].split("@", 1)[0]
    return messages.ALERT_EVENTS.get(head) or messages.ALERT_STATES.get(head, head)


def history_value(entry: HistoryEntry) -> str:
    """The entry's value (and baseline) as the exact decimal text stored: the history has
    neither the KPI's unit nor the campaign's currency."""
    return messages.alert_history_value(entry.value or UNDEFINED, entry.baseline)


def history_subject(entry: HistoryEntry) -> str:
    """The campaign an entry is about (raw), or the whole rule for its no-data notices."""
    if entry.campaign_id == RULE and not entry.campaign:
        return messages.ALERT_WHOLE_RULE
    return campaign_name(entry.campaign, entry.campaign_id)


# --------------------------------------------------------------------------- lines


def added_line(preview: RulePreview) -> str:
    """The echo of `kpibot alert add`: the rule, the verdict, a line per campaign shown."""
    s = preview.rule
    lines = [messages.alert_added(s.id, s.text, s.channel), preview_summary(preview)]
    shown = preview.lines[:PREVIEW_LINES]
    for line in shown:
        value = value_text(s, line.value, line.baseline, line.currency)
        why = f" ({one_line(line.explanation)})" if line.explanation.strip() else ""
        name = campaign_name(line.campaign, line.campaign_id)
        lines.append(f"  {messages.ALERT_VERDICTS[line.breached]:>9}  {name} — {value}{why}")
    if preview.day is not None and preview.campaigns > len(shown):
        lines.append(f"  {messages.and_more(preview.campaigns - len(shown))}")
    return "\n".join(lines)


def changed_line(action: str, rule_id: int, view: RuleView | None) -> str:
    return changed_text(action, rule_id, view)


def _planned(notice: Notice) -> str:
    rule = notice.rule
    if notice.post is Post.NO_DATA:
        accounts = ", ".join(notice.accounts) or messages.ALERT_ITS_ACCOUNTS
        what = messages.alert_no_data(day_text(notice.since or notice.day), accounts, rule.id)
        return messages.alert_would_post(notice.post.value, rule.id, "", what)
    name = campaign_name(notice.campaign, notice.campaign_id)
    what = one_line(notice.explanation) or value_text(
        rule, notice.value, notice.baseline, notice.currency
    )
    return messages.alert_would_post(notice.post.value, rule.id, name, what)


def check_lines(report: CheckReport) -> str:
    """What `kpibot alert check` did; under --dry-run, a line per message it would post."""
    lines = [report.line()]
    lines += [_planned(notice) for notice in report.planned]
    lines += report.notes
    return "\n".join(lines)


# --------------------------------------------------------------------------- tables


def _status(view: RuleView) -> str:
    s = view.rule
    words = [messages.ALERT_STATES[view.state.value]]
    if s.no_data_since is not None:
        words = [messages.alert_no_data_since(s.no_data_since.isoformat())]
    if s.paused:
        words.append(messages.ALERT_PAUSED)
    if s.snoozed_until is not None:
        words.append(messages.alert_snoozed_state(moment_text(s.snoozed_until)))
    return "\n".join(words)


def _campaigns(view: RuleView) -> str:
    lines = []
    for word, names in (
        (messages.ALERT_STATES["firing"], view.firing),
        (messages.ALERT_STATES["pending"], view.pending),
        (messages.ALERT_EVENTS["ack"], view.acknowledged),
        (messages.ALERT_EVENTS["mute"], view.muted),
    ):
        if names:
            lines.append(messages.alert_campaigns(word, ", ".join(names)))
    return "\n".join(lines) or UNDEFINED


def rules_table(views: Sequence[RuleView]) -> RenderableType:
    """`kpibot alert list`: every rule, one row each."""
    if not views:
        return Text(messages.NO_ALERTS)
    table = Table(title=messages.alerts_in("this workspace", len(views)), title_justify="left")
    for column in ("Id", "Channel", "Rule", "State", "Owner", "Campaigns"):
        table.add_column(column, overflow="fold")
    for view in views:
        s = view.rule
        campaigns = _campaigns(view)
        if s.last_error:
            campaigns += "\n" + messages.alert_error(s.last_error)
        cells = (str(s.id), s.channel, s.text, _status(view), s.owner or UNDEFINED, campaigns)
        table.add_row(*(Text(cell) for cell in cells))
    return Group(table)


def history_table(entries: Sequence[HistoryEntry]) -> RenderableType:
    """`kpibot alert history`: newest first, one row per entry."""
    if not entries:
        return Text(messages.no_alert_history(None))
    table = Table(title=messages.alert_history_title(None, len(entries)), title_justify="left")
    for column in ("At", "Rule", "Campaign", "Day", "Event", "Value", "Why", "By", "Post"):
        table.add_column(column, overflow="fold")
    for e in sorted(entries, key=lambda e: (e.at, e.id), reverse=True):
        post = messages.alert_delivery(e.delivery, e.error) if e.delivery else UNDEFINED
        cells = (
            moment_text(e.at),
            str(e.rule_id),
            history_subject(e),
            e.day.isoformat(),
            event_word(e.event),
            history_value(e) if e.value or e.baseline else UNDEFINED,
            e.explanation or UNDEFINED,
            e.by_user or UNDEFINED,
            post,
        )
        table.add_row(*(Text(cell) for cell in cells))
    return Group(table)
