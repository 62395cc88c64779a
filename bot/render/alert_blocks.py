"""Alerts as posted in channels: a new incident (with its buttons), a reminder and a resolve in
its thread, a rule's no-data notice, and the incident's first message as `chat.update` redraws
it after a resolve, an acknowledgement, a snooze or a mute (pure: builds dicts).

Campaign names, rule text (which holds campaign names), explanations and account names are
escaped in every mrkdwn string; the owner is mentioned only when it looks like a user id.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from bot import messages
from bot.actions import CardRef
from bot.alerts.evaluate import window_days
from bot.alerts.lifecycle import Post
from bot.alerts.model import RULE, Notice, StoredRule
from bot.alerts.rules import Change, describe
from bot.formatting import format_kpi
from bot.kpi import KPI_BY_KEY
from bot.periods import Grain, Period
from bot.query import Compare
from bot.render.blocks import context_block, message_of, one_line, section_block
from bot.render.mrkdwn import escape, escaped, plain

__all__ = [
    "ACTION_ACK",
    "ACTION_CARD",
    "ACTION_MUTE",
    "ACTION_SNOOZE_DAY",
    "ACTION_SNOOZE_WEEK",
    "alert_message",
    "campaign_name",
    "day_text",
    "headline",
    "incident_message",
    "mention",
    "moment_text",
    "rule_text",
    "rule_words",
    "value_text",
]

ACTION_ACK = "alert_ack"
ACTION_SNOOZE_DAY = "alert_snooze_1d"
ACTION_SNOOZE_WEEK = "alert_snooze_1w"
ACTION_MUTE = "alert_mute"
ACTION_CARD = "alert_card"

_USER_ID = re.compile(r"[UW][A-Z0-9]{2,30}")
_NAME = 400  # escaped campaign name
_LONG = 1500  # escaped explanation / rule text
_BUTTON = 75
_CONFIRM_TEXT = 300


# --------------------------------------------------------------------------- shared words


def day_text(day: date) -> str:
    """`Wed 2 Dec`."""
    return f"{day:%a} {day.day} {day:%b}"


def _utc(moment: datetime) -> datetime:
    """The instant in UTC (a naive datetime is taken as UTC, as stored)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def moment_text(moment: datetime) -> str:
    """`Fri 4 Dec 09:00 UTC`."""
    utc = _utc(moment)
    return f"{day_text(utc.date())} {utc:%H:%M} UTC"


def mention(user: str | None) -> str:
    """`<@U0123>` for a user id, else nothing (a stored `<!channel>` never broadcasts)."""
    return f"<@{user}>" if user and _USER_ID.fullmatch(user) else ""


def campaign_name(name: str | None, campaign_id: int) -> str:
    """The campaign's name on one line (raw), or `campaign 12` when it is gone."""
    return one_line(name) or messages.alert_campaign_gone(campaign_id)


def _kpi(key: str, text: str | None, currency: str) -> str:
    return format_kpi(key, None if text is None else Decimal(text), currency)


def headline(rule: StoredRule, currency: str) -> str:
    """`ROI dropped`, `CPA above €40.00` (raw text)."""
    key = rule.rule.kpi
    label = KPI_BY_KEY[key].label
    cond = rule.rule.condition
    if isinstance(cond, Change):
        return messages.alert_change_headline(label, cond.direction.value)
    return messages.alert_threshold_headline(label, cond.op, _kpi(key, str(cond.value), currency))


def value_text(rule: StoredRule, value: str | None, baseline: str | None, currency: str) -> str:
    """`ROI 19.00% vs 7-day average 356.12%`, `CPA €52.10 vs threshold €40.00` (raw text)."""
    key = rule.rule.kpi
    cond = rule.rule.condition
    if isinstance(cond, Change):
        against = messages.alert_vs_baseline(cond.baseline.text, _kpi(key, baseline, currency))
    else:
        against = messages.alert_vs_threshold(_kpi(key, str(cond.value), currency))
    return messages.alert_value(KPI_BY_KEY[key].label, _kpi(key, value, currency), against)


