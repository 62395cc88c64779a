"""The Meta Insights connector against a local fake Graph API."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, select

from bot.sources import meta
from bot.sources.connectors import Connections
from bot.sources.http import Endpoints, HttpPolicy
from bot.sources.model import Kind, SourceConfig, SourceError
from bot.sources.sync import SyncService
from storage import sources as store
from storage.models import Campaign, DailyMetrics
from tests.support.fake_meta import FakeMeta

TOKEN_ENV = "META_TOKEN"
D1, D2, D3 = date(2026, 1, 1), date(2026, 1, 2), date(2026, 1, 3)
FAST = HttpPolicy(retries=0, backoff=0.0, read_timeout=5.0)


@pytest.fixture
def fake() -> Iterator[FakeMeta]:
    with FakeMeta() as server:
        yield server


def config_for(fake: FakeMeta, options: dict[str, str] | None = None) -> SourceConfig:
    return SourceConfig(
        name="fb",
        kind=Kind.META,
        account=fake.account,
        options={"purchase_action": "omni_purchase"} if options is None else options,
        secret_envs={"token": TOKEN_ENV},
    )


def make(
    fake: FakeMeta,
    *,
    options: dict[str, str] | None = None,
    policy: HttpPolicy = FAST,
    sleeps: list[float] | None = None,
    account: str | None = None,
) -> meta.MetaConnector:
    config = config_for(fake, options)
    if account is not None:
        config = SourceConfig(config.name, config.kind, account, config.options, config.secret_envs)
    recorded = sleeps if sleeps is not None else []
    return meta.connect(
        config,
        {TOKEN_ENV: fake.token},
        Endpoints(meta_graph_url=fake.url),
        policy,
        sleep=recorded.append,
    )


def afters(fake: FakeMeta) -> list[str | None]:
    return [r.query.get("after") for r in fake.insights_calls()]


def test_fetch_exact_numbers_one_action_type_and_pages(fake: FakeMeta) -> None:
    fake.add_day(D1, "11", "Brand", impressions=1000, clicks=37, spend="1234.56",
                 purchases="2", purchase_value="199.99")  # fmt: skip
    fake.add_day(D1, "22", "Generic", impressions=5, spend="0.01", purchases="2.5",
                 purchase_value="0.10")  # fmt: skip
    fake.add_day(D2, "11", "Brand", impressions=3, clicks=1, spend="0.33")  # actions: none bought
    fake.add_day(D2, "22", "Generic")  # no delivery: Meta omits the row
    fake.add_day(D3, "22", "Generic", impressions=9, spend="99999.99", purchases="1",
                 purchase_value="12345678.91")  # fmt: skip
    fake.add_day(date(2026, 1, 9), "11", "Brand", spend="5.00")  # outside the range

    fetched = make(fake).fetch(D1, D3)

    assert (fetched.platform, fetched.account, fetched.currency) == (
        "meta_ads",
        "act_1234567",
        "DKK",
    )
    assert (fetched.start, fetched.end) == (D1, D3)
    by_key = {(r.day, r.campaign_id): r for r in fetched.rows}
    assert set(by_key) == {(D1, "11"), (D1, "22"), (D2, "11"), (D3, "22")}
    assert len(fetched.rows) == 4
    brand = by_key[(D1, "11")]
    assert (brand.impressions, brand.clicks, brand.campaign_name) == (1000, 37, "Brand")
    assert brand.spend == Decimal("1234.56")
    # Three aliases of the same purchase are reported: one is counted, not their sum.
    assert brand.conversions == Decimal("2") and brand.revenue == Decimal("199.99")
    assert brand.leads is None  # no lead action configured: unknown, not zero
    generic = by_key[(D1, "22")]
    assert generic.conversions == Decimal("2.5") and generic.revenue == Decimal("0.10")
    assert generic.spend == Decimal("0.01") and generic.clicks == 0
    quiet = by_key[(D2, "11")]
    assert quiet.conversions == 0 and quiet.revenue == 0 and quiet.spend == Decimal("0.33")
    assert by_key[(D3, "22")].revenue == Decimal("12345678.91")
    # 4 rows, 2 per page: two pages, the second from paging.next.
    calls = fake.insights_calls()
    assert afters(fake) == [None, "2"]
    first = calls[0].query
    assert json.loads(first["time_range"]) == {"since": "2026-01-01", "until": "2026-01-03"}
    assert (first["level"], first["time_increment"]) == ("campaign", "1")
    assert set(first["fields"].split(",")) >= {
        "campaign_id", "campaign_name", "date_start", "impressions", "clicks", "spend",
        "actions", "action_values",
    }  # fmt: skip
    assert int(first["limit"]) >= 100
    for request in fake.requests:
        assert request.headers["authorization"] == f"Bearer {fake.token}"
        assert "access_token" not in request.query and fake.token not in request.raw_query
    assert fake.token_in_query == 0


def test_configured_actions_are_the_ones_counted(fake: FakeMeta) -> None:
    fake.add_day(D1, "11", "Brand", clicks=4, spend="10", purchases="3", purchase_value="30",
                 leads="7")  # fmt: skip
    fake.add_day(D2, "11", "Brand", clicks=4, spend="10")
    options = {"purchase_action": "offsite_conversion.fb_pixel_purchase", "lead_action": "lead"}
    first, second = make(fake, options=options).fetch(D1, D2).rows
    assert (first.conversions, first.revenue, first.leads) == (3, 30, 7)
    assert (second.conversions, second.revenue, second.leads) == (0, 0, 0)
    # An action type that is never reported counts nothing (not the other aliases).
    (row, _) = (
        make(fake, options={"purchase_action": "app_custom_event.fb_mobile_purchase"})
        .fetch(D1, D2)
        .rows
    )
    assert row.conversions == 0 and row.revenue == 0


def test_default_purchase_action_is_omni_purchase(fake: FakeMeta) -> None:
    fake.add_day(D1, "11", "Brand", clicks=1, purchases="4", purchase_value="8.80")
    (row,) = make(fake, options={}).fetch(D1, D1).rows
    assert (row.conversions, row.revenue) == (4, Decimal("8.80"))


def test_long_ranges_are_read_in_chunks_of_at_most_30_days(fake: FakeMeta) -> None:
    start = date(2026, 1, 1)
    end = start + timedelta(days=74)
    for offset in range(75):
        fake.add_day(start + timedelta(days=offset), "11", "Brand", spend=f"{offset}.01")
    rows = make(fake).fetch(start, end).rows
    assert sorted(r.day for r in rows) == [start + timedelta(days=i) for i in range(75)]
    spans = [r.time_range() for r in fake.insights_calls() if r.query.get("after") is None]
    assert spans == [
        (start, start + timedelta(days=29)),
        (start + timedelta(days=30), start + timedelta(days=59)),
        (start + timedelta(days=60), end),
    ]


@pytest.mark.parametrize("status", [400, 500])
def test_too_much_data_halves_the_chunk(fake: FakeMeta, status: int) -> None:
    fake.max_days = 10
    fake.too_much_status = status
    start, end = date(2026, 2, 1), date(2026, 3, 2)  # 30 days
    for offset in range(30):
        fake.add_day(start + timedelta(days=offset), "11", "Brand", clicks=offset + 1)
        fake.add_day(start + timedelta(days=offset), "22", "Generic", clicks=1)
    policy = HttpPolicy(retries=1, backoff=0.0, read_timeout=5.0)
    rows = make(fake, policy=policy).fetch(start, end).rows
    assert len(rows) == 60 and len({(r.day, r.campaign_id) for r in rows}) == 60
    firsts = [r.time_range() for r in fake.insights_calls() if r.query.get("after") is None]
    lengths = [(b - a).days + 1 for a, b in firsts]
    refused = 2 if status == 400 else 4  # a 500 is first retried once by the session
    assert lengths[refused:] == [7, 7, 7, 7, 2]
    assert set(lengths[:refused]) == {30, 15}


def test_too_much_data_even_for_one_day_is_an_error(fake: FakeMeta) -> None:
    fake.max_days = 0
    fake.too_much_status = 400
    with pytest.raises(SourceError) as caught:
        make(fake).fetch(D1, D3)
    assert "less data" in caught.value.message and caught.value.retryable
    lengths = [(b - a).days + 1 for a, b in (r.time_range() for r in fake.insights_calls())]
    assert lengths == [3, 1]


@pytest.mark.parametrize(
    ("code", "status"), [(80004, 400), (17, 400), (613, 200), (4, 403), (32, 429), (80000, 400)]
)
def test_throttle_waits_as_told_and_resumes_the_same_page(
    fake: FakeMeta, code: int, status: int
) -> None:
    for day in (D1, D2, D3):
        fake.add_day(day, "11", "Brand", clicks=1, spend="1.10")
        fake.add_day(day, "22", "Generic", clicks=2, spend="2.20")
    fake.throttle(code=code, status=status, page=2, minutes=3)
    sleeps: list[float] = []
    rows = make(fake, sleeps=sleeps).fetch(D1, D3).rows
    assert sleeps == [180.0]  # estimated_time_to_regain_access: 3 minutes
    assert afters(fake) == [None, "2", "2", "4"]  # page 1 kept, page 2 asked again
    assert len(rows) == 6 and len({(r.day, r.campaign_id) for r in rows}) == 6
    assert sum(r.spend for r in rows) == Decimal("9.90")


def test_throttle_without_usage_header_backs_off_within_the_cap(fake: FakeMeta) -> None:
    fake.add_day(D1, "11", "Brand", clicks=1)
    fake.throttle(code=17, minutes=None, times=3)
    fake.throttle(code=613, minutes=60)
    sleeps: list[float] = []
    policy = HttpPolicy(retries=0, throttle_attempts=10, max_throttle_wait=120.0)
    assert len(make(fake, sleeps=sleeps, policy=policy).fetch(D1, D1).rows) == 1
    assert sleeps == [10.0, 20.0, 40.0, 120.0]


def test_throttle_exhausted_is_retryable(fake: FakeMeta) -> None:
    fake.add_day(D1, "11", "Brand", clicks=1)
    fake.throttle(code=80004, times=100)
    sleeps: list[float] = []
    policy = HttpPolicy(retries=0, throttle_attempts=3)
    with pytest.raises(SourceError) as caught:
        make(fake, sleeps=sleeps, policy=policy).fetch(D1, D1)
    assert caught.value.retryable and not caught.value.needs_new_token
    assert "rate limit" in caught.value.message
    assert len(sleeps) == 2 and len(fake.insights_calls()) == 3


def test_expired_token_needs_a_new_one(fake: FakeMeta) -> None:
    fake.expire_token()
    with pytest.raises(SourceError) as caught:
        make(fake).fetch(D1, D1)
    assert caught.value.needs_new_token and not caught.value.retryable
    assert "expired or was revoked" in caught.value.message
    assert TOKEN_ENV in caught.value.message


def test_a_500_is_retried_by_the_session(fake: FakeMeta) -> None:
    fake.add_day(D1, "11", "Brand", clicks=4)
    fake.fail_500 = 2
    policy = HttpPolicy(retries=2, backoff=0.0, read_timeout=5.0)
    assert make(fake, policy=policy).fetch(D1, D1).rows[0].clicks == 4


def test_a_500_that_stays_is_retryable(fake: FakeMeta) -> None:
    fake.fail_500 = 100
    policy = HttpPolicy(retries=1, backoff=0.0, read_timeout=5.0)
    with pytest.raises(SourceError) as caught:
        make(fake, policy=policy).fetch(D1, D1)
    assert caught.value.retryable and "HTTP 500" in caught.value.message


def test_a_cut_off_answer_is_read_again_once(fake: FakeMeta) -> None:
    fake.add_day(D1, "11", "Brand", clicks=4)
    fake.add_day(D2, "11", "Brand", clicks=4)
    fake.add_day(D3, "11", "Brand", clicks=4)
    connector = make(fake)
    fake.truncate = 1
    assert len(connector.fetch(D1, D3).rows) == 3
    fake.truncate = 2
    with pytest.raises(SourceError) as caught:
        connector.fetch(D1, D3)
    assert caught.value.retryable and "cut off" in caught.value.message


def test_a_row_outside_the_range_is_refused(fake: FakeMeta) -> None:
    fake.add_day(D1, "11", "Brand", clicks=4)
    fake.add_day(D3, "11", "Brand", clicks=4)
    fake.leak_days = True
    with pytest.raises(SourceError, match="2026-01-03"):
        make(fake).fetch(D1, D2)


def test_a_next_page_on_another_host_is_not_followed(fake: FakeMeta) -> None:
    for day in (D1, D2, D3):
        fake.add_day(day, "11", "Brand", clicks=1)
    fake.next_base = "http://localhost:9"  # the bearer token must not travel there
    with pytest.raises(SourceError, match="another host"):
        make(fake).fetch(D1, D3)
    assert len(fake.insights_calls()) == 1


def test_info(fake: FakeMeta) -> None:
    for campaign in ("11", "22", "33"):
        fake.add_day(D1, campaign, f"C{campaign}", clicks=1)
    fake.add_day(D2, "11", "C11", clicks=1)
    info = make(fake).info()
    assert (info.account_name, info.currency, info.campaigns) == ("Acme ApS", "DKK", 3)
    assert [r.query.get("after") for r in fake.requests if r.path.endswith("/campaigns")] == [
        None,
        "2",
    ]


def test_bad_account_and_missing_token_variable(fake: FakeMeta) -> None:
    with pytest.raises(SourceError, match="act_123456789"):
        make(fake, account="1234567")
    with pytest.raises(SourceError) as caught:
        meta.connect(config_for(fake), {}, Endpoints(meta_graph_url=fake.url), FAST)
    assert TOKEN_ENV in caught.value.message


def test_connections_build_the_meta_connector(fake: FakeMeta) -> None:
    fake.add_day(D1, "11", "Brand", clicks=1, spend="0.50")
    connections = Connections(Endpoints(meta_graph_url=fake.url), FAST, {TOKEN_ENV: fake.token})
    assert connections.connect(config_for(fake)).fetch(D1, D1).rows[0].spend == Decimal("0.50")


def test_no_token_in_any_error_or_log(fake: FakeMeta, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    fake.echo_token = True  # the fake quotes the token in its error messages
    fake.add_day(D1, "11", "Brand", clicks=1)

    def expired() -> None:
        fake.expire_token()

    def throttled() -> None:
        fake.expired = False
        fake.throttle(code=17, times=100)

    def failing() -> None:
        fake.throttles.clear()
        fake.fail_500 = 100

    def too_much() -> None:
        fake.fail_500 = 0
        fake.max_days = 0

    def truncated() -> None:
        fake.max_days = None
        fake.truncate = 100

    def unknown_account() -> None:
        fake.truncate = 0
        fake.account = "act_999"

    scenarios: list[Callable[[], None]] = [
        expired, throttled, failing, too_much, truncated, unknown_account,
    ]  # fmt: skip
    messages: list[str] = []
    for arrange in scenarios:
        arrange()
        with pytest.raises(SourceError) as caught:
            meta.connect(
                SourceConfig("fb", Kind.META, "act_1234567", {}, {"token": TOKEN_ENV}),
                {TOKEN_ENV: fake.token},
                Endpoints(meta_graph_url=fake.url),
                HttpPolicy(retries=0, throttle_attempts=2),
                sleep=lambda seconds: None,
            ).fetch(D1, D1)
        messages += [caught.value.message, str(caught.value), repr(caught.value)]
    assert any("(token ***)" in m for m in messages), "the fake's echo was scrubbed"
    for message in messages:
        assert fake.token not in message
    assert fake.token not in caplog.text


def test_a_sync_stores_meta_numbers_exactly(engine: Engine, fake: FakeMeta) -> None:
    today = date(2026, 3, 10)
    yesterday = today - timedelta(days=1)
    fake.add_day(yesterday, "11", "Brand", impressions=500, clicks=12, spend="123.45",
                 purchases="2.5", purchase_value="1999.99")  # fmt: skip
    fake.add_day(today, "11", "Brand", impressions=10, clicks=1, spend="0.07")
    config = config_for(fake)
    store.add_source(engine, config)
    connections = Connections(Endpoints(meta_graph_url=fake.url), FAST, {TOKEN_ENV: fake.token})

    def no_download(config: SourceConfig, target: Path) -> int:
        raise AssertionError("not a csv-url source")

    service = SyncService(
        engine,
        connect=connections.connect,
        download=no_download,
        default_currency="USD",
        tz=ZoneInfo("Europe/Copenhagen"),
        lookback_days=3,
        failing_after=timedelta(hours=6),
        clock=lambda: datetime(2026, 3, 10, 9, 0, tzinfo=UTC),
    )
    [outcome] = service.sync()
    assert outcome.ok, outcome.detail
    with engine.connect() as connection:
        stored = {
            day: (spend, conversions, revenue, clicks)
            for day, spend, conversions, revenue, clicks in connection.execute(
                select(
                    DailyMetrics.day,
                    DailyMetrics.spend_micros,
                    DailyMetrics.conversions_micros,
                    DailyMetrics.revenue_micros,
                    DailyMetrics.clicks,
                ).join(Campaign, Campaign.id == DailyMetrics.campaign_id)
            ).all()
        }
    assert stored[yesterday] == (123_450_000, 2_500_000, 1_999_990_000, 12)
    assert stored[today] == (70_000, 0, 0, 1)
    assert stored[today - timedelta(days=3)] == (0, 0, 0, 0)  # an omitted day: nothing happened
    assert len(stored) == 4


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    spend=st.decimals(min_value=0, max_value=10**9, places=2, allow_nan=False),
    value=st.decimals(min_value=0, max_value=10**9, places=2, allow_nan=False),
    purchases=st.decimals(min_value=0, max_value=10**6, places=3, allow_nan=False),
    clicks=st.integers(min_value=1, max_value=10**12),
)
def test_numbers_exact_property(
    fake: FakeMeta, spend: Decimal, value: Decimal, purchases: Decimal, clicks: int
) -> None:
    fake.days.clear()
    fake.add_day(D1, "11", "Brand", clicks=clicks, spend=str(spend), purchases=str(purchases),
                 purchase_value=str(value))  # fmt: skip
    (row,) = make(fake).fetch(D1, D1).rows
    assert row.spend == spend and row.clicks == clicks
    assert row.conversions == (purchases if purchases else 0)
    assert row.revenue == (value if value else 0)
