"""DigestService against SQLite and PostgreSQL: numbers by hand, exactly once, honest data."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from bot.delivery.posting import Outcome, PostFailure
from bot.digests.content import DigestPreview
from bot.digests.service import DigestService, NotAllowed
from bot.importing.run import import_file
from bot.kpi import Economics
from bot.query import NothingToShow, QueryError
from bot.service import CampaignDirectory
from storage.models import Delivery, DigestSubscription

# Thursday 3 December 2026; the digest at 08:00 Copenhagen (07:00 UTC) covers Wed 2 December.
CREATED = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
AT_EIGHT = datetime(2026, 12, 3, 7, 0, tzinfo=UTC)
YESTERDAY = date(2026, 12, 2)
HEADER = "date,campaign,platform,account,channel,currency,clicks,spend,conversions,revenue"


@dataclass
class FakePoster:
    """Records posts; fails the next posts as scripted."""

    posts: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    dms: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    uploads: list[str] = field(default_factory=list)
    failures: list[PostFailure] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def post(
        self, channel: str, message: dict[str, Any], *, thread_ts: str | None = None
    ) -> tuple[str, str]:
        with self.lock:
            if self.failures:
                raise self.failures.pop(0)
            self.posts.append((channel, message))
            return channel, f"1700000000.{len(self.posts):06d}"

    def update(self, channel: str, ts: str, message: dict[str, Any]) -> None:
        raise AssertionError("digests never edit")

    def upload_png(self, channel: str, png: bytes, *, title: str, filename: str) -> None:
        self.uploads.append(filename)

    def direct_message(self, user: str, message: dict[str, Any]) -> None:
        self.dms.append((user, message))


def _render(preview: DigestPreview) -> dict[str, Any]:
    return {"text": f"digest {preview.subscription_id} {preview.day}", "blocks": []}


def _rows(day: date, rows: list[str]) -> list[str]:
    return [f"{day},{row}" for row in rows]


def _import(engine: Engine, tmp_path: Path, lines: list[str]) -> None:
    path = tmp_path / f"d{len(list(tmp_path.iterdir()))}.csv"
    path.write_text("\n".join([HEADER, *lines]) + "\n", encoding="utf-8")
    import_file(engine, path, default_currency="DKK")


@pytest.fixture
def data(engine: Engine, tmp_path: Path) -> Engine:
    """A (DKK, meta 1) improves, B (DKK, meta 1) loses money, C (EUR, google 2) is small."""
    lines: list[str] = []
    for back in range(1, 29):  # 28 quiet days of history: the volume bar
        day = YESTERDAY - timedelta(days=back)
        lines += _rows(day, ["Alpha,meta_ads,1,social,DKK,40,100.00,2,200.00"])
        lines += _rows(day, ["Beta,meta_ads,1,social,DKK,30,50.00,1,100.00"])
        lines += _rows(day, ["Gamma,google_ads,2,paid_search,EUR,5,10.00,1,20.00"])
    lines = [line for line in lines if not line.startswith(str(YESTERDAY - timedelta(days=1)))]
    lines += _rows(
        YESTERDAY - timedelta(days=1),
        [
            "Alpha,meta_ads,1,social,DKK,40,80.00,2,160.00",
            "Beta,meta_ads,1,social,DKK,30,50.00,1,100.00",
            "Gamma,google_ads,2,paid_search,EUR,5,10.00,1,20.00",
        ],
    )
    lines += _rows(
        YESTERDAY,
        [
            "Alpha,meta_ads,1,social,DKK,50,100.00,5,300.00",  # ROI 200 % (was 100 %)
            "Beta,meta_ads,1,social,DKK,30,50.00,1,25.00",  # ROI −50 % (was 100 %)
            "Gamma,google_ads,2,paid_search,EUR,5,10.00,1,30.00",  # 5 clicks: no mover
        ],
    )
    _import(engine, tmp_path, lines)
    return engine


def _service(
    engine: Engine, sessions: sessionmaker[Session], poster: FakePoster | None = None
) -> DigestService:
    return DigestService(
        engine,
        sessions,
        CampaignDirectory(),
        Economics(),
        "Europe/Copenhagen",
        poster=poster if poster is not None else FakePoster(),
        render=_render,
        clock=lambda: CREATED,
    )


def test_the_digest_numbers_by_hand(data: Engine, sessions: sessionmaker[Session]) -> None:
    service = _service(data, sessions)
    view = service.add(["daily"], channel="C1", user="U1")
    preview = service.preview(view.subscription.id, now=AT_EIGHT)
    assert preview.day == YESTERDAY
    assert preview.data_through == YESTERDAY
    assert preview.incomplete is None
    dkk, eur = preview.content.totals
    assert (dkk.currency, eur.currency) == ("DKK", "EUR")
    assert dkk.kpis["spend"] == Decimal(150)
    assert dkk.kpis["revenue"] == Decimal(325)
    assert dkk.kpis["roas"] == Decimal(325) / Decimal(150)
    assert dkk.kpis["conversions"] == 6
    assert dkk.kpis["cpa"] == Decimal(25)
    assert dkk.previous_day["spend"] == Decimal(130)
    assert dkk.week_ago["spend"] == Decimal(150)
    assert dkk.week_ago["revenue"] == Decimal(300)
    assert dkk.month_to_date["spend"] == Decimal(280)  # 1 and 2 December
    assert eur.kpis["spend"] == Decimal(10)
    improvers = [(m.campaign.name, m.roi_change) for m in preview.content.improvers]
    decliners = [(m.campaign.name, m.roi_change) for m in preview.content.decliners]
    assert improvers == [("Alpha", Decimal(1))]
    assert decliners == [("Beta", Decimal("-1.5"))]
    assert [m.campaign.name for m in preview.content.losing_money] == ["Beta"]


def test_a_due_digest_is_posted_once_however_often_run_due_runs(
    data: Engine, sessions: sessionmaker[Session]
) -> None:
    poster = FakePoster()
    service = _service(data, sessions, poster)
    service.add(["daily", "at", "08:00"], channel="C1", user="U1")
    assert service.run_due(AT_EIGHT - timedelta(minutes=1)).sent == 0  # not yet
    assert service.run_due(AT_EIGHT).sent == 1
    assert service.run_due(AT_EIGHT + timedelta(minutes=1)).sent == 0
    assert service.run_due(AT_EIGHT + timedelta(hours=2)).sent == 0
    assert [p[0] for p in poster.posts] == ["C1"]
    with data.connect() as connection:
        row = connection.execute(select(Delivery.status, Delivery.key, Delivery.ts)).one()
    assert row.status == "sent" and row.key == "2026-12-03" and row.ts.startswith("1700000000.")


def test_concurrent_runs_post_each_digest_once(
    data: Engine, sessions: sessionmaker[Session]
) -> None:
    poster = FakePoster()
    services = [_service(data, sessions, poster) for _ in range(4)]
    for i in range(6):
        services[0].add(["daily"], channel=f"C{i}", user="U1")
    threads = [threading.Thread(target=s.run_due, args=(AT_EIGHT,)) for s in services]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(p[0] for p in poster.posts) == [f"C{i}" for i in range(6)]


def test_after_downtime_a_missed_digest_is_posted_within_the_grace_period_else_skipped(
    data: Engine, sessions: sessionmaker[Session]
) -> None:
    poster = FakePoster()
    service = _service(data, sessions, poster)
    late = service.add(["daily"], channel="C1", user="U1").subscription.id
    too_late = service.add(["daily", "at", "03:00"], channel="C2", user="U1").subscription.id
    report = service.run_due(AT_EIGHT + timedelta(hours=2, minutes=30))
    assert (report.sent, report.skipped) == (1, 1)  # C2 missed today's 03:00
    assert [p[0] for p in poster.posts] == ["C1"]
    with data.connect() as connection:
        rows = connection.execute(
            select(Delivery.subject_id, Delivery.key, Delivery.status).order_by(Delivery.id)
        ).all()
    assert (late, "2026-12-03", "sent") in rows
    assert (too_late, "2026-12-03", "skipped") in rows
    assert service.run_due(AT_EIGHT + timedelta(hours=3)).sent == 0


def test_missing_account_data_waits_then_posts_with_a_visible_note(
    data: Engine, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    # Account 3 had data all week, but not yesterday.
    _import(
        data,
        tmp_path,
        [
            f"{YESTERDAY - timedelta(days=d)},Delta,tiktok_ads,3,social,DKK,30,20.00,1,40.00"
            for d in range(1, 7)
        ],
    )
    poster = FakePoster()
    service = _service(data, sessions, poster)
    service.add(["daily"], channel="C1", user="U1")
    report = service.run_due(AT_EIGHT + timedelta(minutes=1))
    assert (report.sent, report.waiting) == (0, 1)
    # It looks again every 15 minutes, not on every pass.
    assert service.run_due(AT_EIGHT + timedelta(minutes=10)).waiting == 0
    assert service.run_due(AT_EIGHT + timedelta(minutes=16)).waiting == 1
    for minutes in range(20, 180, 5):  # still waiting until 3 hours after 08:00
        assert service.run_due(AT_EIGHT + timedelta(minutes=minutes)).sent == 0
    report = service.run_due(AT_EIGHT + timedelta(hours=3, minutes=1))  # the wait is over
    assert report.sent == 1
    ((_, message),) = poster.posts
    assert message["text"].startswith("digest")
    preview = service.preview(1, now=AT_EIGHT)
    assert preview.incomplete == ("tiktok_ads 3",)


def test_an_inactive_campaign_is_not_missing_data(
    data: Engine, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    # Epsilon (account 1, which has landed) had no row yesterday: inactive, not missing.
    _import(
        data,
        tmp_path,
        [f"{YESTERDAY - timedelta(days=2)},Epsilon,meta_ads,1,social,DKK,1,1.00,0,0"],
    )
    service = _service(data, sessions)
    service.add(["daily"], channel="C1", user="U1")
    assert service.preview(1, now=AT_EIGHT).incomplete is None


def test_rate_limit_is_retried_after_retry_after_and_posted_once(
    data: Engine, sessions: sessionmaker[Session]
) -> None:
    poster = FakePoster(failures=[PostFailure(Outcome.RATE_LIMITED, "ratelimited", 30)])
    service = _service(data, sessions, poster)
    service.add(["daily"], channel="C1", user="U1")
    assert service.run_due(AT_EIGHT).sent == 0
    assert service.run_due(AT_EIGHT + timedelta(seconds=10)).sent == 0  # before Retry-After
    report = service.run_due(AT_EIGHT + timedelta(seconds=31))
    assert (report.sent, report.retried) == (1, 1)
    assert len(poster.posts) == 1


def test_server_errors_back_off_then_give_up_and_tell_the_creator(
    data: Engine, sessions: sessionmaker[Session]
) -> None:
    poster = FakePoster(failures=[PostFailure(Outcome.TRANSIENT, "HTTP 500")] * 10)
    service = _service(data, sessions, poster)
    service.add(["daily"], channel="C1", user="U1")
    moment = AT_EIGHT
    for _ in range(10):
        service.run_due(moment)
        moment += timedelta(minutes=10)
    assert poster.posts == []
    assert len(poster.dms) == 1 and poster.dms[0][0] == "U1"
    view = service.subscriptions()[0]
    assert view.subscription.last_error is not None and "HTTP 500" in view.subscription.last_error
    assert view.last is not None and view.last.status == "failed"


@pytest.mark.parametrize(
    "error",
    ["channel_not_found", "not_in_channel", "is_archived", "invalid_blocks", "account_inactive"],
)
def test_a_permanent_error_is_recorded_shown_and_sent_once_by_dm(
    data: Engine, sessions: sessionmaker[Session], error: str
) -> None:
    poster = FakePoster(failures=[PostFailure(Outcome.PERMANENT, error)] * 3)
    service = _service(data, sessions, poster)
    service.add(["daily"], channel="C1", user="U7")
    assert service.run_due(AT_EIGHT).failed == 1
    assert service.run_due(AT_EIGHT + timedelta(minutes=5)).failed == 0  # never retried
    next_day = AT_EIGHT + timedelta(days=1)
    service.run_due(next_day)  # fails again, but the creator has been told already
    assert [dm[0] for dm in poster.dms] == ["U7"]
    assert error in (service.subscriptions()[0].subscription.last_error or "")


def test_only_the_creator_or_an_admin_may_change_a_digest(
    data: Engine, sessions: sessionmaker[Session]
) -> None:
    service = _service(data, sessions)
    digest = service.add([], channel="C1", user="U1").subscription.id
    with pytest.raises(NotAllowed):
        service.change(digest, "pause", user="U2", is_admin=False)
    paused = service.change(digest, "pause", user="U2", is_admin=True)
    assert paused is not None and paused.subscription.paused and paused.next_run is None
    assert service.run_due(AT_EIGHT).due == 0
    service.change(digest, "resume", user="U1", is_admin=False)
    assert service.change(digest, "remove", user=None, is_admin=False) is None
    assert service.subscriptions() == []


@pytest.mark.parametrize(
    ("words", "message"),
    [
        (["tz", "Mars/Olympus"], "not a time zone"),
        (["at", "25:00"], "hours go 00–23"),
        (["funday"], "not a weekday"),
        (["channel", "email"], "No campaigns with channel `email`"),
        (["platform", "snapchat"], "No campaigns with platform `snapchat`"),
        (["campaigns", "alpha,", "nosuchthing"], "No campaign is called “nosuchthing”"),
    ],
)
def test_invalid_input_names_the_problem_and_stores_nothing(
    data: Engine, sessions: sessionmaker[Session], words: list[str], message: str
) -> None:
    service = _service(data, sessions)
    with pytest.raises(QueryError, match=message):
        service.add(words, channel="C1", user="U1")
    with sessions() as session:
        assert session.scalars(select(DigestSubscription)).all() == []


def test_a_digest_before_any_data_says_import_first(
    engine: Engine, sessions: sessionmaker[Session]
) -> None:
    with pytest.raises(NothingToShow, match="No data yet"):
        _service(engine, sessions).add([], channel="C1", user="U1")


def test_campaign_scope_is_stored_with_the_campaigns_names(
    data: Engine, sessions: sessionmaker[Session]
) -> None:
    service = _service(data, sessions)
    view = service.add(["campaigns", "alpha,", "gamma"], channel="C1", user="U1")
    assert view.subscription.scope.values == ("Alpha", "Gamma")
    preview = service.preview(view.subscription.id, now=AT_EIGHT)
    assert [b.currency for b in preview.content.totals] == ["DKK", "EUR"]
    assert preview.content.totals[0].kpis["spend"] == Decimal(100)


def test_the_trend_chart_goes_up_after_the_digest_and_a_failing_chart_loses_nothing(
    data: Engine, sessions: sessionmaker[Session], caplog: pytest.LogCaptureFixture
) -> None:
    poster = FakePoster()
    service = _service(data, sessions, poster)
    seen: list[DigestPreview] = []

    def chart(preview: DigestPreview) -> bytes:
        seen.append(preview)
        return b"\x89PNG fake"

    service.chart = chart
    service.add(["daily"], channel="C1", user="U1")
    assert service.run_due(AT_EIGHT).sent == 1
    assert poster.uploads == ["kpibot-digest-2026-12-02.png"]
    spend = dict(seen[0].trend)
    assert [d for d, _ in spend["DKK"]][-1] == YESTERDAY
    assert spend["DKK"][-1][1] == Decimal(150)
    assert dict(seen[0].revenue_trend)["DKK"][-1][1] == Decimal(325)

    def broken(preview: DigestPreview) -> bytes:
        raise RuntimeError("no fonts")

    service.chart = broken
    service.add(["daily"], channel="C2", user="U1")
    assert service.run_due(AT_EIGHT + timedelta(minutes=1)).sent == 1
    assert [p[0] for p in poster.posts] == ["C1", "C2"]
    assert "trend chart not posted" in caplog.text
