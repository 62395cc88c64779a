"""`kpibot source …` and `kpibot sync`: configure data sources, check their credentials, pull.

Secrets are never arguments: every option that names a credential takes the *name* of the
environment variable that holds it, and a value that does not look like a variable name is
refused without being echoed (it may be the token itself).
"""

from __future__ import annotations

import json
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn
from urllib.parse import urlsplit

import click

if TYPE_CHECKING:
    from bot.composition import Components
    from bot.sources.model import SourceConfig
    from bot.sources.sync import SyncService


EXIT_USAGE = 2
EXIT_FAILED = 1
_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")
_VARIABLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
_LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")

_json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")


@contextmanager
def _opened(ctx: click.Context) -> Iterator[Components]:
    from bot.cli import _settings  # bot.cli registers this group: import late
    from bot.composition import build

    components = build(_settings(ctx))
    try:
        yield components
    finally:
        components.dispose()


def _usage(message: str) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    raise SystemExit(EXIT_USAGE)


def _check_name(name: str) -> str:
    if not _NAME.match(name):
        _usage(f"a source name is 1–64 lower-case letters, digits, '-', '_' or '.' (got {name!r})")
    return name


def _variable(option: str, value: str | None) -> str | None:
    if value is None:
        return None
    if not _VARIABLE.match(value):
        # Never echo it: it may be the secret itself.
        _usage(
            f"{option} takes the NAME of the environment variable that holds the secret "
            "(e.g. META_TOKEN), not the secret"
        )
    return value


@click.group("source")
def source_group() -> None:
    """Data sources kpibot syncs from: add meta|google-ads|csv-url, list, remove, test."""


@source_group.group("add")
def add_group() -> None:
    """Add a source (its secrets stay in environment variables, named here)."""


def _add(ctx: click.Context, config: SourceConfig) -> None:
    from storage import sources as store

    with _opened(ctx) as components:
        try:
            store.add_source(components.engine, config)
        except store.SourceExists:
            _usage(f"a source called {config.name!r} exists already; remove it first")
    click.echo(
        f"added {config.kind} source {config.name!r} ({config.account or config.options['url']}); "
        f"check it with `kpibot source test {config.name}`, pull with `kpibot sync {config.name}`"
    )


@add_group.command("meta")
@click.argument("name")
@click.option("--account", required=True, metavar="act_123", help="The ad account id.")
@click.option("--token-env", required=True, metavar="VAR", help="Variable with the token.")
@click.option(
    "--purchase-action",
    default="omni_purchase",
    show_default=True,
    help="The one action type counted as conversions and revenue.",
)
@click.option("--lead-action", default=None, help="The action type counted as leads.")
@click.pass_context
def add_meta(
    ctx: click.Context,
    name: str,
    account: str,
    token_env: str,
    purchase_action: str,
    lead_action: str | None,
) -> None:
    """A Meta (Facebook/Instagram) ad account, through the Marketing API's Insights."""
    from bot.sources.model import Kind, SourceConfig

    digits = account.strip().removeprefix("act_")
    if not digits.isdigit():
        _usage(f"--account is an ad account id such as act_123456789 (got {account!r})")
    options = {"purchase_action": purchase_action}
    if lead_action:
        options["lead_action"] = lead_action
    token = _variable("--token-env", token_env)
    assert token is not None
    _add(
        ctx,
        SourceConfig(_check_name(name), Kind.META, f"act_{digits}", options, {"token": token}),
    )


@add_group.command("google-ads")
@click.argument("name")
@click.option("--customer", required=True, metavar="1234567890", help="The customer id.")
@click.option("--login-customer", default=None, help="The manager account id, if any.")
@click.option("--developer-token-env", required=True, metavar="VAR")
@click.option("--client-id-env", required=True, metavar="VAR")
@click.option("--client-secret-env", required=True, metavar="VAR")
@click.option("--refresh-token-env", required=True, metavar="VAR")
@click.pass_context
def add_google_ads(
    ctx: click.Context,
    name: str,
    customer: str,
    login_customer: str | None,
    developer_token_env: str,
    client_id_env: str,
    client_secret_env: str,
    refresh_token_env: str,
) -> None:
    """A Google Ads customer, through the Google Ads API (searchStream)."""
    from bot.sources.model import Kind, SourceConfig

    digits = customer.replace("-", "").strip()
    if not (digits.isdigit() and len(digits) == 10):
        _usage(f"--customer is a 10-digit customer id such as 123-456-7890 (got {customer!r})")
    options = {}
    if login_customer:
        login = login_customer.replace("-", "").strip()
        if not (login.isdigit() and len(login) == 10):
            _usage(f"--login-customer is a 10-digit customer id (got {login_customer!r})")
        options["login_customer"] = login
    secrets = {
        "developer_token": _variable("--developer-token-env", developer_token_env),
        "client_id": _variable("--client-id-env", client_id_env),
        "client_secret": _variable("--client-secret-env", client_secret_env),
        "refresh_token": _variable("--refresh-token-env", refresh_token_env),
    }
    _add(
        ctx,
        SourceConfig(
            _check_name(name),
            Kind.GOOGLE_ADS,
            digits,
            options,
            {role: var for role, var in secrets.items() if var},
        ),
    )


