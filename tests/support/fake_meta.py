"""A fake Meta Graph API (Marketing API Insights): a real HTTP server on 127.0.0.1.

    with FakeMeta() as fake:
        fake.add_day(date(2026, 1, 1), "11", "Brand", spend="12.34", purchases="2")
        endpoints = Endpoints(meta_graph_url=fake.url)

* ``GET /v23.0/act_{id}?fields=name,currency`` answers the ad account.
* ``GET /v23.0/act_{id}/campaigns`` lists the campaign ids, ``page_size`` per page.
* ``GET /v23.0/act_{id}/insights`` answers campaign × day rows inside ``time_range``, numbers
  as strings, every purchase under three aliases (``purchase``, ``omni_purchase``,
  ``offsite_conversion.fb_pixel_purchase``) and every lead under two, zero actions and
  all-zero rows omitted, ``page_size`` rows per page with ``paging.next`` an absolute URL
  that carries ``access_token`` as Meta's does.
* The token must arrive as ``Authorization: Bearer``; one in the query string is refused
  (and counted in ``token_in_query``).
* Faults: ``throttle(...)``, ``expire_token()``, ``fail_500`` (count), ``truncate`` (count),
  ``max_days`` (longer ranges: "Please reduce the amount of data"), ``echo_token`` (errors
  quote the token, to prove the client scrubs them), ``leak_days`` (rows outside the range).
* Every request is recorded in ``requests`` (path, query, headers lower-cased).
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from tests.support.local_http import send_json, serve, stop

__all__ = ["CampaignDay", "FakeMeta", "Request", "Throttle"]

VERSION = "v23.0"
PURCHASE_ALIASES = ("purchase", "omni_purchase", "offsite_conversion.fb_pixel_purchase")
LEAD_ALIASES = ("lead", "offsite_conversion.fb_pixel_lead")


@dataclass(frozen=True)
class CampaignDay:
    day: date
    campaign_id: str
    campaign_name: str
    impressions: int = 0
    clicks: int = 0
    spend: str = "0"  # Meta's string, e.g. "12.34"
    purchases: str = "0"  # e.g. "2" or "2.5"
    purchase_value: str = "0"  # e.g. "1234.56"
    leads: str = "0"


@dataclass
class Request:
    path: str
    query: dict[str, str]
    raw_query: str
    headers: dict[str, str]

    def time_range(self) -> tuple[date, date]:
        span = json.loads(self.query["time_range"])
        return date.fromisoformat(span["since"]), date.fromisoformat(span["until"])


@dataclass
class Throttle:
    """Answer insights page `page` (1-based within a range; None: the next insights call)
    `times` times with error `code` at HTTP `status`, the usage header saying `minutes`."""

    code: int = 80004
    status: int = 400
    page: int | None = None
    times: int = 1
    minutes: int | None = 2


@dataclass
class FakeMeta:
    token: str = "EAAB-meta-token-SECRET-1"
    account: str = "act_1234567"
    account_name: str = "Acme ApS"
    currency: str = "DKK"
    page_size: int = 2
    days: list[CampaignDay] = field(default_factory=list)
    requests: list[Request] = field(default_factory=list)
    throttles: list[Throttle] = field(default_factory=list)
    expired: bool = False
    fail_500: int = 0
    truncate: int = 0
    max_days: int | None = None
    too_much_status: int = 500
    echo_token: bool = False
    leak_days: bool = False
    next_base: str | None = None  # paging.next on another host than the API's
    token_in_query: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None

    # -- setup ------------------------------------------------------------------------------

    def add_day(self, day: date, campaign_id: str, name: str, **metrics: Any) -> None:
        self.days.append(CampaignDay(day, campaign_id, name, **metrics))

    def throttle(self, **kwargs: Any) -> None:
        self.throttles.append(Throttle(**kwargs))

    def expire_token(self) -> None:
        self.expired = True

    @property
    def port(self) -> int:
        assert self._server is not None
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/{VERSION}"

    def insights_calls(self) -> list[Request]:
        return [r for r in self.requests if r.path.endswith("/insights")]

    def __enter__(self) -> FakeMeta:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                request = Request(
                    parts.path,
                    dict(parse_qsl(parts.query, keep_blank_values=True)),
                    parts.query,
                    {k.lower(): v for k, v in self.headers.items()},
                )
                with fake._lock:
                    fake.requests.append(request)
                status, payload, extra = fake._answer(request)
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
        with self._lock:
            if self.fail_500 > 0:
                self.fail_500 -= 1
                return 500, self._error(2, "Service temporarily unavailable", transient=True), {}
        if "access_token" in request.query:
            self.token_in_query += 1
            return 400, self._error(100, "kpibot must not send the token in the URL"), {}
        if request.headers.get("authorization") != f"Bearer {self.token}" or self.expired:
            message = "Error validating access token: Session has expired on Friday, 04-Dec-26."
            return 400, self._error(190, message, subcode=463, kind="OAuthException"), {}
        prefix = f"/{VERSION}/{self.account}"
        if request.path == prefix:
            body = {"name": self.account_name, "currency": self.currency, "id": self.account}
            return self._finish(body)
        if request.path == f"{prefix}/campaigns":
            ids = sorted({d.campaign_id for d in self.days})
            return self._finish(self._page(request, [{"id": i} for i in ids]))
        if request.path == f"{prefix}/insights":
            return self._insights(request)
        return 400, self._error(803, "Some of the aliases you requested do not exist"), {}

    def _insights(self, request: Request) -> tuple[int, bytes, dict[str, str]]:
        for name, wanted in (("level", "campaign"), ("time_increment", "1")):
            if request.query.get(name) != wanted:
                return 400, self._error(100, f"Invalid parameter {name}"), {}
        start, end = request.time_range()
        page = int(request.query.get("after", "0")) // self.page_size + 1
        with self._lock:
            for throttle in self.throttles:
                if throttle.times > 0 and throttle.page in (None, page):
                    throttle.times -= 1
                    return self._throttled(throttle)
        if self.max_days is not None and (end - start).days + 1 > self.max_days:
            message = "Please reduce the amount of data you're asking for, then retry your request"
            return self.too_much_status, self._error(1, message, subcode=1487534), {}
        inside = sorted(
            (d for d in self.days if self.leak_days or start <= d.day <= end),
            key=lambda d: (d.day, d.campaign_id),
        )
        rows = [row for row in map(self._row, inside) if row is not None]
        return self._finish(self._page(request, rows))

    def _throttled(self, throttle: Throttle) -> tuple[int, bytes, dict[str, str]]:
        headers: dict[str, str] = {}
        if throttle.minutes is not None:
            usage = {
                "1234": [
                    {"type": "ads_insights", "call_count": 100, "total_cputime": 30,
                     "total_time": 40, "estimated_time_to_regain_access": 0},
                    {"type": "ads_management", "call_count": 98, "total_cputime": 20,
                     "total_time": 25, "estimated_time_to_regain_access": throttle.minutes},
                ]
            }  # fmt: skip
            headers["X-Business-Use-Case-Usage"] = json.dumps(usage)
        message = "(#80004) There have been too many calls to this ad-account."
        return throttle.status, self._error(throttle.code, message, subcode=2446079), headers

    def _row(self, d: CampaignDay) -> dict[str, Any] | None:
        if not (d.impressions or d.clicks or Decimal(d.spend)):
            return None  # Meta omits campaign days without delivery
        row: dict[str, Any] = {
            "campaign_id": d.campaign_id,
            "campaign_name": d.campaign_name,
            "date_start": d.day.isoformat(),
            "date_stop": d.day.isoformat(),
            "impressions": str(d.impressions),
            "clicks": str(d.clicks),
            "spend": d.spend,
        }
        actions = [{"action_type": "link_click", "value": str(d.clicks)}] if d.clicks else []
        if Decimal(d.purchases):
            actions += [{"action_type": a, "value": d.purchases} for a in PURCHASE_ALIASES]
        if Decimal(d.leads):
            actions += [{"action_type": a, "value": d.leads} for a in LEAD_ALIASES]
        if actions:
            row["actions"] = actions
        if Decimal(d.purchase_value):
            row["action_values"] = [
                {"action_type": a, "value": d.purchase_value} for a in PURCHASE_ALIASES
            ]
        return row

    def _page(self, request: Request, items: list[dict[str, Any]]) -> dict[str, Any]:
        offset = int(request.query.get("after", "0"))
        body: dict[str, Any] = {"data": items[offset : offset + self.page_size]}
        cursors = {"before": str(offset), "after": str(offset + self.page_size)}
        body["paging"] = {"cursors": cursors}
        if offset + self.page_size < len(items):
            query = {k: v for k, v in request.query.items() if k != "after"}
            query = {"access_token": self.token, **query, "after": cursors["after"]}
            base = self.next_base or f"http://127.0.0.1:{self.port}"
            body["paging"]["next"] = f"{base}{request.path}?{urlencode(query)}"
        return body

    def _finish(self, body: dict[str, Any]) -> tuple[int, bytes, dict[str, str]]:
        payload = json.dumps(body).encode()
        with self._lock:
            if self.truncate > 0:
                self.truncate -= 1
                payload = payload[: len(payload) // 2]
        return 200, payload, {}

    def _error(
        self,
        code: int,
        message: str,
        *,
        subcode: int | None = None,
        kind: str = "OAuthException",
        transient: bool = False,
    ) -> bytes:
        if self.echo_token:
            message = f"{message} (token {self.token})"
        error: dict[str, Any] = {
            "message": message,
            "type": kind,
            "code": code,
            "is_transient": transient,
            "fbtrace_id": "AbCdEf123",
        }
        if subcode is not None:
            error["error_subcode"] = subcode
        return json.dumps({"error": error}).encode()
