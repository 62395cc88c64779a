"""The Meta Marketing API connector: campaign × day Insights of one ad account.

Numbers never go through float: Meta sends them as strings and the JSON is parsed with Decimal
for every number. Conversions and revenue are the value of the ONE configured action type
(one purchase is reported under several aliases: adding them would count it three times).
Ranges are read in chunks of at most 30 days, halved when Meta asks for less data; pages are
followed through `paging.next`; throttling (error codes 4/17/32/613/80000–80014, whatever
the HTTP status) waits and retries the same page. The token travels only in the
Authorization header, never in a URL, a log line or an error.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator, Mapping
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, NoReturn
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import requests

from bot.sources.http import (
    Endpoints,
    HttpPolicy,
    Sleep,
    call,
    default_sleep,
    exact_json,
    make_session,
    read_secrets,
    scrub,
    wait,
)
from bot.sources.model import Fetched, PlatformDay, SourceConfig, SourceError, SourceInfo

log = logging.getLogger(__name__)

PLATFORM = "meta_ads"
DEFAULT_PURCHASE_ACTION = "omni_purchase"
MAX_CHUNK_DAYS = 30
PAGE_LIMIT = 500
THROTTLE_BASE_SECONDS = 10.0
THROTTLE_CODES = frozenset({4, 17, 32, 613, *range(80000, 80015)})
TOKEN_CODE = 190
TOO_MUCH_DATA_SUBCODE = 1487534
TRANSIENT_CODES = frozenset({1, 2})
PERMISSION_CODES = frozenset({10, *range(200, 300)})
INSIGHTS_FIELDS = (
    "campaign_id,campaign_name,date_start,date_stop,impressions,clicks,spend,actions,action_values"
)


def connect(
    config: SourceConfig,
    env: Mapping[str, str],
    endpoints: Endpoints,
    policy: HttpPolicy,
    *,
    session: requests.Session | None = None,
    sleep: Sleep = default_sleep,
) -> MetaConnector:
    """A connector for one Meta ad account; a missing token variable is a SourceError naming
    it, a malformed account id one in plain words."""
    variable = config.secret_envs.get("token")
    if not variable:
        raise SourceError(f"source {config.name!r}: no environment variable configured for token")
    token = read_secrets(config, env)["token"]
    account = config.account.strip()
    if not re.fullmatch(r"act_\d+", account):
        raise SourceError(
            f"source {config.name!r}: the Meta ad account id must look like act_123456789"
        )
    purchase = config.options.get("purchase_action", "").strip() or DEFAULT_PURCHASE_ACTION
    lead = config.options.get("lead_action", "").strip() or None
    return MetaConnector(
        name=config.name,
        account=account,
        token=token,
        token_env=variable,
        purchase_action=purchase,
        lead_action=lead,
        endpoints=endpoints,
        policy=policy,
        session=session if session is not None else make_session(policy),
        sleep=sleep,
    )


class _TooMuchData(Exception):
    """Meta refused the chunk as too large: read it in smaller pieces."""


class MetaConnector:
    """Reads one ad account's campaign × day Insights; see `connect`."""

    def __init__(
        self,
        *,
        name: str,
        account: str,
        token: str,
        token_env: str,
        purchase_action: str,
        lead_action: str | None,
        endpoints: Endpoints,
        policy: HttpPolicy,
        session: requests.Session,
        sleep: Sleep,
    ) -> None:
        self.name = name
        self.account = account
        self.purchase_action = purchase_action
        self.lead_action = lead_action
        self._token = token
        self._token_env = token_env
        self._base = endpoints.meta_graph_url.rstrip("/")
        self._policy = policy
        self._session = session
        self._sleep = sleep
        self._throttled = 0
        self._what = f"source {name!r}: Meta"

    # -- public -----------------------------------------------------------------------------

    def info(self) -> SourceInfo:
        self._throttled = 0
        name, currency = self._account()
        url = f"{self._base}/{self.account}/campaigns"
        pages = self._pages(url, {"fields": "id", "limit": str(PAGE_LIMIT)})
        campaigns = sum(len(page) for page in pages)
        return SourceInfo(account_name=name, currency=currency, campaigns=campaigns)

    def fetch(self, start: date, end: date) -> Fetched:
        if end < start:
            raise SourceError(f"source {self.name!r}: the range ends before it starts")
        self._throttled = 0
        _, currency = self._account()
        rows: list[PlatformDay] = []
        size = MAX_CHUNK_DAYS
        chunk_start = start
        while chunk_start <= end:
            chunk_end = min(end, chunk_start + timedelta(days=size - 1))
            try:
                rows.extend(self._chunk(chunk_start, chunk_end))
            except _TooMuchData:
                days = (chunk_end - chunk_start).days + 1
                if days <= 1:
                    raise SourceError(
                        f"{self._what}: asked for less data even for a single day "
                        f"({chunk_start.isoformat()}); try again later",
                        retryable=True,
                    ) from None
                size = days // 2
                log.info("source %r: Meta asked for less data; %d days at a time", self.name, size)
                continue
            chunk_start = chunk_end + timedelta(days=1)
        return Fetched(
            platform=PLATFORM,
            account=self.account,
            currency=currency,
            start=start,
            end=end,
            rows=rows,
        )

    # -- parsing ----------------------------------------------------------------------------

    def _chunk(self, start: date, end: date) -> list[PlatformDay]:
        params = {
            "level": "campaign",
            "time_increment": "1",
            "time_range": json.dumps(
                {"since": start.isoformat(), "until": end.isoformat()}, separators=(",", ":")
            ),
            "fields": INSIGHTS_FIELDS,
            "limit": str(PAGE_LIMIT),
        }
        url = f"{self._base}/{self.account}/insights"
        return [
            self._row(item, start, end)
            for page in self._pages(url, params, chunked=True)
            for item in page
        ]

    def _row(self, item: Any, start: date, end: date) -> PlatformDay:
        try:
            day = date.fromisoformat(str(item["date_start"]))
            stop = item.get("date_stop")
            row = PlatformDay(
                day=day,
                campaign_id=str(item["campaign_id"]),
                campaign_name=str(item.get("campaign_name", "")),
                impressions=_count(item.get("impressions", "0")),
                clicks=_count(item.get("clicks", "0")),
                spend=_number(item.get("spend", "0")),
                conversions=_action(item.get("actions"), self.purchase_action),
                revenue=_action(item.get("action_values"), self.purchase_action),
                leads=(
                    _action(item.get("actions"), self.lead_action)
                    if self.lead_action is not None
                    else None
                ),
            )
        except (AttributeError, KeyError, TypeError, ValueError, InvalidOperation):
            raise SourceError(
                f"{self._what} answered a row kpibot cannot read", retryable=False
            ) from None
        if not start <= day <= end or (stop is not None and str(stop) != day.isoformat()):
            raise SourceError(
                f"{self._what} answered a row for {day.isoformat()}..{stop} although "
                f"{start.isoformat()}..{end.isoformat()} was asked day by day"
            )
        return row

    def _account(self) -> tuple[str, str]:
        body = self._get(f"{self._base}/{self.account}", {"fields": "name,currency"})
        currency = str(body.get("currency", "")).strip()
        if not currency:
            raise SourceError(f"{self._what} did not say the ad account's currency")
        return str(body.get("name", "")), currency

    # -- HTTP -------------------------------------------------------------------------------

    def _pages(
        self, url: str, params: dict[str, str] | None, *, chunked: bool = False
    ) -> Iterator[list[Any]]:
        """Each page's `data`, following `paging.next` until there is none."""
        next_url: str | None = url
        while next_url is not None:
            body = self._get(next_url, params, chunked=chunked)
            data = body.get("data", [])
            if not isinstance(data, list):
                raise SourceError(f"{self._what} answered a page kpibot cannot read")
            yield data
            paging = body.get("paging")
            following = paging.get("next") if isinstance(paging, dict) else None
            next_url = self._following(following) if following else None
            params = None  # the next URL carries every parameter

    def _following(self, url: object) -> str:
        """The next page's URL without the access token Meta puts in it, on the same host."""
        parts = urlsplit(str(url))
        base = urlsplit(self._base)
        if (parts.scheme, parts.netloc) != (base.scheme, base.netloc):
            raise SourceError(f"{self._what}: the next page is on another host; not followed")
        query = parse_qsl(parts.query, keep_blank_values=True)
        kept = [(k, v) for k, v in query if k != "access_token"]
        return urlunsplit(parts._replace(query=urlencode(kept)))

    def _get(
        self, url: str, params: dict[str, str] | None, *, chunked: bool = False
    ) -> dict[str, Any]:
        """One page, waiting out throttling and retrying a cut-off answer once."""
        cut_off = False
        while True:
            response = call(
                self._session,
                "GET",
                url,
                policy=self._policy,
                what=self._what,
                secrets=[self._token],
                params=params,
                headers={"Authorization": f"Bearer {self._token}"},
            )
            body = exact_json(response.text)
            if not isinstance(body, dict):
                if body is None and not cut_off and response.status_code == 200:
                    cut_off = True
                    continue
                raise SourceError(
                    f"{self._what}: the answer was cut off or not JSON "
                    f"(HTTP {response.status_code})",
                    retryable=True,
                )
            error = body.get("error")
            if response.status_code == 200 and error is None:
                return body
            if not isinstance(error, dict):
                error = {}
            code = _int(error.get("code"))
            if code in THROTTLE_CODES or response.status_code == 429:
                self._throttled += 1
                if self._throttled >= self._policy.throttle_attempts:
                    raise SourceError(
                        f"{self._what}: still over the API rate limit after "
                        f"{self._throttled} tries; try again later",
                        retryable=True,
                    )
                wait(self._sleep, _retry_delay(response, self._throttled), self._policy)
                continue
            self._refuse(response, error, code, chunked)

    def _refuse(
        self, response: requests.Response, error: Mapping[str, Any], code: int | None, chunked: bool
    ) -> NoReturn:
        message = scrub(str(error.get("message", "")), [self._token])[:300]
        if code == TOKEN_CODE:
            raise SourceError(
                f"{self._what} no longer accepts the access token (it expired or was revoked); "
                f"put a new token in the environment variable {self._token_env}",
                needs_new_token=True,
            )
        if chunked and (
            (code == 1 and _int(error.get("error_subcode")) == TOO_MUCH_DATA_SUBCODE)
            or "reduce the amount of data" in message.lower()
        ):
            raise _TooMuchData
        if code in PERMISSION_CODES:
            raise SourceError(
                f"{self._what}: this token may not read ad account {self.account} ({message})"
            )
        transient = error.get("is_transient") is True or code in TRANSIENT_CODES
        raise SourceError(
            f"{self._what}: HTTP {response.status_code} error {code if code is not None else '?'}"
            f": {message or 'no message'}",
            retryable=transient or response.status_code >= 500,
        )


