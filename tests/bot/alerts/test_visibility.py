"""Alert rules in a limited channel: judged only over the campaigns it may see, so a hidden
campaign never fires, reminds, resolves or is named there — and when a limit hides a firing
campaign, its incident is closed without a post (it fires anew if the limit is lifted)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event

from bot.access.model import parse_limit
from bot.alerts.lifecycle import AlertState
from bot.alerts.model import Action
from bot.alerts.rules import RuleError
from bot.alerts.service import AlertNotFound, AlertService, IncidentRef, StaleButton
from storage import access
from storage import alerts as stored
from storage.database import session_scope
from tests.bot.alerts.world import (
    NOW,
    Campaign,
    D,
    Day,
    add,
    load,
    replies,
    rows,
    text_of,
    top_level,
)
from tests.support.fake_slack import FakeSlack

LIMITED = "C0LIMITED"
OPEN = "C0OPEN"
START = D - timedelta(days=28)
END = D + timedelta(days=6)
LOSING = Day(revenue="50")  # ROI −50 %
DAY = timedelta(days=1)
SINKER = Campaign("Sinker")  # Meta account A1: visible
STEADY = Campaign("Steady")  # visible, never fires
HIDDEN = (
    Campaign("Gone Sinker", account="A2"),  # same platform and channel, other account
    Campaign("Sinker Two", platform="google_ads", account="G1", channel="paid_search"),
)
VISIBLE_LIMIT = ["platform", "meta_ads", "account", "a1"]


@pytest.fixture
def world(engine: Engine, alerts: AlertService, tmp_path: Path) -> AlertService:
    losing = {D + timedelta(days=n): LOSING for n in range((END - D).days + 1)}
    lines = rows(STEADY, START, END)
    for campaign in (SINKER, *HIDDEN):
        lines += rows(campaign, START, END, days=losing)
    load(engine, tmp_path / "csv", lines)
    limit(alerts, LIMITED, VISIBLE_LIMIT)
    return alerts


def limit(alerts: AlertService, channel: str, words: list[str] | None) -> None:
    with session_scope(alerts.sessions) as session:
        if words is None:
            access.clear_limit(session, channel)
        else:
            access.set_limit(session, channel, parse_limit(words), by="U0ADMIN", now=NOW)


def names_in(slack: FakeSlack, channel: str) -> list[str]:
    """The campaigns named by top-level alerts in the channel, in order."""
    found = []
    for call in top_level(slack):
        if call.params["channel"] == channel:
            text = text_of(call)
            found += [c.name for c in (SINKER, STEADY, *HIDDEN) if f"*{c.name}*" in text]
    return found


def ids(alerts: AlertService) -> dict[str, int]:
    with session_scope(alerts.sessions) as session:
        return {c.name: c.id for c in alerts.directory.current(session).campaigns}


def test_a_rule_in_a_limited_channel_fires_only_for_what_it_may_see(
    world: AlertService, slack: FakeSlack
) -> None:
    add(world, "all roi < 0", channel=LIMITED)
    add(world, "channel social roi < 0", channel=LIMITED)
    add(world, "all roi < 0", channel=OPEN)
    report = world.check(NOW)
    assert report.fired == 2 + 3
    assert names_in(slack, LIMITED) == ["Sinker", "Sinker"]
    assert sorted(names_in(slack, OPEN)) == ["Gone Sinker", "Sinker", "Sinker Two"]
    for call in top_level(slack):
        if call.params["channel"] == LIMITED:
            assert "Gone Sinker" not in text_of(call) and "Sinker Two" not in text_of(call)


def test_the_add_preview_counts_only_visible_campaigns(world: AlertService) -> None:
    limited = world.add(["all", "roi", "<", "0"], channel=LIMITED, user="U1")
    assert (limited.would_fire, limited.campaigns) == (1, 2)  # Sinker of Sinker and Steady
    assert {line.campaign for line in limited.lines} == {"Sinker", "Steady"}
    everything = world.add(["all", "roi", "<", "0"], channel=OPEN, user="U1")
    assert (everything.would_fire, everything.campaigns) == (3, 4)


def test_alert_add_naming_a_hidden_campaign_fails_as_an_unknown_one(world: AlertService) -> None:
    words = ["gone-sinker", "roi", "<", "0"]
    with pytest.raises(RuleError) as refused:
        world.add(words, channel=LIMITED, user="U1")
    assert "No campaign is called “gone-sinker”" in str(refused.value)
    assert "Gone Sinker" not in str(refused.value)
    with pytest.raises(RuleError) as checked:
        world.check_words(words, channel=LIMITED)
    assert str(checked.value) == str(refused.value)
    with pytest.raises(RuleError):
        world.add(["channel", "paid_search", "roi", "<", "0"], channel=LIMITED, user="U1")
    assert world.check_words(words).scope.values == ("Gone Sinker",)  # the CLI: everything


def test_a_limit_that_hides_a_firing_campaign_silences_it_in_that_channel(
    world: AlertService, slack: FakeSlack
) -> None:
    rule = add(world, "all roi < 0", channel=OPEN)
    world.check(NOW)
    assert len(top_level(slack)) == 3
    limit(world, OPEN, VISIBLE_LIMIT)  # now OPEN may see only Sinker
    assert world.rules(OPEN)[0].firing == ("Sinker",)

    report = world.check(NOW + DAY)  # reminders are due: only Sinker's
    assert (report.reminded, len(top_level(slack))) == (1, 3)
    (reminder,) = replies(slack)
    assert "Sinker" in text_of(reminder) and "Gone Sinker" not in text_of(reminder)
    found = ids(world)
    with session_scope(world.sessions) as session:
        statuses = stored.statuses(session, [rule])
    for campaign in HIDDEN:
        closed = statuses[(rule, found[campaign.name])]
        assert (closed.state, closed.open_incident) == (AlertState.OK, False)
    history = world.history(rule, limit=1000)
    assert {e.campaign for e in history} <= {"Sinker", None}
    limit(world, OPEN, None)
    assert {e.campaign for e in world.history(rule, limit=1000)} >= {"Gone Sinker"}
    # From a limited channel, another channel's rule is not there at all (not even its id).
    with pytest.raises(AlertNotFound):
        world.history(rule, limit=1000, viewer=LIMITED)
    limit(world, OPEN, VISIBLE_LIMIT)
    assert world.rules(OPEN)[0].firing == ("Sinker",)

    # A hidden campaign's button (or a forged one) is stale, whatever its incident says.
    ref = IncidentRef(rule, found["Gone Sinker"], 1)
    with pytest.raises(StaleButton):
        world.act(ref, Action.ACKNOWLEDGE, user="U1")

    before = len(slack.calls)
    world.check(NOW + 2 * DAY)  # nothing more for the hidden ones: no fire, no resolve
    later = [text_of(c) for c in slack.calls[before:]]
    assert later and all("Sinker Two" not in t and "Gone Sinker" not in t for t in later)
    assert len(top_level(slack)) == 3

    limit(world, OPEN, None)  # lifted: they are still losing, so they fire anew
    world.check(NOW + 3 * DAY)
    assert sorted(names_in(slack, OPEN)[3:]) == ["Gone Sinker", "Sinker Two"]


def test_every_limit_is_read_once_per_check(
    world: AlertService, engine: Engine, slack: FakeSlack
) -> None:
    limit(world, "C0SECOND", ["account", "a2"])
    for channel in (LIMITED, "C0SECOND", OPEN, "C0FOURTH"):
        add(world, "all roi < 0", channel=channel)
    reads: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if "channel_access" in statement:
            reads.append(statement)

    event.listen(engine, "before_cursor_execute", seen)
    try:
        report = world.check(NOW)
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert report.fired == 1 + 1 + 3 + 3
    assert names_in(slack, "C0SECOND") == ["Gone Sinker"]
    assert len(reads) == 1
