"""What kpibot says to people: the CLI's texts, empty states and errors, in one place."""

from __future__ import annotations

from datetime import date

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
