"""What an alert change asks Slack first: can the bot post in the channel, is the user an
admin. Slack (`/kpi alert`) and the CLI share these, like digests (bot/digests/guards.py)."""

from __future__ import annotations

from bot.alerts.model import RulePreview, RuleView
from bot.alerts.service import AlertService
from bot.digests.guards import Workspace, check_channel, is_admin


def add_alert(
    alerts: AlertService,
    workspace: Workspace | None,
    words: list[str],
    *,
    channel: str,
    user: str,
) -> RulePreview:
    """Store a rule once its words read, its scope matches and the channel is usable; the
    words are checked before Slack is asked. `workspace` None skips the channel check."""
    alerts.check_words(words, channel=channel)  # candidates only among what it sees
    check_channel(workspace, channel)
    return alerts.add(words, channel=channel, user=user)


def change_alert(
    alerts: AlertService,
    workspace: Workspace | None,
    rule_id: int,
    action: str,
    *,
    user: str,
    duration: str | None = None,
    viewer: str | None = None,
) -> RuleView | None:
    """pause, resume, remove or snooze as a Slack user: users.info only for someone who is
    neither the rule's creator nor the person it notifies; from `viewer`, a limited channel,
    another channel's rule is not found."""
    rule = alerts.get(rule_id, viewer=viewer)
    admin = user not in (rule.created_by, rule.rule.notify) and is_admin(workspace, user)
    if action == "snooze":
        return alerts.snooze(rule_id, duration or "", user=user, is_admin=admin, viewer=viewer)
    return alerts.change(rule_id, action, user=user, is_admin=admin, viewer=viewer)
