"""The Google Ads connector: OAuth refresh-token flow and the REST `googleAds:searchStream`.

Numbers never go through float: the JSON is parsed with Decimal for every number, int64
metrics arrive as strings, and spend is `costMicros / 10^6` exactly. Google omits zero-valued
fields (a missing metric is 0) and all-zero rows (the sync fills in zero days).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

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

PLATFORM = "google_ads"
SECRET_ROLES = ("developer_token", "client_id", "client_secret", "refresh_token")
TOKEN_MARGIN_SECONDS = 60.0
THROTTLE_BASE_SECONDS = 5.0
THROTTLE_CODES = frozenset({"RESOURCE_EXHAUSTED", "RESOURCE_TEMPORARILY_EXHAUSTED"})
MICROS = Decimal(1_000_000)

CAMPAIGN_DAYS_QUERY = (
    "SELECT segments.date, campaign.id, campaign.name, customer.currency_code, "
    "customer.descriptive_name, metrics.cost_micros, metrics.impressions, metrics.clicks, "
    "metrics.conversions, metrics.conversions_value FROM campaign "
    "WHERE segments.date BETWEEN '{start}' AND '{end}'"
)
CUSTOMER_QUERY = "SELECT customer.currency_code, customer.descriptive_name FROM customer"
CAMPAIGNS_QUERY = "SELECT campaign.id FROM campaign"


def connect(
    config: SourceConfig,
    env: Mapping[str, str],
    endpoints: Endpoints,
    policy: HttpPolicy,
    *,
    session: requests.Session | None = None,
    sleep: Sleep = default_sleep,
    clock: Callable[[], float] = time.monotonic,
) -> GoogleAdsConnector:
    """A connector for one Google Ads customer; a missing secret variable is a SourceError
    naming it, a malformed customer id one in plain words."""
    missing_roles = [role for role in SECRET_ROLES if role not in config.secret_envs]
    if missing_roles:
        raise SourceError(
            f"source {config.name!r}: no environment variable configured for "
            + ", ".join(missing_roles)
        )
    secrets = read_secrets(config, env)
    customer = _digits(config.account)
    if customer is None:
        raise SourceError(
            f"source {config.name!r}: the Google Ads customer id must be 10 digits "
            "(e.g. 123-456-7890)"
        )
    login = config.options.get("login_customer", "").strip()
    login_customer = _digits(login) if login else None
    if login and login_customer is None:
        raise SourceError(
            f"source {config.name!r}: the login customer id must be 10 digits (e.g. 123-456-7890)"
        )
    return GoogleAdsConnector(
        name=config.name,
        customer=customer,
        login_customer=login_customer,
        secrets=secrets,
        endpoints=endpoints,
        policy=policy,
        session=session if session is not None else make_session(policy),
        sleep=sleep,
        clock=clock,
    )


def _digits(text: str) -> str | None:
    digits = text.strip().replace("-", "")
    return digits if re.fullmatch(r"\d{10}", digits) else None


class GoogleAdsConnector:
    """Reads one customer's campaign × day metrics; see `connect`."""

    def __init__(
        self,
        *,
        name: str,
        customer: str,
        login_customer: str | None,
        secrets: dict[str, str],
        endpoints: Endpoints,
        policy: HttpPolicy,
        session: requests.Session,
        sleep: Sleep,
        clock: Callable[[], float],
    ) -> None:
        self.name = name
        self.customer = customer
        self.login_customer = login_customer
        self._secrets = secrets
        self._endpoints = endpoints
        self._policy = policy
        self._session = session
        self._sleep = sleep
        self._clock = clock
        self._token: str | None = None
        self._token_expires = 0.0

    # -- public -----------------------------------------------------------------------------

    def info(self) -> SourceInfo:
        name, currency = self._customer()
        campaigns = len(self._search(CAMPAIGNS_QUERY))
        return SourceInfo(account_name=name, currency=currency, campaigns=campaigns)

    def fetch(self, start: date, end: date) -> Fetched:
        if end < start:
            raise SourceError(f"source {self.name!r}: the range ends before it starts")
        query = CAMPAIGN_DAYS_QUERY.format(start=start.isoformat(), end=end.isoformat())
        results = self._search(query)
        rows: list[PlatformDay] = []
        currency = ""
        for result in results:
            row, row_currency = self._row(result)
            rows.append(row)
            currency = currency or row_currency
        if not currency:
            _, currency = self._customer()
        return Fetched(
            platform=PLATFORM,
            account=self.customer,
            currency=currency,
            start=start,
            end=end,
            rows=rows,
        )

    # -- parsing ----------------------------------------------------------------------------

    def _row(self, result: Any) -> tuple[PlatformDay, str]:
        try:
            segments = result.get("segments", {})
            campaign = result.get("campaign", {})
            metrics = result.get("metrics", {})
            customer = result.get("customer", {})
            row = PlatformDay(
                day=date.fromisoformat(str(segments["date"])),
                campaign_id=str(campaign["id"]),
                campaign_name=str(campaign.get("name", "")),
                impressions=int(Decimal(str(metrics.get("impressions", "0")))),
                clicks=int(Decimal(str(metrics.get("clicks", "0")))),
                spend=Decimal(str(metrics.get("costMicros", "0"))) / MICROS,
                conversions=Decimal(str(metrics.get("conversions", "0"))),
                revenue=Decimal(str(metrics.get("conversionsValue", "0"))),
            )
            return row, str(customer.get("currencyCode", ""))
        except (AttributeError, KeyError, TypeError, ValueError, InvalidOperation):
            raise SourceError(
                f"source {self.name!r}: Google Ads answered a row kpibot cannot read",
                retryable=False,
            ) from None

    def _customer(self) -> tuple[str, str]:
        results = self._search(CUSTOMER_QUERY)
        if not results:
            raise SourceError(f"source {self.name!r}: Google Ads returned no customer record")
        customer = results[0].get("customer", {}) if isinstance(results[0], dict) else {}
        currency = str(customer.get("currencyCode", ""))
        if not currency:
            raise SourceError(f"source {self.name!r}: Google Ads did not say the currency")
        return str(customer.get("descriptiveName", "")), currency

    # -- HTTP -------------------------------------------------------------------------------

    def _all_secrets(self) -> list[str]:
        values = list(self._secrets.values())
        if self._token:
            values.append(self._token)
        return values

    def _access_token(self) -> str:
        if self._token is not None and self._clock() < self._token_expires - TOKEN_MARGIN_SECONDS:
            return self._token
        what = f"source {self.name!r}: Google sign-in"
        response = call(
            self._session,
            "POST",
            self._endpoints.google_oauth_token_url,
            policy=self._policy,
            what=what,
            secrets=self._all_secrets(),
            data={
                "grant_type": "refresh_token",
                "client_id": self._secrets["client_id"],
                "client_secret": self._secrets["client_secret"],
                "refresh_token": self._secrets["refresh_token"],
            },
        )
        body = exact_json(response.text)
        error = str(body.get("error", "")) if isinstance(body, dict) else ""
        if response.status_code in (400, 401) or error:
            reason = scrub(error or f"HTTP {response.status_code}", self._all_secrets())[:100]
            raise SourceError(
                f"{what}: Google refused the stored credentials ({reason}); "
                "sign in again and store a new refresh token",
                needs_new_token=True,
            )
        if (
            response.status_code != 200
            or not isinstance(body, dict)
            or not body.get("access_token")
        ):
            raise SourceError(
                f"{what}: unexpected answer (HTTP {response.status_code})", retryable=True
            )
        self._token = str(body["access_token"])
        try:
            expires_in = float(str(body.get("expires_in", 3600)))
        except ValueError:
            expires_in = 3600.0
        self._token_expires = self._clock() + expires_in
        return self._token

    def _search(self, query: str) -> list[Any]:
        url = (
            f"{self._endpoints.google_ads_api_url}/customers/{self.customer}/googleAds:searchStream"
        )
        what = f"source {self.name!r}: Google Ads"
        throttled = 0
        refreshed = False
        while True:
            token = self._access_token()
            headers = {
                "Authorization": f"Bearer {token}",
                "developer-token": self._secrets["developer_token"],
                "Content-Type": "application/json",
            }
            if self.login_customer:
                headers["login-customer-id"] = self.login_customer
            response = call(
                self._session,
                "POST",
                url,
                policy=self._policy,
                what=what,
                secrets=self._all_secrets(),
                json={"query": query},
                headers=headers,
            )
            body = exact_json(response.text)
            if response.status_code == 200 and isinstance(body, list) and not _error_of(body):
                results: list[Any] = []
                for batch in body:
                    if isinstance(batch, dict):
                        results.extend(batch.get("results", []))
                return results
            if body is None:
                raise SourceError(
                    f"{what}: the answer was cut off or not JSON (HTTP {response.status_code})",
                    retryable=True,
                )
            error = _error_of(body)
            status = str(error.get("status", ""))
            codes = _error_codes(error)
            message = scrub(str(error.get("message", "")), self._all_secrets())[:300]
            if status in THROTTLE_CODES or codes & THROTTLE_CODES:
                throttled += 1
                if throttled >= self._policy.throttle_attempts:
                    raise SourceError(
                        f"{what}: still over the API quota after {throttled} tries; "
                        "try again later",
                        retryable=True,
                    )
                wait(self._sleep, _retry_delay(response, error, throttled), self._policy)
                continue
            if codes & {"DEVELOPER_TOKEN_NOT_APPROVED", "DEVELOPER_TOKEN_PROHIBITED"} or any(
                "DEVELOPER_TOKEN" in code for code in codes
            ):
                raise SourceError(
                    f"{what}: the developer token is not accepted for this account ({message})"
                )
            if status == "UNAUTHENTICATED" or response.status_code == 401:
                if not refreshed:
                    refreshed = True
                    self._token = None
                    continue
                raise SourceError(
                    f"{what}: Google no longer accepts kpibot's sign-in; "
                    "sign in again and store a new refresh token",
                    needs_new_token=True,
                )
            if status == "PERMISSION_DENIED" or response.status_code == 403:
                raise SourceError(
                    f"{what}: these credentials may not read customer {self.customer} "
                    f"(check login_customer for manager accounts) ({message})"
                )
            raise SourceError(
                f"{what}: HTTP {response.status_code} {status or 'error'}: {message}",
                retryable=response.status_code >= 500,
            )


