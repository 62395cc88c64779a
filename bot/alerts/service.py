"""Alerts end to end: rules, one set-based check pass, the lifecycle, posting once.

`check` is the one evaluation path — the scheduler's hourly job, `kpibot alert check`, and
`kpibot import` all call it; the history's unique keys and the delivery ledger make it safe to
run from any number of processes at any time.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot import messages
from bot.access.owners import hidden_from
from bot.alerts.delivery import KIND, AlertPosting, Render, ledger_key, parse_key
from bot.alerts.durations import parse_duration
from bot.alerts.lifecycle import DEFAULT_REPEAT, AlertState, Post
from bot.alerts.model import (
    RULE,
    Action,
    CampaignStatus,
    CheckReport,
    HistoryEntry,
    Notice,
    PreviewLine,
    RulePreview,
    RuleView,
    StoredRule,
)
from bot.alerts.rules import AlertRule, RuleError, parse_rule
from bot.alerts.sweep import (
    FRESHNESS_DAYS,
    DateRange,
    RuleData,
    Scopes,
    Verdict,
    ranges,
    sweep,
)
from bot.alerts.transitions import change, exact, incident_of, post_of
from bot.alerts.visibility import can_see, hidden_incidents, shown_entries, shown_statuses
from bot.campaign import CampaignInfo
from bot.delivery.posting import Poster
from bot.directory import CampaignDirectory, ChannelViews
from bot.kpi import Economics, Totals
from bot.matching import CampaignIndex
from bot.periods import today_in
from bot.query import NothingToShow, QueryError, ScopeSpec
from storage import alerts, deliveries
from storage.access import visibility_of
from storage.database import session_scope
from storage.digests import accounts_last_day
from storage.metrics import latest_day, totals_by_campaign
from storage.write_lock import write_scope

log = logging.getLogger("kpibot.alerts")

PREVIEW_LINES = 10
HISTORY_LIMIT = 50


class AlertNotFound(NothingToShow):
    code = "not_found"


class NotAllowed(QueryError):
    code = "forbidden"


class StaleButton(QueryError):
    code = "stale"


def _owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass(frozen=True, slots=True)
class IncidentRef:
    """The incident a button acts on: rule, campaign and incident number."""

    rule_id: int
    campaign_id: int
    incident: int

    def encode(self) -> str:
        return f"{self.rule_id}:{self.campaign_id}:{self.incident}"

    @classmethod
    def decode(cls, value: str) -> IncidentRef:
        try:
            rule_id, campaign_id, incident = (int(part) for part in value.split(":"))
        except ValueError as exc:
            raise StaleButton(messages.ALERT_BUTTON_STALE) from exc
        return cls(rule_id, campaign_id, incident)


@dataclass
class AlertService:
    """Alert rules and their evaluation, for Slack, the CLI and the scheduler."""

    engine: Engine
    sessions: sessionmaker[Session]
    directory: CampaignDirectory
    economics: Economics
    tz: ZoneInfo
    poster: Poster | None = None
    render: Render | None = None
    """A posted alert as a Slack message (bot.render.alert_blocks.alert_message)."""
    render_incident: Render | None = None
    """An incident's top-level message as updated (bot.render.alert_blocks.incident_message)."""
    repeat: timedelta = DEFAULT_REPEAT
    landing_grace: timedelta = timedelta(hours=8)
    lease: timedelta = timedelta(minutes=10)
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    owner: str = field(default_factory=_owner)

    # ------------------------------------------------------------------ rules

    def add(self, words: list[str], *, channel: str, user: str) -> RulePreview:
        """Store a rule from `alert add` words; RuleError / QueryError names what to fix.

        Campaign names resolve only among the campaigns the channel may see.
        """
        rule = parse_rule(words)
        with write_scope(self.sessions) as session:
            index = self._visible(session, channel)
            rule = replace(rule, scope=_canonical_scope(rule.scope, index))
            stored = alerts.add_rule(
                session, channel=channel, rule=rule, created_by=user, now=self.clock()
            )
        return self.preview(stored)

    def check_words(self, words: list[str], *, channel: str | None = None) -> AlertRule:
        """The rule the words say, without storing it (raises what `add` would in `channel`;
        None: among every campaign)."""
        rule = parse_rule(words)
        with session_scope(self.sessions) as session:
            index = self._visible(session, channel)
            return replace(rule, scope=_canonical_scope(rule.scope, index))

    def _visible(self, session: Session, channel: str | None) -> CampaignIndex:
        """The campaigns `channel` may see; NothingToShow when a limit leaves none."""
        sees = visibility_of(session, channel)
        index = self.directory.visible(session, sees)
        if sees.limited and not index.campaigns:
            raise NothingToShow(messages.CHANNEL_SEES_NOTHING)
        return index

    def get(self, rule_id: int, *, viewer: str | None = None) -> StoredRule:
        """The rule; asked from `viewer`, a limited channel, another channel's is not found,
        as an unknown id (None: the CLI and the checks, which see every channel's)."""
        with session_scope(self.sessions) as session:
            found = alerts.get_rule(session, rule_id)
            if found is not None and hidden_from(session, viewer, found.channel):
                found = None
        if found is None:
            raise AlertNotFound(messages.no_alert(rule_id))
        return found

    def rules(self, channel: str | None = None) -> list[RuleView]:
        """The rules with the campaigns they fire for, each only those its channel may see."""
        with session_scope(self.sessions) as session:
            found = alerts.list_rules(session, channel)
            stored = alerts.statuses(session, [r.id for r in found])
            views = self.directory.views(session)
        grouped = _by_rule(shown_statuses(stored, found, views))
        names = {c.id: c.name for c in views.everything.campaigns}
        return [_view(r, grouped, names) for r in found]

    def view(self, rule_id: int) -> RuleView:
        rule = self.get(rule_id)
        with session_scope(self.sessions) as session:
            stored = alerts.statuses(session, [rule_id])
            views = self.directory.views(session)
        names = {c.id: c.name for c in views.everything.campaigns}
        return _view(rule, _by_rule(shown_statuses(stored, [rule], views)), names)

    def change(
        self,
        rule_id: int,
        action: str,
        *,
        user: str | None,
        is_admin: bool,
        viewer: str | None = None,
    ) -> RuleView | None:
        """pause, resume (also clears its snooze and mutes) or remove; only its creator or a
        workspace admin may (user None: the CLI, run by whoever runs kpibot), and only from a
        channel that may know of it."""
        found = self.get(rule_id, viewer=viewer)
        self._allowed(found, user, is_admin)
        now = self.clock()
        with write_scope(self.sessions) as session:
            if action == "remove":
                alerts.remove_rule(session, rule_id)
                return None
            if action == "pause":
                alerts.update_rule(session, rule_id, now, paused=True)
            else:
                alerts.update_rule(
                    session, rule_id, now, paused=False, snoozed_until=None, last_error=None
                )
        if action == "resume":
            alerts.unmute(self.engine, rule_id, now)
        return self.view(rule_id)

    def snooze(
        self,
        rule_id: int,
        duration: str,
        *,
        user: str | None,
        is_admin: bool,
        viewer: str | None = None,
    ) -> RuleView:
        """No new alerts or reminders from the rule until the time is up (it still resolves)."""
        found = self.get(rule_id, viewer=viewer)
        length = parse_duration(duration)
        self._allowed(found, user, is_admin)
        now = self.clock()
        with write_scope(self.sessions) as session:
            alerts.update_rule(session, rule_id, now, snoozed_until=now + length)
        return self.view(rule_id)

    def _allowed(self, rule: StoredRule, user: str | None, is_admin: bool) -> None:
        if user is not None and user not in (rule.created_by, rule.rule.notify) and not is_admin:
            raise NotAllowed(messages.alert_not_yours(rule.id, rule.created_by))

    def history(
        self,
        rule_id: int | None = None,
        limit: int = HISTORY_LIMIT,
        *,
        channel: str | None = None,
        viewer: str | None = None,
    ) -> list[HistoryEntry]:
        """Newest first, each with the ledger status of its post: one rule's, one channel's
        rules', or all; never a campaign the rule's channel (nor `viewer`, the channel asking)
        may not see, and from a limited `viewer` never another channel's rule by id."""
        if rule_id is not None:
            self.get(rule_id, viewer=viewer)
        with session_scope(self.sessions) as session:
            entries = alerts.history(session, rule_id, limit, channel=channel)
            views = self.directory.views(session)
            if views.limits:
                rules = (alerts.get_rule(session, i) for i in {e.rule_id for e in entries})
                channels = {r.id: r.channel for r in rules if r is not None}
                entries = shown_entries(entries, channels, views, viewer)
        keys = {ledger_key(e.campaign_id, e.day, e.event) for e in entries}
        records = deliveries.records(self.engine, KIND, {e.rule_id for e in entries}, keys)
        result = []
        for e in entries:
            record = records.get((e.rule_id, ledger_key(e.campaign_id, e.day, e.event)))
            if record is not None:
                e = replace(e, delivery=record.status, error=record.error)
            result.append(e)
        return result

    # ------------------------------------------------------------------ now

    def evaluated_day(self, now: datetime) -> date:
        """The latest completed day in KPIBOT_TIMEZONE."""
        return today_in(self.tz, now) - timedelta(days=1)

    def preview(self, stored: StoredRule, now: datetime | None = None) -> RulePreview:
        """The rule evaluated on the newest day its scope has data for (up to yesterday)."""
        moment = now or self.clock()
        with session_scope(self.sessions) as session:
            sees = visibility_of(session, stored.channel)
            scopes = Scopes(self.directory.visible(session, sees).campaigns)
            campaigns = scopes.of(stored.rule.scope)
            newest = latest_day(session, [c.id for c in campaigns]) if campaigns else None
            if newest is None:
                return RulePreview(stored, None, (), len(campaigns))
            day = min(newest, self.evaluated_day(moment))
            whole = stored.rule.scope.kind == "all" and not sees.limited
            verdicts = self._verdicts(
                session,
                [stored],
                scopes,
                day,
                hold_missing=False,
                scope=None if whole else campaigns,
            )
        lines = [_preview_line(v) for _, _, found in verdicts for v in found]
        lines.sort(key=lambda line: (line.breached is not True, line.campaign.lower()))
        fires = sum(1 for line in lines if line.breached)
        return RulePreview(stored, day, tuple(lines[:PREVIEW_LINES]), len(campaigns), fires)

    def _verdicts(
        self,
        session: Session,
        rules: Sequence[StoredRule],
        scopes: Scopes,
        day: date,
        *,
        hold_missing: bool,
        scope: Sequence[CampaignInfo] | None = None,
    ) -> list[tuple[StoredRule, RuleData, list[Verdict]]]:
        """Judge the rules on `day`; `scope` limits the sums to those campaigns (one
        rule's preview), else every campaign is summed once per range."""
        needed = ranges(rules, day)
        ids = None if scope is None else [c.id for c in scope]
        summed: dict[DateRange, dict[int, Totals]] = {
            r: {cid: t.totals for cid, t in totals_by_campaign(session, *r, ids).items()}
            for r in sorted(needed)
        }
        last_days = accounts_last_day(session, day - timedelta(days=FRESHNESS_DAYS), day)
        return [
            (stored, data, verdicts)
            for stored, data, verdicts in sweep(
                rules,
                scopes,
                day,
                summed.__getitem__,
                last_days,
                self.economics,
                hold_missing=hold_missing,
            )
        ]

    # ------------------------------------------------------------------ check

    def check(self, now: datetime | None = None, *, dry_run: bool = False) -> CheckReport:
        """Evaluate every active rule on the latest completed day and post what changed; a
        rule in a limited channel judges only the campaigns that channel may see."""
        moment = now or self.clock()
        day = self.evaluated_day(moment)
        report = CheckReport(day=day)
        landing_over = moment >= _day_end(day, self.tz) + self.landing_grace
        with session_scope(self.sessions) as session:
            rules = alerts.list_rules(session, active=True)
            report.rules = len(rules)
            stored = alerts.statuses(session, [r.id for r in rules]) if rules else {}
            views = self.directory.views(session)  # every channel limit, read once
            scopes = Scopes(views.everything.campaigns, views.limits)
            judged = self._verdicts(session, rules, scopes, day, hold_missing=True)
        posting = None if dry_run else self._posting()
        if posting is not None:
            for rule, status in hidden_incidents(rules, stored, views):
                self._close_hidden(rule, status, day, moment, report)
        for rule, data, verdicts in judged:
            self._rule_data(rule, data, day, moment, landing_over, posting, report)
            for verdict in verdicts:
                if verdict.evaluation is None and not landing_over:
                    continue  # the day may still land: judge it then
                report.evaluated += verdict.evaluation is not None
                old = stored.get((rule.id, verdict.campaign.id)) or CampaignStatus(
                    rule.id, verdict.campaign.id
                )
                self._apply(rule, verdict, old, day, moment, posting, report)
        if posting is not None:
            self._retry_due(posting, moment, report)
        return report

    def _close_hidden(
        self, rule: StoredRule, old: CampaignStatus, day: date, now: datetime, report: CheckReport
    ) -> None:
        """Close an incident whose campaign the rule's channel may no longer see, without a
        post (a resolve would name it there); it fires anew if the limit is lifted."""
        new = replace(old, state=AlertState.OK, open_incident=False, streak=0)
        event = alerts.EventRow(
            rule.id,
            old.campaign_id,
            day,
            f"hidden@v{old.version + 1}",
            AlertState.OK.value,
            now,
            explanation=messages.ALERT_HIDDEN,
        )
        if alerts.apply(self.engine, old, new, event, now) is None:
            report.busy += 1
            return
        report.recorded += 1
        log.info(
            "alert %s: campaign %s hidden in channel %s: closed without a post",
            rule.id,
            old.campaign_id,
            rule.channel,
        )

    def deliver_due(self, now: datetime | None = None) -> CheckReport:
        """Only the retries that are due (the scheduler's every-minute pass)."""
        moment = now or self.clock()
        report = CheckReport()
        posting = self._posting(required=False)
        if posting is not None:
            self._retry_due(posting, moment, report)
        return report

    def _posting(self, *, required: bool = True) -> AlertPosting | None:
        if self.poster is None or self.render is None or self.render_incident is None:
            if required:
                raise QueryError(messages.SLACK_NOT_CONFIGURED)
            return None
        return AlertPosting(
            self.engine,
            self.sessions,
            self.poster,
            self.render,
            self.render_incident,
            self.owner,
            self.lease,
            self.clock,
        )

    def _apply(
        self,
        rule: StoredRule,
        verdict: Verdict,
        old: CampaignStatus,
        day: date,
        now: datetime,
        posting: AlertPosting | None,
        report: CheckReport,
    ) -> None:
        found = change(rule, old, verdict.evaluation, day, now, self.repeat)
        if found is None:
            return
        evaluation = verdict.evaluation
        notice = Notice(
            found.post or Post.FIRE,
            rule,
            day,
            verdict.campaign.id,
            verdict.campaign.name,
            verdict.campaign.currency,
            exact(evaluation.value) if evaluation else None,
            exact(evaluation.baseline) if evaluation else None,
            evaluation.explanation if evaluation else messages.ALERT_NO_DATA_CAMPAIGN,
            incident_day=found.status.incident_day,
            ref=IncidentRef(rule.id, verdict.campaign.id, found.status.incident).encode(),
        )
        if posting is None:  # dry run: say what would happen, write nothing
            if found.post is not None:
                report.planned.append(notice)
                _count(report, found.post)
            return
        event = None
        if found.event is not None:
            event = alerts.EventRow(
                rule.id,
                verdict.campaign.id,
                day,
                found.event,
                found.status.state.value,
                now,
                notice.value,
                notice.baseline,
                notice.explanation,
            )
        if alerts.apply(self.engine, old, found.status, event, now) is None:
            report.busy += 1
            return
        report.recorded += event is not None
        if found.post is None or found.event is None:
            return
        _count(report, found.post)
        thread = (old.channel, old.ts) if old.channel and old.ts else None
        key = ledger_key(verdict.campaign.id, day, found.event)
        if found.post is Post.RESOLVE and thread is None and self._never_posted(rule, old):
            # Came and went while its alert waited for a retry (or failed): say nothing.
            deliveries.record_skipped(
                self.engine, KIND, rule.id, key, reason="its alert was never posted", now=now
            )
            return
        posting.deliver(
            notice,
            key,
            incident=found.status.incident,
            thread=thread,
            now=now,
            report=report,
            then_update=self._redrawn(rule, found.status, verdict.campaign, now)
            if found.post is Post.RESOLVE
            else None,
        )

    def _never_posted(self, rule: StoredRule, old: CampaignStatus) -> bool:
        """Whether the incident's fire is waiting for a retry or gave up (not merely being
        posted by another process right now)."""
        if old.incident_day is None:
            return False
        key = ledger_key(old.campaign_id, old.incident_day, f"fire#{old.incident}")
        record = deliveries.records(self.engine, KIND, {rule.id}, {key}).get((rule.id, key))
        return record is not None and record.status in (
            deliveries.RETRY,
            deliveries.FAILED,
            deliveries.SKIPPED,
        )

    def _redrawn(
        self, rule: StoredRule, status: CampaignStatus, campaign: CampaignInfo | None, now: datetime
    ) -> Notice:
        """The incident's first message as it should look now (after resolve, ack, …)."""
        with session_scope(self.sessions) as session:
            fired = alerts.event(
                session,
                rule.id,
                status.campaign_id,
                status.incident_day or now.date(),
                f"fire#{status.incident}",
            )
            resolved = None
            if status.state is AlertState.RESOLVED:
                resolved = (
                    alerts.resolved_at(session, rule.id, status.campaign_id, status.incident) or now
                )
        return _incident_notice(rule, status, campaign, fired, resolved)

    def _rule_data(
        self,
        rule: StoredRule,
        data: RuleData,
        day: date,
        now: datetime,
        landing_over: bool,
        posting: AlertPosting | None,
        report: CheckReport,
    ) -> None:
        """One "no data since …" notice per spell of missing data, per rule."""
        missing, since = data.missing, data.since
        if not missing or since is None:
            if rule.no_data_since is not None and posting is not None:
                with session_scope(self.sessions) as session:
                    alerts.update_rule(session, rule.id, now, no_data_since=None)
            return
        if not landing_over or rule.no_data_since is not None:
            return
        notice = Notice(
            Post.NO_DATA,
            rule,
            since,
            RULE,
            explanation="; ".join(missing),
            since=since,
            accounts=missing,
        )
        report.no_data += 1
        if posting is None:
            report.planned.append(notice)
            return
        event = alerts.EventRow(
            rule.id, RULE, since, "no_data", "no_data", now, explanation=notice.explanation
        )
        if alerts.record_event(self.engine, event) is None:
            report.busy += 1
            return
        with session_scope(self.sessions) as session:
            alerts.update_rule(session, rule.id, now, no_data_since=since)
        posting.deliver(
            notice,
            ledger_key(RULE, since, "no_data"),
            incident=0,
            thread=None,
            now=now,
            report=report,
        )

    def _retry_due(self, posting: AlertPosting, now: datetime, report: CheckReport) -> None:
        """Posts that failed for a while (or whose process died): post them now, if still
        true."""
        views: ChannelViews | None = None
        for record in deliveries.due(self.engine, KIND, now, self.lease):
            campaign_id, day, event = parse_key(record.key)
            post = post_of(event)
            with session_scope(self.sessions) as session:
                rule = alerts.get_rule(session, record.subject_id)
                entry = alerts.event(session, record.subject_id, campaign_id, day, event)
                status = alerts.statuses(session, [record.subject_id]).get(
                    (record.subject_id, campaign_id)
                )
                campaign = self.directory.current(session).by_id.get(campaign_id)
                views = views or self.directory.views(session)  # once per pass, when needed
            if rule is None or entry is None or post is None:
                posting.skip(record.subject_id, record.key, "its rule is gone", now)
                continue
            if not can_see(views, rule.channel, campaign_id):
                posting.skip(rule.id, record.key, "its channel may no longer see it", now)
                continue
            incident = incident_of(event)
            if post is not Post.NO_DATA and (status is None or status.incident != incident):
                posting.skip(rule.id, record.key, "the incident moved on", now)
                continue
            if post in (Post.FIRE, Post.REMIND) and status is not None and not status.open_incident:
                # A late "fired" or "still firing" after the resolve would say the opposite.
                posting.skip(rule.id, record.key, "resolved before it could be posted", now)
                continue
            notice = _notice_of(entry, rule, post, campaign, status)
            thread = (
                (status.channel, status.ts) if status and status.channel and status.ts else None
            )
            redraw = None
            if post is Post.RESOLVE and status is not None:
                redraw = self._redrawn(rule, status, campaign, now)
            posting.deliver(
                notice,
                record.key,
                incident=incident,
                thread=thread,
                now=now,
                report=report,
                then_update=redraw,
            )

    # ------------------------------------------------------------------ buttons

    def act(
        self,
        ref: IncidentRef,
        action: Action,
        *,
        user: str,
        is_admin: bool = False,
        length: timedelta | None = None,
        viewer: str | None = None,
    ) -> Notice:
        """Acknowledge, snooze or mute one incident; the Notice to redraw its message with.

        Anyone in the channel may acknowledge; snoozing and muting change what the rule tells
        everyone, so they are for its creator, the person it notifies, or an admin. Pressed in
        `viewer`, a limited channel, another channel's rule is not found.
        """
        rule = self.get(ref.rule_id, viewer=viewer)
        if action is not Action.ACKNOWLEDGE:
            self._allowed(rule, user, is_admin)
        with session_scope(self.sessions) as session:
            if not can_see(self.directory.views(session), rule.channel, ref.campaign_id):
                raise StaleButton(messages.ALERT_BUTTON_STALE)  # as for a campaign gone
        now = self.clock()
        for _ in range(5):  # another process may change the status in between: read again
            with session_scope(self.sessions) as session:
                old = alerts.statuses(session, [rule.id]).get((rule.id, ref.campaign_id))
                campaign = self.directory.current(session).by_id.get(ref.campaign_id)
            if old is None or old.incident != ref.incident:
                raise StaleButton(messages.ALERT_BUTTON_STALE)
            if action is Action.ACKNOWLEDGE:
                new = replace(old, acknowledged_by=user, acknowledged_at=now)
            elif action is Action.SNOOZE:
                new = replace(old, snoozed_until=now + (length or timedelta(days=1)))
            else:
                new = replace(old, muted=True)
            event = alerts.EventRow(
                rule.id,
                ref.campaign_id,
                today_in(self.tz, now),
                f"{action.value}@v{old.version + 1}",
                new.state.value,
                now,
                explanation=(
                    f"until {new.snoozed_until.astimezone(self.tz):%Y-%m-%d %H:%M %Z}"
                    if action is Action.SNOOZE and new.snoozed_until
                    else ""
                ),
                by_user=user,
            )
            if alerts.apply(self.engine, old, new, event, now) is not None:
                return self._redrawn(rule, new, campaign, now)
        raise QueryError(messages.ALERT_BUSY)


