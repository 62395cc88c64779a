"""Who may ask, and `/kpi access`, end to end: signed commands and button presses into a real
`kpibot serve`, Slack's users.info and auth.test played by the fake.

Each worker keeps users.info answers for 10 minutes, so every test asks as people of its own
(`person()`), and limits channels of its own.
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from tests.conftest import postgres_schema
from tests.e2e.conftest import ServedApp, buttons, message_text, seed, start_serve
from tests.support.blockkit import assert_no_mentions, assert_valid_message
from tests.support.fake_slack import FakeSlack

SAMPLE_PERIOD = "2025-08-10..2025-08-12"
OWN_MENTIONS = ("<#C", "<@U")
_people = itertools.count(1)


def person(kind: str) -> str:
    """A user id nobody has used yet in this test run (so no worker has it cached)."""
    return f"U{kind.upper()}{next(_people):04d}"


@dataclass
class Served:
    app: ServedApp
    log: Path

    def log_text(self) -> str:
        time.sleep(0.3)  # the worker writes its log line after it answers
        return self.log.read_text(encoding="utf-8", errors="replace")


def _serve(stack: ExitStack, folder: Path, backend: str, **extra: str) -> tuple[ServedApp, Path]:
    if backend == "sqlite":
        database_url = f"sqlite:///{folder / 'kpibot.db'}"
    else:
        database_url = stack.enter_context(postgres_schema())
    seed(database_url, folder)
    slack = stack.enter_context(FakeSlack())
    log = folder / "serve.log"
    url = start_serve(stack, database_url, slack, log, **extra)
    return ServedApp(url, slack, database_url), log


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def served_access(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    folder = tmp_path_factory.mktemp(f"access-{request.param}")
    with ExitStack() as stack:
        app, log = _serve(stack, folder, request.param)
        yield Served(app, log)


@pytest.fixture
def served(served_access: Served) -> Served:
    served_access.app.slack.reset()
    if not served_access.app.slack.is_up:
        served_access.app.slack.up()
    return served_access


def say(app: ServedApp, text: str, *, user: str, channel: str = "CACC0001") -> dict[str, Any]:
    """`/kpi text` typed by `user` in `channel`: the reply, from the ack or the response_url."""
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


def press(
    app: ServedApp, button: dict[str, Any], *, user: str, channel: str = "CACC0001"
) -> list[dict[str, Any]]:
    """`user` presses `button`: everything kpibot sends to that press's response_url."""
    name, url = app.response_url()
    payload = {
        "type": "block_actions",
        "team": {"id": "T1"},
        "user": {"id": user, "name": "someone", "team_id": "T1"},
        "channel": {"id": channel},
        "response_url": url,
        "trigger_id": "1.2.3",
        "actions": [
            {
                "type": "button",
                "action_id": button["action_id"],
                "block_id": "b",
                "value": button.get("value", ""),
                "action_ts": str(time.time()),
            }
        ],
    }
    response = app.post(urlencode({"payload": json.dumps(payload)}))
    assert response.status_code == 200, response.text
    app.slack.wait_for(f"response/{name}", ok=True, timeout=10)
    time.sleep(0.3)  # nothing more should follow
    posted = [call.json() for call in app.slack.calls_to(f"response/{name}")]
    for message in posted:
        assert_valid_message(message)
    return posted


def share_button(app: ServedApp) -> dict[str, Any]:
    """The Share button of a card a member asked for."""
    card = say(app, f"summer-sale {SAMPLE_PERIOD}", user=person("member"))
    return next(b for b in buttons(card) if b["action_id"] == "kpi_share")


OUTSIDERS: dict[str, dict[str, Any]] = {
    "guest": {"is_restricted": True},
    "single": {"is_ultra_restricted": True},
    "external": {"team_id": "T2"},
}


def outsider(slack: FakeSlack, kind: str) -> str:
    """A new user of `kind`: a guest, a single-channel guest or one from another team."""
    user = person(kind)
    slack.set_user(user, **OUTSIDERS[kind])
    return user


REFUSALS = {
    "guest": ("guests cannot use it", "KPIBOT_ALLOW_GUESTS", "guest"),
    "single": ("guests cannot use it", "KPIBOT_ALLOW_GUESTS", "guest"),
    "external": ("Slack Connect", "KPIBOT_ALLOW_EXTERNAL", "external"),
}


