"""/kpi digest end to end: signed commands into `kpibot serve`, Slack's side played by the fake.

Each test uses channels of its own, so the digests other tests add never get in the way.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

import pytest

from storage.database import make_engine, session_factory
from storage.digests import Subscription, list_subscriptions
from tests.e2e.conftest import USER_ID, ServedApp, message_text
from tests.support.blockkit import assert_no_mentions, assert_valid_message

OTHER_USER = "U0E2E0002"
SERVE_WORKERS = 2  # start_serve's --workers: each keeps its own users.info cache
ADMIN = "U0E2E0003"
# Mentions kpibot writes on purpose: the channel and the creator, from validated ids.
OWN_MENTIONS = ("<http", "<#C", "<@U")


def say(app: ServedApp, text: str, *, channel: str, user: str = USER_ID) -> dict[str, Any]:
    """`/kpi text` typed in `channel` by `user`: the reply, from the ack or the response_url."""
    name, url = app.response_url()
    body = urlencode(
        {
            "team_id": "T1",
            "channel_id": channel,
            "channel_name": "marketing",
            "user_id": user,
            "command": "/kpi",
            "text": text,
            "response_url": url,
            "trigger_id": "1.2.3",
        }
    )
    response = app.post(body)
    assert response.status_code == 200, response.text
    message: dict[str, Any] = response.json() if response.content else {}
    if not message.get("blocks"):
        (call,) = app.slack.wait_for(f"response/{name}", ok=True, timeout=10)
        message = call.json()
    assert message["response_type"] == "ephemeral"
    assert_valid_message(message)
    assert_no_mentions(message, allowed_prefixes=OWN_MENTIONS)
    return message


def stored(app: ServedApp, channel: str) -> list[Subscription]:
    engine = make_engine(app.database_url)
    try:
        with session_factory(engine)() as session:
            return list_subscriptions(session, channel)
    finally:
        engine.dispose()


def added_id(message: dict[str, Any]) -> int:
    found = re.search(r"Digest (\d+) added", message_text(message))
    assert found, message_text(message)
    return int(found.group(1))


def test_add_echoes_what_was_understood_and_the_first_run(app: ServedApp) -> None:
    reply = say(app, "digest add weekdays at 08:00 tz Europe/Copenhagen all", channel="CADD1")
    text = message_text(reply)
    assert re.search(
        r"Digest \d+ added: weekdays at 08:00 Europe/Copenhagen, all campaigns, in <#CADD1>\. "
        r"Next: (Mon|Tue|Wed|Thu|Fri) \d{1,2} \w{3} 08:00 Europe/Copenhagen",
        text,
    ), text
    (subscription,) = stored(app, "CADD1")
    assert subscription.created_by == USER_ID
    assert subscription.schedule.timezone == "Europe/Copenhagen"
    assert [c.params["channel"] for c in app.slack.calls_to("conversations.info")] == ["CADD1"]


def test_add_with_defaults_and_a_campaign_scope(app: ServedApp) -> None:
    reply = say(app, "digest add mon,wed,fri at 7:30 campaigns summer sale", channel="CADD2")
    assert "mon,wed,fri at 07:30 UTC, campaigns Summer Sale" in message_text(reply)
    (subscription,) = stored(app, "CADD2")
    assert subscription.scope.values == ("Summer Sale",)


@pytest.mark.parametrize(
    ("words", "says"),
    [
        ("tz Mars/Olympus", "`Mars/Olympus` is not a time zone"),
        ("at 25:00", "hours go 00–23"),
        ("funday at 08:00", "`funday` is not a weekday"),
        ("campaigns no-such-campaign", "No campaign is called “no-such-campaign”"),
        ("channel carrier_pigeon", "carrier"),
        ("weekdays sometimes", "is not a scope"),
    ],
)
def test_invalid_words_name_the_problem_and_store_nothing(
    app: ServedApp, words: str, says: str
) -> None:
    reply = say(app, f"digest add {words}", channel="CBAD1")
    text = message_text(reply)
    assert says in text
    assert ":warning:" in text
    assert stored(app, "CBAD1") == []


@pytest.mark.parametrize(
    ("fields", "says"),
    [
        ({"is_private": True, "is_member": False}, "invite me with `/invite @kpibot`"),
        ({"exists": False}, "I cannot see channel CGONE1"),
        ({"is_archived": True}, "is archived"),
    ],
)
def test_a_channel_the_bot_cannot_post_in_is_refused(
    app: ServedApp, fields: dict[str, Any], says: str
) -> None:
    app.slack.set_channel("CGONE1", **fields)
    reply = say(app, "digest add daily", channel="CGONE1")
    assert says in message_text(reply)
    assert stored(app, "CGONE1") == []


def test_slack_that_cannot_be_asked_stores_nothing(app: ServedApp) -> None:
    app.slack.fail_next("conversations.info", status=500, times=5)
    reply = say(app, "digest add daily", channel="CDOWN1")
    assert "could not ask Slack whether I can post in this channel" in message_text(reply)
    assert stored(app, "CDOWN1") == []


def test_list_shows_this_channels_digests(app: ServedApp) -> None:
    first = added_id(say(app, "digest add daily at 06:15 tz Asia/Kolkata", channel="CLIST1"))
    second = added_id(say(app, "digest add channel social", channel="CLIST1"))
    say(app, "digest add all", channel="CLIST2")
    say(app, f"digest pause {second}", channel="CLIST1")
    text = message_text(say(app, "digest list", channel="CLIST1"))
    assert "2 digests in <#CLIST1>" in text
    assert f"Digest {first}* · daily at 06:15 Asia/Kolkata · all campaigns" in text
    assert f"Digest {second}* · weekdays at 08:00 UTC · channel social" in text
    assert "*paused*" in text
    assert f"created by <@{USER_ID}>" in text
    assert "Next: " in text and "Asia/Kolkata" in text
    assert "Last: not delivered yet" in text


def test_an_empty_channel_says_how_to_add_one(app: ServedApp) -> None:
    assert "No digests in <#CNONE1> yet" in message_text(say(app, "digest list", channel="CNONE1"))


def test_only_the_creator_or_an_admin_may_pause_or_remove(app: ServedApp) -> None:
    digest = added_id(say(app, "digest add daily", channel="COWN1"))
    for action in ("pause", "remove"):
        refused = message_text(
            say(app, f"digest {action} {digest}", channel="COWN1", user=OTHER_USER)
        )
        assert f"Only <@{USER_ID}> or a workspace admin can change digest {digest}" in refused
    assert stored(app, "COWN1")[0].paused is False
    # One admin check per refused change; admission looks the sender up too, at most once
    # per worker (KPIBOT_USER_CACHE).
    looked_up = [c.params["user"] for c in app.slack.calls_to("users.info")]
    assert 2 <= looked_up.count(OTHER_USER) <= 2 + SERVE_WORKERS

    app.slack.set_user(ADMIN, is_admin=True)
    paused = say(app, f"digest pause {digest}", channel="COWN1", user=ADMIN)
    assert f"Digest {digest} paused" in message_text(paused)
    resumed = say(app, f"digest resume {digest}", channel="COWN1")
    assert f"Digest {digest} resumed. Next: " in message_text(resumed)
    removed = say(app, f"digest remove {digest}", channel="COWN1")
    assert f"Digest {digest} removed" in message_text(removed)
    assert stored(app, "COWN1") == []


def test_bad_or_unknown_ids_are_named(app: ServedApp) -> None:
    assert "`three` is not a digest id" in message_text(
        say(app, "digest pause three", channel="CID1")
    )
    assert "There is no digest 999999" in message_text(
        say(app, "digest remove 999999", channel="CID1")
    )
    assert "`digest frobnicate` is not a digest command" in message_text(
        say(app, "digest frobnicate", channel="CID1")
    )


def test_preview_without_an_id_takes_the_only_digest_or_asks(app: ServedApp) -> None:
    assert "No digests in this channel" in message_text(say(app, "digest preview", channel="CPRE1"))
    first = added_id(say(app, "digest add daily", channel="CPRE1"))
    preview = say(app, "digest preview", channel="CPRE1")
    assert "Morning digest" in message_text(preview)
    assert app.slack.calls_to("chat.postMessage") == []  # a preview posts nothing
    second = added_id(say(app, "digest add channel social", channel="CPRE1"))
    asked = message_text(say(app, "digest preview", channel="CPRE1"))
    assert f"This channel has 2 digests ({first}, {second})" in asked
    assert "Morning digest" in message_text(say(app, f"digest preview {second}", channel="CPRE1"))


def test_send_posts_the_digest_in_its_channel(app: ServedApp) -> None:
    digest = added_id(say(app, "digest add daily", channel="CSEND1"))
    reply = say(app, f"digest send {digest}", channel="CSEND1")
    assert f"Digest {digest} posted in <#CSEND1>" in message_text(reply)
    (post,) = app.slack.calls_to("chat.postMessage", ok=True)
    assert post.params["channel"] == "CSEND1"
    assert "Morning digest" in post.params["text"]
    listed = message_text(say(app, "digest list", channel="CSEND1"))
    assert "Last: sent " in listed


def test_a_failed_send_shows_slacks_error_in_the_reply_and_the_list(app: ServedApp) -> None:
    digest = added_id(say(app, "digest add daily", channel="CFAIL1"))
    app.slack.set_channel("CFAIL1", is_archived=True)
    reply = message_text(say(app, f"digest send {digest}", channel="CFAIL1"))
    assert f"Digest {digest} could not be posted: `is_archived`" in reply
    listed = message_text(say(app, "digest list", channel="CFAIL1"))
    assert "Last: failed " in listed and "is_archived" in listed


def test_campaign_names_in_a_scope_cannot_ping(app: ServedApp) -> None:
    reply = say(app, "digest add campaigns <!channel> Promo", channel="CESC1")
    text = message_text(reply)
    assert "&lt;!channel&gt; Promo" in text
    assert "<!channel>" not in text
    listed = message_text(say(app, "digest list", channel="CESC1"))
    assert "&lt;!channel&gt; Promo" in listed and "<!channel>" not in listed


def test_help_lists_the_digest_commands(app: ServedApp) -> None:
    text = message_text(say(app, "help", channel="CHELP1"))
    assert "digest add" in text
    assert "digest list" in text
