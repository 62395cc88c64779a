"""Digests end to end: subscriptions, what is due, building from set-based queries, posting once.

`run_due` is the one delivery path — the scheduler's jobs, `kpibot digest run-due` and cron all
call it. The ledger (storage/deliveries.py) makes it safe to call from any number of processes
at any time: a digest is posted only by the process that claimed its (subscription, local
date), and the Slack `ts` is recorded after.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot import messages
from bot.access.model import Visibility
from bot.access.owners import hidden_from
from bot.campaign import CampaignInfo
from bot.delivery.posting import GiveUp, Poster, PostFailure, next_step
from bot.digests.content import (
    DigestContent,
    DigestDays,
    DigestInput,
    DigestPreview,
    build_digest,
)
from bot.digests.schedule import Schedule
from bot.digests.words import DigestSpec, parse_digest_words
from bot.directory import ChannelViews
from bot.kpi import Economics, Totals
from bot.matching import CampaignIndex
from bot.query import NothingToShow, QueryError, ScopeSpec
from bot.service import CampaignDirectory
from storage import deliveries, digests
from storage.access import visibility_of
from storage.database import session_scope
from storage.metrics import daily_money, totals_by_campaign
from storage.write_lock import write_scope

log = logging.getLogger("kpibot.digests")

KIND = "digest"
FRESHNESS_DAYS = 7
TREND_DAYS = 14
LOOKBACK = timedelta(days=2)
RECHECK = timedelta(minutes=15)
"""How often a digest waiting for data looks again."""


Trend = tuple[tuple[str, tuple[tuple[date, Decimal], ...]], ...]
RevenueTrend = tuple[tuple[str, tuple[tuple[date, Decimal | None], ...]], ...]
# Content, missing accounts, data through, trends: built once per scope, limit and day.
_Built = tuple[DigestContent, tuple[str, ...] | None, date | None, tuple[Trend, RevenueTrend]]


@dataclass(frozen=True, slots=True)
class DigestView:
    """A subscription as `digest list` shows it."""

    subscription: digests.Subscription
    next_run: datetime | None
    last: deliveries.DeliveryRecord | None


@dataclass
class RunReport:
    """What one `run_due` pass did."""

    due: int = 0
    sent: int = 0
    skipped: int = 0
    waiting: int = 0
    failed: int = 0
    retried: int = 0
    busy: int = 0  # claimed by another process, or already done
    notes: list[str] = field(default_factory=list)

    def lines(self) -> str:
        return (
            f"due={self.due} sent={self.sent} skipped={self.skipped} waiting={self.waiting} "
            f"retried={self.retried} failed={self.failed} busy={self.busy}"
        )


class DigestNotFound(NothingToShow):
    code = "not_found"


class NotAllowed(QueryError):
    code = "forbidden"


def _owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def describe_schedule(schedule: Schedule) -> str:
    return f"{schedule.describe_days()} at {schedule.at:%H:%M} {schedule.timezone}"


@dataclass
class DigestService:
    """Digest subscriptions and their delivery, for Slack, the CLI and the scheduler."""

    engine: Engine
    sessions: sessionmaker[Session]
    directory: CampaignDirectory
    economics: Economics
    default_timezone: str
    poster: Poster | None = None
    wait: timedelta = timedelta(hours=3)
    grace: timedelta = timedelta(hours=3)
    lease: timedelta = timedelta(minutes=10)
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    render: Callable[[DigestPreview], dict[str, Any]] | None = None
    """The Slack message of a digest (bot.render.digest_blocks.digest_message)."""
    chart: Callable[[DigestPreview], bytes | None] | None = None
    owner: str = field(default_factory=_owner)

    # ------------------------------------------------------------------ subscriptions

    def add(self, words: list[str], *, channel: str, user: str) -> DigestView:
        """Store a subscription from `digest add` words; QueryError names what to fix.

        Campaign names resolve only among the campaigns the channel may see.
        """
        spec = parse_digest_words(words, self.default_timezone)
        with write_scope(self.sessions) as session:
            sees = visibility_of(session, channel)
            index = self.directory.visible(session, sees)
            if sees.limited and not index.campaigns:
                raise NothingToShow(messages.CHANNEL_SEES_NOTHING)
            scope = _canonical_scope(spec, index)
            now = self.clock()
            stored = digests.add_subscription(
                session,
                channel=channel,
                schedule=spec.schedule,
                scope=scope,
                created_by=user,
                now=now,
            )
        return DigestView(stored, stored.schedule.next_run(now), None)

    def subscriptions(self, channel: str | None = None) -> list[DigestView]:
        with session_scope(self.sessions) as session:
            found = digests.list_subscriptions(session, channel)
        last = deliveries.latest(self.engine, KIND, [s.id for s in found])
        now = self.clock()
        return [
            DigestView(s, None if s.paused else s.schedule.next_run(now), last.get(s.id))
            for s in found
        ]

    def get(self, subscription_id: int, *, viewer: str | None = None) -> digests.Subscription:
        """The subscription; asked from `viewer`, a limited channel, another channel's is not
        found, as an unknown id (None: the CLI, which sees every channel's)."""
        with session_scope(self.sessions) as session:
            found = digests.get_subscription(session, subscription_id)
            if found is not None and hidden_from(session, viewer, found.channel):
                found = None
        if found is None:
            raise DigestNotFound(messages.no_digest(subscription_id))
        return found

    def change(
        self,
        subscription_id: int,
        action: str,
        *,
        user: str | None,
        is_admin: bool,
        viewer: str | None = None,
    ) -> DigestView | None:
        """pause, resume or remove; only its creator or a workspace admin may (user None: the
        CLI, run by whoever runs kpibot), and only from a channel that may know of it."""
        found = self.get(subscription_id, viewer=viewer)
        if user is not None and user != found.created_by and not is_admin:
            raise NotAllowed(messages.digest_not_yours(subscription_id, found.created_by))
        now = self.clock()
        with write_scope(self.sessions) as session:
            if action == "remove":
                digests.remove_subscription(session, subscription_id)
                return None
            digests.set_paused(session, subscription_id, action == "pause", now)
            if action == "resume":
                digests.set_last_error(session, subscription_id, None, now)
        return next(v for v in self.subscriptions() if v.subscription.id == subscription_id)

    def schedules(self) -> list[tuple[int, Schedule]]:
        """Active subscriptions and their schedules, for the scheduler's triggers."""
        with session_scope(self.sessions) as session:
            return [(s.id, s.schedule) for s in digests.list_subscriptions(session) if not s.paused]

    def fingerprint(self) -> tuple[int, int, str]:
        with session_scope(self.sessions) as session:
            return digests.subscriptions_fingerprint(session)

    # ------------------------------------------------------------------ content

    def preview(
        self, subscription_id: int, now: datetime | None = None, *, viewer: str | None = None
    ) -> DigestPreview:
        """The digest as it would be posted at `now` (default: the current time); asked from
        `viewer`, a limited channel, another channel's digest is not found (it may show more)."""
        subscription = self.get(subscription_id, viewer=viewer)
        moment = now or self.clock()
        return self._build([subscription], moment, with_trend=False)[subscription.id]

    def _build(
        self,
        subscriptions: Iterable[digests.Subscription],
        now: datetime,
        *,
        with_trend: bool,
    ) -> dict[int, DigestPreview]:
        """Digests of "yesterday" in each subscription's zone: one set of grouped queries per
        distinct day, shared by every subscription (and content shared per scope and channel
        limit). Every channel limit is read once: a digest in a limited channel covers only
        what that channel may see, whatever its own scope says."""
        by_day: dict[date, list[digests.Subscription]] = {}
        for s in subscriptions:
            yesterday = now.astimezone(s.schedule.zone).date() - timedelta(days=1)
            by_day.setdefault(yesterday, []).append(s)
        built: dict[int, DigestPreview] = {}
        with session_scope(self.sessions) as session:
            views = self.directory.views(session)
            for day, group in by_day.items():
                built.update(self._build_day(session, views, DigestDays(day), group, with_trend))
        return built

    def _build_day(
        self,
        session: Session,
        views: ChannelViews,
        days: DigestDays,
        group: list[digests.Subscription],
        with_trend: bool,
    ) -> dict[int, DigestPreview]:
        def totals(start: date, end: date) -> dict[int, Totals]:
            return {
                cid: found.totals for cid, found in totals_by_campaign(session, start, end).items()
            }

        day = totals(days.day, days.day)
        before = totals(days.day_before, days.day_before)
        week = totals(days.week_ago, days.week_ago)
        month = totals(days.month_start, days.day)
        volume = totals(days.volume_start, days.volume_end)
        accounts = digests.accounts_last_day(
            session, days.day - timedelta(days=FRESHNESS_DAYS), days.day
        )
        money_by_day = daily_money(session, days.day - timedelta(days=TREND_DAYS - 1), days.day)
        contents: dict[tuple[ScopeSpec, Visibility], _Built] = {}
        result: dict[int, DigestPreview] = {}
        for s in group:
            sees = views.sees(s.channel)
            key = (s.scope, sees)
            if key not in contents:
                # Only the scope's campaigns the channel may see: the shared sums are picked
                # by these, so hidden campaigns never reach a total, a list or the chart.
                campaigns = {c.id: c for c in _resolve(s.scope, views.of(s.channel))}

                data = DigestInput(
                    campaigns,
                    *(_pick(found, campaigns) for found in (day, before, week, month, volume)),
                )
                content = build_digest(days, data, self.economics)
                missing = _missing_accounts(campaigns.values(), accounts, days.day)
                through = max(
                    (accounts[a] for a in _accounts_of(campaigns.values()) if a in accounts),
                    default=None,
                )
                trend = _trend(campaigns, money_by_day) if with_trend else ((), ())
                contents[key] = (content, missing, through, trend)
            content, missing, through, (spend_trend, revenue_trend) = contents[key]
            result[s.id] = DigestPreview(
                s.id,
                s.channel,
                describe_schedule(s.schedule),
                s.scope.describe(),
                days.day,
                through,
                missing,
                content,
                spend_trend,
                revenue_trend,
                sees if sees.limited else None,
            )
        return result

    # ------------------------------------------------------------------ delivery

    def run_due(self, now: datetime | None = None) -> RunReport:
        """Deliver every digest due at `now` that has not been delivered yet."""
        moment = now or self.clock()
        report = RunReport()
        with session_scope(self.sessions) as session:
            active = [s for s in digests.list_subscriptions(session) if not s.paused]
        due: list[tuple[digests.Subscription, date, datetime]] = []
        for s in active:
            for local_day, instant in s.schedule.occurrences(moment - LOOKBACK, moment):
                if instant < s.created_at - timedelta(minutes=1):
                    continue  # before the subscription existed
                due.append((s, local_day, instant))
        report.due = len(due)
        if not due:
            return report
        known = deliveries.records(
            self.engine, KIND, {s.id for s, _, _ in due}, {d.isoformat() for _, d, _ in due}
        )
        fresh: list[tuple[digests.Subscription, date, datetime]] = []
        for s, local_day, instant in due:
            key = local_day.isoformat()
            record = known.get((s.id, key))
            if record is not None and not deliveries.claimable(record, moment, self.lease):
                report.busy += 1
                continue
            if moment - instant > self.grace and (s.id, key) not in known:
                deliveries.record_skipped(
                    self.engine,
                    KIND,
                    s.id,
                    key,
                    reason="missed beyond the grace period",
                    now=moment,
                )
                report.skipped += 1
                continue
            fresh.append((s, local_day, instant))
        if not fresh:
            return report
        previews = self._build([s for s, _, _ in fresh], moment, with_trend=self.chart is not None)
        for s, local_day, instant in fresh:
            preview = previews[s.id]
            if preview.incomplete and moment - instant < self.wait:
                # Data not landed yet: the next pass looks again (the ledger row keeps the
                # grace period from skipping it meanwhile).
                deliveries.record_waiting(
                    self.engine,
                    KIND,
                    s.id,
                    local_day.isoformat(),
                    reason="waiting for data: " + ", ".join(preview.incomplete),
                    now=moment,
                    until=min(moment + RECHECK, instant + self.wait),
                )
                report.waiting += 1
                continue
            self._deliver(s, local_day.isoformat(), preview, moment, report)
        return report

    def send(
        self, subscription_id: int, now: datetime | None = None, *, viewer: str | None = None
    ) -> RunReport:
        """Post a digest now, whatever its schedule (once per request: a fresh ledger key);
        asked from `viewer`, a limited channel, another channel's digest is not found."""
        subscription = self.get(subscription_id, viewer=viewer)
        moment = now or self.clock()
        preview = self._build([subscription], moment, with_trend=self.chart is not None)
        report = RunReport(due=1)
        key = f"send:{moment.isoformat()}:{uuid.uuid4().hex[:6]}"
        self._deliver(subscription, key, preview[subscription.id], moment, report)
        return report

    def _deliver(
        self,
        s: digests.Subscription,
        key: str,
        preview: DigestPreview,
        now: datetime,
        report: RunReport,
    ) -> None:
        if self.poster is None or self.render is None:
            raise QueryError(messages.SLACK_NOT_CONFIGURED)
        claim = deliveries.claim(
            self.engine, KIND, s.id, key, owner=self.owner, now=now, lease=self.lease
        )
        if claim is None:
            report.busy += 1
            return
        if claim.attempts > 1:
            report.retried += 1
        try:
            channel, ts = self.poster.post(s.channel, self.render(preview))
        except PostFailure as failure:
            self._failed(s, claim, failure, now, report)
            return
        deliveries.mark_sent(self.engine, claim, channel=channel, ts=ts, now=self.clock())
        report.sent += 1
        self._upload_chart(s, preview)

    def _upload_chart(self, s: digests.Subscription, preview: DigestPreview) -> None:
        if self.chart is None or self.poster is None or not preview.trend:
            return
        try:
            png = self.chart(preview)
            if png:
                self.poster.upload_png(
                    s.channel,
                    png,
                    title=messages.digest_chart_title(preview.day),
                    filename=f"kpibot-digest-{preview.day}.png",
                )
        except Exception:  # the digest went out; a missing chart must not undo that
            log.exception("digest %s: trend chart not posted", s.id)

    def _failed(
        self,
        s: digests.Subscription,
        claim: deliveries.Claim,
        failure: PostFailure,
        now: datetime,
        report: RunReport,
    ) -> None:
        step = next_step(failure, claim.attempts, now)
        if not isinstance(step, GiveUp):
            deliveries.mark_retry(self.engine, claim, retry_at=step.when, error=step.error)
            report.notes.append(f"digest {s.id}: {failure.error}, retry at {step.when:%H:%M:%S}")
            return
        deliveries.mark_failed(self.engine, claim, error=step.error, now=now)
        report.failed += 1
        log.warning("digest %s: not delivered: %s", s.id, step.error)
        with session_scope(self.sessions) as session:
            digests.set_last_error(session, s.id, step.error, now)
        if step.report and self.poster is not None and s.created_by and not s.last_error:
            # Once per failure spell: last_error was clear until now.
            try:
                self.poster.direct_message(
                    s.created_by, messages.digest_failed_dm(s.id, s.channel, step.error)
                )
            except PostFailure as exc:
                log.warning("digest %s: could not tell %s: %s", s.id, s.created_by, exc.error)


# ---------------------------------------------------------------------- scope


def _pick(found: dict[int, Totals], campaigns: dict[int, CampaignInfo]) -> dict[int, Totals]:
    """The totals of the scope's campaigns, walking the smaller of the two."""
    if len(campaigns) < len(found):
        return {cid: found[cid] for cid in campaigns if cid in found}
    return {cid: t for cid, t in found.items() if cid in campaigns}


def _resolve(scope: ScopeSpec, index: CampaignIndex) -> list[CampaignInfo]:
    if scope.kind == "all":
        return list(index.campaigns)
    if scope.kind == "channel":
        return [c for c in index.campaigns if c.channel == scope.values[0]]
    if scope.kind == "platform":
        return [c for c in index.campaigns if c.platform == scope.values[0]]
    wanted = {v.lower() for v in scope.values}
    return [c for c in index.campaigns if c.name.lower() in wanted]


def _canonical_scope(spec: DigestSpec, index: CampaignIndex) -> ScopeSpec:
    """The scope with campaign names as stored; QueryError when it matches nothing."""
    scope = spec.scope
    if not index.campaigns:
        raise NothingToShow(messages.NO_DATA_YET)
    if scope.kind != "campaigns":
        if not _resolve(scope, index):
            raise NothingToShow(messages.no_group(scope.kind, scope.values[0]))
        return scope
    names = []
    for text in scope.values:
        match = index.match(text)
        if match.campaign is None:
            raise NothingToShow(
                messages.digest_unknown_campaign(text, [c.name for c in match.candidates])
            )
        names.append(match.campaign.name)
    return ScopeSpec("campaigns", tuple(dict.fromkeys(names)))


# ---------------------------------------------------------------------- freshness


def _accounts_of(campaigns: Iterable[CampaignInfo]) -> set[tuple[str, str]]:
    return {(c.platform, c.account) for c in campaigns}


def _missing_accounts(
    campaigns: Iterable[CampaignInfo], accounts: dict[tuple[str, str], date], day: date
) -> tuple[str, ...] | None:
    """Ad accounts of the scope that had rows in the week before `day` but none on `day`."""
    missing = sorted(
        f"{platform} {account}".strip()
        for platform, account in _accounts_of(campaigns)
        if (platform, account) in accounts and accounts[(platform, account)] < day
    )
    return tuple(missing) or None


def _trend(
    campaigns: dict[int, CampaignInfo], money: dict[tuple[int, date], tuple[int, int | None]]
) -> tuple[Trend, RevenueTrend]:
    """Per currency, daily spend and revenue of the scope (revenue None on a day some campaign
    did not report it: a partial sum would draw a false dip)."""
    spend: dict[str, dict[date, int]] = {}
    revenue: dict[str, dict[date, int | None]] = {}
    for (cid, day), (spent, earned) in money.items():
        campaign = campaigns.get(cid)
        if campaign is None:
            continue
        code = campaign.currency
        spend.setdefault(code, {})[day] = spend.get(code, {}).get(day, 0) + spent
        before = revenue.setdefault(code, {}).get(day, 0)
        revenue[code][day] = None if before is None or earned is None else before + earned
    unit = Decimal(1_000_000)
    return (
        tuple(
            (code, tuple((d, Decimal(m) / unit) for d, m in sorted(spend[code].items())))
            for code in sorted(spend)
        ),
        tuple(
            (
                code,
                tuple(
                    (d, None if m is None else Decimal(m) / unit)
                    for d, m in sorted(revenue[code].items())
                ),
            )
            for code in sorted(revenue)
        ),
    )
