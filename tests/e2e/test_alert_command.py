"""/kpi alert end to end: signed commands and button presses into a real `kpibot serve` on the
demo data, Slack's side played by the fake; alerts posted by a real `kpibot alert check`.

Each test uses channels of its own, so the rules other tests add never get in the way (a
check evaluates every rule: its posts in other channels are ignored here).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any
from urllib.parse import urlencode

import pytest

from storage import alerts
from storage.database import make_engine, session_factory
from tests.conftest import postgres_schema
from tests.e2e.conftest import USER_ID, ServedApp, buttons, message_text, start_serve
from tests.e2e.test_alert_cli import (
    COLLAPSING,
    NOW,
    TIMEZONE,
    cli_env,
    kpibot,
    load_demo,
    write_demo_csv,
)
from tests.e2e.test_digest_command import say
from tests.support.blockkit import assert_valid_message
from tests.support.fake_slack import Call, FakeSlack

OTHER_USER = "U0E2E0002"
ADMIN = "U0E2E0003"
SERVE_WORKERS = 2  # start_serve's --workers: each keeps its own users.info cache


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def served_demo(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServedApp]:
    """`kpibot serve` on the demo data (its last day Wed 2 December 2026)."""
    folder = tmp_path_factory.mktemp(f"alerts-served-{request.param}")
    csv = write_demo_csv(folder / "demo.csv")
    with ExitStack() as stack:
        if request.param == "sqlite":
            database_url = f"sqlite:///{folder / 'kpibot.db'}"
        else:
            database_url = stack.enter_context(postgres_schema())
        load_demo(database_url, csv)
        slack = stack.enter_context(FakeSlack())
        url = start_serve(
            stack, database_url, slack, folder / "serve.log", KPIBOT_TIMEZONE=TIMEZONE
        )
        yield ServedApp(url, slack, database_url)


@pytest.fixture
def app(served_demo: ServedApp) -> ServedApp:
    served_demo.slack.reset()
    return served_demo


def stored(app: ServedApp, channel: str) -> list[alerts.StoredRule]:
    engine = make_engine(app.database_url)
    try:
        with session_factory(engine)() as session:
            return alerts.list_rules(session, channel)
    finally:
        engine.dispose()


def added_id(message: dict[str, Any]) -> int:
    found = re.search(r"Alert #(\d+) added", message_text(message))
    assert found, message_text(message)
    return int(found.group(1))


def press(
    app: ServedApp, button: dict[str, Any], *, channel: str, user: str = USER_ID
) -> dict[str, Any]:
    """`user` presses `button` on an alert in `channel`: what kpibot sends to the response_url."""
    name, url = app.response_url()
    payload = {
        "type": "block_actions",
        "team": {"id": "T1"},
        "user": {"id": user, "name": "someone"},
        "channel": {"id": channel},
        "container": {"type": "message", "channel_id": channel, "is_ephemeral": False},
        "response_url": url,
        "trigger_id": "1.2.3",
        "actions": [
            {
                "type": "button",
                "action_id": button["action_id"],
                "block_id": "b",
                "value": button.get("value", ""),
                "action_ts": "1",
            }
        ],
    }
    response = app.post(urlencode({"payload": json.dumps(payload)}))
    assert response.status_code == 200, response.text
    (call,) = app.slack.wait_for(f"response/{name}", timeout=10)
    assert call.ok, call
    message: dict[str, Any] = call.json()
    assert_valid_message(message)
    return message


def button(message: dict[str, Any], action_id: str) -> dict[str, Any]:
    (found,) = (b for b in buttons(message) if b["action_id"] == action_id)
    return found


def check(app: ServedApp) -> str:
    """`kpibot alert check` against the served database, at 08:30 the day after the demo."""
    return kpibot(cli_env(app.database_url, app.slack), "alert", "check", "--now", NOW).stdout


def posted_in(app: ServedApp, channel: str) -> list[Call]:
    return [c for c in app.slack.calls_to("chat.postMessage") if c.params["channel"] == channel]


# --------------------------------------------------------------------------- commands


def test_a_rule_typed_with_slacks_escaped_comparison_is_read_as_typed(app: ServedApp) -> None:
    # Slack sends `<`, `>` and `&` of a command's text as HTML entities.
    reply = say(app, "alert add all roi &lt; 0", channel="CESC1")
    rule_id = added_id(reply)
    (rule,) = stored(app, "CESC1")
    assert rule.id == rule_id
    assert "ROI < 0" in message_text(reply).replace("&lt;", "<")


def test_add_stores_the_rule_and_echoes_it_with_value_and_baseline(app: ServedApp) -> None:
    reply = say(app, "alert add all roi drops 30%", channel="CADD1")
    text = message_text(reply)
    rule_id = added_id(reply)
    assert (
        f"Alert #{rule_id} added in <#CADD1>: all · ROI drops 30 % vs 7-day average · "
        "over 1 day · for 1 day"
    ) in text
    assert "Would fire now for 1 of 14 campaigns (data of Wed 2 Dec)" in text
    assert re.search(
        r":red_circle: \*Retargeting EU\* — ROI -32\.77% vs 7-day average 187\.40%", text
    ), text
    assert ":large_green_circle: *Brand Search DK* — ROI " in text  # and how the others stand
    (rule,) = stored(app, "CADD1")
    assert rule.id == rule_id
    assert rule.created_by == USER_ID
    assert rule.rule.kpi == "roi"
    assert [c.params["channel"] for c in app.slack.calls_to("conversations.info")] == ["CADD1"]
    assert app.slack.calls_to("chat.postMessage") == []  # adding posts no alert


@pytest.mark.parametrize(
    ("words", "says"),
    [
        ("all roix drops 30%", "`roix` is not a KPI"),
        ("all clicks drops 5 pp", "`pp` (percentage points) only goes with CTR, CVR and ROI"),
        ("all cpa >", "Give CPA a number, e.g. `all cpa &gt; 40`"),
        ("platform snapchat roi < 0", "No campaign is in `platform snapchat`"),
        ("no-such-campaign roi < 0", "No campaign is called “no-such-campaign”"),
        ("", "Say what to watch: a scope, a KPI and a condition"),
    ],
)
def test_an_invalid_rule_says_what_to_fix_and_stores_nothing(
    app: ServedApp, words: str, says: str
) -> None:
    text = message_text(say(app, f"alert add {words}", channel="CBAD1"))
    assert ":warning:" in text
    assert says in text, text
    assert stored(app, "CBAD1") == []
    assert app.slack.calls_to("conversations.info") == []  # the words fail before Slack is asked


def test_a_channel_the_bot_is_not_in_is_refused(app: ServedApp) -> None:
    app.slack.set_channel("CPRIV1", is_private=True, is_member=False)
    text = message_text(say(app, "alert add all roi drops 30%", channel="CPRIV1"))
    assert "invite me with `/invite @kpibot`" in text
    assert stored(app, "CPRIV1") == []


def test_list_shows_this_channels_alerts(app: ServedApp) -> None:
    assert "No alerts in <#CLIST1> yet" in message_text(say(app, "alert list", channel="CLIST1"))
    first = added_id(say(app, "alert add all roi drops 30%", channel="CLIST1"))
    second = added_id(say(app, "alert add channel social cpc > 5 over 7d", channel="CLIST1"))
    say(app, "alert add all roas < 1", channel="CLIST2")
    text = message_text(say(app, "alert list", channel="CLIST1"))
    assert "2 alerts in <#CLIST1>" in text
    assert f"#{first} · all · ROI drops 30 % vs 7-day average" in text
    assert f"#{second} · channel social · CPC &gt; 5 · over 7 days" in text
    assert "ROAS" not in text
    assert f"notifies <@{USER_ID}>" in text


def test_only_the_creator_or_an_admin_may_change_a_rule(app: ServedApp) -> None:
    rule_id = added_id(say(app, "alert add all roi drops 30%", channel="COWN1"))
    app.slack.set_user(OTHER_USER, is_admin=False)
    for words in (
        f"pause {rule_id}",
        f"resume {rule_id}",
        f"snooze {rule_id} 1d",
        f"remove {rule_id}",
    ):
        refused = message_text(say(app, f"alert {words}", channel="COWN1", user=OTHER_USER))
        assert f"Only <@{USER_ID}>, the person it notifies or a workspace admin" in refused
        assert f"can change alert #{rule_id}" in refused
    (rule,) = stored(app, "COWN1")
    assert (rule.paused, rule.snoozed_until) == (False, None)
    # One admin check per refused change; admission looks the sender up too, at most once
    # per worker (KPIBOT_USER_CACHE).
    looked_up = [c.params["user"] for c in app.slack.calls_to("users.info")]
    assert 4 <= looked_up.count(OTHER_USER) <= 4 + SERVE_WORKERS

    app.slack.set_user(ADMIN, is_admin=True)
    paused = message_text(say(app, f"alert pause {rule_id}", channel="COWN1", user=ADMIN))
    assert f"Alert #{rule_id} paused" in paused
    assert stored(app, "COWN1")[0].paused is True
    resumed = message_text(say(app, f"alert resume {rule_id}", channel="COWN1"))
    assert f"Alert #{rule_id} resumed" in resumed
    assert stored(app, "COWN1")[0].paused is False
    snoozed = message_text(say(app, f"alert snooze {rule_id} 1w", channel="COWN1"))
    assert f"Alert #{rule_id} snoozed until " in snoozed
    assert stored(app, "COWN1")[0].snoozed_until is not None
    removed = message_text(say(app, f"alert remove {rule_id}", channel="COWN1"))
    assert f"Alert #{rule_id} removed" in removed
    assert stored(app, "COWN1") == []
    # Only ADMIN's pause was an admin check; the creator's three changes were not (admission
    # alone looks them up, at most once per worker).
    looked_up = [c.params["user"] for c in app.slack.calls_to("users.info")]
    assert 1 <= looked_up.count(ADMIN) <= 1 + SERVE_WORKERS
    assert looked_up.count(USER_ID) <= SERVE_WORKERS


def test_bad_ids_and_words_are_named(app: ServedApp) -> None:
    assert "`three` is not an alert id" in message_text(
        say(app, "alert pause three", channel="CID1")
    )
    assert "There is no alert #999999" in message_text(
        say(app, "alert remove 999999", channel="CID1")
    )
    assert "`alert frobnicate` is not an alert command" in message_text(
        say(app, "alert frobnicate", channel="CID1")
    )


# --------------------------------------------------------------------------- the posted alert


def test_an_alert_its_buttons_and_its_history(app: ServedApp) -> None:
    rule_id = added_id(say(app, "alert add all roi drops 30%", channel="CBTN1"))
    assert f"Alert #{rule_id} has no history yet" in message_text(
        say(app, f"alert history {rule_id}", channel="CBTN1")
    )
    out = check(app)
    assert "fired=" in out
    (alert,) = posted_in(app, "CBTN1")
    assert COLLAPSING in alert.params["text"]
    assert alert.params["text"].startswith(f"<@{USER_ID}> ")
    message = alert.params
    assert [b["action_id"] for b in buttons(message)] == [
        "alert_ack",
        "alert_snooze_1d",
        "alert_snooze_1w",
        "alert_mute",
        "alert_card",
    ]

    # Acknowledge: anyone in the channel; the alert is redrawn in place to say who.
    acked = press(app, button(message, "alert_ack"), channel="CBTN1", user=OTHER_USER)
    assert acked["replace_original"] is True
    assert acked["response_type"] == "in_channel"  # the alert stays a channel message
    assert f"Acknowledged by <@{OTHER_USER}>" in message_text(acked)
    assert COLLAPSING in message_text(acked)
    assert "alert_ack" not in [b["action_id"] for b in buttons(acked)]

    # Snooze 1 day (the creator): redrawn with until when.
    snoozed = press(app, button(acked, "alert_snooze_1d"), channel="CBTN1")
    assert snoozed["replace_original"] is True
    assert "Snoozed until " in message_text(snoozed)
    assert f"Acknowledged by <@{OTHER_USER}>" in message_text(snoozed)

    # Mute: not for someone who is neither its creator nor an admin; then by the creator.
    app.slack.set_user(OTHER_USER, is_admin=False)
    refused = press(app, button(snoozed, "alert_mute"), channel="CBTN1", user=OTHER_USER)
    assert refused.get("replace_original") is not True
    assert refused["response_type"] == "ephemeral"
    assert f"Only <@{USER_ID}>, the person it notifies or a workspace admin" in message_text(
        refused
    )
    muted = press(app, button(snoozed, "alert_mute"), channel="CBTN1")
    assert muted["replace_original"] is True
    assert "Muted" in message_text(muted)
    assert [b["action_id"] for b in buttons(muted)] == ["alert_card"]

    # Open card: the campaign's /kpi card, for whoever pressed it only.
    card = press(app, button(muted, "alert_card"), channel="CBTN1", user=OTHER_USER)
    assert card["response_type"] == "ephemeral"
    assert card.get("replace_original") is False
    assert COLLAPSING in message_text(card)
    assert "ROI" in message_text(card)

    listed = message_text(say(app, "alert list", channel="CBTN1"))
    assert ":red_circle: firing" in listed
    for word in ("firing", "acknowledged", "muted"):
        assert f"{word}: {COLLAPSING}" in listed
    history = message_text(say(app, f"alert history {rule_id}", channel="CBTN1"))
    for word in ("fired", "acknowledged", "snoozed", "muted"):
        assert f"*{word}*" in history, (word, history)
    assert f"<@{OTHER_USER}>" in history
    assert "sent" in history
    everything = message_text(say(app, "alert history", channel="CBTN1"))
    assert f"#{rule_id}" in everything

    # The alert posted once; checking again posts nothing new in its channel.
    check(app)
    assert len(posted_in(app, "CBTN1")) == 1