# --------------------------------------------------------------------------- who may ask


def test_a_member_gets_the_answer(served: Served) -> None:
    member = person("member")
    text = message_text(say(served.app, f"summer-sale {SAMPLE_PERIOD}", user=member))
    assert "1,188.00" in text
    assert [c.params["user"] for c in served.app.slack.calls_to("users.info")] == [member]


@pytest.mark.parametrize("kind", ["guest", "single", "external"])
def test_guests_and_other_organisations_are_refused_for_kpi_and_buttons(
    served: Served, kind: str
) -> None:
    app = served.app
    share = share_button(app)
    user = outsider(app.slack, kind)
    phrase, setting, reason = REFUSALS[kind]

    refused = message_text(say(app, f"summer-sale {SAMPLE_PERIOD}", user=user))
    assert "kpibot is for members of this workspace" in refused
    assert phrase in refused and setting in refused
    assert "1,188.00" not in refused and "Summer Sale" not in refused

    (answer,) = press(app, share, user=user)
    assert answer["replace_original"] is False
    assert answer["response_type"] == "ephemeral"
    assert phrase in message_text(answer)
    assert "1,188.00" not in message_text(answer)

    log = served.log_text()
    assert log.count(f"refused user={user} channel=CACC0001 reason={reason}") == 2
    assert "Traceback" not in log


def command_body(app: ServedApp, text: str, *, user: str, channel: str = "CACC0001") -> str:
    _, url = app.response_url()
    return urlencode(
        {
            "team_id": "T1",
            "channel_id": channel,
            "user_id": user,
            "command": "/kpi",
            "text": text,
            "response_url": url,
            "trigger_id": "1.2.3",
        }
    )


def test_slack_unreachable_refuses_whoever_it_cannot_check_and_recovers(served: Served) -> None:
    app = served.app
    user = person("member")
    app.slack.down()
    try:
        started = time.monotonic()
        response = app.post(command_body(app, f"summer-sale {SAMPLE_PERIOD}", user=user))
        elapsed = time.monotonic() - started
    finally:
        app.slack.up()
    assert response.status_code == 200
    assert elapsed < 3  # Slack's acknowledgement deadline
    text = message_text(response.json())
    assert "could not check who you are" in text
    assert "Sorry, something went wrong" not in text  # not an apology: fails closed
    assert "1,188.00" not in text
    assert f"refused user={user} channel=CACC0001 reason=identity_unknown" in served.log_text()
    # Not remembered: once Slack answers again, so does kpibot.
    assert "1,188.00" in message_text(say(app, f"summer-sale {SAMPLE_PERIOD}", user=user))


# --------------------------------------------------------------------------- /kpi access


def admin(slack: FakeSlack) -> str:
    user = person("admin")
    slack.set_user(user, is_admin=True)
    return user


def test_anyone_sees_this_channels_limit(served: Served) -> None:
    text = message_text(say(served.app, "access", user=person("member"), channel="CACCSHOW1"))
    assert "<#CACCSHOW1> sees every campaign: it has no limit." in text


def test_an_admin_sets_lists_and_clears_a_limit_and_answers_follow_it(served: Served) -> None:
    app = served.app
    boss = admin(app.slack)
    member = person("member")
    channel = "CACCSET1"

    text = message_text(say(app, "access here platform tiktok_ads", user=boss, channel=channel))
    assert f"Limit set: <#{channel}> now sees only platform tiktok_ads, 2 campaigns now." in text
    assert "Visible: Awareness Push, Summer Splash." in text

    shown = message_text(say(app, "access", user=member, channel=channel))
    assert f"<#{channel}> sees only platform tiktok_ads: 2 campaigns now; set by <@{boss}>" in (
        shown
    )

    # Answers in the channel see only what it may see (the KPI service applies the limit).
    listed = message_text(say(app, "list", user=member, channel=channel))
    assert "Awareness Push" in listed and "Summer Splash" in listed
    assert "Summer Sale" not in listed and "Bulk campaign" not in listed
    elsewhere = message_text(say(app, "list", user=member, channel="CACCOTHER1"))
    assert "Bulk campaign" in elsewhere

    say(app, "access <#CACCSET2|sales> account ACC001", user=boss, channel=channel)
    listing = message_text(say(app, "access list", user=boss, channel="CACCOTHER1"))
    assert "channels with a limit" in listing
    assert f"<#{channel}> sees only platform tiktok_ads: 2 campaigns now; set by <@{boss}>" in (
        listing
    )
    assert "<#CACCSET2> sees only account acc001: 1 campaign now" in listing

    cleared = message_text(say(app, f"access clear <#{channel}>", user=boss))
    assert f"Limit cleared: <#{channel}> sees every campaign again." in cleared
    assert "Bulk campaign" in message_text(say(app, "list", user=member, channel=channel))
    again = message_text(say(app, "access clear #CACCSET2", user=boss))
    assert "Limit cleared: <#CACCSET2>" in again
    assert "had no limit" in message_text(say(app, "access clear CACCSET2", user=boss))