def _error_of(body: Any) -> dict[str, Any]:
    if isinstance(body, list):
        for item in body:
            if isinstance(item, dict) and isinstance(item.get("error"), dict):
                return item["error"]  # type: ignore[no-any-return]
        return {}
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        return body["error"]  # type: ignore[no-any-return]
    return {}


def _details(error: Mapping[str, Any]) -> list[dict[str, Any]]:
    details = error.get("details", [])
    return [d for d in details if isinstance(d, dict)] if isinstance(details, list) else []


def _error_codes(error: Mapping[str, Any]) -> set[str]:
    codes: set[str] = set()
    for detail in _details(error):
        for item in detail.get("errors", []) or []:
            if isinstance(item, dict) and isinstance(item.get("errorCode"), dict):
                codes.update(str(v) for v in item["errorCode"].values())
    return codes


def _retry_delay(response: requests.Response, error: Mapping[str, Any], attempt: int) -> float:
    header = response.headers.get("Retry-After", "").strip()
    if header:
        try:
            return max(0.0, float(header))
        except ValueError:
            pass
    for delay in _retry_delays(error):
        if re.fullmatch(r"\d+(\.\d+)?s", delay):
            return float(delay[:-1])
    return float(THROTTLE_BASE_SECONDS * 2 ** (attempt - 1))


def _retry_delays(value: Any) -> list[str]:
    """Every `retryDelay` string anywhere in the error (Google puts it in
    errors[].details.quotaErrorDetails, or in a google.rpc.RetryInfo detail)."""
    found: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "retryDelay" and isinstance(item, str):
                found.append(item.strip())
            else:
                found.extend(_retry_delays(item))
    elif isinstance(value, list):
        for item in value:
            found.extend(_retry_delays(item))
    return found
