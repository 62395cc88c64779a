"""A fake Google Ads REST API and OAuth token endpoint: a real HTTP server on 127.0.0.1.

    with FakeGoogleAds() as fake:
        fake.add_day(date(2026, 1, 1), "11", "Brand", cost_micros=1_500_000, clicks=3)
        endpoints = Endpoints(
            google_ads_api_url=fake.api_url, google_oauth_token_url=fake.token_url
        )

* ``POST /token`` issues access tokens (``token_lifetime`` seconds, judged by ``clock``);
  ``fail_token = "invalid_grant"`` refuses with 400.
* ``POST /v22/customers/{id}/googleAds:searchStream`` checks the developer token, the
  login-customer-id (when ``login_customer`` is set) and the bearer token (unknown or expired
  → 401 UNAUTHENTICATED), answers the stored campaign days inside the query's date range,
  omits all-zero rows and zero fields, and splits results into batches of ``batch_size``.
* Faults: ``exhaust(n, retry_after)``, ``fail_500_once``, ``truncate_next``, ``slow_next``.
* Every request is recorded in ``requests`` (path, headers lower-cased, body).
"""

from __future__ import annotations

import itertools
import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl

from tests.support.local_http import send_json, serve, stop

__all__ = ["CampaignDay", "FakeGoogleAds", "Request"]


@dataclass(frozen=True)
class CampaignDay:
    day: date
    campaign_id: str
    campaign_name: str
    cost_micros: int = 0
    impressions: int = 0
    clicks: int = 0
    conversions: str = "0"  # JSON number text, e.g. "2.5"
    conversions_value: str = "0"  # e.g. "1234.56"


@dataclass
class Request:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float

    def form(self) -> dict[str, str]:
        return dict(parse_qsl(self.body.decode()))

    def query(self) -> str:
        return str(json.loads(self.body)["query"])


