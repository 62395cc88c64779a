"""Posting alert transitions through the shared delivery ledger: claim, post, record.

A transition's post is a ledger row (kind "alert", the rule, key `campaign:day:event`), so two
evaluating processes, a retry and a restart post it once. A failed post is retried by the next
pass (429 after Retry-After, 5xx with backoff) or, when permanent, recorded on the rule and
told to its owner by DM once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot import messages
from bot.alerts.lifecycle import Post
from bot.alerts.model import CheckReport, Notice
from bot.delivery.posting import GiveUp, Poster, PostFailure, next_step
from storage import alerts, deliveries
from storage.database import session_scope

log = logging.getLogger("kpibot.alerts")

KIND = "alert"
Render = Callable[[Notice], dict[str, Any]]
Thread = tuple[str, str]  # (channel, ts) of an incident's top-level message


def ledger_key(campaign_id: int, day: date, event: str) -> str:
    return f"{campaign_id}:{day.isoformat()}:{event}"


def parse_key(key: str) -> tuple[int, date, str]:
    campaign, day, event = key.split(":", 2)
    return int(campaign), date.fromisoformat(day), event


@dataclass
class AlertPosting:
    """Claims and posts alert messages; every failure ends as a retry or a recorded error."""

    engine: Engine
    sessions: sessionmaker[Session]
    poster: Poster
    render: Render
    render_incident: Render
    owner: str
    lease: timedelta = timedelta(minutes=10)
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))

    def deliver(
        self,
        notice: Notice,
        key: str,
        *,
        incident: int,
        thread: Thread | None,
        now: datetime,
        report: CheckReport,
        then_update: Notice | None = None,
    ) -> None:
        """Claim and post one notice; `then_update` redraws the incident's top-level message
        after a resolve reply went out."""
        rule = notice.rule
        claim = deliveries.claim(
            self.engine, KIND, rule.id, key, owner=self.owner, now=now, lease=self.lease
        )
        if claim is None:
            report.busy += 1
            return
        if claim.attempts > 1:
            report.retried += 1
        threaded = notice.post in (Post.REMIND, Post.RESOLVE) and thread is not None
        channel = thread[0] if threaded and thread else rule.channel
        try:
            posted_channel, ts = self.poster.post(
                channel, self.render(notice), thread_ts=thread[1] if threaded and thread else None
            )
        except PostFailure as failure:
            self._failed(notice, claim, failure, now, report)
            return
        if notice.post is Post.FIRE:
            alerts.set_message(
                self.engine, rule.id, notice.campaign_id, incident, posted_channel, ts
            )
        deliveries.mark_sent(self.engine, claim, channel=posted_channel, ts=ts, now=self.clock())
        report.sent += 1
        if then_update is not None and thread is not None:
            self.update(thread, then_update, report)

    def update(self, thread: Thread, notice: Notice, report: CheckReport | None = None) -> bool:
        """chat.update of the incident's top-level message; a failure is logged, not raised
        (the thread reply already says what changed)."""
        try:
            self.poster.update(thread[0], thread[1], self.render_incident(notice))
        except PostFailure as failure:
            log.warning("alert %s: message not updated: %s", notice.rule.id, failure.error)
            if report is not None:
                report.notes.append(f"alert {notice.rule.id}: not updated: {failure.error}")
            return False
        return True

    def skip(self, rule_id: int, key: str, reason: str, now: datetime) -> None:
        """Close a due retry whose message is no longer true (its incident moved on)."""
        claim = deliveries.claim(
            self.engine, KIND, rule_id, key, owner=self.owner, now=now, lease=self.lease
        )
        if claim is not None:
            deliveries.mark_skipped(self.engine, claim, reason=reason, now=now)

    def _failed(
        self,
        notice: Notice,
        claim: deliveries.Claim,
        failure: PostFailure,
        now: datetime,
        report: CheckReport,
    ) -> None:
        rule = notice.rule
        decision = next_step(failure, claim.attempts, now)
        if not isinstance(decision, GiveUp):
            deliveries.mark_retry(self.engine, claim, retry_at=decision.when, error=decision.error)
            report.notes.append(
                f"alert {rule.id}: {failure.error}, retry at {decision.when:%H:%M:%S}"
            )
            return
        deliveries.mark_failed(self.engine, claim, error=decision.error, now=now)
        report.failed += 1
        log.warning("alert %s: not delivered: %s", rule.id, decision.error)
        with session_scope(self.sessions) as session:
            current = alerts.get_rule(session, rule.id)
            first = current is not None and not current.last_error
            alerts.update_rule(session, rule.id, now, last_error=decision.error)
        if decision.report and first and rule.owner:
            try:  # once per failure spell: last_error was clear until now
                self.poster.direct_message(
                    rule.owner, messages.alert_failed_dm(rule.id, rule.channel, decision.error)
                )
            except PostFailure as exc:
                log.warning("alert %s: could not tell %s: %s", rule.id, rule.owner, exc.error)
