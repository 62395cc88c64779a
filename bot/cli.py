"""The `kpibot` command line: import, query, demo, database, and the Slack runtimes."""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import click

from bot import messages
from bot.cli_access import access_group
from bot.cli_alert import alert_group
from bot.cli_digest import digest_group
from bot.cli_source import source_group, sync_command

if TYPE_CHECKING:
    # Each command imports what it uses, so `kpibot --help` and `kpibot kpi` start fast: the
    # database, rich's progress bars and the importers load only for the commands they serve.
    from rich.console import Console
    from sqlalchemy.exc import SQLAlchemyError

    from bot.composition import Components
    from bot.config import Settings
    from bot.importing.run import ImportSummary

EXIT_USAGE = 2
EXIT_FAILED = 1
JSON_ERRORS = "kpibot.json_errors"
"""ctx.meta key: the command prints failures as JSON (`kpi --json`)."""


@dataclass
class _Invocation:
    """What the group knows before a command runs; settings are read when first needed, so
    a bad setting is reported by the command (as JSON under `kpi --json`)."""

    database_url: str | None = None
    loaded: Settings | None = None

    def settings(self) -> Settings:
        from bot.composition import with_database
        from bot.config import Settings

        if self.loaded is None:
            self.loaded = with_database(Settings.from_env(), self.database_url)
        return self.loaded


def _settings(ctx: click.Context) -> Settings:
    return ctx.ensure_object(_Invocation).settings()


def _components(
    ctx: click.Context, *, auto_upgrade: bool = True, long_statements: bool = False
) -> Components:
    from bot.composition import build

    return build(_settings(ctx), auto_upgrade=auto_upgrade, long_statements=long_statements)


