"""The morning digest for a terminal (`kpibot digest preview <id>`), drawn with rich.

Readable at 80 columns: campaign names wrap, numbers never do; long lists are cut with
"… and N more" (`--json` has every campaign).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from bot import messages
from bot.digests.content import (
    DIGEST_KPIS,
    MIN_CLICKS,
    MIN_SHARE_OF_DAILY_SPEND,
    CurrencyBlock,
    DigestDays,
    DigestPreview,
    Mover,
)
from bot.formatting import UNDEFINED, format_change, format_kpi
from bot.kpi import KPI_BY_KEY, compare, is_improvement
from bot.render.digest_blocks import day_label, format_points

__all__ = ["MAX_ROWS", "render_digest"]

MAX_ROWS = 20
"""Campaigns listed under "Lost money yesterday" before "… and N more"."""


def render_digest(preview: DigestPreview) -> RenderableType:
    """The digest as a panel: totals per currency, movers, campaigns that lost money."""
    content = preview.content
    days = DigestDays(preview.day)
    day = day_label(preview.day)
    through = preview.data_through.isoformat() if preview.data_through else UNDEFINED
    about = f"{preview.scope_text} · data through {through} · {preview.schedule_text}"
    parts: list[RenderableType] = [Text(about, style="dim")]
    if preview.sees is not None:
        parts.append(Text(messages.channel_sees_only(preview.sees.describe()), style="dim"))
    if preview.incomplete is not None:
        missing = _names(preview.incomplete)
        parts.append(Text(f"⚠ {messages.data_incomplete(missing, day)}", style="yellow"))
    if content.is_empty:
        parts.append(Text(messages.digest_no_data(preview.scope_text, day)))
    else:
        parts += [_currency(block, days) for block in content.totals]
        week = day_label(days.week_ago)
        parts.append(_movers("Top improvers", content.improvers, week))
        parts.append(_movers("Top decliners", content.decliners, week))
        if content.losing_money:
            parts.append(_losing(content.losing_money))
    title = Text(messages.digest_title(day), style="bold")
    return Panel(Group(*parts), title=title, title_align="left")


def _names(missing: Sequence[str]) -> str:
    shown = ", ".join(missing[:MAX_ROWS])
    if len(missing) > MAX_ROWS:
        shown += " " + messages.and_more(len(missing) - MAX_ROWS)
    return shown


def _change(key: str, change: Decimal | None) -> Text:
    good = is_improvement(key, change)
    style = "green" if good else "red" if good is False else ""
    return Text(format_change(change), style=style)


def _currency(block: CurrencyBlock, days: DigestDays) -> RenderableType:
    code = block.currency
    before, week = day_label(days.day_before), day_label(days.week_ago)
    table = Table(title=Text(code, style="bold"), title_justify="left", box=None, pad_edge=False)
    table.add_column("KPI")
    table.add_column("Yesterday", justify="right")
    table.add_column(before, justify="right")
    table.add_column("Change", justify="right")
    table.add_column(week, justify="right")
    table.add_column("Change", justify="right")
    vs_before = compare(block.kpis, block.previous_day)
    vs_week = compare(block.kpis, block.week_ago)
    for key in DIGEST_KPIS:
        table.add_row(
            KPI_BY_KEY[key].label,
            format_kpi(key, block.kpis.get(key), code),
            format_kpi(key, block.previous_day.get(key), code),
            _change(key, vs_before.get(key)),
            format_kpi(key, block.week_ago.get(key), code),
            _change(key, vs_week.get(key)),
        )
    month = block.month_to_date
    spend = format_kpi("spend", month.get("spend"), code)
    roas = format_kpi("roas", month.get("roas"), code)
    mtd = f"Month to date (since {day_label(days.month_start)}): Spend {spend} · ROAS {roas}"
    return Group(Text(""), table, Text(mtd, style="dim"))


def _campaigns(title: str, *columns: str) -> Table:
    table = Table(
        title=Text(title, style="bold"), title_justify="left", box=None, pad_edge=False, expand=True
    )
    table.add_column("Campaign", overflow="fold", ratio=1)
    for column in columns:
        table.add_column(column, justify="right", no_wrap=True)
    return table


def _movers(title: str, movers: Sequence[Mover], week: str) -> RenderableType:
    if not movers:
        share = f"{(MIN_SHARE_OF_DAILY_SPEND * 100).normalize()} %"
        empty = Text(messages.no_movers(MIN_CLICKS, share), style="dim")
        return Group(Text(""), Text(title, style="bold"), empty)
    table = _campaigns(title, "ROI", f"vs {week}", "Spend")
    for m in movers:
        code = m.campaign.currency
        change = m.roi_change
        good = None if change is None or change == 0 else change > 0
        style = "green" if good else "red" if good is False else ""
        table.add_row(
            Text(m.campaign.name),
            format_kpi("roi", m.kpis.get("roi"), code),
            Text(format_points(change), style=style),
            format_kpi("spend", m.kpis.get("spend"), code),
        )
    return Group(Text(""), table)


def _losing(losing: Sequence[Mover]) -> RenderableType:
    title = f"Lost money yesterday ({messages.plural(len(losing), 'campaign')})"
    table = _campaigns(title, "Spend", "ROI")
    for m in losing[:MAX_ROWS]:
        code = m.campaign.currency
        table.add_row(
            Text(m.campaign.name),
            format_kpi("spend", m.kpis.get("spend"), code),
            Text(format_kpi("roi", m.kpis.get("roi"), code), style="red"),
        )
    parts: list[RenderableType] = [Text(""), table]
    if len(losing) > MAX_ROWS:
        parts.append(Text(messages.and_more(len(losing) - MAX_ROWS), style="dim"))
    return Group(*parts)
