"""Slack Web API and response_url clients with bounded retries (429, 5xx, connection)."""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk import WebClient
from slack_sdk.http_retry import RetryHandler
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.webhook import WebhookClient

from bot.config import Settings

MAX_RETRIES = 3
HTTP_TIMEOUT_SECONDS = 10

# slack_sdk logs the URL it retries at INFO; a response_url must not reach the log.
_webhook_log = logging.getLogger("kpibot.slack.webhook")
_webhook_log.setLevel(logging.WARNING)


def retry_handlers() -> list[RetryHandler]:
    """429 honouring Retry-After, 5xx and connection errors, each a bounded number of times."""
    return [
        RateLimitErrorRetryHandler(max_retry_count=MAX_RETRIES),
        ServerErrorRetryHandler(max_retry_count=MAX_RETRIES),
        ConnectionErrorRetryHandler(max_retry_count=MAX_RETRIES),
    ]


def web_client(settings: Settings, token: str | None = None) -> WebClient:
    """The Web API client every part of the app uses: SLACK_API_URL, retries, timeout."""
    return WebClient(
        token=token or settings.slack_bot_token,
        base_url=settings.slack_api_url,
        timeout=HTTP_TIMEOUT_SECONDS,
        retry_handlers=retry_handlers(),
    )


class DeliveryError(RuntimeError):
    """A message Slack did not accept even after retries."""


class Responder:
    """Posts messages to a response_url, retrying, and raising when Slack refuses."""

    def send(self, response_url: str, message: dict[str, Any]) -> None:
        client = WebhookClient(
            response_url,
            timeout=HTTP_TIMEOUT_SECONDS,
            retry_handlers=retry_handlers(),
            logger=_webhook_log,
        )
        try:
            response = client.send_dict(message)
        except OSError as exc:
            raise DeliveryError(f"response_url unreachable: {exc.__class__.__name__}") from exc
        if response.status_code != 200:
            raise DeliveryError(
                f"response_url answered {response.status_code}: {str(response.body)[:200]}"
            )
