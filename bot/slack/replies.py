"""From query text to a Slack message, and work that finishes after the acknowledgement."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from bot.access.service import AccessService
from bot.alerts.service import AlertService
from bot.digests.guards import Workspace
from bot.digests.service import DigestService
from bot.query import QueryError
from bot.render.blocks import answer_message, error_message
from bot.service import KpiService
from bot.slack.clients import Responder
from bot.slack.failures import EPHEMERAL, apologise_later, log_if_failed

if TYPE_CHECKING:
    from storage.sources import SourceRecord

IN_CHANNEL = "in_channel"
# Slack waits 3 s for the HTTP answer; beyond the budget the answer goes to response_url.
ACK_BUDGET_SECONDS = 2.0
# Answers computed at once per process before new ones go straight to response_url.
ANSWER_CAPACITY = 4

__all__ = ["EPHEMERAL", "IN_CHANNEL", "SlackDeps", "as_response", "reply_for"]


class AnswerLoad:
    """Answers being computed in this process. Past capacity, /kpi acknowledges at once and
    answers through response_url, so a burst of slow queries cannot push acks past 3 s."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._lock = threading.Lock()
        self._count = 0

    def busy(self) -> bool:
        with self._lock:
            return self._count >= self.capacity

    def submit(
        self, executor: ThreadPoolExecutor, work: Callable[[], dict[str, Any]]
    ) -> Future[dict[str, Any]]:
        with self._lock:
            self._count += 1
        future = executor.submit(work)
        future.add_done_callback(self._done)
        return future

    def _done(self, _: Future[dict[str, Any]]) -> None:
        with self._lock:
            self._count -= 1


@dataclass(frozen=True)
class SlackDeps:
    """What the listeners need, passed in by the app factory."""

    kpis: KpiService
    responder: Responder
    executor: ThreadPoolExecutor
    ack_budget: float = ACK_BUDGET_SECONDS
    load: AnswerLoad = field(default_factory=lambda: AnswerLoad(ANSWER_CAPACITY))
    digests: DigestService | None = None
    alerts: AlertService | None = None
    slack: Workspace | None = None
    """Asked before a digest is stored or changed (bot.slack.poster.SlackPoster)."""
    access: AccessService | None = None
    """Admits every request before anything is computed; None refuses all (fail closed)."""
    sources: Callable[[str | None], list[SourceRecord]] | None = None
    """The data sources the asking channel may know of and how their syncs are going, for
    `/kpi sources`."""

    def after_ack(self, body: dict[str, Any], work: Callable[[], None]) -> None:
        """Run work on the pool after the acknowledgement; see `reporting`."""
        future = self.executor.submit(self.reporting, body, work)
        # Nobody reads this Future: whatever still escapes goes to the log, not into it.
        future.add_done_callback(log_if_failed(body))

    def reporting(self, body: dict[str, Any], work: Callable[[], None]) -> None:
        """Run work whose failures nobody else will see: a mistake the user can fix gets its
        message, anything else is logged and apologised for (the background twin of app.error).
        Never raises, so it is safe in a done-callback (/kpi's send_when_ready).
        """
        try:
            try:
                work()
            except QueryError as exc:
                response_url = body.get("response_url")
                if response_url:
                    self.responder.send(str(response_url), as_response(error_message(str(exc))))
        except Exception as exc:  # DeliveryError included: apologise_later knows when not to
            apologise_later(self.responder, exc, body)


def reply_for(
    kpis: KpiService,
    text: str,
    page: int = 0,
    as_of: date | None = None,
    *,
    channel: str | None = None,
) -> dict[str, Any]:
    """The message answering one query text as `channel` may see it (None: everything);
    mistakes the user can fix come back kindly."""
    try:
        return answer_message(kpis.answer(text, as_of, channel=channel), page=page)
    except QueryError as exc:
        return error_message(str(exc))


def as_response(
    message: dict[str, Any], response_type: str = EPHEMERAL, **extra: Any
) -> dict[str, Any]:
    return {**message, "response_type": response_type, **extra}
