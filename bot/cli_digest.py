"""`kpibot digest …`: the Slack digest commands with the same words, plus `run-due` for cron."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING

import click

from bot import messages

if TYPE_CHECKING:
    from bot.composition import Components


EXIT_USAGE = 2
EXIT_FAILED = 1
USAGE_CODES = ("bad_query", "bad_rule")
"""Words to fix (a query, a digest or an alert rule): exit 2, like click's usage errors."""

_json_option = click.option("--json", "as_json", is_flag=True, help=messages.JSON_OPTION_HELP)


class Instant(click.ParamType[datetime]):
    """An ISO-8601 instant with an offset (`2026-03-30T08:00+02:00`, `…Z`); naive is refused,
    since a digest's day depends on which zone "now" is in."""

    name = "ISO-8601"

    def convert(
        self, value: object, param: click.Parameter | None, ctx: click.Context | None
    ) -> datetime:
        if isinstance(value, datetime):
            return value
        text = str(value).strip()
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            self.fail(messages.now_needs_offset(text), param, ctx)
        if moment.tzinfo is None or moment.utcoffset() is None:
            self.fail(messages.now_needs_offset(text), param, ctx)
        return moment


_now_option = click.option("--now", type=Instant(), help=messages.NOW_OPTION_HELP)


@contextmanager
def _opened(ctx: click.Context, *, as_json: bool) -> Iterator[Components]:
    """The components, with user mistakes (QueryError) printed as one line or as JSON."""
    from bot.cli import JSON_ERRORS, _settings  # bot.cli registers this group: import late
    from bot.composition import build
    from bot.query import QueryError
    from bot.render.json_answer import error_json

    ctx.meta[JSON_ERRORS] = as_json
    components = build(_settings(ctx))
    try:
        yield components
    except QueryError as exc:
        if as_json:
            click.echo(json.dumps(error_json(exc.code, str(exc)), ensure_ascii=False))
        else:
            click.echo(f"error: {exc}", err=True)
        # Words to fix are a usage error; a digest that is not there (or not yours) is not.
        raise SystemExit(EXIT_USAGE if exc.code in USAGE_CODES else EXIT_FAILED) from exc
    finally:
        components.dispose()


def _print_json(document: object) -> None:
    click.echo(json.dumps(document, indent=2, ensure_ascii=False))


@click.group("digest")
def digest_group() -> None:
    """Morning digests: add, list, preview, send, pause, resume, remove, run-due."""


@digest_group.command("add")
@click.argument("words", nargs=-1)
@click.option("--channel", required=True, metavar="C0123", help=messages.CHANNEL_OPTION_HELP)
@click.option("--user", default="", metavar="U0123", help=messages.USER_OPTION_HELP)
@_json_option
@click.pass_context
def add_command(
    ctx: click.Context, words: tuple[str, ...], channel: str, user: str, as_json: bool
) -> None:
    """Add a digest: [daily | weekdays | mon,wed,fri] [at HH:MM] [tz Area/City] [scope]."""
    from bot.digests.guards import add_digest
    from bot.render.digest_admin import added_line, subscription_json

    with _opened(ctx, as_json=as_json) as components:
        workspace = components.slack
        view = add_digest(components.digests, workspace, list(words), channel=channel, user=user)
    if workspace is None:
        click.echo(messages.CHANNEL_NOT_CHECKED, err=True)
    click.echo(json.dumps(subscription_json(view)) if as_json else added_line(view))


@digest_group.command("list")
@_json_option
@click.pass_context
def list_command(ctx: click.Context, as_json: bool) -> None:
    """List every digest: schedule, scope, next run, last delivery and any recorded error."""
    from rich.console import Console

    from bot.render.digest_admin import list_table, subscriptions_json

    with _opened(ctx, as_json=as_json) as components:
        views = components.digests.subscriptions()
    if as_json:
        _print_json(subscriptions_json(views))
    else:
        Console().print(list_table(views))


def _change(ctx: click.Context, action: str, subscription_id: int, as_json: bool) -> None:
    from bot.render.digest_admin import changed_line, subscription_json

    # The CLI is run by whoever runs kpibot: no creator or admin check (user None).
    with _opened(ctx, as_json=as_json) as components:
        view = components.digests.change(subscription_id, action, user=None, is_admin=True)
    if not as_json:
        click.echo(changed_line(action, subscription_id, view))
    elif view is None:
        click.echo(json.dumps({"removed": subscription_id}))
    else:
        click.echo(json.dumps(subscription_json(view)))


@digest_group.command("pause")
@click.argument("subscription_id", metavar="ID", type=int)
@_json_option
@click.pass_context
def pause_command(ctx: click.Context, subscription_id: int, as_json: bool) -> None:
    """Stop posting a digest until it is resumed."""
    _change(ctx, "pause", subscription_id, as_json)


@digest_group.command("resume")
@click.argument("subscription_id", metavar="ID", type=int)
@_json_option
@click.pass_context
def resume_command(ctx: click.Context, subscription_id: int, as_json: bool) -> None:
    """Post a paused (or failed) digest on its schedule again."""
    _change(ctx, "resume", subscription_id, as_json)


@digest_group.command("remove")
@click.argument("subscription_id", metavar="ID", type=int)
@_json_option
@click.pass_context
def remove_command(ctx: click.Context, subscription_id: int, as_json: bool) -> None:
    """Delete a digest."""
    _change(ctx, "remove", subscription_id, as_json)


@digest_group.command("preview")
@click.argument("subscription_id", metavar="ID", type=int)
@_json_option
@_now_option
@click.pass_context
def preview_command(
    ctx: click.Context, subscription_id: int, as_json: bool, now: datetime | None
) -> None:
    """Show a digest as it would be posted now (or at --now); nothing is posted."""
    from rich.console import Console

    from bot.render.digest_json import digest_json
    from bot.render.digest_terminal import render_digest

    with _opened(ctx, as_json=as_json) as components:
        preview = components.digests.preview(subscription_id, now)
    if as_json:
        _print_json(digest_json(preview))
    else:
        Console().print(render_digest(preview))


@digest_group.command("send")
@click.argument("subscription_id", metavar="ID", type=int)
@click.pass_context
def send_command(ctx: click.Context, subscription_id: int) -> None:
    """Post a digest in its channel now, whatever its schedule."""
    from bot.digests.guards import last_delivery_error
    from bot.render.digest_admin import sent_line

    with _opened(ctx, as_json=False) as components:
        digests = components.digests
        report = digests.send(subscription_id)
        channel = digests.get(subscription_id).channel
        error = None if report.sent else last_delivery_error(digests, subscription_id)
    click.echo(sent_line(subscription_id, channel, report, error))
    if not report.sent:
        raise SystemExit(EXIT_FAILED)


@digest_group.command("run-due")
@_now_option
@click.pass_context
def run_due_command(ctx: click.Context, now: datetime | None) -> None:
    """Deliver every digest due at --now (default: now) not yet delivered; safe to run often."""
    with _opened(ctx, as_json=False) as components:
        report = components.digests.run_due(now)
    click.echo(report.lines())
    for note in report.notes:
        click.echo(note)
