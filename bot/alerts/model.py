"""Alerts as stored and shown: a rule with its channel and owner, the status of one (rule,
campaign), an entry of the history, and what one message says (the renderers' input)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import Enum

from bot.alerts.lifecycle import AlertState, Post
from bot.alerts.rules import AlertRule, describe

RULE = 0
"""campaign_id of what concerns the rule as a whole (its no-data notices)."""


@dataclass(frozen=True, slots=True)
class StoredRule:
    id: int
    channel: str
    rule: AlertRule
    paused: bool
    created_by: str
    created_at: datetime
    updated_at: datetime
    snoozed_until: datetime | None = None
    last_error: str | None = None
    no_data_since: date | None = None

    @property
    def owner(self) -> str:
        """Whom the rule's alerts mention: `notify @user`, else its creator."""
        return self.rule.notify or self.created_by

    @property
    def text(self) -> str:
        return describe(self.rule)

    def snoozed(self, now: datetime) -> bool:
        return self.snoozed_until is not None and now < self.snoozed_until


@dataclass(frozen=True, slots=True)
class CampaignStatus:
    """Where one (rule, campaign) is; `version` 0 means nothing is stored yet (OK)."""

    rule_id: int
    campaign_id: int
    state: AlertState = AlertState.OK
    streak: int = 0
    last_day: date | None = None
    incident: int = 0
    open_incident: bool = False
    incident_day: date | None = None
    notified_at: datetime | None = None
    reminders: int = 0
    channel: str | None = None
    ts: str | None = None
    acknowledged_by: str | None = None
    acknowledged_at: datetime | None = None
    snoozed_until: datetime | None = None
    muted: bool = False
    version: int = 0


class Action(Enum):
    """What a person did to an incident (a button, or the CLI)."""

    ACKNOWLEDGE = "ack"
    SNOOZE = "snooze"
    MUTE = "mute"


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One line of `alert history`; `delivery` is the ledger's status of its post, if any."""

    id: int
    rule_id: int
    campaign_id: int
    campaign: str | None
    day: date
    event: str
    state: str
    at: datetime
    value: str | None
    baseline: str | None
    explanation: str
    by_user: str | None
    delivery: str | None = None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class Notice:
    """Everything one alert message shows; built from the history entry it posts, so a retry
    posts the same words.

    `value`/`baseline` are KPI values as exact decimal text (None: undefined); `currency` is
    the campaign's, for money KPIs.
    """

    post: Post
    rule: StoredRule
    day: date
    campaign_id: int = RULE
    campaign: str | None = None
    currency: str = ""
    value: str | None = None
    baseline: str | None = None
    explanation: str = ""
    since: date | None = None
    accounts: tuple[str, ...] = ()
    incident_day: date | None = None
    resolved_at: datetime | None = None
    acknowledged_by: str | None = None
    snoozed_until: datetime | None = None
    muted: bool = False
    ref: str = ""
    """The button value naming this incident (bot.alerts.actions.IncidentRef)."""


@dataclass
class CheckReport:
    """What one `alert check` pass did."""

    day: date | None = None
    rules: int = 0
    evaluated: int = 0
    fired: int = 0
    reminded: int = 0
    resolved: int = 0
    no_data: int = 0
    recorded: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0
    busy: int = 0
    held: int = 0
    notes: list[str] = field(default_factory=list)
    planned: list[Notice] = field(default_factory=list)
    """Under --dry-run: what would be posted."""

    def line(self) -> str:
        day = self.day.isoformat() if self.day else "-"
        return (
            f"day={day} rules={self.rules} evaluated={self.evaluated} fired={self.fired} "
            f"reminded={self.reminded} resolved={self.resolved} no_data={self.no_data} "
            f"sent={self.sent} retried={self.retried} failed={self.failed} busy={self.busy}"
        )


ACTIVE_STATES = (AlertState.PENDING, AlertState.FIRING, AlertState.NO_DATA)


@dataclass(frozen=True, slots=True)
class RuleView:
    """A rule as `alert list` shows it: its stored form and where its campaigns are.

    `state` sums up its campaigns: firing if any fires, else no_data when its rule-level data
    is missing, else pending if any is pending, else ok.
    """

    rule: StoredRule
    state: AlertState
    firing: tuple[str, ...] = ()
    pending: tuple[str, ...] = ()
    muted: tuple[str, ...] = ()
    acknowledged: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class PreviewLine:
    """One campaign's current value against the rule, as `alert add` echoes it."""

    campaign_id: int
    campaign: str
    currency: str
    value: str | None
    baseline: str | None
    breached: bool | None
    explanation: str


@dataclass(frozen=True, slots=True)
class RulePreview:
    """The rule as understood, evaluated now: the day, and each campaign of its scope (those
    that would fire first)."""

    rule: StoredRule
    day: date | None
    lines: tuple[PreviewLine, ...] = ()
    campaigns: int = 0
    """How many campaigns the scope has (lines may be cut)."""
    fires: int | None = None
    """How many of them would fire now (None: count the lines)."""

    @property
    def would_fire(self) -> int:
        if self.fires is not None:
            return self.fires
        return sum(1 for line in self.lines if line.breached)
