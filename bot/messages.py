"""What kpibot says to people: the CLI's texts, empty states and errors, in one place."""

from __future__ import annotations

import re
from datetime import date, datetime

CLI_HELP = (
    "kpibot: campaign KPIs you can trust, in Slack and in the terminal. "
    "Settings come from the environment (see README); --db overrides DATABASE_URL."
)
DB_OPTION_HELP = "Database URL for this command (overrides DATABASE_URL)."


def demo_next_steps(url: str, command: str = "kpibot") -> str:
    return (
        "\nThe demo database is ready. Try your own queries:\n"
        f"  {command} --db {url} kpi help\n"
        f"  {command} --db {url} kpi black-friday-dk mtd vs last year\n"
        f"  {command} --db {url} console      # the Slack app in your terminal\n"
    )


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    """'1 campaign', '2 campaigns', '1,234 rows': the count and the right form of the noun."""
    noun = singular if count == 1 else (plural_form or singular + "s")
    return f"{count:,} {noun}"


# --- empty states: what is empty, and what to do -------------------------------------------------

NO_DATA_YET = "No data yet: import a file with `kpibot import FILE`."


def no_campaign_contains(text: str) -> str:
    """`list TEXT` when no campaign's name contains the text."""
    return f"No campaign's name contains “{text}”. `list` shows them all."


def no_campaign_called(text: str, list_command: str) -> str:
    """A campaign query that matches nothing at all; `list_command` is how to list them."""
    return f"No campaign is called “{text}”. `{list_command}` shows them all."


def did_you_mean(text: str, *, ambiguous: bool) -> str:
    if ambiguous:
        return f"“{text}” could be several campaigns — did you mean:"
    return f"No campaign is called “{text}” — did you mean:"


def nothing_in(period: str | None, list_command: str) -> str:
    """A table without rows: no campaign has data for the period (e.g. "last month (…)")."""
    if period is None:
        return f"No campaigns to show. `{list_command}` shows them all."
    return f"No campaign has data for {period}. `{list_command}` shows where each one's data ends."


def no_group(kind: str, value: str) -> str:
    """`channel X` / `platform X` when no campaign has that channel or platform."""
    return f"No campaigns with {kind} `{value}`. `list` shows what there is."


def left_out_without(count: int, kpi_label: str) -> str:
    """Campaigns a ranking leaves out because their KPI is undefined (a zero or unmeasured
    denominator, or an unmeasured input)."""
    verb = "has" if count == 1 else "have"
    return (
        f"{plural(count, 'campaign')} with data in this period {verb} no {kpi_label} "
        "(not measured, or nothing to divide by): left out."
    )


def columns_left_out(headings: str) -> str:
    return f"Not shown at this width: {headings}. Widen the terminal or use --json for all."


# --- morning digests ---------------------------------------------------------------------------


def digest_title(day: str) -> str:
    return f"Morning digest · {day}"


def digest_no_data(scope: str, day: str) -> str:
    """A digest whose scope had no rows at all on its day."""
    return f"No data for {scope} on {day}: none of its campaigns had any rows that day."


def data_incomplete(missing: str, day: str) -> str:
    """Accounts whose data for the digest's day has not landed (never shown as zero)."""
    if not missing:
        return f"Data incomplete: not every account's data for {day} has landed yet."
    return f"Data incomplete: {missing} (no data for {day} yet, so left out of these numbers)"


def and_more(count: int) -> str:
    return f"… and {count:,} more"


def more_currencies(count: int, preview_command: str) -> str:
    return (
        f"… and {plural(count, 'more currency', 'more currencies')}: `{preview_command}` shows all."
    )


def no_movers(min_clicks: int, min_share: str) -> str:
    """No campaign with the volume to be ranked moved that way against a week earlier."""
    return (
        f"None among campaigns with enough volume (at least {min_clicks} clicks and "
        f"{min_share} of the daily spend)."
    )


# --- database, for every command ----------------------------------------------------------------


def database_unreachable(where: str, reason: str, *, sqlite: bool) -> str:
    """One line for a database kpibot cannot connect to; `where` never holds the password."""
    if sqlite:
        return (
            f"cannot open the SQLite database at {where} ({reason}); "
            "check DATABASE_URL and that the folder exists and is writable"
        )
    return (
        f"cannot reach the database at {where} ({reason}); "
        "check DATABASE_URL and that the server is running"
    )