# ---------------------------------------------------------------------- helpers


def _count(report: CheckReport, post: Post) -> None:
    if post is Post.FIRE:
        report.fired += 1
    elif post is Post.REMIND:
        report.reminded += 1
    elif post is Post.RESOLVE:
        report.resolved += 1


def _day_end(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)


def _by_rule(stored: dict[tuple[int, int], CampaignStatus]) -> dict[int, list[CampaignStatus]]:
    grouped: dict[int, list[CampaignStatus]] = {}
    for (rule_id, _), status in stored.items():
        grouped.setdefault(rule_id, []).append(status)
    return grouped


def _view(
    rule: StoredRule, stored: dict[int, list[CampaignStatus]], names: dict[int, str]
) -> RuleView:
    mine = stored.get(rule.id, [])

    def named(keep: Callable[[CampaignStatus], bool]) -> tuple[str, ...]:
        return tuple(
            sorted(str(names.get(s.campaign_id, f"#{s.campaign_id}")) for s in mine if keep(s))
        )

    firing = named(lambda s: s.state is AlertState.FIRING)
    pending = named(lambda s: s.state is AlertState.PENDING)
    if firing:
        state = AlertState.FIRING
    elif rule.no_data_since is not None:
        state = AlertState.NO_DATA
    elif pending:
        state = AlertState.PENDING
    else:
        state = AlertState.OK
    return RuleView(
        rule,
        state,
        firing,
        pending,
        named(lambda s: s.muted),
        named(lambda s: s.state is AlertState.FIRING and bool(s.acknowledged_by)),
    )


