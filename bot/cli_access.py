"""`kpibot access …`: the operator's twin of `/kpi access` (no admin check: they run kpibot).

`kpibot access C0123 platform meta_ads` limits a channel, `list`, `show C0123` and
`clear C0123` read and undo limits; words to fix exit 2, as in the other commands.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import click

from bot import messages

if TYPE_CHECKING:
    from bot.access.service import AccessService


EXIT_USAGE = 2
EXIT_FAILED = 1
SET = "set"

_json_option = click.option("--json", "as_json", is_flag=True, help=messages.JSON_OPTION_HELP)


@contextmanager
def _opened(ctx: click.Context, *, as_json: bool) -> Iterator[AccessService]:
    """The access service, with words to fix printed as one line (or JSON) and exit 2."""
    from bot.cli import JSON_ERRORS, _settings  # bot.cli registers this group: import late
    from bot.composition import build
    from bot.query import QueryError
    from bot.render.json_answer import error_json

    ctx.meta[JSON_ERRORS] = as_json
    components = build(_settings(ctx))
    try:
        yield components.access
    except QueryError as exc:
        if as_json:
            click.echo(json.dumps(error_json(exc.code, str(exc)), ensure_ascii=False))
        else:
            click.echo(f"error: {exc}", err=True)
        raise SystemExit(EXIT_USAGE if exc.code == "bad_query" else EXIT_FAILED) from exc
    finally:
        components.dispose()


def _echo_json(document: object) -> None:
    click.echo(json.dumps(document, indent=2, ensure_ascii=False))


class _AccessGroup(click.Group):
    """`kpibot access <channel> <words…>` is `kpibot access set …`: a channel id is never
    the name of a subcommand."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            args = [SET, *args]
        return super().parse_args(ctx, args)


@click.group("access", cls=_AccessGroup)
def access_group() -> None:
    """What Slack channels may see: `kpibot access C0123 platform meta_ads account 123`,
    list, show, clear."""


@access_group.command(SET)
@click.argument("channel")
@click.argument("words", nargs=-1, required=True)
@_json_option
@click.pass_context
def set_command(ctx: click.Context, channel: str, words: tuple[str, ...], as_json: bool) -> None:
    """Limit CHANNEL to some platforms, accounts or campaign name patterns (replaces its
    limit), e.g. `C0123 platform meta_ads account 123` or `C0123 campaign brand*`."""
    from bot.access.words import channel_of
    from bot.render.access_admin import set_lines, sight_json

    with _opened(ctx, as_json=as_json) as access:
        sight = access.set_limit(channel_of(channel, None), list(words), by="")
    click.echo(json.dumps(sight_json(sight), ensure_ascii=False) if as_json else set_lines(sight))


@access_group.command("list")
@_json_option
@click.pass_context
def list_command(ctx: click.Context, as_json: bool) -> None:
    """Every limited channel: what it sees, how many campaigns, who set it and when."""
    from rich.console import Console

    from bot.render.access_admin import limits_json, limits_table

    with _opened(ctx, as_json=as_json) as access:
        sights = access.limits()
    if as_json:
        _echo_json(limits_json(sights))
    else:
        Console().print(limits_table(sights))


@access_group.command("show")
@click.argument("channel")
@_json_option
@click.pass_context
def show_command(ctx: click.Context, channel: str, as_json: bool) -> None:
    """What CHANNEL sees now (every campaign without a limit)."""
    from bot.access.words import channel_of
    from bot.render.access_admin import sight_json, sight_line

    with _opened(ctx, as_json=as_json) as access:
        sight = access.sight(channel_of(channel, None))
    click.echo(json.dumps(sight_json(sight), ensure_ascii=False) if as_json else sight_line(sight))


@access_group.command("clear")
@click.argument("channel")
@_json_option
@click.pass_context
def clear_command(ctx: click.Context, channel: str, as_json: bool) -> None:
    """Remove CHANNEL's limit: it sees every campaign again."""
    from bot.access.words import channel_of
    from bot.render.access_admin import cleared_line

    with _opened(ctx, as_json=as_json) as access:
        channel = channel_of(channel, None)
        cleared = access.clear(channel)
    if as_json:
        click.echo(json.dumps({"channel": channel, "cleared": cleared}))
    else:
        click.echo(cleared_line(channel, cleared))
