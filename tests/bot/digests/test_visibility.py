"""A digest posted in a limited channel covers only what that channel may see: its totals,
movers, lists and trend, whatever its own scope says; `digest add` resolves names only among
the visible campaigns. Real database, a fixed clock, posts through SlackPoster to the fake
Slack."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from slack_sdk.http_retry import FixedValueRetryIntervalCalculator
from sqlalchemy import Engine, event
from sqlalchemy.orm import Session, sessionmaker

from bot import messages
from bot.access.model import parse_limit
from bot.config import Settings
from bot.digests.content import DigestPreview
from bot.digests.service import DigestNotFound, DigestService
from bot.importing.run import import_file
from bot.kpi import Economics
from bot.query import NothingToShow
from bot.render.digest_blocks import digest_message
from bot.service import CampaignDirectory
from bot.slack.poster import SlackPoster, posting_client
from storage import access
from storage.database import session_scope
from tests.bot.alerts.world import text_of
from tests.support.fake_slack import Call, FakeSlack

# Thursday 3 December 2026; the digest at 08:00 Copenhagen (07:00 UTC) covers Wed 2 December.
CREATED = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
AT_EIGHT = datetime(2026, 12, 3, 7, 0, tzinfo=UTC)
YESTERDAY = date(2026, 12, 2)
HEADER = "date,campaign,platform,account,channel,currency,clicks,spend,conversions,revenue"
LIMITED = "C0LIMITED"
OPEN = "C0OPEN"
NOTE = "This channel sees only platform meta_ads · account 111."
# Visible: Alpha and Beta (Meta account 111). Hidden: Gamma (Meta account 222), which loses
# money and declines, and Alpha Plus (Google, EUR), which improves.
HISTORY = [
    "Alpha,meta_ads,111,social,DKK,40,100.00,2,200.00",
    "Beta,meta_ads,111,social,DKK,30,50.00,1,100.00",
    "Gamma,meta_ads,222,social,DKK,60,500.00,5,1000.00",
    "Alpha Plus,google_ads,333,paid_search,EUR,40,80.00,2,160.00",
]
DAY_BEFORE = [
    "Alpha,meta_ads,111,social,DKK,40,80.00,2,160.00",
    "Beta,meta_ads,111,social,DKK,30,50.00,1,100.00",
    "Gamma,meta_ads,222,social,DKK,60,500.00,5,1000.00",
    "Alpha Plus,google_ads,333,paid_search,EUR,40,80.00,2,160.00",
]
THE_DAY = [
    "Alpha,meta_ads,111,social,DKK,50,100.00,5,300.00",  # ROI 200 % (was 100 %)
    "Beta,meta_ads,111,social,DKK,30,50.00,1,25.00",  # ROI −50 %: lost money
    "Gamma,meta_ads,222,social,DKK,60,500.00,1,100.00",  # ROI −80 %: hidden
    "Alpha Plus,google_ads,333,paid_search,EUR,40,80.00,4,400.00",  # ROI 400 %: hidden
]


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        yield fake


@pytest.fixture
def data(engine: Engine, sessions: sessionmaker[Session], tmp_path: Path) -> Engine:
    lines = []
    for back in range(2, 29):
        lines += [f"{YESTERDAY - timedelta(days=back)},{row}" for row in HISTORY]
    lines += [f"{YESTERDAY - timedelta(days=1)},{row}" for row in DAY_BEFORE]
    lines += [f"{YESTERDAY},{row}" for row in THE_DAY]
    path = tmp_path / "digest.csv"
    path.write_text("\n".join([HEADER, *lines]) + "\n", encoding="utf-8")
    import_file(engine, path, default_currency="DKK")
    with session_scope(sessions) as session:
        limit = parse_limit(["platform", "meta_ads", "account", "111"])
        access.set_limit(session, LIMITED, limit, by="U0ADMIN", now=CREATED)
    return engine


class Charts:
    """The chart hook: records each preview it is asked to draw, draws nothing."""

    def __init__(self) -> None:
        self.previews: list[DigestPreview] = []

    def __call__(self, preview: DigestPreview) -> bytes | None:
        self.previews.append(preview)
        return None


def digests(
    engine: Engine, sessions: sessionmaker[Session], slack: FakeSlack, charts: Charts
) -> DigestService:
    client = posting_client(Settings(slack_bot_token="xoxb-digest", slack_api_url=slack.url))
    for handler in client.retry_handlers:
        handler.interval_calculator = FixedValueRetryIntervalCalculator(0.0)
    return DigestService(
        engine,
        sessions,
        CampaignDirectory(),
        Economics(),
        "Europe/Copenhagen",
        poster=SlackPoster(client),
        render=digest_message,
        chart=charts,
        clock=lambda: CREATED,
    )


@pytest.fixture
def charts() -> Charts:
    return Charts()


@pytest.fixture
def service(
    data: Engine, sessions: sessionmaker[Session], slack: FakeSlack, charts: Charts
) -> DigestService:
    return digests(data, sessions, slack, charts)


def posted(slack: FakeSlack, channel: str) -> list[Call]:
    return [
        c for c in slack.calls_to("chat.postMessage", ok=True) if c.params["channel"] == channel
    ]


def test_a_digest_in_a_limited_channel_shows_only_what_it_may_see(
    service: DigestService, slack: FakeSlack
) -> None:
    limited = service.add(["daily", "all"], channel=LIMITED, user="U1").subscription.id
    service.add(["daily", "all"], channel=OPEN, user="U1")
    report = service.run_due(AT_EIGHT)
    assert (report.sent, report.failed, report.waiting) == (2, 0, 0)
    (shown,) = posted(slack, LIMITED)
    text = text_of(shown)
    assert "Alpha" in text and "Beta" in text and NOTE in text
    for hidden in ("Gamma", "Alpha Plus", "EUR", "google"):
        assert hidden not in text, hidden
    (everything,) = posted(slack, OPEN)
    assert "Gamma" in text_of(everything) and "Alpha Plus" in text_of(everything)
    assert "This channel sees only" not in text_of(everything)

    preview = service.preview(limited, now=AT_EIGHT)
    (dkk,) = preview.content.totals  # no EUR block: only Alpha Plus is in EUR
    assert dkk.kpis["spend"] == Decimal(150)  # Alpha 100 + Beta 50; Gamma's 500 left out
    assert dkk.kpis["revenue"] == Decimal(325)
    assert dkk.previous_day["spend"] == Decimal(130)
    assert dkk.month_to_date["spend"] == Decimal(280)
    assert [m.campaign.name for m in preview.content.improvers] == ["Alpha"]
    assert [m.campaign.name for m in preview.content.decliners] == ["Beta"]
    assert [m.campaign.name for m in preview.content.losing_money] == ["Beta"]
    assert preview.sees == parse_limit(["platform", "meta_ads", "account", "111"])


def test_the_trend_chart_of_a_limited_channel_sums_only_visible_campaigns(
    service: DigestService, charts: Charts
) -> None:
    limited = service.add(["daily", "all"], channel=LIMITED, user="U1").subscription.id
    opened = service.add(["daily", "all"], channel=OPEN, user="U1").subscription.id
    service.send(limited, AT_EIGHT)
    service.send(opened, AT_EIGHT)
    mine, theirs = charts.previews
    assert [code for code, _ in mine.trend] == ["DKK"]
    spend = dict(mine.trend[0][1])
    assert len(spend) == 14
    assert spend[YESTERDAY - timedelta(days=1)] == Decimal(130)
    assert all(spend[d] == Decimal(150) for d in spend if d != YESTERDAY - timedelta(days=1))
    assert [code for code, _ in theirs.trend] == ["DKK", "EUR"]
    assert dict(theirs.trend[0][1])[YESTERDAY] == Decimal(650)


def test_digest_add_names_only_campaigns_the_channel_may_see(service: DigestService) -> None:
    with pytest.raises(NothingToShow) as refused:
        service.add(["daily", "campaigns", "alpha", "plus"], channel=LIMITED, user="U1")
    assert str(refused.value) == messages.digest_unknown_campaign("alpha plus", ["Alpha"])
    with pytest.raises(NothingToShow) as group:
        service.add(["daily", "platform", "google_ads"], channel=LIMITED, user="U1")
    assert str(group.value) == messages.no_group("platform", "google_ads")
    view = service.add(["daily", "campaigns", "alpha", "plus"], channel=OPEN, user="U1")
    assert view.subscription.scope.values == ("Alpha Plus",)
    kept = service.add(["daily", "campaigns", "alpha"], channel=LIMITED, user="U1")
    assert kept.subscription.scope.values == ("Alpha",)


def test_a_subscription_naming_a_campaign_later_hidden_shows_nothing_of_it(
    service: DigestService, sessions: sessionmaker[Session], slack: FakeSlack
) -> None:
    channel = "C0LATER"
    view = service.add(["daily", "campaigns", "gamma"], channel=channel, user="U1")
    with session_scope(sessions) as session:
        access.set_limit(session, channel, parse_limit(["account", "111"]), by="U0A", now=CREATED)
    preview = service.preview(view.subscription.id, now=AT_EIGHT)
    assert preview.content.is_empty
    service.run_due(AT_EIGHT)
    (shown,) = posted(slack, channel)
    assert "500" not in text_of(shown)
    assert "This channel sees only account 111." in text_of(shown)


def test_a_channel_that_may_see_nothing_is_told_so(
    service: DigestService, sessions: sessionmaker[Session]
) -> None:
    with session_scope(sessions) as session:
        access.set_limit(
            session, "C0NONE", parse_limit(["platform", "tiktok_ads"]), by="U", now=CREATED
        )
    with pytest.raises(NothingToShow) as refused:
        service.add(["daily", "all"], channel="C0NONE", user="U1")
    assert str(refused.value) == messages.CHANNEL_SEES_NOTHING


def test_every_limit_is_read_once_per_pass(
    service: DigestService, data: Engine, sessions: sessionmaker[Session]
) -> None:
    with session_scope(sessions) as session:
        access.set_limit(session, "C0SECOND", parse_limit(["account", "222"]), by="U", now=CREATED)
    for channel in (LIMITED, "C0SECOND", OPEN, "C0FOURTH"):
        service.add(["daily", "all"], channel=channel, user="U1")
    reads: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if "channel_access" in statement:
            reads.append(statement)

    event.listen(data, "before_cursor_execute", seen)
    try:
        report = service.run_due(AT_EIGHT)
    finally:
        event.remove(data, "before_cursor_execute", seen)
    assert report.sent == 4
    assert len(reads) == 1


def test_a_limited_channel_cannot_preview_another_channels_digest(service: DigestService) -> None:
    opened = service.add(["daily", "all"], channel=OPEN, user="U1").subscription.id
    mine = service.add(["daily", "all"], channel=LIMITED, user="U1").subscription.id
    with pytest.raises(DigestNotFound) as refused:
        service.preview(opened, now=AT_EIGHT, viewer=LIMITED)
    assert str(refused.value) == messages.no_digest(opened)
    assert service.preview(mine, now=AT_EIGHT, viewer=LIMITED).sees is not None
    assert service.preview(opened, now=AT_EIGHT, viewer="C0ELSEWHERE").content.totals
