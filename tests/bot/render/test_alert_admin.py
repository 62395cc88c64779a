"""Alert echoes, lists and history: the same facts in Slack (escaped, within limits), the
terminal (plain text) and JSON (exact keys); and the alert sentences of bot.messages."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from rich.console import Console, RenderableType

from bot import messages
from bot.alerts.lifecycle import AlertState, Post
from bot.alerts.model import (
    RULE,
    Action,
    CheckReport,
    HistoryEntry,
    Notice,
    PreviewLine,
    RulePreview,
    RuleView,
    StoredRule,
)
from bot.alerts.rules import parse_rule
from bot.render.alert_admin import (
    MAX_HISTORY,
    MAX_LISTED,
    MAX_NAMES,
    acted_message,
    added_line,
    added_message,
    changed_line,
    changed_message,
    check_lines,
    history_json,
    history_message,
    history_table,
    list_message,
    not_yours_message,
    preview_json,
    rule_json,
    rules_json,
    rules_table,
)
from tests.support.blockkit import assert_no_mentions, assert_valid_message

NOW = datetime(2026, 12, 3, 7, 15, tzinfo=UTC)
DAY = date(2026, 12, 2)
NASTY = "*bold* _x_ <!channel> ~s~"
ESCAPED_NASTY = "∗bold∗ ˍxˍ &lt;!channel&gt; ∼s∼"
OWN_MENTIONS = ("<#C0123>", "<@U0123>", "<@U0999>")

RULE_KEYS = {
    "id",
    "channel",
    "scope",
    "kpi",
    "condition",
    "window",
    "paused",
    "owner",
    "state",
    "text",
    "for_days",
    "min_spend",
    "min_clicks",
    "notify",
    "created_by",
    "created_at",
    "snoozed_until",
    "last_error",
    "no_data_since",
    "firing",
    "pending",
    "muted",
    "acknowledged",
}


def stored(words: str = "all roi drops 30%", rule_id: int = 3, **changes: Any) -> StoredRule:
    rule = StoredRule(rule_id, "C0123", parse_rule(words.split()), False, "U0123", NOW, NOW)
    return replace(rule, **changes)


def view(rule: StoredRule | None = None, **changes: Any) -> RuleView:
    return replace(RuleView(rule or stored(), AlertState.OK), **changes)


def line(name: str, breached: bool | None, value: str | None = "0.19") -> PreviewLine:
    return PreviewLine(
        12, name, "EUR", value, "3.5612", breached, f"ROI −95 % vs 7-day avg ({name})"
    )


def preview(*lines: PreviewLine, campaigns: int | None = None) -> RulePreview:
    return RulePreview(stored(), DAY, lines, len(lines) if campaigns is None else campaigns)


def entry(entry_id: int = 1, *, minutes: int = 0, **changes: Any) -> HistoryEntry:
    base = HistoryEntry(
        entry_id,
        3,
        12,
        "Retargeting EU",
        DAY,
        "fire#1",
        "firing",
        NOW + timedelta(minutes=minutes),
        "0.19",
        "3.5612",
        "ROI −95 % vs 7-day avg",
        None,
        "sent",
    )
    return replace(base, **changes)


def body(message: dict[str, Any]) -> str:
    return json.dumps(message, ensure_ascii=False)


def valid(message: dict[str, Any]) -> dict[str, Any]:
    assert_valid_message(message, require_fallback_text=True)
    assert_no_mentions(message, allowed_prefixes=OWN_MENTIONS)
    return message


def drawn(renderable: RenderableType, width: int = 80) -> str:
    console = Console(width=width, record=True)
    console.print(renderable)
    return console.export_text()


# --------------------------------------------------------------------------- JSON


def test_rule_json_has_exactly_the_documented_keys_and_formats() -> None:
    rule = stored(
        "channel social cpa > 40 over 7d for 2 days min spend 50 min clicks 10 notify @U0999",
        snoozed_until=NOW,
        no_data_since=DAY,
        last_error="not_in_channel",
    )
    found = rule_json(view(rule, state=AlertState.FIRING, firing=("A",), acknowledged=("A",)))
    assert set(found) == RULE_KEYS
    assert found == {
        "id": 3,
        "channel": "C0123",
        "scope": "channel social",
        "kpi": "cpa",
        "condition": "CPA > 40",
        "window": 7,
        "paused": False,
        "owner": "U0999",
        "state": "firing",
        "text": "channel social · CPA > 40 · over 7 days · for 2 days · min spend 50 · "
        "min clicks 10 · notify <@U0999>",
        "for_days": 2,
        "min_spend": "50.00",
        "min_clicks": 10,
        "notify": "U0999",
        "created_by": "U0123",
        "created_at": "2026-12-03T07:15:00+00:00",
        "snoozed_until": "2026-12-03T07:15:00+00:00",
        "last_error": "not_in_channel",
        "no_data_since": "2026-12-02",
        "firing": ["A"],
        "pending": [],
        "muted": [],
        "acknowledged": ["A"],
    }


def test_a_default_rule_in_json() -> None:
    found = rule_json(view())
    assert found["scope"] == "all"
    assert found["kpi"] == "roi"
    assert found["condition"] == "ROI drops 30 % vs 7-day average"
    assert (found["window"], found["state"], found["owner"]) == (1, "ok", "U0123")
    assert found["min_spend"] is None and found["snoozed_until"] is None
    assert rules_json([view(), view()]) == {"rules": [found, found]}


def test_history_json_keys_are_exact() -> None:
    e = entry(by_user="U0999", delivery="failed", error="not_in_channel")
    assert history_json([e]) == {
        "history": [
            {
                "id": 1,
                "rule_id": 3,
                "campaign_id": 12,
                "campaign": "Retargeting EU",
                "day": "2026-12-02",
                "event": "fire#1",
                "state": "firing",
                "at": "2026-12-03T07:15:00+00:00",
                "value": "0.19",
                "baseline": "3.5612",
                "explanation": "ROI −95 % vs 7-day avg",
                "by": "U0999",
                "delivery": "failed",
                "error": "not_in_channel",
            }
        ]
    }


def test_preview_json_is_the_rule_with_state_ok_and_each_campaign_now() -> None:
    found = preview_json(preview(line("A", True), line("B", False), campaigns=5))
    assert set(found) == {"rule", "day", "campaigns", "would_fire", "now"}
    assert set(found["rule"]) == RULE_KEYS and found["rule"]["state"] == "ok"
    assert (found["day"], found["campaigns"], found["would_fire"]) == ("2026-12-02", 5, 1)
    assert found["now"][0] == {
        "campaign_id": 12,
        "campaign": "A",
        "currency": "EUR",
        "value": "0.19",
        "baseline": "3.5612",
        "breached": True,
        "explanation": "ROI −95 % vs 7-day avg (A)",
    }
    assert preview_json(RulePreview(stored(), None))["day"] is None


# --------------------------------------------------------------------------- add


def test_the_add_echo_says_what_was_understood_and_how_it_stands_now() -> None:
    message = valid(added_message(preview(line("A", True), line("B", False), line("C", None))))
    text = body(message)
    assert message["text"].startswith(
        "Alert #3 added in <#C0123>: all · ROI drops 30 % vs 7-day average · over 1 day · for 1 day"
    )
    assert "Would fire now for 1 of 3 campaigns (data of Wed 2 Dec)." in text
    assert ":red_circle: *A* — ROI 19.00% vs 7-day average 356.12%" in text
    assert ":large_green_circle: *B*" in text and ":white_circle: *C*" in text


def test_the_add_echo_says_when_it_would_not_fire() -> None:
    message = valid(added_message(preview(line("A", False), line("B", None))))
    assert "Would not fire now (2 campaigns, data of Wed 2 Dec)." in body(message)


def test_a_cut_preview_says_and_n_more_and_counts_at_least() -> None:
    lines = [line(f"C{i}", True) for i in range(10)]
    message = valid(added_message(preview(*lines, campaigns=40)))
    assert "Would fire now for at least 10 of 40 campaigns" in body(message)
    assert "… and 30 more" in body(message)
    some = valid(added_message(preview(line("A", True), line("B", False), campaigns=40)))
    assert "Would fire now for 1 of 40 campaigns" in body(some)


def test_an_add_echo_without_data_says_so() -> None:
    message = valid(added_message(RulePreview(stored(), None, (), 4)))
    assert messages.ALERT_PREVIEW_NO_DATA in message["text"]
    assert "more" not in body(message)


def test_the_terminal_add_echo_is_plain_and_one_line_per_campaign() -> None:
    text = added_line(preview(line("A", True), line(NASTY, False), campaigns=3))
    lines = text.splitlines()
    assert lines[0].startswith("Alert #3 added in C0123: all · ROI drops 30 %")
    assert lines[1] == "Would fire now for 1 of 3 campaigns (data of Wed 2 Dec)."
    assert "fires  A — ROI 19.00% vs 7-day average 356.12% (ROI −95 %" in lines[2]
    assert f"ok  {NASTY} — ROI 19.00%" in lines[3]
    assert lines[4] == "  … and 1 more"


# --------------------------------------------------------------------------- list


def test_an_empty_list_says_how_to_add_one() -> None:
    message = valid(list_message([], "C0123"))
    assert "No alerts in <#C0123> yet" in message["text"]
    assert "`/kpi alert add all roi drops 30%`" in message["text"]


def test_the_list_shows_state_paused_snooze_owner_campaigns_and_error() -> None:
    firing = view(
        stored(snoozed_until=NOW + timedelta(days=1), last_error="not_in_channel"),
        state=AlertState.FIRING,
        firing=("Retargeting EU", "Brand"),
        acknowledged=("Brand",),
        muted=("Old",),
    )
    paused = view(stored(rule_id=4, paused=True), pending=("Summer",), state=AlertState.PENDING)
    missing = view(stored(rule_id=5, no_data_since=DAY), state=AlertState.NO_DATA)
    message = valid(list_message([firing, paused, missing], "C0123", now=NOW))
    text = body(message)
    assert "3 alerts in <#C0123>" in message["text"]
    assert "#3 · all · ROI drops 30 % vs 7-day average · over 1 day · for 1 day" in text
    assert ":red_circle: firing · snoozed until Fri 4 Dec 07:15 UTC · notifies <@U0123>" in text
    assert "firing: Retargeting EU, Brand" in text
    assert "acknowledged: Brand" in text and "muted: Old" in text
    assert ":warning: Not delivered: `not_in_channel`" in text
    assert ":large_yellow_circle: pending · *paused*" in text and "pending: Summer" in text
    assert ":grey_question: no data since Wed 2 Dec" in text


def test_a_snooze_that_is_over_is_not_listed_when_now_is_given() -> None:
    over = view(stored(snoozed_until=NOW - timedelta(hours=1)))
    assert "snoozed" not in body(list_message([over], "C0123", now=NOW))
    assert "snoozed" in body(list_message([over], "C0123"))


def test_a_long_list_stays_within_slacks_limits() -> None:
    names = tuple(f"Campaign {'x' * 300} {i}" for i in range(60))
    views = [
        view(stored(rule_id=i), state=AlertState.FIRING, firing=names, pending=names)
        for i in range(MAX_LISTED + 7)
    ]
    message = valid(list_message(views, "C0123"))
    assert "… and 7 more: `kpibot alert list` shows them all." in body(message)
    assert f"… and {60 - MAX_NAMES:,} more" in body(message)


def test_the_terminal_table_fits_80_columns_and_shows_each_rule() -> None:
    views = [
        view(state=AlertState.FIRING, firing=("Retargeting EU",)),
        view(stored("channel social ctr < 0.5%", rule_id=9, paused=True)),
    ]
    text = drawn(rules_table(views))
    assert max(len(row) for row in text.splitlines()) <= 80
    assert "2 alerts in this workspace" in text
    assert "firing: Retargeting" in text and "paused" in text
    assert drawn(rules_table([])).strip() == messages.NO_ALERTS


# --------------------------------------------------------------------------- changes


def test_change_echoes() -> None:
    assert "Alert #3 paused" in valid(changed_message("pause", 3, view()))["text"]
    assert "Alert #3 resumed" in valid(changed_message("resume", 3, view()))["text"]
    assert "Alert #3 removed" in valid(changed_message("remove", 3, None))["text"]
    snoozed = view(stored(snoozed_until=NOW))
    message = valid(changed_message("snooze", 3, snoozed))
    assert message["text"].startswith("Alert #3 snoozed until Thu 3 Dec 07:15 UTC")
    assert "`alert resume 3`" in changed_line("pause", 3, view())
    assert changed_line("snooze", 3, snoozed).startswith("Alert #3 snoozed until Thu 3 Dec")


def test_refusal_names_the_creator_as_a_mention_only_when_it_is_an_id() -> None:
    assert "Only <@U0123>," in valid(not_yours_message(3, "U0123"))["text"]
    refused = valid(not_yours_message(3, "<!here>"))
    assert "Only its creator," in refused["text"]
    assert "<!here>" not in body(refused)


@pytest.mark.parametrize(
    ("action", "until", "said"),
    [
        (Action.ACKNOWLEDGE, None, "Acknowledged: <@U0999> is on it."),
        (Action.SNOOZE, NOW, "Snoozed until Thu 3 Dec 07:15 UTC"),
        (Action.MUTE, None, "Muted: this rule no longer alerts about this campaign"),
    ],
)
def test_button_confirmations(action: Action, until: datetime | None, said: str) -> None:
    assert said in valid(acted_message(action, "U0999", until))["text"]


def test_an_acknowledger_who_is_not_an_id_is_escaped() -> None:
    message = valid(acted_message(Action.ACKNOWLEDGE, "<!channel>", None))
    assert "&lt;!channel&gt;" in message["text"]


# --------------------------------------------------------------------------- history


def test_history_is_newest_first_with_events_in_words() -> None:
    entries = [
        entry(1, minutes=0),
        entry(2, minutes=5, event="ack@v2", value=None, baseline=None, by_user="U0999"),
        entry(3, minutes=9, event="resolve#1", delivery="failed", error="is_archived"),
    ]
    message = valid(history_message(entries, 3))
    rows = [b["text"]["text"] for b in message["blocks"][1:]]
    assert message["text"] == "Alert #3: the last 3 events, newest first"
    assert rows[0].startswith("`2026-12-02` *resolved* · *Retargeting EU* · 0.19 vs 3.5612")
    assert "post failed: `is_archived`" in rows[0]
    assert rows[1].startswith("`2026-12-02` *acknowledged*") and "by <@U0999>" in rows[1]
    assert rows[2].startswith("`2026-12-02` *fired*") and "post sent" in rows[2]


def test_history_of_every_rule_names_the_rule_and_the_whole_rule() -> None:
    no_data = entry(campaign_id=RULE, campaign=None, event="no_data", value=None, baseline=None)
    message = valid(history_message([no_data], None))
    assert "*no data* · #3 · *all its campaigns*" in body(message)


def test_history_is_cut_to_a_message() -> None:
    entries = [entry(i, minutes=i) for i in range(MAX_HISTORY + 5)]
    message = valid(history_message(entries, None))
    assert len(message["blocks"]) == MAX_HISTORY + 2
    assert "… and 5 more" in body(message)


def test_empty_history() -> None:
    assert "Alert #3 has no history yet" in valid(history_message([], 3))["text"]
    assert "No alert history yet" in valid(history_message([], None))["text"]


def test_the_terminal_history_table() -> None:
    text = drawn(history_table([entry(), entry(2, minutes=1, event="ack@v2")]), width=120)
    assert text.index("acknowledged") < text.index("fired")
    assert "0.19 vs 3.5612" in text and "post sent" in text
    assert drawn(history_table([])).strip() == messages.no_alert_history(None)


# --------------------------------------------------------------------------- check


def test_check_lines_list_what_a_dry_run_would_post_and_the_notes() -> None:
    rule = stored()
    report = CheckReport(day=DAY, rules=1, evaluated=2, fired=1, no_data=1)
    report.planned = [
        Notice(Post.FIRE, rule, DAY, 12, "Retargeting EU", "EUR", "0.19", "3.5612", "ROI −95 %"),
        Notice(Post.NO_DATA, rule, DAY, since=DAY, accounts=("google_ads 1",)),
    ]
    report.notes = ["alert 3: ratelimited, retry at 08:00:01"]
    lines = check_lines(report).splitlines()
    assert lines[0] == report.line()
    assert lines[1] == "would post fire: rule #3 Retargeting EU — ROI −95 %"
    assert lines[2] == (
        "would post no_data: rule #3 — No data since Wed 2 Dec for google_ads 1: rule #3 "
        "neither fires nor resolves until it lands"
    )
    assert lines[3] == "alert 3: ratelimited, retry at 08:00:01"
    assert check_lines(CheckReport()) == CheckReport().line()


def test_a_planned_post_without_explanation_shows_the_value() -> None:
    notice = Notice(Post.REMIND, stored("all cpa > 40"), DAY, 12, "A", "EUR", "52.1")
    assert check_lines(CheckReport(planned=[notice])).endswith(
        "would post remind: rule #3 A — CPA €52.10 vs threshold €40.00"
    )


# --------------------------------------------------------------------------- escaping


def test_a_nasty_campaign_name_cannot_ping_or_format_in_any_reply() -> None:
    rule = stored(f"campaigns {NASTY} roi drops 30%")
    v = view(rule, state=AlertState.FIRING, firing=(NASTY,), muted=(NASTY,))
    nasty_line = replace(line(NASTY, True), explanation=f"ROI −95 % for {NASTY}")
    replies = [
        added_message(RulePreview(rule, DAY, (nasty_line,), 1)),
        list_message([v], "C0123"),
        list_message([v], "<!everyone>"),
        history_message([entry(campaign=NASTY, explanation=NASTY, error=NASTY)], None),
    ]
    for message in replies:
        valid(message)
        text = body(message)
        assert "<!channel>" not in text and "<!everyone>" not in text
        assert "*bold*" not in text and "_x_" not in text and "~s~" not in text
        assert ESCAPED_NASTY in text


def test_the_terminal_shows_names_as_typed_without_rich_markup() -> None:
    name = "[red]Sale[/red] *x*"
    text = drawn(rules_table([view(state=AlertState.FIRING, firing=(name,))]), width=200)
    assert name in text
    assert name in added_line(RulePreview(stored(), DAY, (line(name, True),), 1))


# --------------------------------------------------------------------------- messages


def test_the_usage_lists_every_command_with_an_example() -> None:
    usage = messages.alert_usage(None)
    for command in ("add", "list", "remove <id>", "pause <id>", "resume <id>", "history [<id>]"):
        assert f"`alert {command}" in usage
    assert "`alert snooze <id> <1d|1w|…>`" in usage
    assert "`alert add all roi drops 30%`" in usage
    assert messages.alert_usage("frob").startswith("`alert frob` is not an alert command.")


def test_the_alert_sentences_for_the_service() -> None:
    assert messages.no_alert(7) == "There is no alert #7. See `/kpi alert list`."
    assert "`alert snooze 3 1d`" in messages.alert_bad_id("", "snooze")
    assert messages.alert_bad_id("x", "pause").startswith("`x` is not an alert id")
    assert "Say how long, e.g. `1d`, `12h`, `1w`" in messages.alert_bad_duration("soon")
    assert "`alert add all roi drops 30%`" in messages.alert_scope_empty("channel socail")
    assert "Did you mean “Summer Sale”?" in messages.alert_unknown_campaign(
        "sumer", ["Summer Sale"]
    )
    assert messages.alert_not_yours(3, "<!here>").startswith("Only its creator,")
    assert messages.ALERTS_NOT_SET_UP.startswith("Alerts are not set up")
    assert messages.ALERT_CHECK_HELP and messages.ALERT_DRY_RUN_HELP


def test_the_failure_dm_is_valid_and_cannot_ping() -> None:
    dm = messages.alert_failed_dm(3, "C0123", "not_in_channel")
    assert_valid_message(dm, require_fallback_text=True)
    assert "<#C0123>: `not_in_channel`" in str(dm["text"])
    assert "`/kpi alert resume 3`" in str(dm["text"])
    nasty = messages.alert_failed_dm(3, "<!channel>", "<!here> `x`")
    assert_no_mentions(nasty)


def test_money_thresholds_in_the_echo_use_the_campaigns_currency() -> None:
    rule = stored("all cpa > 40")
    dkk = PreviewLine(1, "A", "DKK", "52.1", None, True, "")
    eur = replace(dkk, currency="EUR", campaign="B")
    text = body(added_message(RulePreview(rule, DAY, (dkk, eur), 2)))
    assert "CPA DKK52.10 vs threshold DKK40.00" in text
    assert "CPA €52.10 vs threshold €40.00" in text
    assert Decimal(dkk.value or "0") == Decimal("52.1")
