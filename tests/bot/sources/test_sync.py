"""SyncService: a fetch lands as one unit replacing the source's days in the look-back window
(idempotent, atomic), runs are recorded, and the ops channel hears once that a source is
failing and once that it recovered — posted through SlackPoster to the fake Slack server.

The connector here is a stand-in that returns what a platform would (the real ones are tested
against their fake servers in test_meta.py / test_google_ads.py)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, select

from bot.config import Settings
from bot.slack.poster import SlackPoster, posting_client
from bot.sources.model import Fetched, Kind, PlatformDay, SourceConfig, SourceError, SourceInfo
from bot.sources.sync import SyncService
from storage import sources as store
from storage.models import Campaign, DailyMetrics, SyncRun
from tests.support.fake_slack import FakeSlack

TODAY = date(2026, 3, 10)
NOW = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
META = SourceConfig("fb", Kind.META, "act_1", {"purchase_action": "omni_purchase"}, {})


@dataclass
class Platform:
    """What the stand-in connector serves: rows by day, or an error to raise."""

    rows: list[PlatformDay] = field(default_factory=list)
    error: SourceError | None = None
    asked: list[tuple[date, date]] = field(default_factory=list)

    def info(self) -> SourceInfo:
        return SourceInfo("Acme", "DKK", 2)

    def fetch(self, start: date, end: date) -> Fetched:
        self.asked.append((start, end))
        if self.error is not None:
            raise self.error
        rows = [r for r in self.rows if start <= r.day <= end]
        return Fetched("meta_ads", "act_1", "DKK", start, end, rows)


def _day(day: date, campaign: str, spend: str, clicks: int = 10) -> PlatformDay:
    return PlatformDay(
        day,
        campaign,
        f"Name {campaign}",
        clicks * 10,
        clicks,
        Decimal(spend),
        Decimal(2),
        Decimal("100.50"),
    )


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        yield fake


@pytest.fixture
def platform() -> Platform:
    return Platform()


@pytest.fixture
def clock() -> Clock:
    return Clock()


def _service(
    engine: Engine, platform: Platform, clock: Clock, slack: FakeSlack | None = None
) -> SyncService:
    poster = None
    if slack is not None:
        poster = SlackPoster(
            posting_client(Settings(slack_bot_token="xoxb-ops", slack_api_url=slack.url))
        )

    def no_download(config: SourceConfig, target: Path) -> int:
        raise AssertionError("not a csv-url source")

    return SyncService(
        engine,
        connect=lambda config: platform,
        download=no_download,
        default_currency="USD",
        tz=ZoneInfo("Europe/Copenhagen"),
        lookback_days=7,
        failing_after=timedelta(hours=6),
        poster=poster,
        ops_channel="C0PS" if slack is not None else None,
        clock=clock,
    )


def _stored(engine: Engine) -> dict[tuple[str, date], tuple[int | None, int]]:
    with engine.connect() as connection:
        rows = connection.execute(
            select(
                Campaign.external_id,
                DailyMetrics.day,
                DailyMetrics.clicks,
                DailyMetrics.spend_micros,
            ).join(Campaign, Campaign.id == DailyMetrics.campaign_id)
        ).all()
    return {(c, d): (cl, sp) for c, d, cl, sp in rows}


def test_a_sync_stores_the_window_exactly_and_fills_omitted_days_with_zeros(
    engine: Engine, platform: Platform, clock: Clock
) -> None:
    store.add_source(engine, META)
    platform.rows = [_day(TODAY - timedelta(days=1), "c1", "123.45"), _day(TODAY, "c1", "0.10")]
    [outcome] = _service(engine, platform, clock).sync()
    assert outcome.ok, outcome.detail
    assert platform.asked == [(TODAY - timedelta(days=7), TODAY)]
    stored = _stored(engine)
    assert stored[("c1", TODAY - timedelta(days=1))] == (10, 123_450_000)
    assert stored[("c1", TODAY)] == (10, 100_000)
    # The other 6 covered days: the platform omitted them because nothing happened.
    assert stored[("c1", TODAY - timedelta(days=7))] == (0, 0)
    assert len(stored) == 8
    [record] = store.list_sources(engine)
    assert record.data_through == TODAY and record.last_rows == 8
    assert record.last_error is None and record.failing_since is None


def test_a_resync_is_idempotent_and_replaces_restated_days(
    engine: Engine, platform: Platform, clock: Clock
) -> None:
    store.add_source(engine, META)
    yesterday = TODAY - timedelta(days=1)
    platform.rows = [_day(yesterday, "c1", "10.00"), _day(yesterday, "c2", "5.00")]
    service = _service(engine, platform, clock)
    service.sync()
    first = _stored(engine)
    service.sync()
    assert _stored(engine) == first
    # The platform restates: c2 had no spend after all (its row is gone), c1 spent more.
    platform.rows = [_day(yesterday, "c1", "12.00")]
    service.sync()
    after = _stored(engine)
    assert after[("c1", yesterday)] == (10, 12_000_000)
    # c2's days in the window are zero days now: the platform covered them, nothing was spent.
    assert {v for k, v in after.items() if k[0] == "c2"} == {(0, 0)}
    assert sum(1 for k in after if k[0] == "c2") == 8


def test_a_failed_sync_leaves_the_previous_data_and_is_recorded(
    engine: Engine, platform: Platform, clock: Clock
) -> None:
    store.add_source(engine, META)
    platform.rows = [_day(TODAY, "c1", "10.00")]
    service = _service(engine, platform, clock)
    service.sync()
    before = _stored(engine)
    platform.error = SourceError("Meta said: (#17) User request limit reached", retryable=True)
    [outcome] = service.sync()
    assert not outcome.ok and "limit reached" in outcome.detail
    assert _stored(engine) == before
    [record] = store.list_sources(engine)
    assert record.failing_since == NOW and "limit reached" in (record.last_error or "")
    assert record.data_through == TODAY
    with engine.connect() as connection:
        outcomes = connection.execute(select(SyncRun.outcome).order_by(SyncRun.id)).scalars()
        assert list(outcomes) == ["ok", "failed"]


def test_an_import_refusal_writes_nothing(engine: Engine, platform: Platform, clock: Clock) -> None:
    """A row the importer refuses (a negative spend) fails the whole sync: nothing of the
    window is replaced."""
    store.add_source(engine, META)
    platform.rows = [_day(TODAY, "c1", "10.00")]
    service = _service(engine, platform, clock)
    service.sync()
    platform.rows = [_day(TODAY - timedelta(days=1), "c1", "3.00"), _day(TODAY, "c1", "-1")]
    [outcome] = service.sync()
    assert not outcome.ok and "not imported, nothing was written" in outcome.detail
    # The refusal names the source and the line, not the temporary file the fetch went through.
    assert outcome.detail.startswith("source 'fb': not imported")
    assert "source 'fb', fetched row 9: spend: -1 is negative" in outcome.detail
    assert "kpibot-sync-" not in outcome.detail
    [good] = _service(engine, Platform(rows=platform.rows[:1]), clock).sync()
    assert good.ok and good.detail.startswith("source 'fb': imported"), good.detail
    assert (("c1", TODAY - timedelta(days=1))) in _stored(engine)  # the zero day of run 1


def test_ops_hear_once_after_six_hours_of_failure_and_once_on_recovery(
    engine: Engine, platform: Platform, clock: Clock, fake_slack: FakeSlack
) -> None:
    store.add_source(engine, META)
    service = _service(engine, platform, clock, fake_slack)
    platform.error = SourceError("Meta said: Error validating access token", needs_new_token=True)
    for hours in (0, 1, 5):
        clock.now = NOW + timedelta(hours=hours)
        service.sync()
    assert fake_slack.calls_to("chat.postMessage") == []
    for hours in (6, 7, 8):
        clock.now = NOW + timedelta(hours=hours)
        service.sync()
    [notice] = fake_slack.calls_to("chat.postMessage")
    assert notice.json()["channel"] == "C0PS"
    text = notice.json()["text"]
    assert "*fb* has been failing since 2026-03-10 09:00 UTC" in text
    assert "needs a new token" in text
    platform.error = None
    platform.rows = [_day(TODAY, "c1", "1.00")]
    service.sync()
    service.sync()
    posts = fake_slack.calls_to("chat.postMessage")
    assert len(posts) == 2 and "syncs again" in posts[1].json()["text"]
    [record] = store.list_sources(engine)
    assert record.failing_since is None and not record.failing_noticed


def test_a_notice_slack_refused_is_tried_again_next_run(
    engine: Engine, platform: Platform, clock: Clock, fake_slack: FakeSlack
) -> None:
    store.add_source(engine, META)
    service = _service(engine, platform, clock, fake_slack)
    platform.error = SourceError("HTTP 500")
    service.sync()
    clock.now = NOW + timedelta(hours=7)
    fake_slack.fail_next("chat.postMessage", error="channel_not_found")
    service.sync()
    assert fake_slack.calls_to("chat.postMessage", ok=True) == []
    clock.now = NOW + timedelta(hours=8)
    service.sync()
    assert len(fake_slack.calls_to("chat.postMessage", ok=True)) == 1


def test_an_unknown_name_syncs_nothing(engine: Engine, platform: Platform, clock: Clock) -> None:
    store.add_source(engine, META)
    with pytest.raises(store.UnknownSource, match="nope"):
        _service(engine, platform, clock).sync(["fb", "nope"])
    assert platform.asked == []


def test_since_widens_the_window(engine: Engine, platform: Platform, clock: Clock) -> None:
    store.add_source(engine, META)
    _service(engine, platform, clock).sync(since=date(2026, 1, 1))
    assert platform.asked == [(date(2026, 1, 1), TODAY)]


def test_two_schedulers_tell_the_ops_channel_once(
    database_url: str, engine: Engine, clock: Clock, fake_slack: FakeSlack
) -> None:
    """Two processes (two engines, two services, on threads) syncing the same failing source
    at the same moments: the notice is a compare-and-set on the source, so it is posted once,
    and so is the recovery."""
    import threading

    from storage.database import make_engine

    store.add_source(engine, META)
    failing = SourceError("Meta said: (#80004) too many calls")
    platforms = [Platform(error=failing), Platform(error=failing)]
    engines = [make_engine(database_url), make_engine(database_url)]
    try:
        services = [
            _service(e, p, clock, fake_slack) for e, p in zip(engines, platforms, strict=True)
        ]

        def together() -> None:
            barrier = threading.Barrier(len(services))
            errors: list[BaseException] = []

            def run(service: SyncService) -> None:
                try:
                    barrier.wait()
                    service.sync()
                except BaseException as exc:
                    errors.append(exc)

            threads = [threading.Thread(target=run, args=(s,)) for s in services]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(30)
            assert errors == []

        for hours in (0, 6, 7, 7, 8):
            clock.now = NOW + timedelta(hours=hours)
            together()
        notices = fake_slack.calls_to("chat.postMessage", ok=True)
        assert len(notices) == 1 and "has been failing" in notices[0].json()["text"]
        for platform in platforms:
            platform.error = None
            platform.rows = [_day(TODAY, "c1", "1.00")]
        for hours in (9, 10):
            clock.now = NOW + timedelta(hours=hours)
            together()
        posts = fake_slack.calls_to("chat.postMessage", ok=True)
        assert len(posts) == 2 and "syncs again" in posts[1].json()["text"]
        assert _stored(engine)[("c1", TODAY)] == (10, 1_000_000)
    finally:
        for each in engines:
            each.dispose()


def test_a_campaign_without_any_row_in_the_window_gets_zero_days(
    engine: Engine, platform: Platform, clock: Clock
) -> None:
    """Paused all week, a campaign has no row at all in the fetch: its stored days in the
    window become zero days (the platform covered them), not days nobody knows about."""
    store.add_source(engine, META)
    platform.rows = [_day(TODAY, "c1", "5.00"), _day(TODAY, "paused", "7.00")]
    service = _service(engine, platform, clock)
    service.sync()
    platform.rows = [_day(TODAY, "c1", "5.00")]
    [outcome] = service.sync()
    assert outcome.ok, outcome.detail
    stored = _stored(engine)
    window = [TODAY - timedelta(days=n) for n in range(8)]
    assert [stored[("paused", day)] for day in window] == [(0, 0)] * 8
    assert stored[("c1", TODAY)] == (10, 5_000_000)
    with engine.connect() as connection:
        leads = connection.execute(
            select(DailyMetrics.leads_micros, DailyMetrics.conversions_micros)
            .join(Campaign, Campaign.id == DailyMetrics.campaign_id)
            .where(Campaign.external_id == "paused")
        ).all()
    # The stand-in reports no leads: still unknown on the zero days; conversions zero.
    assert {tuple(r) for r in leads} == {(None, 0)}