def _preview_line(verdict: Verdict) -> PreviewLine:
    evaluation = verdict.evaluation
    c = verdict.campaign
    if evaluation is None:
        return PreviewLine(
            c.id, c.name, c.currency, None, None, None, messages.ALERT_NO_DATA_CAMPAIGN
        )
    return PreviewLine(
        c.id,
        c.name,
        c.currency,
        exact(evaluation.value),
        exact(evaluation.baseline),
        evaluation.breached,
        evaluation.explanation,
    )


def _notice_of(
    entry: HistoryEntry,
    rule: StoredRule,
    post: Post,
    campaign: CampaignInfo | None,
    status: CampaignStatus | None,
) -> Notice:
    accounts = tuple(entry.explanation.split("; ")) if post is Post.NO_DATA else ()
    return Notice(
        post,
        rule,
        entry.day,
        entry.campaign_id,
        campaign.name if campaign else entry.campaign,
        campaign.currency if campaign else "",
        entry.value,
        entry.baseline,
        entry.explanation,
        since=entry.day if post is Post.NO_DATA else None,
        accounts=accounts,
        incident_day=status.incident_day if status else None,
        acknowledged_by=status.acknowledged_by if status else None,
        snoozed_until=status.snoozed_until if status else None,
        muted=status.muted if status else False,
        ref=IncidentRef(rule.id, entry.campaign_id, incident_of(entry.event)).encode(),
    )


