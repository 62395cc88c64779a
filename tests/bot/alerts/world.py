"""A small world for alert tests: campaigns as CSV files imported the real way, a real
AlertService posting through SlackPoster over HTTP to FakeSlack, and a clock the test moves.

Dates: the evaluated day D is Wednesday 11 March 2026 (CET, UTC+1, before the clocks change);
a check at NOW (08:00 in Copenhagen, 07:00 UTC) is exactly when the 8 h landing grace of D
ends (D ends at 23:00 UTC).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from slack_sdk.http_retry import FixedValueRetryIntervalCalculator
from sqlalchemy import Engine

from bot.alerts.model import HistoryEntry
from bot.alerts.service import AlertService
from bot.config import Settings
from bot.demo_data import NATIVE_HEADER
from bot.importing.run import import_file
from bot.kpi import Economics
from bot.render.alert_blocks import alert_message, incident_message
from bot.render.mrkdwn import unescape
from bot.service import CampaignDirectory
from bot.slack.poster import SlackPoster, posting_client
from storage.database import session_factory
from tests.support.fake_slack import Call, FakeSlack

TZ = ZoneInfo("Europe/Copenhagen")
D = date(2026, 3, 11)
NOW = datetime(2026, 3, 12, 7, 0, tzinfo=UTC)
TOKEN = "xoxb-alert-tests"
OWNER = "U0OWNER"
# The native header with the ad account after the platform (what "landed" is counted by).
HEADER = (*NATIVE_HEADER[:4], "account", *NATIVE_HEADER[4:])


def morning_after(day: date) -> datetime:
    """08:00 in Copenhagen the day after `day` (CET in these tests): its grace is over."""
    return NOW + (day - D)


@dataclass(frozen=True)
class Day:
    """One campaign-day; money as exact decimal text, None: no such measure."""

    spend: str = "100"
    revenue: str | None = "200"
    clicks: int = 100
    impressions: int = 10_000
    conversions: int = 5
    leads: int = 0
    new_customers: int = 0


BASE = Day()
"""ROI 100 %, ROAS 2, CPA 20, CTR 1 %."""


@dataclass(frozen=True)
class Campaign:
    name: str
    platform: str = "meta_ads"
    account: str = "A1"
    channel: str = "social"
    currency: str = "DKK"
    external_id: str = ""

    @property
    def cid(self) -> str:
        return self.external_id or self.name.lower().replace(" ", "-")


def rows(
    campaign: Campaign,
    first: date,
    last: date,
    base: Day | None = BASE,
    days: Mapping[date, Day | None] | None = None,
) -> list[list[str]]:
    """The campaign's rows from `first` to `last`: `base` each day unless `days` says other
    (None: no row that day)."""
    out = []
    day = first
    while day <= last:
        spec = (days or {}).get(day, base)
        if spec is not None:
            out.append(row(campaign, day, spec))
        day += timedelta(days=1)
    return out


def row(campaign: Campaign, day: date, spec: Day) -> list[str]:
    c, s = campaign, spec
    return [
        day.isoformat(),
        c.cid,
        c.name,
        c.platform,
        c.account,
        c.channel,
        c.currency,
        str(s.impressions),
        str(s.clicks),
        s.spend,
        str(s.leads),
        str(s.conversions),
        "" if s.revenue is None else s.revenue,
        str(s.new_customers),
    ]


def load(engine: Engine, folder: Path, lines: Iterable[list[str]]) -> None:
    """Write the rows as a native CSV into `folder` and import it (like `kpibot import`)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"import-{len(list(folder.glob('import-*.csv')))}.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        writer.writerows(lines)
    import_file(engine, path, default_currency="DKK")


@dataclass
class Clock:
    """The service's clock; `at` moves it and returns the moment."""

    now: datetime = NOW

    def __call__(self) -> datetime:
        return self.now

    def at(self, moment: datetime) -> datetime:
        self.now = moment
        return moment


def service(engine: Engine, slack: FakeSlack, clock: Clock, **options: Any) -> AlertService:
    """A real AlertService as bot.composition builds it, posting to the fake Slack."""
    settings = Settings(slack_bot_token=TOKEN, slack_api_url=slack.url)
    client = posting_client(settings)
    for handler in client.retry_handlers:  # the same in-place retries, without the sleeps
        handler.interval_calculator = FixedValueRetryIntervalCalculator(0.0)
    return AlertService(
        engine,
        session_factory(engine),
        CampaignDirectory(),
        Economics(),
        TZ,
        poster=SlackPoster(client),
        render=alert_message,
        render_incident=incident_message,
        clock=clock,
        **options,
    )


def add(alerts: AlertService, text: str, channel: str = "C1", user: str = OWNER) -> int:
    return alerts.add(text.split(), channel=channel, user=user).rule.id


# ---------------------------------------------------------------------- what Slack saw


def posts(slack: FakeSlack) -> list[Call]:
    """Successful chat.postMessage calls into channels (not DMs), in order."""
    return [
        c
        for c in slack.calls_to("chat.postMessage", ok=True)
        if not str(c.params["channel"]).startswith("D")
    ]


def top_level(slack: FakeSlack) -> list[Call]:
    return [c for c in posts(slack) if not c.params.get("thread_ts")]


def replies(slack: FakeSlack) -> list[Call]:
    return [c for c in posts(slack) if c.params.get("thread_ts")]


def dms(slack: FakeSlack) -> list[Call]:
    return [
        c
        for c in slack.calls_to("chat.postMessage", ok=True)
        if str(c.params["channel"]).startswith("D")
    ]


def text_of(call: Call) -> str:
    """Everything a message shows (its text and every mrkdwn/plain text in its blocks), raw."""
    found: list[str] = [str(call.params.get("text", ""))]

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("text"), str):
                found.append(node["text"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(call.params.get("blocks", []))
    return unescape("\n".join(found))


def fired(alerts: AlertService) -> dict[int, list[str]]:
    """Rule id → the campaigns it fired for (from the history), sorted."""
    out: dict[int, list[str]] = {}
    for entry in alerts.history(limit=1000):
        if entry.event.startswith("fire#"):
            out.setdefault(entry.rule_id, []).append(entry.campaign or "?")
    return {rule: sorted(names) for rule, names in out.items()}


def events(alerts: AlertService, rule_id: int | None = None) -> list[HistoryEntry]:
    """The history oldest first."""
    return list(reversed(alerts.history(rule_id, limit=1000)))