class _KpibotGroup(click.Group):
    """Failures users can fix, from any command, as one line (or JSON) and exit code 1:
    a bad setting, an unusable DATABASE_URL, a database that cannot be reached, a schema
    that is not ready. Anything else is a bug and keeps its traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except Exception as exc:
            _fail_kindly(ctx, exc)
            raise


def _fail_kindly(ctx: click.Context, exc: Exception) -> None:
    """_fail for a failure users can fix; returns for any other (the caller re-raises)."""
    # Imported here, not at the top: by the time anything fails they are loaded anyway.
    from sqlalchemy.exc import DBAPIError

    from bot.config import SettingsError
    from storage.database import UnusableDatabaseUrl
    from storage.outages import unreachable
    from storage.schema import SchemaOutOfDate

    if isinstance(exc, SettingsError):
        _fail(ctx, "bad_setting", str(exc))
    if isinstance(exc, UnusableDatabaseUrl):
        _fail(ctx, "bad_setting", messages.bad_database_url(str(exc)))
    if isinstance(exc, SchemaOutOfDate):
        _fail(ctx, "schema_not_ready", str(exc))
    if isinstance(exc, DBAPIError):
        settings = ctx.ensure_object(_Invocation).loaded
        found = None if settings is None else unreachable(settings.database_url, exc)
        if found is not None:
            text = messages.database_unreachable(found.where, found.reason, sqlite=found.sqlite)
            _fail(ctx, "database_unreachable", text)


def _fail(ctx: click.Context, code: str, message: str) -> NoReturn:
    from bot.render.json_answer import error_json

    if ctx.meta.get(JSON_ERRORS):
        click.echo(json.dumps(error_json(code, message), ensure_ascii=False))
    else:
        click.echo(f"error: {message}", err=True)
    raise SystemExit(EXIT_FAILED)


_T = TypeVar("_T")


@click.group(cls=_KpibotGroup, help=messages.CLI_HELP)
@click.option("--db", "database_url", metavar="URL", help=messages.DB_OPTION_HELP)
@click.pass_context
def main(ctx: click.Context, database_url: str | None) -> None:
    ctx.obj = _Invocation(database_url)


@main.command("import")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--dry-run", is_flag=True, help="Check and count everything; write no data (it is logged)."
)
@click.option("--currency", metavar="XXX", help="Currency for rows without one (ISO 4217).")
@click.option(
    "--decimal-comma/--no-decimal-comma",
    default=None,
    help="Files are `;`-separated with `,` as decimal mark (Danish Excel, Google Sheets in "
    "Danish). Default: KPIBOT_IMPORT_LOCALE (en: no, da: yes).",
)
@click.option(
    "--as-one",
    is_flag=True,
    help="The files are shards of one export: one transaction for all of them (one failing "
    "writes none), and a campaign-day split across files is summed.",
)
@click.pass_context
def import_command(
    ctx: click.Context,
    files: tuple[Path, ...],
    dry_run: bool,
    currency: str | None,
    decimal_comma: bool | None,
    as_one: bool,
) -> None:
    """Import native or Fivetran CSV files (plain or .gz); each file lands whole or not at all
    (with --as-one: all of them, or none).

    `kpibot import runs` lists past imports, like `kpibot imports`.
    """
    from rich.console import Console
    from sqlalchemy.exc import SQLAlchemyError

    from bot.importing.cells import DateWindow
    from bot.importing.run import ImportFailed, import_file
    from bot.money import MoneyError, normalize_currency

    if files == (Path("runs"),) and not Path("runs").exists():
        ctx.invoke(imports_command)
        return
    settings = _settings(ctx)
    try:
        default_currency = normalize_currency(currency) if currency else settings.default_currency
    except MoneyError as exc:
        raise click.BadParameter(str(exc), param_hint="--currency") from exc
    # A big file may take minutes, and the operator watches it: no statement timeout.
    components = _components(ctx, long_statements=True)
    options: dict[str, Any] = {
        "default_currency": default_currency,
        "currency_chosen": currency is not None,
        "dry_run": dry_run,
        "decimal_comma": settings.import_decimal_comma if decimal_comma is None else decimal_comma,
        "window": DateWindow(
            settings.import_earliest_date,
            datetime.now(settings.tz).date(),
            settings.import_max_days_ahead,
        ),
    }
    if as_one:
        try:
            ok = _import_as_one(components, files, options, Console(stderr=True))
            if ok and not dry_run and settings.slack_bot_token:
                _check_alerts(components)
        finally:
            components.dispose()
        if not ok:
            raise SystemExit(1)
        return
    run = partial(import_file, components.engine, **options)
    out = Console(stderr=True)
    failed = 0
    landed = 0
    try:
        for path in files:
            try:
                summary = _import_one(run, path, out)
            except ImportFailed as exc:
                failed += 1
                # Plain lines, never wrapped: `file:line: column: message` stays greppable.
                click.echo(str(exc), err=True)
                for warning in exc.warnings:
                    click.echo(f"warning: {warning}", err=True)
                continue
            except SQLAlchemyError as exc:
                # Logged as a failed run by import_file; the next file still gets its turn.
                failed += 1
                click.echo(
                    f"{path}: not imported, nothing was written: {_first_line(exc)}", err=True
                )
                continue
            for warning in summary.warnings:
                click.echo(f"warning: {warning}", err=True)
            click.echo(summary.line())
            landed += 1
        if landed and not dry_run and settings.slack_bot_token:
            _check_alerts(components)
    finally:
        components.dispose()
    if failed:
        raise SystemExit(1)


def _import_as_one(
    components: Components, files: tuple[Path, ...], options: dict[str, Any], out: Console
) -> bool:
    """Import the files as one unit and print each file's outcome; whether they landed."""
    from sqlalchemy.exc import SQLAlchemyError

    from bot.importing.run import ImportBatch, import_files

    named = ", ".join(map(str, files))
    try:
        batch: ImportBatch = _with_progress(
            partial(import_files, components.engine, files, as_one=True, **options),
            f"{len(files)} files",
            out,
        )
    except SQLAlchemyError as exc:
        click.echo(f"{named}: not imported, nothing was written: {_first_line(exc)}", err=True)
        return False
    if not batch.ok:
        # One file's problems; the others say only that they were held back with it.
        failed = next(f for f in batch.failures if f.unit or len(files) == 1)
        click.echo(str(failed), err=True)
        for warning in failed.warnings:
            click.echo(f"warning: {warning}", err=True)
        return False
    for summary in batch.summaries:
        for warning in summary.warnings:
            click.echo(f"warning: {warning}", err=True)
        click.echo(summary.line())
    if batch.unit is not None and len(files) > 1:
        click.echo(batch.unit.line())
    return True


def _check_alerts(components: Components) -> None:
    """New data may fire or resolve alerts: evaluate them now rather than at the next hourly
    check. The import has landed whatever happens here."""
    from sqlalchemy.exc import SQLAlchemyError

    from bot.query import QueryError
    from bot.render.alert_admin import check_lines

    try:
        report = components.alerts.check()
    except (QueryError, SQLAlchemyError) as exc:
        click.echo(messages.alerts_not_checked(str(exc).splitlines()[0]), err=True)
        return
    click.echo(messages.alerts_after_import(check_lines(report)))


def _first_line(exc: SQLAlchemyError) -> str:
    from sqlalchemy.exc import DBAPIError

    detail = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    return f"database error: {(str(detail).strip().splitlines() or [''])[0]}"


def _import_one(run: Callable[..., ImportSummary], path: Path, out: Console) -> ImportSummary:
    return _with_progress(partial(run, path), path.name, out)