def _incident_notice(
    rule: StoredRule,
    status: CampaignStatus,
    campaign: CampaignInfo | None,
    fired: HistoryEntry | None,
    resolved_at: datetime | None,
) -> Notice:
    """The incident's top-level message as it should look now."""
    return Notice(
        Post.FIRE,
        rule,
        status.incident_day or date.today(),
        status.campaign_id,
        campaign.name if campaign else None,
        campaign.currency if campaign else "",
        fired.value if fired else None,
        fired.baseline if fired else None,
        fired.explanation if fired else "",
        incident_day=status.incident_day,
        resolved_at=resolved_at,
        acknowledged_by=status.acknowledged_by,
        snoozed_until=status.snoozed_until,
        muted=status.muted,
        ref=IncidentRef(rule.id, status.campaign_id, status.incident).encode(),
    )


def _canonical_scope(scope: ScopeSpec, index: CampaignIndex) -> ScopeSpec:
    """The scope with campaign names as stored; RuleError when it matches nothing."""
    if not index.campaigns:
        raise NothingToShow(messages.NO_DATA_YET)
    if scope.kind != "campaigns":
        if not Scopes(index.campaigns).of(scope):
            raise RuleError(messages.alert_scope_empty(f"{scope.kind} {scope.values[0]}"))
        return scope
    names = []
    for text in scope.values:
        match = index.match(text)
        if match.campaign is None:
            raise RuleError(
                messages.alert_unknown_campaign(text, [c.name for c in match.candidates])
            )
        names.append(match.campaign.name)
    return ScopeSpec("campaigns", tuple(dict.fromkeys(names)))
