"""The Google Ads connector against a local fake Google Ads API and OAuth endpoint."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.sources import google_ads
from bot.sources.http import Endpoints, HttpPolicy
from bot.sources.model import Kind, SourceConfig, SourceError
from tests.support.fake_google_ads import FakeGoogleAds

ENV_NAMES = {
    "developer_token": "GADS_DEV_TOKEN",
    "client_id": "GADS_CLIENT_ID",
    "client_secret": "GADS_CLIENT_SECRET",
    "refresh_token": "GADS_REFRESH_TOKEN",
}
D1, D2, D3 = date(2026, 1, 1), date(2026, 1, 2), date(2026, 1, 3)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def fake(clock: Clock) -> Iterator[FakeGoogleAds]:
    with FakeGoogleAds(clock=clock) as server:
        yield server


def env_for(fake: FakeGoogleAds) -> dict[str, str]:
    return {
        "GADS_DEV_TOKEN": fake.developer_token,
        "GADS_CLIENT_ID": fake.client_id,
        "GADS_CLIENT_SECRET": fake.client_secret,
        "GADS_REFRESH_TOKEN": fake.refresh_token,
    }


def secrets_of(fake: FakeGoogleAds) -> list[str]:
    return [fake.developer_token, fake.client_secret, fake.refresh_token, *fake.issued]


def make(
    fake: FakeGoogleAds,
    clock: Clock,
    *,
    account: str = "123-456-7890",
    options: dict[str, str] | None = None,
    policy: HttpPolicy | None = None,
    sleeps: list[float] | None = None,
    env: dict[str, str] | None = None,
) -> google_ads.GoogleAdsConnector:
    config = SourceConfig(
        name="gads",
        kind=Kind.GOOGLE_ADS,
        account=account,
        options=options or {},
        secret_envs=dict(ENV_NAMES),
    )
    endpoints = Endpoints(google_ads_api_url=fake.api_url, google_oauth_token_url=fake.token_url)
    recorded = sleeps if sleeps is not None else []
    return google_ads.connect(
        config,
        env if env is not None else env_for(fake),
        endpoints,
        policy or HttpPolicy(retries=2, backoff=0.0, read_timeout=5.0),
        sleep=recorded.append,
        clock=clock,
    )


def test_fetch_exact_money_and_batches(fake: FakeGoogleAds, clock: Clock) -> None:
    fake.add_day(D1, "11", "Brand", cost_micros=1_234_567, impressions=100, clicks=7,
                 conversions="2.5", conversions_value="1234.56")  # fmt: skip
    fake.add_day(D1, "22", "Generic", cost_micros=1, clicks=1)
    fake.add_day(D2, "11", "Brand", impressions=3)
    fake.add_day(D2, "22", "Generic")  # all zero: omitted by Google
    fake.add_day(D3, "22", "Generic", cost_micros=999_999_999_999, conversions_value="0.01")
    fake.add_day(date(2026, 1, 9), "11", "Brand", cost_micros=5)  # outside the range

    fetched = make(fake, clock).fetch(D1, D3)

    assert (fetched.platform, fetched.account, fetched.currency) == (
        "google_ads",
        "1234567890",
        "EUR",
    )
    assert (fetched.start, fetched.end) == (D1, D3)
    by_key = {(r.day, r.campaign_id): r for r in fetched.rows}
    assert set(by_key) == {(D1, "11"), (D1, "22"), (D2, "11"), (D3, "22")}
    brand = by_key[(D1, "11")]
    assert brand.spend == Decimal("1.234567")
    assert brand.revenue == Decimal("1234.56")
    assert brand.conversions == Decimal("2.5")
    assert (brand.impressions, brand.clicks, brand.campaign_name) == (100, 7, "Brand")
    assert by_key[(D1, "22")].spend == Decimal("0.000001")
    zeroish = by_key[(D2, "11")]
    assert zeroish.impressions == 3
    assert zeroish.spend == 0 and zeroish.clicks == 0
    assert zeroish.conversions == 0 and zeroish.revenue == 0
    assert by_key[(D3, "22")].spend == Decimal("999999.999999")
    assert by_key[(D3, "22")].revenue == Decimal("0.01")
    # 4 results in batches of 2: the answer was split and combined.
    search = fake.calls("searchStream")
    assert len(search) == 1
    query = search[0].query()
    assert "BETWEEN '2026-01-01' AND '2026-01-03'" in query
    assert "metrics.conversions_value" in query
    headers = search[0].headers
    assert headers["developer-token"] == fake.developer_token
    assert headers["authorization"].startswith("Bearer ya29.")
    assert "login-customer-id" not in headers


def test_no_rows_asks_the_customer_for_its_currency(fake: FakeGoogleAds, clock: Clock) -> None:
    fake.currency = "CHF"
    fetched = make(fake, clock).fetch(D1, D2)
    assert fetched.rows == [] and fetched.currency == "CHF"
    assert fake.calls("searchStream")[-1].query().endswith("FROM customer")


def test_login_customer_header(fake: FakeGoogleAds, clock: Clock) -> None:
    fake.login_customer = "9876543210"
    fake.add_day(D1, "11", "Brand", clicks=1)
    connector = make(fake, clock, options={"login_customer": "987-654-3210"})
    assert len(connector.fetch(D1, D1).rows) == 1
    assert fake.calls("searchStream")[0].headers["login-customer-id"] == "9876543210"


def test_missing_login_customer_is_permission_denied(fake: FakeGoogleAds, clock: Clock) -> None:
    fake.login_customer = "9876543210"
    with pytest.raises(SourceError) as caught:
        make(fake, clock).fetch(D1, D1)
    assert "login_customer" in caught.value.message
    assert not caught.value.needs_new_token and not caught.value.retryable


def test_info(fake: FakeGoogleAds, clock: Clock) -> None:
    fake.add_day(D1, "11", "Brand", clicks=1)
    fake.add_day(D2, "11", "Brand", clicks=1)
    fake.add_day(D1, "22", "Generic")
    info = make(fake, clock).info()
    assert (info.account_name, info.currency, info.campaigns) == ("Example GmbH", "EUR", 2)


def test_token_reused_then_refreshed_before_expiry(fake: FakeGoogleAds, clock: Clock) -> None:
    fake.add_day(D1, "11", "Brand", clicks=1)
    connector = make(fake, clock)
    connector.fetch(D1, D1)
    clock.now += 3000  # 600 s left: still good
    connector.fetch(D1, D1)
    assert len(fake.calls("/token")) == 1
    clock.now += 550  # 50 s left: inside the 60 s margin, refreshed before it expires
    connector.fetch(D1, D1)
    tokens = fake.calls("/token")
    assert len(tokens) == 2
    assert tokens[0].form() == {
        "grant_type": "refresh_token",
        "client_id": fake.client_id,
        "client_secret": fake.client_secret,
        "refresh_token": fake.refresh_token,
    }
    bearers = [r.headers["authorization"] for r in fake.calls("searchStream")]
    assert bearers[0] == bearers[1] != bearers[2]
    assert len(fake.calls("searchStream")) == 3


def test_token_rejected_by_api_is_refreshed_once(fake: FakeGoogleAds, clock: Clock) -> None:
    fake.add_day(D1, "11", "Brand", clicks=1)
    connector = make(fake, clock)
    connector.fetch(D1, D1)
    fake.issued.clear()  # Google revoked the access token
    assert len(connector.fetch(D1, D1).rows) == 1
    assert len(fake.calls("/token")) == 2


def test_throttle_waits_and_retries(fake: FakeGoogleAds, clock: Clock) -> None:
    fake.add_day(D1, "11", "Brand", cost_micros=10)
    # retries=0: urllib3 would otherwise honour a 429's Retry-After itself, with real sleeps.
    fake.exhaust(2, retry_after="7")
    sleeps: list[float] = []
    policy = HttpPolicy(retries=0)
    fetched = make(fake, clock, sleeps=sleeps, policy=policy).fetch(D1, D1)
    assert fetched.rows[0].spend == Decimal("0.00001")
    assert sleeps == [7.0, 7.0]
    assert len(fake.calls("searchStream")) == 3


def test_throttle_retry_delay_from_details(fake: FakeGoogleAds, clock: Clock) -> None:
    fake.exhaust(1, retry_after=None, retry_delay="30s")
    sleeps: list[float] = []
    make(fake, clock, sleeps=sleeps).fetch(D1, D1)
    assert sleeps == [30.0]


def test_throttle_without_retry_after_backs_off(fake: FakeGoogleAds, clock: Clock) -> None:
    fake.exhaust(3, retry_after=None)
    sleeps: list[float] = []
    make(fake, clock, sleeps=sleeps).fetch(D1, D1)
    assert sleeps == [5.0, 10.0, 20.0]


def test_throttle_exhausted_is_retryable(fake: FakeGoogleAds, clock: Clock) -> None:
    fake.exhaust(100)
    sleeps: list[float] = []
    policy = HttpPolicy(retries=0, throttle_attempts=3)
    with pytest.raises(SourceError) as caught:
        make(fake, clock, sleeps=sleeps, policy=policy).fetch(D1, D1)
    assert caught.value.retryable and not caught.value.needs_new_token
    assert "quota" in caught.value.message
    assert len(sleeps) == 2 and len(fake.calls("searchStream")) == 3


def test_invalid_grant_needs_new_token(
    fake: FakeGoogleAds, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    fake.fail_token = "invalid_grant"
    with pytest.raises(SourceError) as caught:
        make(fake, clock).fetch(D1, D1)
    assert caught.value.needs_new_token
    assert "new refresh token" in caught.value.message
    for secret in secrets_of(fake):
        assert secret not in caught.value.message and secret not in caplog.text


def test_wrong_developer_token(fake: FakeGoogleAds, clock: Clock) -> None:
    env = env_for(fake) | {"GADS_DEV_TOKEN": "wrong-dev-token"}
    with pytest.raises(SourceError) as caught:
        make(fake, clock, env=env).fetch(D1, D1)
    assert "developer token" in caught.value.message
    assert "wrong-dev-token" not in caught.value.message


def test_missing_env_var_named(fake: FakeGoogleAds, clock: Clock) -> None:
    env = env_for(fake)
    del env["GADS_CLIENT_SECRET"]
    with pytest.raises(SourceError) as caught:
        make(fake, clock, env=env)
    assert "GADS_CLIENT_SECRET" in caught.value.message
    assert fake.refresh_token not in caught.value.message


def test_bad_customer_id(fake: FakeGoogleAds, clock: Clock) -> None:
    with pytest.raises(SourceError, match="10 digits"):
        make(fake, clock, account="12345")


def test_500_once_is_retried_by_the_session(fake: FakeGoogleAds, clock: Clock) -> None:
    fake.add_day(D1, "11", "Brand", clicks=4)
    fake.fail_500_once = True
    assert make(fake, clock).fetch(D1, D1).rows[0].clicks == 4


def test_truncated_json_is_retryable(fake: FakeGoogleAds, clock: Clock) -> None:
    fake.add_day(D1, "11", "Brand", clicks=4)
    fake.truncate_next = True
    with pytest.raises(SourceError) as caught:
        make(fake, clock).fetch(D1, D1)
    assert caught.value.retryable
    assert "cut off" in caught.value.message


def test_timeout(fake: FakeGoogleAds, clock: Clock) -> None:
    fake.slow_next = 0.0
    connector = make(fake, clock, policy=HttpPolicy(read_timeout=0.5, retries=0))
    connector.fetch(D1, D1)  # token obtained
    fake.slow_next = 1.5
    with pytest.raises(SourceError) as caught:
        connector.fetch(D1, D1)
    assert caught.value.retryable
    assert "timed out" in caught.value.message


def test_no_secret_in_any_error(
    fake: FakeGoogleAds, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    messages: list[str] = []
    fake.add_day(D1, "11", "Brand", clicks=1)

    def token_refused() -> None:
        fake.fail_token = "invalid_grant"

    def throttled() -> None:
        fake.fail_token = None
        fake.exhaust(100)

    def truncated() -> None:
        fake.exhaust(0)
        fake.truncate_next = True

    def wrong_manager() -> None:
        fake.login_customer = "1111111111"

    scenarios: list[Callable[[], None]] = [token_refused, throttled, truncated, wrong_manager]
    for arrange in scenarios:
        arrange()
        with pytest.raises(SourceError) as caught:
            make(fake, clock, policy=HttpPolicy(retries=0, throttle_attempts=2)).fetch(D1, D1)
        messages.append(caught.value.message)
        messages.append(str(caught.value))
    env = env_for(fake) | {"GADS_DEV_TOKEN": "dev-token-WRONG-SECRET"}
    fake.login_customer = None
    with pytest.raises(SourceError) as caught:
        make(fake, clock, env=env).fetch(D1, D1)
    messages.append(caught.value.message)
    assert fake.issued, "the scenarios obtained access tokens"
    for secret in [*secrets_of(fake), "dev-token-WRONG-SECRET"]:
        for message in messages:
            assert secret not in message
        assert secret not in caplog.text


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    micros=st.integers(min_value=1, max_value=10**15),
    value=st.decimals(min_value=0, max_value=10**9, places=2, allow_nan=False),
    conversions=st.decimals(min_value=0, max_value=10**6, places=3, allow_nan=False),
)
def test_numbers_exact_property(
    fake: FakeGoogleAds, clock: Clock, micros: int, value: Decimal, conversions: Decimal
) -> None:
    fake.days.clear()
    fake.add_day(D1, "11", "Brand", cost_micros=micros, conversions=str(conversions),
                 conversions_value=str(value))  # fmt: skip
    (row,) = make(fake, clock).fetch(D1, D1).rows
    assert row.spend * 1_000_000 == micros
    assert row.revenue == value
    assert row.conversions == conversions