def rule_words(rule: StoredRule) -> str:
    """The rule's canonical text as escaped mrkdwn; `notify` is a live mention (the parser
    only stores user ids, and a name can never become one: it is escaped before)."""
    text = escaped(describe(replace(rule.rule, notify=None)), _LONG)
    who = mention(rule.rule.notify)
    return f"{text} · notify {who}" if who else text


def rule_text(rule: StoredRule) -> str:
    """`#3 · all · ROI drops 30 % vs 7-day average · over 1 day · for 1 day` (escaped)."""
    return messages.alert_rule_ref(rule.id, rule_words(rule))


# --------------------------------------------------------------------------- messages


def alert_message(notice: Notice) -> dict[str, Any]:
    """What a transition posts: a new incident, a reminder or a resolve, or a no-data notice."""
    if notice.post is Post.FIRE:
        return _incident(notice, with_status=False)
    if notice.post is Post.REMIND:
        return _reminder(notice)
    if notice.post is Post.RESOLVE:
        return _resolved(notice)
    return _no_data(notice)


def incident_message(notice: Notice) -> dict[str, Any]:
    """The incident's first message as it should look now (for chat.update): the same words,
    a line per status (resolved, acknowledged, snoozed, muted) and the buttons that still
    apply."""
    return _incident(notice, with_status=True)


def _with_mention(owner: str, text: str) -> str:
    who = mention(owner)
    return f"{who} {text}" if who else text


def _incident(notice: Notice, *, with_status: bool) -> dict[str, Any]:
    rule = notice.rule
    name = escaped(campaign_name(notice.campaign, notice.campaign_id), _NAME)
    head = escape(headline(rule, notice.currency))
    value = escape(value_text(rule, notice.value, notice.baseline, notice.currency))
    window = escape(messages.alert_window(rule.rule.window, day_text(notice.day)))
    lines = [
        _with_mention(
            rule.owner, f":rotating_light: {messages.alert_fired(f'*{head}*', f'*{name}*')}"
        ),
        f"{value} {window}",
    ]
    if notice.explanation.strip():
        lines.append(escaped(one_line(notice.explanation), _LONG))
    blocks = [section_block("\n".join(lines)), context_block([rule_text(rule)])]
    status = _status(notice) if with_status else []
    if status:
        blocks.append(section_block("\n".join(status)))
    buttons = _buttons(notice) if with_status else _buttons(_fresh(notice))
    if buttons:
        blocks.append({"type": "actions", "elements": buttons})
    text = messages.alert_fired_text(head, name, value, window)
    return message_of(_with_mention(rule.owner, text), blocks)


def _fresh(notice: Notice) -> Notice:
    """A new incident: no status yet, whatever the notice carries."""
    return replace(notice, resolved_at=None, acknowledged_by=None, snoozed_until=None, muted=False)


def _status(notice: Notice) -> list[str]:
    lines = []
    if notice.resolved_at is not None:
        utc = _utc(notice.resolved_at)
        when = messages.alert_resolved_on(day_text(utc.date()), f"{utc:%H:%M}")
        lines.append(f":white_check_mark: {when}")
    if notice.acknowledged_by:
        who = mention(notice.acknowledged_by) or escaped(notice.acknowledged_by, 100)
        lines.append(f":eyes: {messages.alert_acknowledged_by(who)}")
    if notice.snoozed_until is not None:
        until = messages.alert_snoozed_until(moment_text(notice.snoozed_until))
        lines.append(f":zzz: {escape(until)}")
    if notice.muted:
        lines.append(f":mute: {messages.ALERT_MUTED}")
    return lines


