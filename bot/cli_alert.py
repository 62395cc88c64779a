"""`kpibot alert …`: the Slack alert commands with the same words, plus `check` for cron."""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING

import click

from bot import messages
from bot.cli_digest import EXIT_FAILED, _json_option, _now_option, _opened, _print_json

if TYPE_CHECKING:
    from bot.alerts.model import RuleView


@click.group("alert")
def alert_group() -> None:
    """Alerts: add, list, remove, pause, resume, snooze, history, check."""


@alert_group.command("add", context_settings={"ignore_unknown_options": True})
@click.argument("words", nargs=-1, type=click.UNPROCESSED)
@click.option("--channel", required=True, metavar="C0123", help=messages.CHANNEL_OPTION_HELP)
@click.option("--user", default="", metavar="U0123", help=messages.ALERT_USER_OPTION_HELP)
@_json_option
@click.pass_context
def add_command(
    ctx: click.Context, words: tuple[str, ...], channel: str, user: str, as_json: bool
) -> None:
    """Add a rule: <scope> <kpi> <op> <value> | <scope> <kpi> drops|rises <N>% [vs …] [options]."""
    from bot.alerts.guards import add_alert
    from bot.render.alert_admin import added_line, preview_json

    with _opened(ctx, as_json=as_json) as components:
        workspace = components.slack
        preview = add_alert(components.alerts, workspace, list(words), channel=channel, user=user)
    if workspace is None:
        click.echo(messages.ALERT_CHANNEL_NOT_CHECKED, err=True)
    click.echo(
        json.dumps(preview_json(preview), ensure_ascii=False) if as_json else added_line(preview)
    )


@alert_group.command("list")
@_json_option
@click.pass_context
def list_command(ctx: click.Context, as_json: bool) -> None:
    """List every rule: scope, condition, window, owner, state."""
    from rich.console import Console

    from bot.render.alert_admin import rules_json, rules_table

    with _opened(ctx, as_json=as_json) as components:
        views = components.alerts.rules()
    if as_json:
        _print_json(rules_json(views))
    else:
        Console().print(rules_table(views))


def _change(
    ctx: click.Context, action: str, rule_id: int, as_json: bool, duration: str | None = None
) -> None:
    from bot.render.alert_admin import changed_line, rule_json

    # The CLI is run by whoever runs kpibot: no creator or admin check (user None).
    with _opened(ctx, as_json=as_json) as components:
        alerts = components.alerts
        view: RuleView | None
        if action == "snooze":
            view = alerts.snooze(rule_id, duration or "", user=None, is_admin=True)
        else:
            view = alerts.change(rule_id, action, user=None, is_admin=True)
    if not as_json:
        click.echo(changed_line(action, rule_id, view))
    elif view is None:
        click.echo(json.dumps({"removed": rule_id}))
    else:
        click.echo(json.dumps(rule_json(view), ensure_ascii=False))


@alert_group.command("remove")
@click.argument("rule_id", metavar="ID", type=int)
@_json_option
@click.pass_context
def remove_command(ctx: click.Context, rule_id: int, as_json: bool) -> None:
    """Delete a rule and its history."""
    _change(ctx, "remove", rule_id, as_json)


@alert_group.command("pause")
@click.argument("rule_id", metavar="ID", type=int)
@_json_option
@click.pass_context
def pause_command(ctx: click.Context, rule_id: int, as_json: bool) -> None:
    """Stop evaluating a rule until it is resumed."""
    _change(ctx, "pause", rule_id, as_json)


@alert_group.command("resume")
@click.argument("rule_id", metavar="ID", type=int)
@_json_option
@click.pass_context
def resume_command(ctx: click.Context, rule_id: int, as_json: bool) -> None:
    """Evaluate a rule again; clears its snooze, its campaign mutes and any recorded error."""
    _change(ctx, "resume", rule_id, as_json)


@alert_group.command("snooze")
@click.argument("rule_id", metavar="ID", type=int)
@click.argument("duration")
@_json_option
@click.pass_context
def snooze_command(ctx: click.Context, rule_id: int, duration: str, as_json: bool) -> None:
    """No new alerts or reminders from a rule for DURATION (1d, 12h, 1w); it still resolves."""
    _change(ctx, "snooze", rule_id, as_json, duration)


@alert_group.command("history")
@click.argument("rule_id", metavar="[ID]", type=int, required=False)
@_json_option
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 10_000))
@click.pass_context
def history_command(ctx: click.Context, rule_id: int | None, as_json: bool, limit: int) -> None:
    """Every transition and action, newest first, with how its post was delivered."""
    from rich.console import Console

    from bot.render.alert_admin import history_json, history_table

    with _opened(ctx, as_json=as_json) as components:
        entries = components.alerts.history(rule_id, limit)
    if as_json:
        _print_json(history_json(entries))
    else:
        Console().print(history_table(entries))


@alert_group.command("check")
@_now_option
@click.option("--dry-run", is_flag=True, help=messages.ALERT_DRY_RUN_HELP)
@click.pass_context
def check_command(ctx: click.Context, now: datetime | None, dry_run: bool) -> None:
    """Evaluate every active rule now (or at --now) and post what changed; safe to run often."""
    from bot.render.alert_admin import check_lines

    with _opened(ctx, as_json=False) as components:
        report = components.alerts.check(now, dry_run=dry_run)
    click.echo(check_lines(report))
    if report.failed:
        raise SystemExit(EXIT_FAILED)
