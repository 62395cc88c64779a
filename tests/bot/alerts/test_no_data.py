"""No data: a day has landed for an ad account (platform + account) when it has a row that
day. A rule whose scope has an account that has not landed the evaluated day says so once per
spell, after the landing grace, and neither fires nor resolves for that account's campaigns;
a campaign without a row while its account landed is merely inactive."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import Engine

from bot.alerts.lifecycle import AlertState
from bot.alerts.model import RULE, CampaignStatus
from bot.alerts.service import AlertService
from storage import alerts as stored
from storage.database import session_scope
from tests.bot.alerts.world import (
    NOW,
    Campaign,
    Clock,
    D,
    Day,
    add,
    events,
    load,
    morning_after,
    replies,
    rows,
    service,
    text_of,
    top_level,
)
from tests.support.fake_slack import FakeSlack

START = D - timedelta(days=28)
LOSING = Day(revenue="50")
META = Campaign("MetaOne")  # meta_ads A1: lands every day
QUIET = Campaign("Quiet")  # meta_ads A1: no row from D on
GOOGLE = Campaign("GoogleOne", "google_ads", "G1", "paid_search")  # G1 has not landed D


def _data(engine: Engine, folder: Path) -> None:
    lines = rows(META, START, D + timedelta(days=2))
    lines += rows(QUIET, START, D - timedelta(days=1), days={D - timedelta(days=1): LOSING})
    lines += rows(GOOGLE, START, D - timedelta(days=1), days={D - timedelta(days=1): LOSING})
    load(engine, folder, lines)


def _status(alerts: AlertService, rule_id: int) -> dict[str, CampaignStatus]:
    with session_scope(alerts.sessions) as session:
        found = stored.statuses(session, [rule_id])
        names = {c.id: c.name for c in alerts.directory.current(session).campaigns}
    return {names.get(cid, "rule"): s for (_, cid), s in found.items()}


def test_one_notice_per_spell_after_the_grace_and_no_fire_or_resolve_meanwhile(
    engine: Engine, alerts: AlertService, slack: FakeSlack, tmp_path: Path
) -> None:
    _data(engine, tmp_path / "csv")
    rule = add(alerts, "all roi < 0", channel="C1")
    alerts.check(morning_after(D - timedelta(days=1)))  # D−1: Quiet and GoogleOne lose money
    assert len(top_level(slack)) == 2

    # D: G1 has no row. Before the grace (08:00 Copenhagen) nothing is said or changed.
    before = len(slack.calls)
    report = alerts.check(NOW - timedelta(minutes=1))
    assert (report.no_data, report.resolved, len(slack.calls)) == (0, 0, before)
    assert _status(alerts, rule)["GoogleOne"].state is AlertState.FIRING

    report = alerts.check(NOW)
    assert (report.no_data, report.fired, report.resolved) == (1, 0, 0)
    notice = top_level(slack)[-1]
    assert notice.params["channel"] == "C1"
    assert text_of(notice).startswith(
        f"<@U0OWNER> No data since Wed 11 Mar for google_ads G1: rule #{rule} neither fires "
        "nor resolves until it lands"
    )
    assert "A1" not in str(notice.params["text"])  # meta_ads A1 landed (MetaOne has a row)
    now = _status(alerts, rule)
    assert now["GoogleOne"].state is AlertState.NO_DATA and now["GoogleOne"].open_incident
    assert now["Quiet"].state is AlertState.FIRING  # inactive on D: held, not resolved
    assert alerts.view(rule).rule.no_data_since == D

    # The same spell: no second notice, later that day or the next day.
    before = len(slack.calls)
    alerts.check(NOW + timedelta(hours=1))
    alerts.check(morning_after(D + timedelta(days=1)))
    assert len(slack.calls) == before

    # G1 lands D and D+1 (good days): GoogleOne resolves in its own thread.
    load(engine, tmp_path / "csv", rows(GOOGLE, D, D + timedelta(days=1)))
    fire_ts = _status(alerts, rule)["GoogleOne"].ts
    report = alerts.check(morning_after(D + timedelta(days=1)) + timedelta(hours=1))
    assert (report.resolved, report.no_data) == (1, 0)
    (resolve,) = replies(slack)
    assert resolve.params["thread_ts"] == fire_ts and "GoogleOne" in text_of(resolve)
    assert len(slack.calls_to("chat.update")) == 1
    assert alerts.view(rule).rule.no_data_since is None

    # A new spell: G1 misses D+2.
    alerts.check(morning_after(D + timedelta(days=2)))
    assert "No data since Fri 13 Mar for google_ads G1" in text_of(top_level(slack)[-1])
    notices = [
        (e.campaign_id, e.day, e.delivery) for e in events(alerts, rule) if e.event == "no_data"
    ]
    assert notices == [(RULE, D, "sent"), (RULE, D + timedelta(days=2), "sent")]
    assert len([c for c in top_level(slack) if "No data" in text_of(c)]) == 2


def test_the_landing_grace_counts_from_the_end_of_the_day_in_the_timezone(
    engine: Engine, slack: FakeSlack, clock: Clock, tmp_path: Path
) -> None:
    _data(engine, tmp_path / "csv")
    alerts = service(engine, slack, clock, landing_grace=timedelta(hours=2))
    add(alerts, "all roi < 0", channel="C1")
    midnight = NOW - timedelta(hours=8)  # D ends at 00:00 Copenhagen, 23:00 UTC
    assert alerts.check(midnight + timedelta(hours=2) - timedelta(seconds=1)).no_data == 0
    assert alerts.check(midnight + timedelta(hours=2)).no_data == 1
    assert ["No data since" in text_of(c) for c in top_level(slack)] == [True]
