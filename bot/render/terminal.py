"""Answers for a terminal, drawn with rich."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.table import Table as RichTable
from rich.text import Text

from bot.answers import Answer, CampaignCard, Help, Suggestions, Table
from bot.formatting import UNDEFINED, format_change, format_kpi
from bot.kpi import KPI_BY_KEY, is_improvement
from bot.render.card_fields import (
    basis_note,
    card_kpi_keys,
    comparison_context,
    freshness,
    measured_note,
)


def render_answer(answer: Answer) -> RenderableType:
    if isinstance(answer, CampaignCard):
        return _card(answer)
    if isinstance(answer, Table):
        return _table(answer)
    if isinstance(answer, Suggestions):
        return _suggestions(answer)
    return _help(answer)


def _card(card: CampaignCard) -> RenderableType:
    comparison = card.comparison
    table = RichTable(show_header=True, header_style="bold", box=None, pad_edge=False)
    table.add_column("KPI")
    table.add_column("Value", justify="right")
    if comparison is not None:
        table.add_column(comparison.label.capitalize(), justify="right")
        table.add_column("Change", justify="right")
    for key in card_kpi_keys(card):
        value = format_kpi(key, card.kpis[key], card.currency)
        if comparison is None:
            table.add_row(KPI_BY_KEY[key].label, Text(value))
            continue
        change = comparison.change.get(key)
        good = is_improvement(key, change)
        style = "green" if good else "red" if good is False else ""
        basis = comparison.basis
        before = comparison.kpis[key]
        if basis is not None and basis.previous is not None:
            before = basis.previous_kpis.get(key)  # what the change is measured against
        table.add_row(
            KPI_BY_KEY[key].label,
            Text(value),
            Text(format_kpi(key, before, card.currency)),
            Text(format_change(change), style=style),
        )
    scope = card.scope
    title = f"{scope.name} · {card.period.label} ({card.period.start} – {card.period.end})"
    lines = [f"{freshness(card)} · {card.currency} · {scope.platform} · {scope.channel}"]
    if comparison is not None:
        lines.append(comparison_context(comparison))
        note = basis_note(comparison)
        if note:
            lines.append(note)
    measured = measured_note(card.totals)
    if measured:
        lines.append(measured)
    footer = Text("\n".join(lines), style="dim")
    return Panel(Group(table, footer), title=Text(title), title_align="left")


def _table(answer: Table) -> RenderableType:
    period = answer.period
    when = f" · {period.label} ({period.start} – {period.end})" if period else ""
    table = RichTable(title=Text(answer.title + when), title_justify="left")
    table.add_column("Campaign")
    if answer.kind == "list":
        for heading in ("Platform", "Channel", "Currency", "Data through"):
            table.add_column(heading)
        for row in answer.rows:
            table.add_row(
                Text(row.scope.name),
                Text(row.scope.platform or ""),
                Text(row.scope.channel or ""),
                row.currency,
                row.data_through.isoformat() if row.data_through else UNDEFINED,
            )
    else:
        table.add_column("Currency")
        for key in answer.columns:
            table.add_column(KPI_BY_KEY[key].label, justify="right")
        for row in answer.rows:
            cells = [format_kpi(key, row.kpis.get(key), row.currency) for key in answer.columns]
            name = Text(row.scope.name, style="bold" if row.scope.type == "total" else "")
            table.add_row(name, row.currency, *(Text(c) for c in cells))
    if not answer.rows:
        return Group(table, Text("Nothing to show for this period.", style="dim"))
    if answer.note:
        return Group(table, Text(answer.note, style="dim"))
    return table


def _suggestions(answer: Suggestions) -> RenderableType:
    if not answer.candidates:
        return Text(f"No campaign matches “{answer.text}”. `kpibot kpi list` shows them all.")
    lines = [f"“{answer.text}” could be several campaigns — did you mean:"]
    if not answer.ambiguous:
        lines = [f"No campaign is called “{answer.text}” — did you mean:"]
    lines += [f"  • {c.name} ({c.platform}, {c.currency})" for c in answer.candidates]
    return Text("\n".join(lines))


def _help(answer: Help) -> RenderableType:
    table = RichTable(title="kpibot query language", title_justify="left")
    table.add_column("Command")
    table.add_column("What")
    table.add_column("Example")
    for usage, what, example in answer.commands:
        table.add_row(Text(usage), Text(what), Text(example))
    periods = RichTable(title="Periods (default: 7d)", title_justify="left")
    periods.add_column("Period")
    periods.add_column("Means")
    for example, what in answer.periods:
        periods.add_row(Text(example), Text(what))
    return Group(table, periods)
