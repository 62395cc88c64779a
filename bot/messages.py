"""What kpibot says to people: the CLI's texts, empty states and errors, in one place."""

from __future__ import annotations

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
    """Campaigns a ranking leaves out because their KPI is undefined (a zero denominator)."""
    verb = "is" if count == 1 else "are"
    return f"{plural(count, 'campaign')} without a {kpi_label} {verb} left out."


def columns_left_out(headings: str) -> str:
    return f"Not shown at this width: {headings}. Widen the terminal or use --json for all."


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