def _buttons(notice: Notice) -> list[dict[str, Any]]:
    """Acknowledge, snooze, mute (while the incident is open and not muted) and Open card."""
    buttons: list[dict[str, Any]] = []
    if notice.ref and notice.resolved_at is None and not notice.muted:
        if not notice.acknowledged_by:
            buttons.append(
                _button(messages.ALERT_BUTTON_ACK, ACTION_ACK, notice.ref, style="primary")
            )
        buttons.append(_button(messages.ALERT_BUTTON_SNOOZE_DAY, ACTION_SNOOZE_DAY, notice.ref))
        buttons.append(_button(messages.ALERT_BUTTON_SNOOZE_WEEK, ACTION_SNOOZE_WEEK, notice.ref))
        mute = _button(messages.ALERT_BUTTON_MUTE, ACTION_MUTE, notice.ref)
        mute["confirm"] = _mute_confirm(notice)
        buttons.append(mute)
    if notice.campaign_id != RULE:
        buttons.append(_button(messages.ALERT_BUTTON_CARD, ACTION_CARD, _card_ref(notice)))
    return buttons


def _card_ref(notice: Notice) -> str:
    """The campaign card over the rule's window ending on the evaluated day."""
    start, end = window_days(notice.rule.rule, notice.day)
    label = messages.alert_card_period(notice.rule.rule.window, f"{day_text(end)} {end.year}")
    period = Period(start, end, label, Grain.DAY)
    return CardRef(notice.campaign_id, period, Compare.PREVIOUS).encode()


def _mute_confirm(notice: Notice) -> dict[str, Any]:
    name = campaign_name(notice.campaign, notice.campaign_id)
    return {
        "title": _plain(messages.ALERT_MUTE_CONFIRM_TITLE),
        "text": _plain(
            plain(messages.alert_mute_confirm_text(notice.rule.id, name), _CONFIRM_TEXT)
        ),
        "confirm": _plain(messages.ALERT_MUTE_CONFIRM),
        "deny": _plain(messages.ALERT_MUTE_DENY),
    }


def _reminder(notice: Notice) -> dict[str, Any]:
    rule = notice.rule
    name = escaped(campaign_name(notice.campaign, notice.campaign_id), _NAME)

    def said(campaign: str) -> str:
        return messages.alert_still_firing(
            campaign,
            escape(day_text(notice.incident_day or notice.day)),
            escape(value_text(rule, notice.value, notice.baseline, notice.currency)),
            escaped(one_line(notice.explanation), _LONG),
        )

    body = _with_mention(rule.owner, f":repeat: {said(f'*{name}*')}")
    blocks = [section_block(body), context_block([rule_text(rule)])]
    return message_of(_with_mention(rule.owner, said(name)), blocks)


def _resolved(notice: Notice) -> dict[str, Any]:
    rule = notice.rule
    name = escaped(campaign_name(notice.campaign, notice.campaign_id), _NAME)

    def said(campaign: str) -> str:
        return messages.alert_resolved(
            campaign,
            escape(value_text(rule, notice.value, notice.baseline, notice.currency)),
            escape(day_text(notice.day)),
        )

    blocks = [
        section_block(f":white_check_mark: {said(f'*{name}*')}"),
        context_block([rule_text(rule)]),
    ]
    return message_of(said(name), blocks)


def _no_data(notice: Notice) -> dict[str, Any]:
    rule = notice.rule
    accounts = ", ".join(one_line(a) for a in notice.accounts if a.strip())
    text = messages.alert_no_data(
        escape(day_text(notice.since or notice.day)),
        escaped(accounts, _LONG) if accounts else messages.ALERT_ITS_ACCOUNTS,
        rule.id,
    )
    blocks = [
        section_block(_with_mention(rule.owner, f":warning: {text}")),
        context_block([rule_text(rule)]),
    ]
    return message_of(_with_mention(rule.owner, text), blocks)


# --------------------------------------------------------------------------- block helpers


def _button(text: str, action_id: str, value: str, *, style: str | None = None) -> dict[str, Any]:
    button: dict[str, Any] = {
        "type": "button",
        "text": _plain(plain(text, _BUTTON)),
        "action_id": action_id,
        "value": value,
    }
    if style is not None:
        button["style"] = style
    return button


def _plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text, "emoji": True}