@dataclass
class FakeGoogleAds:
    developer_token: str = "dev-token-SECRET-1"
    client_id: str = "client-id-123"
    client_secret: str = "client-secret-SECRET-2"
    refresh_token: str = "refresh-token-SECRET-3"
    customer: str = "1234567890"
    login_customer: str | None = None
    currency: str = "EUR"
    account_name: str = "Example GmbH"
    token_lifetime: int = 3600
    batch_size: int = 2
    clock: Callable[[], float] = time.monotonic
    days: list[CampaignDay] = field(default_factory=list)
    requests: list[Request] = field(default_factory=list)
    fail_token: str | None = None
    exhaust_left: int = 0
    retry_after: str | None = "7"
    retry_delay: str | None = None
    fail_500_once: bool = False
    truncate_next: bool = False
    slow_next: float = 0.0
    issued: dict[str, float] = field(default_factory=dict)
    _counter: Any = field(default_factory=lambda: itertools.count(1))
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None

    # -- setup ------------------------------------------------------------------------------

    def add_day(self, day: date, campaign_id: str, name: str, **metrics: Any) -> None:
        self.days.append(CampaignDay(day, campaign_id, name, **metrics))

    def exhaust(
        self, times: int, retry_after: str | None = "7", retry_delay: str | None = None
    ) -> None:
        """Answer the next `times` searches 429 RESOURCE_EXHAUSTED, with a Retry-After header
        and/or a `retryDelay` ("30s") in the error details."""
        self.exhaust_left = times
        self.retry_after = retry_after
        self.retry_delay = retry_delay

    @property
    def port(self) -> int:
        assert self._server is not None
        return self._server.server_address[1]

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v22"

    @property
    def token_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/token"

    def calls(self, path_part: str) -> list[Request]:
        return [r for r in self.requests if path_part in r.path]

    def __enter__(self) -> FakeGoogleAds:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                request = Request(
                    self.path,
                    {k.lower(): v for k, v in self.headers.items()},
                    body,
                    time.monotonic(),
                )
                with fake._lock:
                    fake.requests.append(request)
                status, payload, extra = fake._answer(request)
                with fake._lock:
                    delay, fake.slow_next = fake.slow_next, 0.0
                if delay:
                    time.sleep(delay)
                send_json(self, status, payload, extra)

        self._server = serve(Handler)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        stop(self._server)

    # -- answers ----------------------------------------------------------------------------

    def _answer(self, request: Request) -> tuple[int, bytes, dict[str, str]]:
        if request.path == "/token":
            return self._token(request)
        match = re.fullmatch(r"/v22/customers/(\d+)/googleAds:searchStream", request.path)
        if not match:
            return 404, b'{"error": {"code": 404, "status": "NOT_FOUND"}}', {}
        with self._lock:
            if self.fail_500_once:
                self.fail_500_once = False
                return 500, _error(500, "INTERNAL", "internal error"), {}
        auth = request.headers.get("authorization", "")
        token = auth.removeprefix("Bearer ")
        expires = self.issued.get(token)
        if not auth.startswith("Bearer ") or expires is None or self.clock() >= expires:
            return 401, _error(401, "UNAUTHENTICATED", "Request had invalid credentials."), {}
        if request.headers.get("developer-token") != self.developer_token:
            return 401, _error(
                401, "UNAUTHENTICATED", "The developer token is not valid.",
                {"authenticationError": "DEVELOPER_TOKEN_INVALID"},
            ), {}  # fmt: skip
        if self.login_customer and request.headers.get("login-customer-id") != self.login_customer:
            return 403, _error(
                403, "PERMISSION_DENIED", "User doesn't have permission to access customer.",
                {"authorizationError": "USER_PERMISSION_DENIED"},
            ), {}  # fmt: skip
        if match.group(1) != self.customer:
            return 403, _error(403, "PERMISSION_DENIED", "No access to customer."), {}
        with self._lock:
            if self.exhaust_left > 0:
                self.exhaust_left -= 1
                headers = {"Retry-After": self.retry_after} if self.retry_after else {}
                return 429, _error(
                    429, "RESOURCE_EXHAUSTED", "Too many requests.",
                    {"quotaError": "RESOURCE_EXHAUSTED"}, array=True,
                    retry_delay=self.retry_delay,
                ), headers  # fmt: skip
            truncate, self.truncate_next = self.truncate_next, False
        results = self._results(json.loads(request.body)["query"])
        batches = [
            {"results": results[i : i + self.batch_size], "fieldMask": "x", "requestId": f"r{i}"}
            for i in range(0, len(results), self.batch_size)
        ] or [{"fieldMask": "x", "requestId": "r0"}]
        payload = _dumps(batches)
        if truncate:
            payload = payload[: len(payload) // 2]
        return 200, payload, {}

    def _token(self, request: Request) -> tuple[int, bytes, dict[str, str]]:
        form = request.form()
        if self.fail_token:
            return 400, json.dumps({"error": self.fail_token}).encode(), {}
        if (
            form.get("grant_type") != "refresh_token"
            or form.get("client_id") != self.client_id
            or form.get("client_secret") != self.client_secret
            or form.get("refresh_token") != self.refresh_token
        ):
            return 400, b'{"error": "invalid_grant", "error_description": "Bad Request"}', {}
        token = f"ya29.access-{next(self._counter)}-SECRET"
        self.issued[token] = self.clock() + self.token_lifetime
        body = {"access_token": token, "expires_in": self.token_lifetime, "token_type": "Bearer"}
        return 200, json.dumps(body).encode(), {}

    def _results(self, query: str) -> list[dict[str, Any]]:
        customer = {"resourceName": f"customers/{self.customer}", "currencyCode": self.currency}
        if query.strip().endswith("FROM customer"):
            return [{"customer": {**customer, "descriptiveName": self.account_name}}]
        if query.strip() == "SELECT campaign.id FROM campaign":
            ids = sorted({d.campaign_id for d in self.days})
            return [{"campaign": {"resourceName": "c", "id": i}} for i in ids]
        found = re.search(r"BETWEEN '(\d{4}-\d\d-\d\d)' AND '(\d{4}-\d\d-\d\d)'", query)
        assert found, query
        start, end = date.fromisoformat(found.group(1)), date.fromisoformat(found.group(2))
        results = []
        for d in self.days:
            if not start <= d.day <= end:
                continue
            metrics: dict[str, Any] = {}
            if d.cost_micros:
                metrics["costMicros"] = str(d.cost_micros)
            if d.impressions:
                metrics["impressions"] = str(d.impressions)
            if d.clicks:
                metrics["clicks"] = str(d.clicks)
            if Decimal(d.conversions):
                metrics["conversions"] = Decimal(d.conversions)
            if Decimal(d.conversions_value):
                metrics["conversionsValue"] = Decimal(d.conversions_value)
            if not metrics:
                continue  # Google omits all-zero rows
            results.append(
                {
                    "segments": {"date": d.day.isoformat()},
                    "campaign": {"resourceName": "c", "id": d.campaign_id, "name": d.campaign_name},
                    "customer": {**customer, "descriptiveName": self.account_name},
                    "metrics": metrics,
                }
            )
        return results


def _dumps(value: Any) -> bytes:
    """JSON with each Decimal written as its exact text as a JSON number (as Google does)."""

    def convert(item: Any) -> Any:
        if isinstance(item, Decimal):
            return f"__NUM__{item}__"
        if isinstance(item, dict):
            return {k: convert(v) for k, v in item.items()}
        if isinstance(item, list):
            return [convert(v) for v in item]
        return item

    text = json.dumps(convert(value))
    return re.sub(r'"__NUM__([-0-9.eE+]+)__"', r"\1", text).encode()


def _error(
    code: int,
    status: str,
    message: str,
    error_code: dict[str, str] | None = None,
    *,
    array: bool = False,
    retry_delay: str | None = None,
) -> bytes:
    error: dict[str, Any] = {"code": code, "message": message, "status": status}
    if error_code:
        error["details"] = [
            {
                "@type": "type.googleapis.com/google.ads.googleads.v22.errors.GoogleAdsFailure",
                "errors": [{"errorCode": error_code, "message": message}],
            }
        ]
        if retry_delay:
            error["details"][0]["errors"][0]["details"] = {
                "quotaErrorDetails": {"rateScope": "DEVELOPER", "retryDelay": retry_delay}
            }
    body: Any = [{"error": error}] if array else {"error": error}
    return json.dumps(body).encode()
