"""From query text to a Slack message, and work that finishes after the acknowledgement."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from bot.query import QueryError
from bot.render.blocks import answer_message, error_message
from bot.service import KpiService
from bot.slack.clients import Responder
from bot.slack.failures import EPHEMERAL, apologise_later

IN_CHANNEL = "in_channel"
# Slack waits 3 s for the HTTP answer; beyond the budget the answer goes to response_url.
ACK_BUDGET_SECONDS = 2.0

__all__ = ["EPHEMERAL", "IN_CHANNEL", "SlackDeps", "as_response", "reply_for"]


@dataclass(frozen=True)
class SlackDeps:
    """What the listeners need, passed in by the app factory."""

    kpis: KpiService
    responder: Responder
    executor: ThreadPoolExecutor
    ack_budget: float = ACK_BUDGET_SECONDS

    def after_ack(self, body: dict[str, Any], work: Callable[[], None]) -> None:
        """Run work after the acknowledgement; a failure is logged and apologised for."""

        def run() -> None:
            try:
                work()
            except Exception as exc:  # the background twin of app.error
                apologise_later(self.responder, exc, body)

        self.executor.submit(run)


def reply_for(kpis: KpiService, text: str, page: int = 0) -> dict[str, Any]:
    """The message answering one query text; mistakes the user can fix come back kindly."""
    try:
        return answer_message(kpis.answer(text), page=page)
    except QueryError as exc:
        return error_message(str(exc))


def as_response(
    message: dict[str, Any], response_type: str = EPHEMERAL, **extra: Any
) -> dict[str, Any]:
    return {**message, "response_type": response_type, **extra}
