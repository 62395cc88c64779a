"""Answers for a terminal, drawn with rich."""

from __future__ import annotations

from dataclasses import dataclass

from rich.console import (
    Console,
    ConsoleOptions,
    Group,
    JustifyMethod,
    RenderableType,
    RenderResult,
)
from rich.measure import Measurement
from rich.panel import Panel
from rich.table import Table as RichTable
from rich.text import Text

from bot import messages
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
    basis = comparison.basis if comparison is not None else None
    same_days = basis is not None and basis.previous is not None
    table = RichTable(show_header=True, header_style="bold", box=None, pad_edge=False)
    table.add_column("KPI")
    table.add_column("Value", justify="right")
    if comparison is not None:
        if same_days:
            # The change is over the days both sides have: show both sides of it, as Slack does.
            table.add_column("Same days", justify="right")
            table.add_column("Same days, " + comparison.label, justify="right")
        else:
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
        cells: list[RenderableType] = [KPI_BY_KEY[key].label, Text(value)]
        if basis is not None and same_days:
            cells.append(Text(format_kpi(key, basis.current_kpis.get(key), card.currency)))
            cells.append(Text(format_kpi(key, basis.previous_kpis.get(key), card.currency)))
        else:
            cells.append(Text(format_kpi(key, comparison.kpis[key], card.currency)))
        table.add_row(*cells, Text(format_change(change), style=style))
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
    if card.sees is not None:
        lines.append(messages.channel_sees_only(card.sees.describe()))
    footer = Text("\n".join(lines), style="dim")
    return Panel(Group(table, footer), title=Text(title), title_align="left")


def _table(answer: Table) -> RenderableType:
    period = answer.period
    when = f" · {period.label} ({period.start} – {period.end})" if period else ""
    rows = answer.rows
    names = [Text(r.scope.name, style="bold" if r.scope.type == "total" else "") for r in rows]
    if answer.kind == "list":
        columns = [
            _Column("platform", "Platform", [Text(r.scope.platform or "") for r in rows]),
            _Column("channel", "Channel", [Text(r.scope.channel or "") for r in rows]),
            _Column("currency", "Currency", [Text(r.currency) for r in rows]),
            _Column(
                "data_through",
                "Data through",
                [Text(r.data_through.isoformat() if r.data_through else UNDEFINED) for r in rows],
            ),
        ]
    else:
        columns = [_Column("currency", "Currency", [Text(r.currency) for r in rows])]
        columns += [
            _Column(
                key,
                KPI_BY_KEY[key].label,
                [Text(format_kpi(key, r.kpis.get(key), r.currency)) for r in rows],
                "right",
            )
            for key in answer.columns
        ]
    table = _FittedTable(Text(answer.title + when), names, columns, keep=answer.rank_kpi)
    notes = [answer.note] if answer.note else []
    if not rows and not notes:
        # A ranking whose campaigns all lack the KPI says so in its note instead.
        notes.append(messages.nothing_in(when.removeprefix(" · ") or None, "kpibot kpi list"))
    if answer.sees is not None:
        notes.append(messages.channel_sees_only(answer.sees.describe()))
    if notes:
        return Group(table, *(Text(note, style="dim") for note in notes))
    return table


# Dropped first when a table is wider than the terminal; the ranked KPI never is.
DROP_ORDER = ("revenue", "conversions", "cpa", "spend", "roas", "channel", "platform")
NAME_FLOOR = 16
"""A campaign name wraps to fit, but onto lines no narrower than this."""


@dataclass(frozen=True)
class _Column:
    key: str
    heading: str
    cells: list[Text]
    justify: JustifyMethod = "left"


@dataclass(frozen=True)
class _FittedTable:
    """A table that fits the terminal without cutting a value: the campaign name wraps and,
    if that is not enough, the least important columns are left out (and a dim line says so).
    """

    title: Text
    names: list[Text]
    columns: list[_Column]
    keep: str | None = None

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        columns = list(self.columns)
        dropped: list[str] = []
        for key in DROP_ORDER:
            if self._fits(console, options, columns):
                break
            victim = next((c for c in columns if c.key == key and c.key != self.keep), None)
            if victim is not None:
                columns.remove(victim)
                dropped.append(victim.heading)
        yield self._table(columns)
        if dropped:
            left_out = ", ".join(dropped)
            yield Text(messages.columns_left_out(left_out), style="dim")

    def _table(self, columns: list[_Column], name_width: int | None = None) -> RichTable:
        table = RichTable(title=self.title, title_justify="left")
        table.add_column("Campaign", width=name_width, overflow="fold")
        for column in columns:
            table.add_column(column.heading, justify=column.justify, no_wrap=True)
        for i, name in enumerate(self.names):
            table.add_row(name, *(column.cells[i] for column in columns))
        return table

    def _fits(self, console: Console, options: ConsoleOptions, columns: list[_Column]) -> bool:
        """Whether the columns fit at their full width beside a name wrapped at NAME_FLOOR."""
        longest = max((name.cell_len for name in self.names), default=0)
        floor = max(len("Campaign"), min(NAME_FLOOR, longest))
        unbounded = options.update_width(10_000)
        width = Measurement.get(console, unbounded, self._table(columns, floor)).maximum
        return width <= options.max_width


def _suggestions(answer: Suggestions) -> RenderableType:
    if not answer.candidates:
        lines = [messages.no_campaign_called(answer.text, "kpibot kpi list")]
    else:
        lines = [messages.did_you_mean(answer.text, ambiguous=answer.ambiguous)]
        lines += [f"  • {c.name} ({c.platform}, {c.currency})" for c in answer.candidates]
    if answer.sees is not None:
        lines.append(messages.channel_sees_only(answer.sees.describe()))
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
