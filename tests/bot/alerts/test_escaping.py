"""A campaign (and an ad account) named to ping and format: no alert message, reminder,
resolve, update or no-data notice carries a live `<!channel>` or formatting marker."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from bot.alerts.service import AlertService
from tests.bot.alerts.world import NOW, Campaign, D, Day, add, load, rows
from tests.support.fake_slack import Call, FakeSlack

NAME = "*Big* _Sale_ <!channel>"
ACCOUNT = "*acct* <!here>"
SHOWN = "\u2217Big\u2217 \u02cdSale\u02cd &lt;!channel&gt;"  # lookalikes and entities


def _texts(call: Call) -> tuple[list[str], list[str]]:
    """The mrkdwn strings of a message (its `text` and every mrkdwn text object) and its
    plain_text ones."""
    mrkdwn = [str(call.params.get("text", ""))]
    plain: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") in ("mrkdwn", "plain_text") and isinstance(node.get("text"), str):
                (mrkdwn if node["type"] == "mrkdwn" else plain).append(node["text"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(call.params.get("blocks", []))
    return mrkdwn, plain


def test_names_are_inert_in_every_alert_message(
    engine: Engine, alerts: AlertService, slack: FakeSlack, tmp_path: Path
) -> None:
    big = Campaign(NAME, external_id="big-sale")
    other = Campaign("Other", "google_ads", ACCOUNT, "paid_search")
    losing = {D + timedelta(days=n): Day(revenue="50") for n in range(2)}
    lines = rows(big, D - timedelta(days=28), D + timedelta(days=2), days=losing)
    lines += rows(other, D - timedelta(days=28), D - timedelta(days=1))  # misses D
    load(engine, tmp_path / "csv", lines)
    add(alerts, "all roi < 0", channel="C1")
    add(alerts, f"{NAME} roi < 0", channel="C2")  # the name in the rule's text too

    alerts.check(NOW)  # two fires and a no-data notice
    alerts.check(NOW + timedelta(hours=24))  # two reminders
    alerts.check(NOW + timedelta(hours=48))  # D+2 is good: two resolves and two updates
    calls = slack.calls_to("chat.postMessage", ok=True) + slack.calls_to("chat.update", ok=True)
    assert len(calls) == 9

    mentions = set()
    for call in calls:
        mrkdwn, plain = _texts(call)
        for text in mrkdwn:
            assert "<!" not in text and "*Big*" not in text and "_Sale_" not in text, text
            assert "*acct*" not in text
            mentions |= set(re.findall(r"<[^>]*>", text))
        assert all("<!" not in t or NAME in t for t in plain)  # plain_text shows as typed
    assert mentions == {"<@U0OWNER>"}
    shown = [t for call in calls for t in _texts(call)[0]]
    assert sum(SHOWN in t for t in shown) >= 8
    assert any("\u2217acct\u2217 &lt;!here&gt;" in t for t in shown)  # the no-data notice
