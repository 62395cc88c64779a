"""Alert messages in channels: every post kind, the buttons and their values, the incident as
redrawn after a change, and campaign names that can never ping or format."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

import pytest

from bot.actions import CardRef
from bot.alerts.lifecycle import Post
from bot.alerts.model import RULE, Notice, StoredRule
from bot.alerts.rules import parse_rule
from bot.periods import Grain
from bot.query import Compare
from bot.render.alert_blocks import (
    ACTION_ACK,
    ACTION_CARD,
    ACTION_MUTE,
    ACTION_SNOOZE_DAY,
    ACTION_SNOOZE_WEEK,
    alert_message,
    incident_message,
    moment_text,
)
from tests.support.blockkit import assert_no_mentions, assert_valid_message

NOW = datetime(2026, 12, 3, 7, 15, tzinfo=UTC)
DAY = date(2026, 12, 2)  # a Wednesday
NASTY = "*bold* _x_ <!channel> ~s~"
ESCAPED_NASTY = "∗bold∗ ˍxˍ &lt;!channel&gt; ∼s∼"
ALL_BUTTONS = [ACTION_ACK, ACTION_SNOOZE_DAY, ACTION_SNOOZE_WEEK, ACTION_MUTE, ACTION_CARD]


def stored(words: str = "all roi drops 30%", *, created_by: str = "U0123") -> StoredRule:
    return StoredRule(3, "C0123", parse_rule(words.split()), False, created_by, NOW, NOW)


def notice(post: Post = Post.FIRE, rule: StoredRule | None = None, **changes: Any) -> Notice:
    base = Notice(
        post,
        rule or stored(),
        DAY,
        12,
        "Retargeting EU",
        "EUR",
        "0.19",
        "3.5612",
        "ROI −95 % vs 7-day avg: revenue −78 %, spend −3 %",
        incident_day=date(2026, 11, 30),
        ref="3:12:1",
    )
    return replace(base, **changes)


def body(message: dict[str, Any]) -> str:
    return json.dumps(message, ensure_ascii=False)


def sections(message: dict[str, Any]) -> str:
    return "\n".join(
        b["text"]["text"] if b["type"] == "section" else b["elements"][0]["text"]
        for b in message["blocks"]
        if b["type"] in ("section", "context")
    )


def mrkdwn(message: dict[str, Any]) -> str:
    """The fallback and every mrkdwn string: what Slack parses for mentions and formatting."""
    found = [message["text"]]

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if node.get("type") == "mrkdwn":
                found.append(node["text"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(message["blocks"])
    return "\n".join(found)


def buttons(message: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found = [b for b in message["blocks"] if b["type"] == "actions"]
    assert len(found) <= 1
    return {e["action_id"]: e for e in found[0]["elements"]} if found else {}


def valid(message: dict[str, Any], *, owner: str = "<@U0123>") -> dict[str, Any]:
    assert_valid_message(message, require_fallback_text=True)
    assert_no_mentions(message, allowed_prefixes=(owner,) if owner else ())
    return message


# --------------------------------------------------------------------------- FIRE


def test_a_new_incident_mentions_the_owner_and_says_what_dropped_by_how_much_and_why() -> None:
    message = valid(alert_message(notice()))
    text = sections(message)
    assert text.startswith("<@U0123> :rotating_light: *ROI dropped* — *Retargeting EU*")
    assert "ROI 19.00% vs 7-day average 356.12% on Wed 2 Dec" in text
    assert "ROI −95 % vs 7-day avg: revenue −78 %, spend −3 %" in text
    assert "#3 · all · ROI drops 30 % vs 7-day average · over 1 day · for 1 day" in text
    assert message["text"] == (
        "<@U0123> ROI dropped — Retargeting EU: ROI 19.00% vs 7-day average 356.12% on Wed 2 Dec"
    )


def test_a_new_incident_has_all_five_buttons_naming_the_incident() -> None:
    found = buttons(valid(alert_message(notice())))
    assert list(found) == ALL_BUTTONS
    for action in ALL_BUTTONS[:-1]:
        assert found[action]["value"] == "3:12:1"
    assert found[ACTION_ACK]["style"] == "primary"
    assert "confirm" in found[ACTION_MUTE]
    assert [found[a]["text"]["text"] for a in ALL_BUTTONS] == [
        "Acknowledge",
        "Snooze 1 day",
        "Snooze 1 week",
        "Mute campaign",
        "Open card",
    ]


def test_open_card_shows_the_rules_window_ending_on_the_evaluated_day() -> None:
    ref = CardRef.decode(buttons(alert_message(notice()))[ACTION_CARD]["value"])
    assert ref.campaign_id == 12
    assert (ref.period.start, ref.period.end) == (DAY, DAY)
    assert ref.period.grain is Grain.DAY and not ref.period.to_date
    assert ref.compare is Compare.PREVIOUS

    weekly = notice(rule=stored("all cpa > 40 over 7d"))
    ref = CardRef.decode(buttons(alert_message(weekly))[ACTION_CARD]["value"])
    assert (ref.period.start, ref.period.end) == (date(2026, 11, 26), DAY)
    assert ref.period.label == "7 days to Wed 2 Dec 2026"


def test_a_threshold_rule_says_above_or_below_the_formatted_threshold() -> None:
    cpa = notice(rule=stored("all cpa > 40 over 7d"), value="52.1", baseline=None)
    text = sections(valid(alert_message(cpa)))
    assert "*CPA above €40.00* — *Retargeting EU*" in text
    assert "CPA €52.10 vs threshold €40.00 over the 7 days to Wed 2 Dec" in text

    ctr = notice(rule=stored("channel social ctr <= 0.5%"), value="0.004", currency="DKK")
    text = sections(valid(alert_message(ctr)))
    assert "*CTR at or below 0.50%*" in text
    assert "CTR 0.40% vs threshold 0.50%" in text


def test_a_rise_and_an_undefined_value() -> None:
    rise = notice(rule=stored("all cpa rises 20% vs previous day"), value=None, baseline="10")
    text = sections(valid(alert_message(rise)))
    assert "*CPA rose*" in text
    assert "CPA — vs previous day €10.00" in text


def test_notify_is_the_owner_and_is_a_live_mention_in_the_rule_line() -> None:
    rule = stored("all roi drops 30% notify @W0ABCD")
    message = valid(alert_message(notice(rule=rule)), owner="<@W0ABCD>")
    assert message["text"].startswith("<@W0ABCD> ")
    assert "for 1 day · notify <@W0ABCD>" in sections(message)


@pytest.mark.parametrize("creator", ["<!channel>", "someone", "", "u0123"])
def test_the_owner_is_mentioned_only_when_it_looks_like_a_user_id(creator: str) -> None:
    rule = stored(created_by=creator)
    for post in Post:
        message = valid(alert_message(notice(post, rule)), owner="")
        assert "<@" not in body(message)
        assert "<!channel>" not in body(message)


# --------------------------------------------------------------------------- other posts


def test_a_reminder_says_since_when_it_fires_and_has_no_buttons() -> None:
    message = valid(alert_message(notice(Post.REMIND)))
    assert message["text"] == (
        "<@U0123> Still firing since Mon 30 Nov — Retargeting EU: ROI 19.00% vs 7-day average "
        "356.12%, ROI −95 % vs 7-day avg: revenue −78 %, spend −3 %"
    )
    assert "*Retargeting EU*" in sections(message)
    assert buttons(message) == {}


def test_a_resolve_says_where_the_value_is_now_and_has_no_buttons() -> None:
    resolved = notice(Post.RESOLVE, day=date(2026, 12, 3), value="3.2", explanation="")
    message = valid(alert_message(resolved), owner="")
    assert message["text"] == (
        "Resolved — Retargeting EU: ROI 320.00% vs 7-day average 356.12% on Thu 3 Dec"
    )
    assert sections(message).startswith(":white_check_mark: Resolved — *Retargeting EU*:")
    assert buttons(message) == {}


def test_no_data_is_about_the_rule_and_names_the_accounts() -> None:
    missing = notice(
        Post.NO_DATA,
        campaign_id=RULE,
        campaign=None,
        since=date(2026, 12, 1),
        accounts=("google_ads 123", "meta 9"),
        ref="",
    )
    message = valid(alert_message(missing))
    assert message["text"] == (
        "<@U0123> No data since Tue 1 Dec for google_ads 123, meta 9: rule #3 neither fires "
        "nor resolves until it lands"
    )
    assert buttons(message) == {}
    nameless = valid(alert_message(replace(missing, accounts=())))
    assert "for its ad accounts" in nameless["text"]


def test_a_campaign_that_is_gone_is_named_by_its_id() -> None:
    message = valid(alert_message(notice(campaign=None)))
    assert "*campaign 12*" in sections(message)


def test_without_an_incident_ref_only_the_card_is_offered() -> None:
    assert list(buttons(alert_message(notice(ref="")))) == [ACTION_CARD]


# --------------------------------------------------------------------------- redrawn


def test_an_unchanged_incident_redraws_as_it_was_posted() -> None:
    assert incident_message(notice()) == alert_message(notice())


def test_a_resolved_incident_keeps_only_open_card_and_says_when() -> None:
    message = valid(incident_message(notice(resolved_at=NOW)))
    assert list(buttons(message)) == [ACTION_CARD]
    assert ":white_check_mark: Resolved on Thu 3 Dec (07:15 UTC)" in sections(message)
    assert "ROI 19.00% vs 7-day average 356.12% on Wed 2 Dec" in sections(message)


def test_an_acknowledged_incident_drops_acknowledge_and_names_who() -> None:
    message = valid(incident_message(notice(acknowledged_by="U0999")), owner="<@U0")
    assert list(buttons(message)) == [
        ACTION_SNOOZE_DAY,
        ACTION_SNOOZE_WEEK,
        ACTION_MUTE,
        ACTION_CARD,
    ]
    assert "Acknowledged by <@U0999>" in sections(message)


def test_acknowledged_and_resolved_at_once() -> None:
    message = valid(
        incident_message(notice(acknowledged_by="U0999", resolved_at=NOW)), owner="<@U0"
    )
    text = sections(message)
    assert "Resolved on Thu 3 Dec (07:15 UTC)" in text
    assert "Acknowledged by <@U0999>" in text
    assert list(buttons(message)) == [ACTION_CARD]


def test_an_acknowledger_who_is_not_an_id_is_escaped() -> None:
    message = valid(incident_message(notice(acknowledged_by="<!here>")))
    assert "Acknowledged by &lt;!here&gt;" in sections(message)


def test_a_snoozed_incident_says_until_when() -> None:
    until = datetime(2026, 12, 4, 10, 0, tzinfo=UTC)
    message = valid(incident_message(notice(snoozed_until=until)))
    assert ":zzz: Snoozed until Fri 4 Dec 10:00 UTC" in sections(message)
    assert list(buttons(message)) == ALL_BUTTONS


def test_a_muted_incident_keeps_only_open_card() -> None:
    message = valid(incident_message(notice(muted=True)))
    assert ":mute: Muted for this rule" in sections(message)
    assert list(buttons(message)) == [ACTION_CARD]


def test_a_new_incident_never_shows_a_status() -> None:
    changed = notice(resolved_at=NOW, acknowledged_by="U0999", muted=True)
    message = alert_message(changed)
    assert "Acknowledged" not in body(message) and "Muted" not in body(message)
    assert list(buttons(message)) == ALL_BUTTONS


def test_instants_are_shown_in_utc_and_naive_ones_are_taken_as_utc() -> None:
    assert moment_text(datetime(2026, 12, 4, 10, 0)) == "Fri 4 Dec 10:00 UTC"
    copenhagen = datetime.fromisoformat("2026-12-04T11:00:00+01:00")
    assert moment_text(copenhagen) == "Fri 4 Dec 10:00 UTC"


# --------------------------------------------------------------------------- escaping


def _everything(rule: StoredRule) -> list[dict[str, Any]]:
    nasty = notice(
        rule=rule,
        campaign=NASTY,
        explanation=f"CPA 52.10 > 40.00 for {NASTY}",
        accounts=(NASTY,),
    )
    posted = [alert_message(replace(nasty, post=post)) for post in Post]
    states = (
        {"resolved_at": NOW},
        {"acknowledged_by": "U0999"},
        {"muted": True},
        {"snoozed_until": NOW},
    )
    redrawn = [incident_message(replace(nasty, **state)) for state in states]
    return posted + redrawn


def test_a_nasty_campaign_name_cannot_ping_or_format_anywhere() -> None:
    rule = stored(f"campaigns {NASTY} cpa > 40")
    for message in _everything(rule):
        assert_valid_message(message, require_fallback_text=True)
        assert_no_mentions(message, allowed_prefixes=("<@U0123>", "<@U0999>"))
        text = mrkdwn(message)
        assert "<!channel>" not in text
        assert "*bold*" not in text and "_x_" not in text and "~s~" not in text
        assert ESCAPED_NASTY in text


def test_the_mute_confirmation_names_the_campaign_in_plain_text_only() -> None:
    confirm = buttons(alert_message(notice(campaign=NASTY)))[ACTION_MUTE]["confirm"]
    assert confirm["text"]["type"] == "plain_text"  # never parsed: shows the name as typed
    assert NASTY in confirm["text"]["text"]


def test_long_names_and_explanations_stay_within_slacks_limits() -> None:
    long = notice(campaign="N" * 5000, explanation="why " * 2000, accounts=("a" * 3000,))
    for post in Post:
        valid(alert_message(replace(long, post=post)))
    valid(incident_message(replace(long, resolved_at=NOW, acknowledged_by="U0999")), owner="<@U")
