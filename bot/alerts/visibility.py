"""What a limited channel may see of its alert rules: their statuses, history and incidents.

A rule in a limited channel is judged only over the campaigns that channel may see (see
Scopes.for_channel); these keep what was stored before a limit changed out of its channel too.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from bot.alerts.model import ACTIVE_STATES, RULE, CampaignStatus, HistoryEntry, StoredRule
from bot.directory import ChannelViews

StatusKey = tuple[int, int]


def can_see(views: ChannelViews, channel: str | None, campaign_id: int) -> bool:
    """Whether `channel` may see the campaign (a rule-level entry is the rule's own)."""
    sees = views.sees(channel)
    if campaign_id == RULE or not sees.limited:
        return True
    campaign = views.everything.by_id.get(campaign_id)
    return campaign is not None and sees.allows(campaign)


def shown_statuses(
    stored: Mapping[StatusKey, CampaignStatus],
    rules: Iterable[StoredRule],
    views: ChannelViews,
) -> dict[StatusKey, CampaignStatus]:
    """The statuses `alert list` may name: those of campaigns each rule's channel may see."""
    channels = {rule.id: rule.channel for rule in rules}
    return {
        key: status
        for key, status in stored.items()
        if can_see(views, channels.get(status.rule_id), status.campaign_id)
    }


def shown_entries(
    entries: Iterable[HistoryEntry],
    channels: Mapping[int, str],
    views: ChannelViews,
    viewer: str | None = None,
) -> list[HistoryEntry]:
    """The history lines each rule's channel, and the channel asking, may see (`channels`:
    rule id → its channel)."""
    return [
        e
        for e in entries
        if can_see(views, channels.get(e.rule_id), e.campaign_id)
        and can_see(views, viewer, e.campaign_id)
    ]


def hidden_incidents(
    rules: Iterable[StoredRule],
    stored: Mapping[StatusKey, CampaignStatus],
    views: ChannelViews,
) -> list[tuple[StoredRule, CampaignStatus]]:
    """Open or pending (rule, campaign)s whose channel may no longer see the campaign: they
    are closed without a post, so nothing about the campaign reaches that channel again."""
    by_id = {rule.id: rule for rule in rules if views.sees(rule.channel).limited}
    return [
        (by_id[status.rule_id], status)
        for status in stored.values()
        if status.rule_id in by_id
        and (status.open_incident or status.state in ACTIVE_STATES)
        and not can_see(views, by_id[status.rule_id].channel, status.campaign_id)
    ]
