"""User-facing strings of the CLI that are not built from data."""

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