def bad_database_url(reason: str) -> str:
    return (
        f"DATABASE_URL (or --db) is not a database URL kpibot can use ({reason}); use "
        "sqlite:///PATH or postgresql://USER:PASSWORD@HOST:PORT/NAME (postgres:// works too)"
    )


def schema_not_ready(current: str | None, head: str) -> str:
    """The schema is missing or behind, for commands that must not change it (serve, run)."""
    if current is None:
        return (
            "the database has no kpibot tables yet: run `kpibot db upgrade` "
            "(with the same DATABASE_URL) to create them, then start again"
        )
    return (
        f"the database schema is at revision {current} but this kpibot needs {head}: "
        "run `kpibot db upgrade` (with the same DATABASE_URL), then start again"
    )


# --- digests --------------------------------------------------------------------------------

SLACK_NOT_CONFIGURED = (
    "Slack is not configured: set SLACK_BOT_TOKEN (see README, 'Connect a Slack workspace')."
)


def no_digest(subscription_id: int) -> str:
    return f"There is no digest {subscription_id}. `digest list` shows the digests there are."


def digest_not_yours(subscription_id: int, creator: str) -> str:
    who = f"<@{creator}>" if creator else "its creator"
    return f"Only {who} or a workspace admin can change digest {subscription_id}."


def digest_unknown_campaign(text: str, candidates: list[str]) -> str:
    hint = f" Did you mean {', '.join(f'“{c}”' for c in candidates[:3])}?" if candidates else ""
    return f"No campaign is called “{text}”.{hint} `list` shows them all."


def digest_chart_title(day: date) -> str:
    return f"Spend, 14 days to {day:%a %-d %b}"