def _int(value: Any) -> int | None:
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return int(number) if number.is_finite() and number == number.to_integral_value() else None


def _number(value: Any) -> Decimal:
    """A Meta number (a string such as "12.34", or a JSON number parsed as Decimal)."""
    if not isinstance(value, (str, Decimal)):
        raise ValueError("not a number")
    number = Decimal(value.strip()) if isinstance(value, str) else value
    if not number.is_finite():
        raise ValueError("not a finite number")
    return number


def _count(value: Any) -> int:
    number = _number(value)
    if number != number.to_integral_value():
        raise ValueError("a count with a fraction")
    return int(number)


def _action(actions: Any, action_type: str) -> Decimal:
    """The value of the one action of `action_type`; 0 when the row has none of it (Meta
    omits action types, and the whole list, that did not happen)."""
    if actions is None:
        return Decimal(0)
    if not isinstance(actions, list):
        raise TypeError("actions is not a list")
    found: Decimal | None = None
    for action in actions:
        if action.get("action_type") != action_type:
            continue
        value = _number(action.get("value", "0"))
        if found is not None and found != value:
            raise ValueError(f"action {action_type} reported twice")
        found = value
    return found if found is not None else Decimal(0)


def _retry_delay(response: requests.Response, attempt: int) -> float:
    """Meta's own estimate (X-Business-Use-Case-Usage: minutes until access is regained, the
    longest over its entries), else a backoff growing with each attempt."""
    minutes = _regain_minutes(response.headers.get("X-Business-Use-Case-Usage", ""))
    if minutes:
        return float(minutes * 60)
    return float(THROTTLE_BASE_SECONDS * 2 ** (attempt - 1))


def _regain_minutes(header: str) -> Decimal | None:
    if not header.strip():
        return None
    usage = exact_json(header)
    if not isinstance(usage, dict):
        return None
    longest: Decimal | None = None
    for entries in usage.values():
        for entry in entries if isinstance(entries, list) else []:
            if not isinstance(entry, dict):
                continue
            value = entry.get("estimated_time_to_regain_access")
            try:
                minutes = Decimal(str(value))
            except (InvalidOperation, ValueError):
                continue
            if minutes.is_finite() and minutes > 0 and (longest is None or minutes > longest):
                longest = minutes
    return longest
