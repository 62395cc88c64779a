"""Slack Web API and response_url clients: bounded retries, and answers only to Slack's URLs."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from http.client import HTTPException
from typing import Any
from urllib.error import URLError
from urllib.parse import SplitResult, urlsplit

from slack_sdk import WebClient
from slack_sdk.errors import SlackRequestError
from slack_sdk.webhook import WebhookClient

from bot.config import DEFAULT_SLACK_API_URL, Settings
from bot.slack.retries import RATE_LIMITED, RetryPolicy, SleepSlots, describe_error, timed_out

HTTP_TIMEOUT_SECONDS = 10
SLACK_HOOKS = ("https", "hooks.slack.com", 443)
DEFAULT_PORTS = {"https": 443, "http": 80}
# Only what urllib and every URL parser agree on: no userinfo, no backslash, no whitespace.
_SAFE_NETLOC = re.compile(r"[a-z0-9.\-\[\]:]+", re.IGNORECASE)
_LOGGED_HOST_CHARS = 60

# slack_sdk logs the URL it retries and fails on; a response_url is a bearer credential, so
# its own logger stays quiet and kpibot logs the reason (retries.py, failures.py) instead.
_webhook_log = logging.getLogger("kpibot.slack.webhook")
_webhook_log.setLevel(logging.CRITICAL)

Origin = tuple[str, str, int]


def policy_for(settings: Settings, threads: int) -> RetryPolicy:
    """The retry policy of one process: the Retry-After cap from Settings, a quarter of the
    answer pool allowed to sleep on a 429."""
    cap = settings.slack_max_retry_after.total_seconds()
    return RetryPolicy(retry_after_cap=cap, slots=SleepSlots.for_pool(threads))


def web_client(
    settings: Settings, token: str | None = None, policy: RetryPolicy | None = None
) -> WebClient:
    """The Web API client of the Bolt app: SLACK_API_URL, bounded retries, timeout."""
    return WebClient(
        token=token or settings.slack_bot_token,
        base_url=settings.slack_api_url,
        timeout=HTTP_TIMEOUT_SECONDS,
        retry_handlers=(policy or RetryPolicy()).handlers("web api", after_sent=True),
    )


class DeliveryError(RuntimeError):
    """A message Slack did not accept (even after retries): an apology may still get through."""

    may_apologise = True


class AmbiguousDelivery(DeliveryError):
    """Sent, but no answer came (timed out, dropped): the user may already have the message,
    so it is neither repeated nor followed by an apology."""

    may_apologise = False


class RateLimited(DeliveryError):
    """A 429 not waited for (over the cap, or no sleep slot): an apology would meet it too."""

    may_apologise = False


class RefusedUrl(DeliveryError):
    """A response_url that is not Slack's: never fetched, so no apology goes there either."""

    may_apologise = False


def _port(parts: SplitResult) -> int | None:
    try:
        return parts.port or DEFAULT_PORTS.get(parts.scheme)
    except ValueError:
        return None


def _parts(url: str) -> SplitResult | None:
    """The URL split, when it is one that urllib and every other parser read the same way."""
    if not url.isascii() or any(ch.isspace() or ord(ch) < 32 for ch in url) or "\\" in url:
        return None
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. an unbalanced "[" (an IPv6 literal cut short)
        return None
    if parts.scheme not in DEFAULT_PORTS or not _SAFE_NETLOC.fullmatch(parts.netloc):
        return None
    return parts


def origin_of(url: str) -> Origin | None:
    """(scheme, host, port) of an http(s) URL that every parser reads the same way; else None."""
    parts = _parts(url)
    port = _port(parts) if parts is not None else None
    if parts is None or not parts.hostname or port is None:
        return None
    return parts.scheme, parts.hostname, port


@dataclass(frozen=True)
class SlackUrls:
    """The origins answers may go to: hooks.slack.com, and SLACK_API_URL's when it is set."""

    origins: frozenset[Origin]

    @classmethod
    def from_settings(cls, settings: Settings) -> SlackUrls:
        origins = {SLACK_HOOKS}
        if settings.slack_api_url != DEFAULT_SLACK_API_URL:
            configured = origin_of(settings.slack_api_url)
            if configured is not None:
                origins.add(configured)
        return cls(frozenset(origins))

    def allows(self, url: str) -> bool:
        """Exactly one of the origins, with a path (a response_url always has one)."""
        parts = _parts(url)
        return parts is not None and origin_of(url) in self.origins and parts.path.startswith("/")


def loggable_origin(url: str) -> str:
    """Scheme and host of a URL, truncated, for a log line: never its path or userinfo."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
    except ValueError:
        return "unparseable"
    scheme = re.sub(r"[^a-z0-9+.\-]", "?", parts.scheme.lower())[:10] or "none"
    host = re.sub(r"[^a-z0-9.\-:\[\]]", "?", host)[:_LOGGED_HOST_CHARS] or "none"
    return f"scheme={scheme} host={host}"


class Responder:
    """Posts messages to a response_url on Slack's origin, retrying what is safe to repeat;
    raises a DeliveryError saying whether an apology may follow."""

    def __init__(
        self,
        urls: SlackUrls | None = None,
        policy: RetryPolicy | None = None,
        *,
        timeout: float = HTTP_TIMEOUT_SECONDS,
    ) -> None:
        self.urls = urls or SlackUrls(frozenset({SLACK_HOOKS}))
        self.policy = policy or RetryPolicy()
        self.timeout = timeout

    def send(self, response_url: str, message: dict[str, Any]) -> None:
        if not self.urls.allows(response_url):
            raise RefusedUrl(f"response_url refused, not Slack's ({loggable_origin(response_url)})")
        client = WebhookClient(
            response_url,
            timeout=self.timeout,  # type: ignore[arg-type]  # urllib takes a float
            retry_handlers=self.policy.handlers("response_url", after_sent=False),
            logger=_webhook_log,
        )
        try:
            response = client.send_dict(message)
        except URLError as exc:  # connecting or sending failed: it never arrived
            if timed_out(exc):
                raise DeliveryError("response_url timed out connecting") from exc
            raise DeliveryError(f"response_url unreachable: {describe_error(exc)}") from exc
        except (OSError, HTTPException) as exc:  # sent, then no (whole) answer
            raise AmbiguousDelivery(
                f"response_url gave no answer ({describe_error(exc)}): it may have arrived"
            ) from exc
        except SlackRequestError as exc:
            raise RefusedUrl("response_url refused by slack_sdk") from exc
        if response.status_code == RATE_LIMITED:
            raise RateLimited("response_url answered 429 and was not waited for")
        if response.status_code != 200:
            raise DeliveryError(
                f"response_url answered {response.status_code}: {str(response.body)[:200]}"
            )
