"""Subscription lists and echoes: within Slack's limits, escaped, and the same facts as JSON."""

from __future__ import annotations

import json
from datetime import UTC, datetime, time

from rich.console import Console

from bot.digests.schedule import DAILY, WEEKDAYS_ONLY, Schedule
from bot.digests.service import DigestView, RunReport
from bot.query import ScopeSpec
from bot.render.digest_admin import (
    MAX_LISTED,
    added_message,
    changed_message,
    list_message,
    list_table,
    not_yours_message,
    scope_words,
    sent_message,
    subscription_json,
    when_text,
)
from storage.deliveries import DeliveryRecord
from storage.digests import Subscription
from tests.support.blockkit import assert_no_mentions, assert_valid_message

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)  # a Friday
OWN_MENTIONS = ("<#C", "<@U")
ALL = ScopeSpec("all")


def view(
    subscription_id: int = 3,
    *,
    scope: ScopeSpec = ALL,
    paused: bool = False,
    created_by: str = "U0123",
    channel: str = "C0123",
    last: DeliveryRecord | None = None,
    last_error: str | None = None,
) -> DigestView:
    schedule = Schedule(WEEKDAYS_ONLY, time(8, 0), "Europe/Copenhagen")
    s = Subscription(
        subscription_id, channel, schedule, scope, paused, created_by, NOW, NOW, last_error
    )
    return DigestView(s, None if paused else schedule.next_run(NOW), last)


def failed_delivery(error: str = "not_in_channel") -> DeliveryRecord:
    return DeliveryRecord(
        1, "digest", 3, "2026-11-27", "failed", 1, NOW, None, None, None, error, NOW
    )


def text_of(message: dict[str, object]) -> str:
    return json.dumps(message, ensure_ascii=False)


def test_add_echo_names_schedule_scope_channel_and_next_run() -> None:
    message = added_message(view())
    assert_valid_message(message)
    assert message["text"] == (
        "Digest 3 added: weekdays at 08:00 Europe/Copenhagen, all campaigns, in <#C0123>. "
        "Next: Mon 30 Nov 08:00 Europe/Copenhagen"
    )


def test_when_is_shown_in_the_subscriptions_own_zone() -> None:
    instant = datetime(2026, 3, 30, 2, 30, tzinfo=UTC)
    assert when_text(instant, "America/New_York") == "Sun 29 Mar 22:30 America/New_York"


def test_data_and_ids_cannot_ping_or_format() -> None:
    nasty = view(scope=ScopeSpec("campaigns", ("<!channel> *Sale*",)), created_by="<!here>")
    for message in (added_message(nasty), list_message([nasty], "<!everyone>")):
        assert_valid_message(message)
        assert_no_mentions(message, allowed_prefixes=OWN_MENTIONS)
        body = text_of(message)
        assert "<!channel>" not in body and "<!here>" not in body and "<!everyone>" not in body
        assert "&lt;!channel&gt; ∗Sale∗" in body


def test_list_shows_paused_creator_next_run_and_the_recorded_error() -> None:
    views = [
        view(1),
        view(2, paused=True, last=failed_delivery(), last_error="not_in_channel"),
    ]
    message = list_message(views, "C0123")
    assert_valid_message(message)
    body = text_of(message)
    assert "2 digests in <#C0123>" in body
    assert "Next: Mon 30 Nov 08:00 Europe/Copenhagen" in body
    assert "*paused*" in body
    assert "created by <@U0123>" in body
    assert "Last: failed Fri 27 Nov 13:00 Europe/Copenhagen: `not_in_channel`" in body
    assert "Not delivered: `not_in_channel`" in body


def test_a_long_list_stays_within_slacks_limits() -> None:
    long_scope = ScopeSpec("campaigns", tuple(f"Campaign {'x' * 200} {i}" for i in range(40)))
    views = [view(i, scope=long_scope) for i in range(MAX_LISTED + 30)]
    message = list_message(views, "C0123")
    assert_valid_message(message)
    assert "… and 30 more" in text_of(message)


def test_empty_channel_says_how_to_add_one() -> None:
    assert "No digests in <#C0123> yet" in list_message([], "C0123")["text"]


def test_change_and_send_echoes() -> None:
    assert "Digest 3 paused" in changed_message("pause", 3, view(paused=True))["text"]
    assert "Digest 3 resumed. Next: Mon 30 Nov" in changed_message("resume", 3, view())["text"]
    assert "Digest 3 removed" in changed_message("remove", 3, None)["text"]
    sent = sent_message(3, "C0123", RunReport(due=1, sent=1), None)
    assert sent["text"] == "Digest 3 posted in <#C0123>."
    failed = sent_message(3, "C0123", RunReport(due=1, failed=1), "is_archived")
    assert "could not be posted: `is_archived`" in failed["text"]
    later = RunReport(due=1, notes=["digest 3: ratelimited, retry at 08:01:00"])
    assert "Slack asked to wait" in sent_message(3, "C0123", later, None)["text"]


def test_refusal_names_the_creator_as_a_mention_only_when_it_is_an_id() -> None:
    assert "Only <@U0123> or a workspace admin" in not_yours_message(3, "U0123")["text"]
    assert "Only its creator or a workspace admin" in not_yours_message(3, "<!here>")["text"]


def test_json_entry_has_the_documented_keys_and_formats() -> None:
    entry = subscription_json(view(scope=ScopeSpec("campaigns", ("Summer Sale", "Brand"))))
    assert entry == {
        "id": 3,
        "channel": "C0123",
        "days": "mon,tue,wed,thu,fri",
        "at": "08:00",
        "timezone": "Europe/Copenhagen",
        "scope": "campaigns Summer Sale, Brand",
        "paused": False,
        "created_by": "U0123",
        "next_run": "2026-11-30T08:00:00+01:00",
        "last_error": None,
        "last_delivery": None,
    }
    paused = subscription_json(view(paused=True, last=failed_delivery()))
    assert paused["next_run"] is None
    assert paused["last_delivery"] == {
        "status": "failed",
        "key": "2026-11-27",
        "error": "not_in_channel",
        "ts": None,
        "at": "2026-11-27T12:00:00+00:00",
    }


def test_scope_words_read_back_as_add_words() -> None:
    assert scope_words(ScopeSpec("all")) == "all"
    assert scope_words(ScopeSpec("channel", ("social",))) == "channel social"
    assert scope_words(ScopeSpec("platform", ("google_ads",))) == "platform google_ads"


def test_terminal_list_fits_80_columns_and_shows_each_digest() -> None:
    console = Console(width=80, record=True)
    daily = DigestView(
        Subscription(
            7, "C9", Schedule(DAILY, time(6, 0), "Asia/Kolkata"), ScopeSpec("all"),
            False, "", NOW, NOW, None,
        ),
        NOW,
        None,
    )  # fmt: skip
    console.print(list_table([view(1), daily]))
    drawn = console.export_text()
    assert max(len(line) for line in drawn.splitlines()) <= 80
    assert "C9" in drawn
    assert "daily at" in drawn
