"""Bounded retries for Slack calls: Retry-After up to a cap, sleeping threads up to a budget.

slack_sdk's RateLimitErrorRetryHandler sleeps for whatever Retry-After says (3600 s puts a
thread to sleep for an hour). Ours waits only when the wait is short enough and a sleep slot is
free, so the answer pool is never all asleep at once; otherwise the call gives up at once.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from http.client import HTTPException
from typing import Any
from urllib.error import HTTPError, URLError
from urllib.parse import urlsplit

from slack_sdk.http_retry import RetryHandler
from slack_sdk.http_retry.handler import default_interval_calculator
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

log = logging.getLogger("kpibot.slack.retries")

MAX_RETRIES = 3
DEFAULT_RETRY_AFTER_CAP = 30.0
SERVER_ERRORS = frozenset({500, 502, 503, 504})
RATE_LIMITED = 429
# Retry-After missing or unreadable on a 429: Slack always sends it; wait a second, as slack_sdk.
FALLBACK_RETRY_AFTER = 1.0
_SLOT_TAKEN = "kpibot_sleep_slot"


class SleepSlots:
    """A process-wide budget of threads allowed to sleep on a 429; never blocks to take one."""

    def __init__(self, count: int) -> None:
        self.count = max(count, 0)
        self._lock = threading.Lock()
        self._taken = 0

    @classmethod
    def for_pool(cls, threads: int) -> SleepSlots:
        """A quarter of the answer pool (at least one), so most threads always stay awake."""
        return cls(max(threads // 4, 1))

    def try_take(self) -> bool:
        with self._lock:
            if self._taken >= self.count:
                return False
            self._taken += 1
            return True

    def give_back(self) -> None:
        with self._lock:
            self._taken = max(self._taken - 1, 0)

    @property
    def taken(self) -> int:
        with self._lock:
            return self._taken


@dataclass(frozen=True)
class RetryPolicy:
    """How long one 429 may be waited for and who may wait: shared by every Slack client."""

    retry_after_cap: float = DEFAULT_RETRY_AFTER_CAP
    slots: SleepSlots = field(default_factory=lambda: SleepSlots(2))
    attempts: int = MAX_RETRIES

    def handlers(self, target: str, *, after_sent: bool) -> list[RetryHandler]:
        """The retry handlers for one client; `after_sent=False` never repeats a request that
        may have arrived (a response_url answer must not be posted twice)."""
        return [SlackRetryHandler(self, target, after_sent=after_sent)]


def retry_after(response: HttpResponse) -> float | None:
    """Seconds from the Retry-After header; None when it is missing or not a number."""
    for name, values in response.headers.items():
        if name.lower() != "retry-after":
            continue
        raw = values[0] if isinstance(values, list) and values else values
        try:
            seconds = float(str(raw).strip())
        except ValueError:
            return None
        return seconds if seconds >= 0 else None
    return None


def sent_before_failing(error: BaseException) -> bool:
    """Whether the request may have reached Slack before `error` (the answer is unknown).

    urllib wraps every failure of connecting and sending in URLError; a timeout, reset or
    disconnect while waiting for the answer comes bare (TimeoutError, RemoteDisconnected...).
    """
    if isinstance(error, URLError):
        return False
    return isinstance(error, OSError | HTTPException)


def describe_error(error: BaseException) -> str:
    """The error's class and, for URLError, its reason's class: never a URL."""
    if isinstance(error, URLError) and isinstance(error.reason, BaseException):
        return f"{type(error).__name__}({type(error.reason).__name__})"
    return type(error).__name__


def timed_out(error: BaseException) -> bool:
    """A connect or read timeout, bare or wrapped in URLError."""
    reason = error.reason if isinstance(error, URLError) else error
    return isinstance(reason, TimeoutError)


def failure_reason(response: HttpResponse | None, error: BaseException | None) -> str | None:
    """What went wrong, when it is something a retry might fix (429, 5xx, the connection)."""
    if response is not None:
        status = response.status_code
        return f"HTTP {status}" if status == RATE_LIMITED or status in SERVER_ERRORS else None
    if error is None or isinstance(error, HTTPError):
        return None
    if isinstance(error, URLError) or sent_before_failing(error):
        return describe_error(error)
    return None


def _target(label: str, request: HttpRequest) -> str:
    """The label and, for the Web API, the method name (the URL's last segment; no secret)."""
    if label == "response_url":
        return label
    method = urlsplit(request.url).path.rstrip("/").rsplit("/", 1)[-1]
    return f"{label} {method[:60]}" if method else label


class SlackRetryHandler(RetryHandler):
    """429 within the cap and with a free sleep slot, 5xx, and connection errors: retried a
    bounded number of times, each retry and each give-up one log line without the URL."""

    def __init__(self, policy: RetryPolicy, label: str, *, after_sent: bool) -> None:
        super().__init__(max_retry_count=policy.attempts)
        self.policy = policy
        self.label = label
        self.after_sent = after_sent

    def can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        reason = failure_reason(response, error)
        if reason is None:
            return False
        target = _target(self.label, request)
        if error is not None and response is None and not self._may_repeat(error):
            log.warning("slack not retried: %s %s; the request may have arrived", target, reason)
            return False
        if state.current_attempt >= self.max_retry_count:
            log.warning(
                "slack gave up: %s %s after %d retries", target, reason, state.current_attempt
            )
            return False
        if response is not None and response.status_code == RATE_LIMITED:
            return self._may_sleep(state, target, response)
        return True

    def _may_repeat(self, error: Exception) -> bool:
        """A timeout already waited the whole client timeout: never again. Anything else after
        the request was sent may have arrived: repeated only where a repeat is harmless."""
        if timed_out(error):
            return False
        return self.after_sent or not sent_before_failing(error)

    def _may_sleep(self, state: RetryState, target: str, response: HttpResponse) -> bool:
        wait = retry_after(response)
        wait = FALLBACK_RETRY_AFTER if wait is None else wait
        cap = self.policy.retry_after_cap
        if wait > cap:
            log.warning(
                "slack gave up: %s HTTP 429 Retry-After %.0f s is over the %.0f s cap",
                target,
                wait,
                cap,
            )
            return False
        if not self.policy.slots.try_take():
            log.warning(
                "slack gave up: %s HTTP 429 Retry-After %.0f s: all %d sleep slots are taken",
                target,
                wait,
                self.policy.slots.count,
            )
            return False
        state.custom_values = {**(state.custom_values or {}), _SLOT_TAKEN: wait}
        return True

    def prepare_for_next_attempt(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        values: dict[str, Any] = state.custom_values or {}
        slept_on_429 = _SLOT_TAKEN in values
        if slept_on_429:
            wait = float(values.pop(_SLOT_TAKEN))
        else:
            wait = default_interval_calculator.calculate_sleep_duration(state.current_attempt)
        reason = failure_reason(response, error) or "error"
        log.warning(
            "slack retry: %s attempt %d/%d after %s, waiting %.1f s",
            _target(self.label, request),
            state.current_attempt + 1,
            self.max_retry_count,
            reason,
            wait,
        )
        state.next_attempt_requested = True
        try:
            time.sleep(wait)
        finally:
            if slept_on_429:
                self.policy.slots.give_back()
        state.increment_current_attempt()