def test_a_limit_that_leaves_nothing_visible_warns(served: Served) -> None:
    boss = admin(served.app.slack)
    text = message_text(
        say(served.app, "access here platform snapchat_ads", user=boss, channel="CACCNONE1")
    )
    assert "0 campaigns now" in text
    assert "No campaign matches this limit now" in text
    assert "/kpi access clear CACCNONE1" in text


def test_a_non_admin_cannot_set_list_or_clear(served: Served) -> None:
    app = served.app
    member = person("member")
    for words in ("access here platform meta_ads", "access list", "access clear here"):
        text = message_text(say(app, words, user=member, channel="CACCNOPE1"))
        assert "Only workspace admins and owners can limit" in text
    assert "sees every campaign" in message_text(
        say(app, "access", user=member, channel="CACCNOPE1")
    )
    log = served.log_text()
    assert log.count(f"refused user={member} channel=CACCNOPE1 reason=not_admin") == 3


@pytest.mark.parametrize(
    ("words", "says"),
    [
        ("access #marketing platform meta_ads", "cannot look up `#marketing` by name"),
        ("access marketing platform meta_ads", "is not a channel: write `here`"),
        ("access here bogus", "is not a kind of limit"),
        ("access here platform", "Say which platform"),
        ("access clear", "Say which channel"),
    ],
)
def test_bad_words_say_what_to_write(served: Served, words: str, says: str) -> None:
    boss = admin(served.app.slack)
    text = message_text(say(served.app, words, user=boss, channel="CACCBAD1"))
    assert says in text
    assert "sees only" not in text


def test_what_admins_type_cannot_ping_or_format(served: Served) -> None:
    boss = admin(served.app.slack)
    reply = say(served.app, "access here campaign <!channel>*, *bold*", user=boss, channel="CACCX1")
    text = message_text(reply)
    assert "&lt;!channel&gt;∗" in text
    assert "<!channel>" not in text
    shown = say(served.app, "access", user=person("member"), channel="CACCX1")
    assert "&lt;!channel&gt;" in message_text(shown)


# --------------------------------------------------------------------------- the settings


@pytest.fixture(scope="module")
def lenient(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, ServedApp]]:
    """Two more servers on SQLite: one letting guests in, one letting other organisations in."""
    with ExitStack() as stack:
        apps = {}
        for setting in ("KPIBOT_ALLOW_GUESTS", "KPIBOT_ALLOW_EXTERNAL"):
            folder = tmp_path_factory.mktemp(setting.lower())
            apps[setting], _ = _serve(stack, folder, "sqlite", **{setting: "1"})
        yield apps


@pytest.mark.parametrize(
    ("setting", "admitted", "refused"),
    [
        ("KPIBOT_ALLOW_GUESTS", ("guest", "single"), "external"),
        ("KPIBOT_ALLOW_EXTERNAL", ("external",), "guest"),
    ],
)
def test_each_allow_setting_lets_its_group_in_and_no_other(
    lenient: dict[str, ServedApp], setting: str, admitted: tuple[str, ...], refused: str
) -> None:
    app = lenient[setting]
    app.slack.reset()
    share = share_button(app)
    for kind in admitted:
        user = outsider(app.slack, kind)
        assert "1,188.00" in message_text(say(app, f"summer-sale {SAMPLE_PERIOD}", user=user))
        (shared,) = press(app, share, user=user)
        assert shared["response_type"] == "in_channel"
        assert f"Shared by <@{user}>" in message_text(shared)
    user = outsider(app.slack, refused)
    text = message_text(say(app, f"summer-sale {SAMPLE_PERIOD}", user=user))
    assert "kpibot is for members of this workspace" in text
    assert "1,188.00" not in text
