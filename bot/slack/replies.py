"""From query text to a Slack message: the one adapter the listeners share."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from bot.query import QueryError
from bot.render.blocks import answer_message, error_message
from bot.service import KpiService
from bot.slack.clients import Responder

EPHEMERAL = "ephemeral"
IN_CHANNEL = "in_channel"
# Slack waits 3 s for the HTTP answer; beyond this budget the answer goes to response_url.
ACK_BUDGET_SECONDS = 2.0


@dataclass(frozen=True)
class SlackDeps:
    """What the listeners need, passed in by the app factory."""

    kpis: KpiService
    responder: Responder
    executor: ThreadPoolExecutor
    ack_budget: float = ACK_BUDGET_SECONDS


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