def digest_failed_dm(subscription_id: int, channel: str, error: str) -> dict[str, object]:
    text = (
        f":warning: Your kpibot digest {subscription_id} could not be posted in <#{channel}>: "
        f"`{error}`. Fix it (e.g. invite the bot, or unarchive the channel) and "
        f"`/kpi digest resume {subscription_id}`; until then it is not retried."
    )
    return {"text": text, "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]}


# --- digest commands (`/kpi digest …`, `kpibot digest …`) -----------------------------------

DIGEST_COMMANDS = (
    "`digest add [daily | weekdays | mon,wed,fri] [at HH:MM] [tz Area/City] "
    "[all | channel <type> | platform <name> | campaigns <a>, <b>]`, `digest list`, "
    "`digest preview [<id>]`, `digest send <id>`, `digest pause <id>`, `digest resume <id>`, "
    "`digest remove <id>`"
)
DIGESTS_NOT_SET_UP = "Digests are not set up in this kpibot: ask whoever runs it."


def digest_usage(word: str | None) -> str:
    """`digest` alone or with a word that is not one of its commands."""
    if not word:
        return f"Say what to do with digests: {DIGEST_COMMANDS}."
    return f"`digest {word}` is not a digest command. Use {DIGEST_COMMANDS}."


def digest_bad_id(text: str, action: str) -> str:
    if not text:
        return f"Say which digest, e.g. `digest {action} 3`. `digest list` shows their ids."
    return (
        f"`{text}` is not a digest id: use the number `digest list` shows, "
        f"e.g. `digest {action} 3`."
    )


def digest_added(subscription_id: int, schedule: str, scope: str, where: str, next_run: str) -> str:
    return f"Digest {subscription_id} added: {schedule}, {scope}, in {where}. Next: {next_run}"


def digest_paused(subscription_id: int) -> str:
    return (
        f"Digest {subscription_id} paused: nothing is posted until "
        f"`digest resume {subscription_id}`."
    )


def digest_resumed(subscription_id: int, next_run: str) -> str:
    return f"Digest {subscription_id} resumed. Next: {next_run}"


def digest_removed(subscription_id: int) -> str:
    return f"Digest {subscription_id} removed: it will not be posted again."


def digest_sent(subscription_id: int, where: str) -> str:
    return f"Digest {subscription_id} posted in {where}."


def digest_not_sent(subscription_id: int, error: str) -> str:
    return (
        f"Digest {subscription_id} could not be posted: `{error}`. "
        "`digest list` shows the recorded error."
    )


def digest_send_later(subscription_id: int, note: str) -> str:
    return f"Digest {subscription_id} is not posted yet: Slack asked to wait ({note})."


def no_digests_in(where: str) -> str:
    return (
        f"No digests in {where} yet. Add one with `/kpi digest add`, "
        "e.g. `/kpi digest add weekdays at 08:00`."
    )


NO_DIGESTS = "No digests yet. Add one with `kpibot digest add WORDS --channel C0123`."


def digests_in(where: str, count: int) -> str:
    return f"{plural(count, 'digest')} in {where}"


def digest_which(ids: list[int]) -> str:
    """`digest preview` without an id in a channel with several digests."""
    listed = ", ".join(str(i) for i in ids)
    return (
        f"This channel has {len(ids)} digests ({listed}): say which, "
        f"e.g. `digest preview {ids[0]}`."
    )


def digests_listed_elsewhere(count: int) -> str:
    return f"… and {count:,} more: `kpibot digest list` shows them all."


DIGEST_PAUSED = "paused"


def digest_next(when: str) -> str:
    return f"Next: {when}"


def digest_created_by(who: str) -> str:
    return f"created by {who}"


def digest_last(status: str, when: str, error: str | None) -> str:
    """The newest delivery of a digest: status, when, and Slack's error if one was recorded."""
    tail = f": `{error}`" if error else ""
    return f"Last: {status} {when}{tail}"


def digest_error(error: str) -> str:
    """A permanent failure recorded on the subscription (shown until it is resumed)."""
    return f"Not delivered: `{error}` (fix it, then `digest resume`)"


NEVER_DELIVERED = "Last: not delivered yet"


def slack_check_failed(what: str, error: str) -> str:
    """Slack could not be asked (a rate limit, an outage); nothing was stored or changed."""
    return f"I could not ask Slack {what} (`{error}`), so nothing changed. Try again in a moment."


CHECK_CHANNEL = "whether I can post in this channel"
CHECK_ADMIN = "whether you are a workspace admin"
CHANNEL_NOT_CHECKED = (
    "note: SLACK_BOT_TOKEN is not set, so kpibot could not check that it can post in the "
    "channel; digests are posted only once it is set."
)
CHANNEL_OPTION_HELP = "The Slack channel id to post in (e.g. C0123ABCD)."
USER_OPTION_HELP = "The Slack user id of its creator (told by DM when delivery fails)."
NOW_OPTION_HELP = "The instant to act at, ISO-8601 with an offset (e.g. 2026-03-30T08:00+02:00)."
JSON_OPTION_HELP = "Print JSON for scripts."


def now_needs_offset(text: str) -> str:
    return (
        f"--now {text!r} is not an ISO-8601 instant with an offset: write e.g. "
        "2026-03-30T08:00:00+02:00 or 2026-03-30T06:00:00Z."
    )


# --- alerts (`/kpi alert …`, `kpibot alert …`) ----------------------------------------------
# Pieces from data or users (campaign names, rule text, Slack's errors) reach these functions
# already escaped for mrkdwn, or raw for the terminal: the renderers decide (bot/render/alert_*).

ALERTS_NOT_SET_UP = "Alerts are not set up in this kpibot: ask whoever runs it."
ALERT_EXAMPLE = "alert add all roi drops 30%"
ALERT_COMMANDS = (
    "`alert add <scope> <kpi> <condition>`, `alert list`, `alert remove <id>`, "
    "`alert pause <id>`, `alert resume <id>`, `alert snooze <id> <1d|1w|…>`, "
    "`alert history [<id>]`"
)
ALERT_CHECK_HELP = (
    "Evaluate every active alert on the latest completed day and post what changed "
    "(safe to run at any time, from any number of places: each alert is posted once)."
)
ALERT_CHANNEL_NOT_CHECKED = (
    "note: SLACK_BOT_TOKEN is not set, so kpibot could not check that it can post in the "
    "channel; alerts are posted only once it is set."
)
ALERT_USER_OPTION_HELP = (
    "The Slack user id of its creator (mentioned in its alerts unless `notify @user`; told by "
    "DM when posting fails)."
)
ALERT_DRY_RUN_HELP = "Say what would be posted, without posting or recording anything."
ALERT_BUTTON_STALE = (
    "This alert has moved on (it resolved or fired again), so this button no longer applies. "
    "`/kpi alert list` shows where each alert is."
)
ALERT_BUSY = "This alert is being changed by someone else right now. Try again in a moment."
ALERT_NO_DATA_CAMPAIGN = "no data for this day yet (its ad account has not landed it)"

_ALERT_USER_ID = re.compile(r"[UW][A-Z0-9]{2,30}")
_ALERT_CHANNEL_ID = re.compile(r"[CGD][A-Z0-9]{2,30}")
_ALERT_CODE_SAFE = str.maketrans({"<": "‹", ">": "›", "&": "+", "`": "'"})


def no_alert(rule_id: int) -> str:
    return f"There is no alert #{rule_id}. See `/kpi alert list`."


def alert_not_yours(rule_id: int, creator: str) -> str:
    """Only its creator, the person it notifies or an admin may change a rule; `creator` is
    named as a mention only when it is a user id."""
    who = f"<@{creator}>" if _ALERT_USER_ID.fullmatch(creator or "") else "its creator"
    return f"Only {who}, the person it notifies or a workspace admin can change alert #{rule_id}."


def alert_usage(word: str | None) -> str:
    """`alert` alone or with a word that is not one of its commands."""
    if not word:
        return f"Say what to do with alerts: {ALERT_COMMANDS}. E.g. `{ALERT_EXAMPLE}`."
    return f"`alert {word}` is not an alert command. Use {ALERT_COMMANDS}, e.g. `{ALERT_EXAMPLE}`."


def alert_bad_id(text: str, action: str) -> str:
    example = f"alert {action} 3" + (" 1d" if action == "snooze" else "")
    if not text:
        return f"Say which alert, e.g. `{example}`. `alert list` shows their ids."
    return f"`{text}` is not an alert id: use the number `alert list` shows, e.g. `{example}`."


def alert_bad_duration(text: str) -> str:
    """A snooze length kpibot cannot read (or one over 90 days, bot.alerts.durations)."""
    how = "Say how long, e.g. `1d`, `12h`, `1w` (at most 90 days)"
    if not text.strip():
        return f"{how}: `alert snooze 3 1d`."
    return f"`{text}` is not a snooze length. {how}: `alert snooze 3 1d`."


def alert_scope_empty(scope: str) -> str:
    """A channel or platform scope that no campaign is in: the alert could never fire."""
    return (
        f"No campaign is in `{scope}`, so that alert could never fire. `list` shows each "
        "campaign's channel and platform; or watch them all, e.g. "
        f"`{ALERT_EXAMPLE}`."
    )


def alert_unknown_campaign(text: str, candidates: list[str]) -> str:
    hint = f" Did you mean {', '.join(f'“{c}”' for c in candidates[:3])}?" if candidates else ""
    return (
        f"No campaign is called “{text}”.{hint} `list` shows them all; an alert names one as "
        f"it is listed, e.g. `alert add summer-sale roi < 0`, or watches them all: "
        f"`{ALERT_EXAMPLE}`."
    )


def alert_failed_dm(rule_id: int, channel: str, error: str) -> dict[str, object]:
    """Told once to a rule's owner when its alerts cannot be posted (until `resume`)."""
    where = f"<#{channel}>" if _ALERT_CHANNEL_ID.fullmatch(channel or "") else "its channel"
    code = error.translate(_ALERT_CODE_SAFE)
    text = (
        f":warning: Your kpibot alert #{rule_id} could not be posted in {where}: `{code}`. "
        "Fix it (e.g. invite the bot, or unarchive the channel), then "
        f"`/kpi alert resume {rule_id}`; until then its alerts may not reach anyone."
    )
    return {"text": text, "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]}


# Alert messages in channels.

ALERT_BUTTON_ACK = "Acknowledge"
ALERT_BUTTON_SNOOZE_DAY = "Snooze 1 day"
ALERT_BUTTON_SNOOZE_WEEK = "Snooze 1 week"
ALERT_BUTTON_MUTE = "Mute campaign"
ALERT_BUTTON_CARD = "Open card"
ALERT_MUTE_CONFIRM_TITLE = "Mute this campaign?"
ALERT_MUTE_CONFIRM = "Mute"
ALERT_MUTE_DENY = "Cancel"
ALERT_MUTED = "Muted for this rule"
ALERT_ITS_ACCOUNTS = "its ad accounts"

ALERT_OPS = {"<": "below", "<=": "at or below", ">": "above", ">=": "at or above"}
"""A threshold's operator in a headline: `CPA above €40.00`."""
ALERT_MOVES = {"drops": "dropped", "rises": "rose"}
"""A change rule's direction in a headline: `ROI dropped`."""


def alert_mute_confirm_text(rule_id: int, campaign: str) -> str:
    return (
        f"Alert #{rule_id} will not alert about {campaign} again until the rule is resumed "
        f"(/kpi alert resume {rule_id})."
    )


def alert_campaign_gone(campaign_id: int) -> str:
    """A campaign the alert names that is no longer in the campaign list."""
    return f"campaign {campaign_id}"


def alert_threshold_headline(kpi: str, op: str, value: str) -> str:
    return f"{kpi} {ALERT_OPS.get(op, op)} {value}"


def alert_change_headline(kpi: str, direction: str) -> str:
    return f"{kpi} {ALERT_MOVES.get(direction, direction)}"


def alert_value(kpi: str, value: str, against: str) -> str:
    """`ROI 19.00% vs 7-day average 356.12%`; `against` from alert_vs_*."""
    return f"{kpi} {value} vs {against}"


def alert_vs_baseline(baseline: str, value: str) -> str:
    return f"{baseline} {value}"


def alert_vs_threshold(value: str) -> str:
    return f"threshold {value}"


def alert_window(days: int, day: str) -> str:
    """`on Wed 2 Dec` for a 1-day window, `over the 7 days to Wed 2 Dec`."""
    return f"on {day}" if days == 1 else f"over the {days} days to {day}"


def alert_card_period(days: int, day: str) -> str:
    """The Open card button's period label (at most 80 characters)."""
    return day if days == 1 else f"{days} days to {day}"


def alert_fired(headline: str, campaign: str) -> str:
    return f"{headline} — {campaign}"


def alert_fired_text(headline: str, campaign: str, value: str, window: str) -> str:
    """A new incident's fallback text (notifications, screen readers)."""
    return f"{headline} — {campaign}: {value} {window}"


def alert_still_firing(campaign: str, since: str, value: str, explanation: str) -> str:
    tail = f", {explanation}" if explanation else ""
    return f"Still firing since {since} — {campaign}: {value}{tail}"


def alert_resolved(campaign: str, value: str, day: str) -> str:
    return f"Resolved — {campaign}: {value} on {day}"


def alert_no_data(since: str, accounts: str, rule_id: int) -> str:
    return (
        f"No data since {since} for {accounts}: rule #{rule_id} neither fires nor resolves "
        "until it lands"
    )


def alert_rule_ref(rule_id: int, text: str) -> str:
    """`#3 · all · ROI drops 30 % vs 7-day average · over 1 day · for 1 day`."""
    return f"#{rule_id} · {text}"


def alert_resolved_on(day: str, at: str) -> str:
    return f"Resolved on {day} ({at} UTC)"


def alert_acknowledged_by(who: str) -> str:
    return f"Acknowledged by {who}"


def alert_snoozed_until(when: str) -> str:
    return f"Snoozed until {when}"


# Alert commands' echoes, lists and history.

NO_ALERTS = "No alerts yet. Add one with `kpibot alert add WORDS --channel C0123`."
ALERT_PREVIEW_NO_DATA = "Its campaigns have no data yet: it is checked as soon as some lands."
ALERT_PAUSED = "paused"
ALERT_STATES = {
    "ok": "ok",
    "pending": "pending",
    "firing": "firing",
    "resolved": "resolved",
    "no_data": "no data",
}
ALERT_EVENTS = {
    "fire": "fired",
    "remind": "reminded",
    "resolve": "resolved",
    "no_data": "no data",
    "ack": "acknowledged",
    "snooze": "snoozed",
    "mute": "muted",
}
"""History events by the word before their `#`/`@` (`fire#2`, `ack@v5`); others are states."""
ALERT_MUTED_INCIDENT = (
    "Muted: this rule no longer alerts about this campaign (resuming the rule unmutes it)."
)


def alert_added(rule_id: int, text: str, where: str) -> str:
    return f"Alert #{rule_id} added in {where}: {text}"


def alert_would_fire(count: int, total: int, day: str, *, at_least: bool = False) -> str:
    """The echo's verdict; `at_least` when more campaigns than shown may breach."""
    some = f"at least {count:,}" if at_least else f"{count:,}"
    return f"Would fire now for {some} of {plural(total, 'campaign')} (data of {day})."


def alert_would_not_fire(total: int, day: str) -> str:
    return f"Would not fire now ({plural(total, 'campaign')}, data of {day})."


def alert_paused(rule_id: int) -> str:
    return f"Alert #{rule_id} paused: nothing is posted until `alert resume {rule_id}`."


def alert_resumed(rule_id: int) -> str:
    return (
        f"Alert #{rule_id} resumed: it is checked again from the next pass "
        "(its snooze, mutes and recorded error are cleared)."
    )


def alert_removed(rule_id: int) -> str:
    return f"Alert #{rule_id} removed: it will not alert again."


def alert_snoozed(rule_id: int, until: str) -> str:
    return (
        f"Alert #{rule_id} snoozed until {until}: no new alerts or reminders until then "
        "(it still resolves)."
    )


def no_alerts_in(where: str) -> str:
    return f"No alerts in {where} yet. Add one with `/kpi alert add`, e.g. `/kpi {ALERT_EXAMPLE}`."


def alerts_in(where: str, count: int) -> str:
    return f"{plural(count, 'alert')} in {where}"


def alerts_listed_elsewhere(count: int) -> str:
    return f"… and {count:,} more: `kpibot alert list` shows them all."


def alert_no_data_since(day: str) -> str:
    return f"no data since {day}"


def alert_campaigns(what: str, names: str) -> str:
    """`firing: Summer Sale, Brand` in a list row."""
    return f"{what}: {names}"


def alert_snoozed_state(when: str) -> str:
    """A snoozed rule in a list row."""
    return f"snoozed until {when}"


def alert_notifies(who: str) -> str:
    return f"notifies {who}"


def alert_error(error: str) -> str:
    """A permanent failure recorded on the rule (shown until it is resumed)."""
    return f"Not delivered: `{error}` (fix it, then `alert resume`)"


def alert_history_title(rule_id: int | None, count: int) -> str:
    what = f"Alert #{rule_id}" if rule_id is not None else "Alerts"
    return f"{what}: the last {plural(count, 'event')}, newest first"


def no_alert_history(rule_id: int | None) -> str:
    if rule_id is None:
        return "No alert history yet: nothing has breached, resolved or been acted on."
    return f"Alert #{rule_id} has no history yet: nothing has happened since it was added."


def alert_by(who: str) -> str:
    return f"by {who}"


def alert_delivery(status: str, error: str | None) -> str:
    tail = f": `{error}`" if error else ""
    return f"post {status}{tail}"


def alert_acked(who: str) -> str:
    return f"Acknowledged: {who} is on it. No more reminders for this incident."


def alert_snoozed_incident(until: str) -> str:
    return f"Snoozed until {until}: no reminders for this campaign until then."


def alert_would_post(post: str, rule_id: int, subject: str, what: str) -> str:
    """A `kpibot alert check --dry-run` line: what would be posted."""
    about = f" {subject}" if subject else ""
    return f"would post {post}: rule #{rule_id}{about} — {what}"


ALERT_WHOLE_RULE = "all its campaigns"
"""What a rule-level history entry (a no-data notice) is about."""
ALERT_VERDICTS = {True: "fires", False: "ok", None: "can't say"}
"""A campaign's line in the terminal echo of `alert add`: would it fire now?"""


def alert_history_value(value: str, baseline: str | None) -> str:
    return value if baseline is None else f"{value} vs {baseline}"


def alerts_after_import(line: str) -> str:
    return f"alerts: {line}"


def alerts_not_checked(error: str) -> str:
    return (
        f"alerts: not checked after this import ({error}); the scheduler's next check, or "
        "`kpibot alert check`, will."
    )


# --- Channel limits: what a limited channel's answers, digests and alerts show (issue 9) ---

CAMPAIGN_GONE = "That campaign no longer exists; try `list`."
"""A card asked for by id (a button) that is missing, or hidden from the channel: the same."""
CHANNEL_SEES_NOTHING = "This channel may see no campaigns yet — ask an admin: `/kpi access`"
ALERT_HIDDEN = "closed without a post: the rule's channel may no longer see this campaign"
"""The history note of an open incident closed because a channel limit now hides it."""


def channel_sees_only(limit: str) -> str:
    """The line on every answer in a limited channel; `limit` is Visibility.describe()."""
    return f"This channel sees only {limit}."


# --- Access: who may ask, and what channels may see (issue 9) -----------------------------------

ACCESS_GUEST = (
    "kpibot is for members of this workspace, and guests cannot use it. A workspace admin can "
    "let guests in with the setting `KPIBOT_ALLOW_GUESTS=1`."
)
ACCESS_EXTERNAL = (
    "kpibot is for members of this workspace, and people from other organisations (Slack "
    "Connect) cannot use it. A workspace admin can let them in with the setting "
    "`KPIBOT_ALLOW_EXTERNAL=1`."
)
ACCESS_IDENTITY_UNKNOWN = (
    "kpibot could not check who you are just now (Slack did not answer), so it showed nothing. "
    "Please try again in a moment."
)
ACCESS_NOT_ADMIN = (
    "Only workspace admins and owners can limit what a channel may see, clear a limit or list "
    "them. `/kpi access` alone shows what this channel sees."
)
ACCESS_USAGE = (
    "Write `/kpi access` (what this channel sees), `/kpi access here platform meta_ads account "
    "123` (limit a channel: `here` or its ID), `/kpi access list` or `/kpi access clear here`."
)
ACCESS_CLEAR_WHICH = "Say which channel's limit to clear: `/kpi access clear here`, or its ID."
ACCESS_HERE_OUTSIDE_SLACK = "`here` means the channel you type in: give the channel's ID instead."
ACCESS_NO_LIMITS = "No channel has a limit: every channel sees every campaign."
ACCESS_SET_BY_CLI = "the command line"
"""Who set a limit when `kpibot access` set it (no Slack user)."""


def access_bad_channel(text: str) -> str:
    return (
        f"`{text[:40]}` is not a channel: write `here` for the channel you are in, or the "
        "channel's ID (like `C0123ABCD`, at the bottom of the channel's details)."
    )


def access_channel_name(name: str) -> str:
    """A `#name`: finding it would mean listing every channel in the workspace."""
    return (
        f"kpibot cannot look up `{name[:40]}` by name: write `here` in that channel, or its ID "
        "(like `C0123ABCD`, at the bottom of the channel's details)."
    )


def access_sees_everything(where: str) -> str:
    return f"{where} sees every campaign: it has no limit."


def access_sees_only(where: str, limit: str, visible: int, set_by: str | None = None) -> str:
    """`set_by` is `access_set_by(…)`, when known."""
    tail = f"; {set_by}" if set_by else ""
    return f"{where} sees only {limit}: {plural(visible, 'campaign')} now{tail}."


def access_set(where: str, limit: str, visible: int) -> str:
    return f"Limit set: {where} now sees only {limit}, {plural(visible, 'campaign')} now."


def access_visible(names: str, more: int) -> str:
    return f"Visible: {names}" + (f" and {more:,} more." if more else ".")


def access_nothing_visible(undo: str) -> str:
    """The warning after a limit that leaves no campaign visible; `undo` is the command."""
    return (
        "No campaign matches this limit now, so answers there will show nothing until one does. "
        f"Check the words, or undo it with `{undo}`."
    )


def access_cleared(where: str, cleared: bool) -> str:
    if cleared:
        return f"Limit cleared: {where} sees every campaign again."
    return f"{where} had no limit: it already sees every campaign."


def access_set_by(who: str, when: str) -> str:
    return f"set by {who} on {when}"


def access_limits_title(count: int) -> str:
    return f"{plural(count, 'channel')} with a limit"


def access_more_limits(count: int) -> str:
    return f"… and {count:,} more: `kpibot access list` shows them all."


# ── Data sources (kpibot source …, kpibot sync, /kpi sources) ─────────────────────────────

SOURCES_NONE = (
    "No data sources yet. Add one with `kpibot source add meta|google-ads|csv-url <name> …`."
)


def source_failing(name: str, since: datetime, error: str, needs_new_token: bool) -> str:
    """The ops channel's one notice that a source has been failing too long (mrkdwn)."""
    from bot.render.mrkdwn import escaped

    fix = (
        " It needs a new token: update the credentials, then `kpibot source test`."
        if (needs_new_token)
        else ""
    )
    return (
        f":warning: Data source *{escaped(name, 80)}* has been failing since "
        f"{since:%Y-%m-%d %H:%M} UTC: {escaped(error.splitlines()[0] if error else '', 500)}."
        f"{fix} Its data is not being refreshed; the last good data is kept."
    )


def source_recovered(name: str, through: date) -> str:
    from bot.render.mrkdwn import escaped

    return (
        f":white_check_mark: Data source *{escaped(name, 80)}* syncs again: data through "
        f"{through.isoformat()}."
    )