@add_group.command("csv-url")
@click.argument("name")
@click.option("--url", required=True, help="An https URL serving a native or Fivetran CSV.")
@click.option(
    "--header-env",
    default=None,
    metavar="VAR",
    help="Variable with an HTTP header to send (`Name: value`, or a bare Authorization value).",
)
@click.pass_context
def add_csv_url(ctx: click.Context, name: str, url: str, header_env: str | None) -> None:
    """A CSV file on the web (e.g. a scheduled warehouse export)."""
    from bot.sources.model import Kind, SourceConfig

    parts = urlsplit(url)
    local = parts.scheme == "http" and parts.hostname in _LOCAL_HOSTS
    if not (parts.scheme == "https" or local) or not parts.hostname:
        _usage(f"--url must be an https:// URL (got {parts.scheme or 'no'} scheme)")
    header = _variable("--header-env", header_env)
    _add(
        ctx,
        SourceConfig(
            _check_name(name),
            Kind.CSV_URL,
            "",
            {"url": url},
            {"header": header} if header else {},
        ),
    )


@source_group.command("list")
@_json_option
@click.pass_context
def list_command(ctx: click.Context, as_json: bool) -> None:
    """Every source: last successful sync, data-through date, rows, and its current error."""
    from bot.render.sources import source_lines, sources_json
    from storage import sources as store

    with _opened(ctx) as components:
        records = store.list_sources(components.engine)
    if as_json:
        click.echo(json.dumps(sources_json(records), indent=2, ensure_ascii=False))
    else:
        click.echo(source_lines(records))


@source_group.command("remove")
@click.argument("name")
@click.pass_context
def remove_command(ctx: click.Context, name: str) -> None:
    """Forget a source and its sync history (the data it brought stays)."""
    from storage import sources as store

    with _opened(ctx) as components:
        try:
            store.remove_source(components.engine, name)
        except store.UnknownSource:
            _usage(f"no source called {name!r}; see `kpibot source list`")
    click.echo(f"removed source {name!r}; the data it synced stays")


@source_group.command("test")
@click.argument("name")
@click.pass_context
def test_command(ctx: click.Context, name: str) -> None:
    """Check the credentials and print what they can see (nothing is written)."""
    from bot.importing.run import ImportFailed, import_file
    from bot.sources.model import Kind, SourceError
    from storage import sources as store

    with _opened(ctx) as components:
        try:
            record = store.get_source(components.engine, name)
        except store.UnknownSource:
            _usage(f"no source called {name!r}; see `kpibot source list`")
        connections = components.connections
        config = record.config
        try:
            if config.kind is Kind.CSV_URL:
                with tempfile.TemporaryDirectory(prefix="kpibot-test-") as folder:
                    path = Path(folder) / f"{name}.csv"
                    size = connections.download(config, path)
                    summary = import_file(
                        components.engine,
                        path,
                        default_currency=components.settings.default_currency,
                        dry_run=True,
                    )
                click.echo(
                    f"{name}: {size:,} bytes, {summary.format} format, "
                    f"{summary.campaigns:,} campaigns, {summary.rows:,} rows; "
                    f"spend {', '.join(f'{v} {k}' for k, v in summary.spend_by_currency.items())}"
                )
                return
            info = connections.connect(config).info()
        except SourceError as exc:
            click.echo(f"error: {exc.message}", err=True)
            raise SystemExit(EXIT_FAILED) from None
        except ImportFailed as exc:
            click.echo(f"error: {name}: the file would not import:\n{exc}", err=True)
            raise SystemExit(EXIT_FAILED) from None
    click.echo(
        f"{name}: account {info.account_name!r}, currency {info.currency}, "
        f"{info.campaigns:,} campaigns"
    )


@click.command("sync")
@click.argument("names", nargs=-1)
@click.option(
    "--since",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Re-read from this day (YYYY-MM-DD) instead of the look-back window.",
)
@_json_option
@click.pass_context
def sync_command(ctx: click.Context, names: tuple[str, ...], since: object, as_json: bool) -> None:
    """Pull the named sources (all when none) and replace their days in the window."""
    from storage import sources as store

    start: date | None = since.date() if since is not None else None  # type: ignore[attr-defined]
    with _opened(ctx) as components:
        service: SyncService = components.sync
        try:
            outcomes = service.sync(list(names), since=start)
        except store.UnknownSource as exc:
            _usage(f"no source called {exc}; see `kpibot source list`")
    if as_json:
        click.echo(
            json.dumps(
                {
                    "runs": [
                        {
                            "source": o.source,
                            "start": o.start.isoformat(),
                            "end": o.end.isoformat(),
                            "ok": o.ok,
                            "rows": o.rows,
                            "seconds": round(o.seconds, 3),
                            "detail": o.detail,
                            "needs_new_token": o.needs_new_token,
                        }
                        for o in outcomes
                    ]
                },
                indent=2,
                ensure_ascii=False,
            )
        )
    else:
        if not outcomes:
            click.echo("no sources to sync; add one with `kpibot source add …`")
        for o in outcomes:
            where = f"{o.source} {o.start}..{o.end}"
            if o.ok:
                click.echo(f"{where}: ok, {o.rows:,} rows in {o.seconds:.1f} s\n  {o.detail}")
            else:
                click.echo(f"{where}: failed: {o.detail}", err=True)
    if any(not o.ok for o in outcomes):
        raise SystemExit(EXIT_FAILED)
