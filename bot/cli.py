"""The `kpibot` command line: import, query, demo, database, and the Slack runtimes."""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn

from bot import messages
from bot.answers import Suggestions
from bot.composition import Components, build, with_database
from bot.config import Settings, SettingsError
from bot.importing.run import ImportFailed, ImportSummary, import_file
from bot.money import MoneyError, normalize_currency
from bot.query import QueryError
from bot.render.json_answer import answer_json
from bot.render.terminal import render_answer
from storage.schema import SchemaOutOfDate

EXIT_USAGE = 2


def _settings(ctx: click.Context) -> Settings:
    obj: Settings = ctx.obj
    return obj


def _components(ctx: click.Context, *, auto_upgrade: bool = True) -> Components:
    try:
        return build(_settings(ctx), auto_upgrade=auto_upgrade)
    except SchemaOutOfDate as exc:
        raise click.ClickException(str(exc)) from exc


@click.group(help=messages.CLI_HELP)
@click.option("--db", "database_url", metavar="URL", help=messages.DB_OPTION_HELP)
@click.pass_context
def main(ctx: click.Context, database_url: str | None) -> None:
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from exc
    ctx.obj = with_database(settings, database_url)


@main.command("import")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--dry-run", is_flag=True, help="Check and count everything; write no data (it is logged)."
)
@click.option("--currency", metavar="XXX", help="Currency for rows without one (ISO 4217).")
@click.pass_context
def import_command(
    ctx: click.Context, files: tuple[Path, ...], dry_run: bool, currency: str | None
) -> None:
    """Import native or Fivetran CSV files (plain or .gz); each file lands whole or not at all."""
    settings = _settings(ctx)
    try:
        default_currency = normalize_currency(currency) if currency else settings.default_currency
    except MoneyError as exc:
        raise click.BadParameter(str(exc), param_hint="--currency") from exc
    components = _components(ctx)
    out = Console(stderr=True)
    failed = 0
    try:
        for path in files:
            try:
                summary = _import_one(components, path, default_currency, dry_run, out)
            except ImportFailed as exc:
                failed += 1
                # Plain lines, never wrapped: `file:line: column: message` stays greppable.
                click.echo(str(exc), err=True)
                for warning in exc.warnings:
                    click.echo(f"warning: {warning}", err=True)
                continue
            for warning in summary.warnings:
                click.echo(f"warning: {warning}", err=True)
            click.echo(summary.line())
    finally:
        components.dispose()
    if failed:
        raise SystemExit(1)


def _import_one(
    components: Components, path: Path, currency: str, dry_run: bool, out: Console
) -> ImportSummary:
    if not out.is_terminal:
        return import_file(components.engine, path, default_currency=currency, dry_run=dry_run)
    columns = (
        *Progress.get_default_columns()[:1],
        BarColumn(),
        DownloadColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=out, transient=True) as progress:
        task = progress.add_task(path.name, total=None)

        def advance(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        return import_file(
            components.engine, path, default_currency=currency, dry_run=dry_run, progress=advance
        )


@main.command("kpi")
@click.argument("query", nargs=-1)
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@click.pass_context
def kpi_command(ctx: click.Context, query: tuple[str, ...], as_json: bool) -> None:
    """Answer a /kpi query in the terminal, exactly as Slack would."""
    components = _components(ctx)
    text = " ".join(query)
    try:
        answer = components.kpis.answer(text)
    except QueryError as exc:
        if as_json:
            click.echo(json.dumps({"error": "bad_query", "message": str(exc)}))
        else:
            click.echo(str(exc), err=True)
        raise SystemExit(EXIT_USAGE) from exc
    finally:
        components.dispose()
    if as_json:
        click.echo(json.dumps(answer_json(answer), indent=2, ensure_ascii=False))
    else:
        Console().print(render_answer(answer))
    if isinstance(answer, Suggestions):
        raise SystemExit(1)


@main.command("demo")
@click.option(
    "--dir",
    "folder",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    help="Where kpibot-demo.db goes (default: here).",
)
@click.pass_context
def demo_command(ctx: click.Context, folder: Path) -> None:
    """Create kpibot-demo.db with realistic data and show a short tour."""
    from bot.demo import TOUR, build_demo, demo_url

    folder.mkdir(parents=True, exist_ok=True)
    settings = _settings(ctx)
    console = Console()
    with console.status("Generating 400 days of demo data…"):
        summary = build_demo(settings, folder)
    click.echo(summary.line())
    url = demo_url(folder)
    components = build(with_database(settings, url))
    try:
        for title, text in TOUR:
            console.rule(f"{title}: [bold]kpibot kpi {text}[/bold]")
            console.print(render_answer(components.kpis.answer(text)))
    finally:
        components.dispose()
    # From a fresh clone kpibot lives in .venv/bin, not on PATH: show the path that works.
    command = "kpibot" if shutil.which("kpibot") else os.path.relpath(sys.argv[0])
    click.echo(messages.demo_next_steps(url, command))


@main.command("run")
@click.pass_context
def run_command(ctx: click.Context) -> None:
    """Connect to Slack in Socket Mode (SLACK_APP_TOKEN + SLACK_BOT_TOKEN); no public URL."""
    from bot.slack.app import SlackSetupError
    from bot.slack.runtimes import configure_logging, run_socket_mode

    settings = _settings(ctx)
    configure_logging(settings)
    try:
        run_socket_mode(settings)
    except (SlackSetupError, SchemaOutOfDate) as exc:
        raise click.ClickException(str(exc)) from exc


@main.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=3000, show_default=True, type=int, help="Port to listen on.")
@click.option("--workers", default=2, show_default=True, type=int, help="gunicorn workers.")
@click.pass_context
def serve_command(ctx: click.Context, host: str, port: int, workers: int) -> None:
    """HTTP mode under gunicorn: POST /slack/events and GET /healthz."""
    from bot.slack.app import SlackSetupError
    from bot.slack.runtimes import configure_logging, serve_http

    settings = _settings(ctx)
    configure_logging(settings)
    try:
        serve_http(settings, host, port, workers)
    except (SlackSetupError, SchemaOutOfDate) as exc:
        raise click.ClickException(str(exc)) from exc


@main.command("console")
@click.pass_context
def console_command(ctx: click.Context) -> None:
    """Try the Slack app in your terminal: type /kpi commands, press buttons."""
    from bot.slack.console import run_console

    run_console(_settings(ctx))


@main.group("db")
def db_group() -> None:
    """Database schema commands."""


@db_group.command("upgrade")
@click.pass_context
def db_upgrade(ctx: click.Context) -> None:
    """Bring the database schema up to date (Alembic migrations)."""
    from storage.database import make_engine
    from storage.schema import upgrade

    engine = make_engine(_settings(ctx).database_url)
    try:
        click.echo(f"Schema at revision {upgrade(engine)}.")
    finally:
        engine.dispose()


@db_group.command("current")
@click.pass_context
def db_current(ctx: click.Context) -> None:
    """Show the schema revision of the database and the one this kpibot needs."""
    from storage.database import make_engine
    from storage.schema import current_revision, head_revision

    engine = make_engine(_settings(ctx).database_url)
    try:
        click.echo(
            f"database: {current_revision(engine) or 'empty'}; needed: {head_revision(engine)}"
        )
    finally:
        engine.dispose()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