def _with_progress(run: Callable[..., _T], label: str, out: Console) -> _T:
    """Call run(progress=, notify=) with a progress bar on a terminal, plain lines otherwise."""
    if not out.is_terminal:
        return run(notify=lambda message: click.echo(message, err=True))
    from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn

    columns = (
        *Progress.get_default_columns()[:1],
        BarColumn(),
        DownloadColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=out, transient=True) as progress:
        task = progress.add_task(label, total=None)

        def advance(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        def notify(message: str) -> None:
            progress.console.print(message, markup=False, highlight=False)

        return run(progress=advance, notify=notify)


@main.command("imports")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@click.option(
    "--limit",
    default=20,
    show_default=True,
    type=click.IntRange(min=1, max=100_000),
    help="How many imports to list.",
)
@click.pass_context
def imports_command(ctx: click.Context, as_json: bool, limit: int) -> None:
    """List past imports, newest first: when, result, file, format, rows, campaigns, message."""
    from bot.importing.history import history_json, history_lines, import_history

    ctx.meta[JSON_ERRORS] = as_json
    components = _components(ctx)
    try:
        runs = import_history(components.engine, limit)
    finally:
        components.dispose()
    if as_json:
        click.echo(json.dumps(history_json(runs), indent=2, ensure_ascii=False))
    else:
        click.echo("\n".join(history_lines(runs)))


@main.command("kpi")
@click.argument("query", nargs=-1)
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@click.option(
    "--channel",
    metavar="C…",
    default=None,
    help="Answer as this Slack channel sees (its access limit); default: everything.",
)
@click.pass_context
def kpi_command(
    ctx: click.Context, query: tuple[str, ...], as_json: bool, channel: str | None
) -> None:
    """Answer a /kpi query in the terminal, exactly as Slack would."""
    from bot.answers import Suggestions
    from bot.query import QueryError
    from bot.render.json_answer import answer_json, error_json

    ctx.meta[JSON_ERRORS] = as_json
    components = _components(ctx)
    text = " ".join(query)
    try:
        answer = components.kpis.answer(text, channel=channel.strip() if channel else None)
    except QueryError as exc:
        if as_json:
            click.echo(json.dumps(error_json(exc.code, str(exc)), ensure_ascii=False))
        else:
            click.echo(str(exc), err=True)
        # Text to fix is a usage error; a fine query with nothing to answer from is not.
        raise SystemExit(EXIT_USAGE if exc.code == "bad_query" else EXIT_FAILED) from exc
    finally:
        components.dispose()
    if as_json:
        click.echo(json.dumps(answer_json(answer), indent=2, ensure_ascii=False))
    else:
        from rich.console import Console

        from bot.render.terminal import render_answer

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
    from rich.console import Console

    from bot.composition import build, with_database
    from bot.demo import TOUR, build_demo, demo_url
    from bot.render.terminal import render_answer

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
    except SlackSetupError as exc:
        _fail(ctx, "bad_setting", str(exc))


@main.command("scheduler")
@click.pass_context
def scheduler_command(ctx: click.Context) -> None:
    """Post digests on their schedules and check alerts every KPIBOT_ALERT_EVERY (the
    Procfile's worker); stops cleanly on SIGTERM.

    Any number may run against one database: the delivery ledger posts each message once.
    """
    from bot.slack.app import SlackSetupError
    from bot.slack.runtimes import configure_logging, run_scheduler

    settings = _settings(ctx)
    configure_logging(settings)
    try:
        run_scheduler(settings)
    except SlackSetupError as exc:
        _fail(ctx, "bad_setting", str(exc))


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
    except SlackSetupError as exc:
        _fail(ctx, "bad_setting", str(exc))


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
    from bot.composition import database_engine
    from storage.schema import upgrade

    # A migration may rewrite a big table: no statement timeout (connecting is still bounded).
    engine = database_engine(_settings(ctx), long_statements=True)
    try:
        click.echo(f"Schema at revision {upgrade(engine)}.")
    finally:
        engine.dispose()


@db_group.command("current")
@click.pass_context
def db_current(ctx: click.Context) -> None:
    """Show the schema revision of the database and the one this kpibot needs."""
    from bot.composition import database_engine
    from storage.schema import current_revision, head_revision

    engine = database_engine(_settings(ctx))
    try:
        click.echo(
            f"database: {current_revision(engine) or 'empty'}; needed: {head_revision(engine)}"
        )
    finally:
        engine.dispose()


main.add_command(digest_group)
main.add_command(source_group)
main.add_command(sync_command)
main.add_command(alert_group)
main.add_command(access_group)

if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
