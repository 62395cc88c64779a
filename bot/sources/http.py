"""HTTP for the connectors: one `requests.Session` with bounded timeouts and bounded retries
(urllib3 `Retry` for connection errors and 5xx), secrets read from the environment by name,
and every error text scrubbed of them before anyone sees it."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Protocol

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from bot.sources.model import (
    DEFAULT_GOOGLE_ADS_API_URL,
    DEFAULT_GOOGLE_OAUTH_TOKEN_URL,
    DEFAULT_META_GRAPH_URL,
    Fetched,
    SourceConfig,
    SourceError,
    SourceInfo,
)

Sleep = Callable[[float], None]


@dataclass(frozen=True)
class Endpoints:
    """Base URLs (settings META_GRAPH_URL, GOOGLE_ADS_API_URL, GOOGLE_OAUTH_TOKEN_URL), the API
    version included: tests point them at local fake servers."""

    meta_graph_url: str = DEFAULT_META_GRAPH_URL
    google_ads_api_url: str = DEFAULT_GOOGLE_ADS_API_URL
    google_oauth_token_url: str = DEFAULT_GOOGLE_OAUTH_TOKEN_URL


@dataclass(frozen=True)
class HttpPolicy:
    """How long a call may take and how often it is tried.

    `retries` bounds urllib3's retries of connection errors, read errors and 5xx per call;
    `throttle_attempts` and `max_throttle_wait` bound the platform-specific throttling waits
    (Meta codes 4/17/613/80000–80014, Google RESOURCE_EXHAUSTED) per fetch.
    """

    connect_timeout: float = 5.0
    read_timeout: float = 60.0
    retries: int = 3
    backoff: float = 0.5
    throttle_attempts: int = 5
    max_throttle_wait: float = 300.0

    @property
    def timeout(self) -> tuple[float, float]:
        return (self.connect_timeout, self.read_timeout)


class Connector(Protocol):
    """What every source kind offers the sync and `kpibot source test`."""

    def info(self) -> SourceInfo:
        """Check the credentials; what they can see."""
        ...

    def fetch(self, start: date, end: date) -> Fetched:
        """Every campaign × day in [start, end], or raise SourceError."""
        ...


def make_session(policy: HttpPolicy) -> requests.Session:
    """A session whose every call retries connection and read errors and 5xx a bounded
    number of times, with exponential backoff; 4xx are the connector's to interpret."""
    retry = Retry(
        total=policy.retries,
        connect=policy.retries,
        read=policy.retries,
        status=policy.retries,
        backoff_factor=policy.backoff,
        backoff_max=30.0,
        status_forcelist=(500, 502, 503, 504),
        # searchStream is a POST that only reads: safe to repeat.
        allowed_methods=frozenset({"GET", "POST"}),
        # A throttled answer (429 with Retry-After) is the connector's to wait for, within
        # the policy's caps; urllib3 would otherwise sleep on it unbounded first.
        respect_retry_after_header=False,
        raise_on_status=False,
    )
    session = requests.Session()
    adapter = HTTPAdapter(max_retries=retry)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    session.headers["User-Agent"] = "kpibot"
    return session


def read_secrets(config: SourceConfig, env: Mapping[str, str]) -> dict[str, str]:
    """Each secret of the source from the variable it names; a missing or empty one is a
    SourceError naming the variable (never a value)."""
    secrets: dict[str, str] = {}
    missing = []
    for role, variable in config.secret_envs.items():
        value = env.get(variable, "").strip()
        if value:
            secrets[role] = value
        else:
            missing.append(variable)
    if missing:
        names = ", ".join(sorted(missing))
        raise SourceError(
            f"source {config.name!r}: the environment variable(s) {names} holding its "
            "credentials are not set in kpibot's environment",
            needs_new_token=False,
        )
    return secrets


def scrub(text: str, secrets: Iterable[str]) -> str:
    """The text with every secret (and every secret longer than 3 characters that appears
    in it) replaced by '***'."""
    for secret in sorted((s for s in secrets if len(s) > 3), key=len, reverse=True):
        text = text.replace(secret, "***")
    return text


def call(
    session: requests.Session,
    method: str,
    url: str,
    *,
    policy: HttpPolicy,
    what: str,
    secrets: Iterable[str],
    **kwargs: object,
) -> requests.Response:
    """One HTTP call within the policy's timeouts; a connection failure, timeout or retries
    used up become a retryable SourceError in plain words, scrubbed of the secrets."""
    try:
        return session.request(method, url, timeout=policy.timeout, **kwargs)  # type: ignore[arg-type]
    except requests.exceptions.Timeout as exc:
        raise SourceError(
            f"{what}: no answer within {policy.read_timeout:g} s ({type(exc).__name__})",
            retryable=True,
        ) from None
    except requests.exceptions.RetryError as exc:
        raise SourceError(
            f"{what}: still failing after {policy.retries} retries: {scrub(_reason(exc), secrets)}",
            retryable=True,
        ) from None
    except requests.exceptions.RequestException as exc:
        raise SourceError(
            f"{what}: {scrub(_reason(exc), secrets)}",
            retryable=True,
        ) from None


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:300] if text else type(exc).__name__


def exact_json(text: str) -> Any:
    """A platform's JSON answer with every number as a Decimal (never a float); None when
    the text is not JSON (cut off, an HTML error page)."""
    try:
        return json.loads(text, parse_float=Decimal, parse_int=Decimal)
    except ValueError:
        return None


def wait(sleep: Sleep, seconds: float, policy: HttpPolicy) -> None:
    """Sleep for a throttling wait, capped by the policy."""
    sleep(max(0.0, min(seconds, policy.max_throttle_wait)))


def default_sleep(seconds: float) -> None:
    time.sleep(seconds)
