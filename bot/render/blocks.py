"""Answers as Slack Block Kit messages (pure: builds dicts, never talks to Slack).

Every message is ``{"text": <escaped fallback>, "blocks": [...]}``; the handler adds
``response_type``. Text from data or users (campaign names, platforms, query text, notes) is
escaped in every mrkdwn string, so it can never mention, broadcast, link or format (see
bot/render/mrkdwn.py); plain_text strings (headers, buttons) are only length-capped. Long
answers are paginated so that any number of rows, with any name lengths, stays inside Slack's
limits.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from bot import messages
from bot.access.model import Visibility
from bot.actions import ACTION_PAGE, ACTION_PICK, ACTION_SHARE, CardRef, PageRef
from bot.answers import Answer, CampaignCard, Comparison, Help, Row, Suggestions, Table
from bot.campaign import CampaignInfo
from bot.formatting import UNDEFINED, format_change, format_kpi
from bot.kpi import KPI_BY_KEY, Unit, is_improvement
from bot.periods import DEFAULT_PERIOD_TEXT, Period
from bot.query import Compare
from bot.render.card_fields import (
    basis_note,
    card_kpi_keys,
    comparison_context,
    freshness,
    measured_note,
)
from bot.render.mrkdwn import cut, escape, escaped, plain

__all__ = [
    "MAX_PICKS",
    "PAGE_SIZE",
    "answer_message",
    "apology_message",
    "card_message",
    "change_text",
    "error_message",
    "help_message",
    "suggestions_message",
    "table_message",
]

PAGE_SIZE = 15
"""Table rows per message page (each row is one section block)."""
MAX_PICKS = 5
"""Most "did you mean" buttons in one message."""

MAX_BLOCKS = 50
MAX_TEXT = 3000  # fallback text and section text
MAX_FIELD = 2000  # section field and context element text
MAX_HEADER = 150
MAX_BUTTON = 75
MAX_VALUE = 2000  # button value

GOOD = ":large_green_circle:"
BAD = ":red_circle:"
UP = "↑"
DOWN = "↓"

_NAME = 1200  # escaped campaign name in a table row or card line
_SHORT = 200  # escaped platform / channel / currency
_USER_ID = re.compile(r"[UW][A-Z0-9]{2,30}")


# --------------------------------------------------------------------------- public API


def answer_message(answer: Answer, *, page: int = 0, locale: str = "en") -> dict[str, Any]:
    """Any answer as a message; `page` only matters for tables."""
    if isinstance(answer, CampaignCard):
        return card_message(answer, locale=locale)
    if isinstance(answer, Table):
        return table_message(answer, page=page, locale=locale)
    if isinstance(answer, Suggestions):
        return suggestions_message(answer)
    return help_message(answer)


def card_message(
    card: CampaignCard,
    *,
    shared_by: str | None = None,
    with_actions: bool = True,
    locale: str = "en",
) -> dict[str, Any]:
    """One campaign over one period: KPI fields with change vs the comparison period."""
    scope = card.scope
    period = card.period
    name = _one_line(scope.name) or "Campaign"
    blocks: list[dict[str, Any]] = [
        _header(f"{name} · {_one_line(period.label)}"),
        _section(f"*{escaped(_one_line(period.label), 200)}* · {_dates(period)}"),
    ]
    comparison = card.comparison
    fields = [_kpi_field(card, key, comparison, locale) for key in card_kpi_keys(card)]
    blocks += [_fields_section(fields[i : i + 10]) for i in range(0, len(fields), 10)]

    where = " · ".join(_one_line(x) for x in (scope.platform, scope.channel) if x)
    context = [freshness(card), card.currency, where]
    if comparison is not None:
        context.append(comparison_context(comparison))
    blocks.append(_context(escaped(item, MAX_FIELD) for item in context if item.strip()))
    notes = [measured_note(card.totals), comparison and basis_note(comparison)]
    if any(notes):
        blocks.append(_context(escaped(note, MAX_FIELD) for note in notes if note))
    blocks += _access(card.sees)
    if shared_by is not None and _USER_ID.fullmatch(shared_by):
        blocks.append(_context([f"Shared by <@{shared_by}>"]))
    if with_actions and scope.id is not None:
        ref = CardRef(scope.id, period, _card_compare(comparison))
        button = _button("Share in channel", ACTION_SHARE, ref.encode(), style="primary")
        blocks.append(_actions([button]))

    spend = format_kpi("spend", card.kpis.get("spend"), card.currency, locale)
    roas = format_kpi("roas", card.kpis.get("roas"), card.currency, locale)
    text = f"{name} · {_one_line(period.label)} ({_dates(period)}): Spend {spend} · ROAS {roas}"
    return _message(escape(text), blocks)


def table_message(table: Table, *, page: int = 0, locale: str = "en") -> dict[str, Any]:
    """One page of a list/top/bottom/channel/platform/all answer, with Previous/Next buttons."""
    rows = table.rows
    pages = max(1, -(-len(rows) // PAGE_SIZE))
    page = min(max(page, 0), pages - 1)
    period = table.period
    title = _one_line(table.title) or "Campaigns"
    heading = f"{title} · {_one_line(period.label)}" if period else title
    blocks: list[dict[str, Any]] = [_header(heading)]
    if period is not None:
        blocks.append(_context([f"{escaped(_one_line(period.label), 200)}: {_dates(period)}"]))
    blocks += _access(table.sees)

    numbers = _row_numbers(rows, per_currency=_ranked_per_currency(table))
    first = page * PAGE_SIZE
    for index in range(first, min(first + PAGE_SIZE, len(rows))):
        blocks.append(_section(_row_text(table, rows[index], numbers[index], locale)))
    if not rows and not table.note.strip():
        where = f"{escaped(period.label, 200)} ({_dates(period)})" if period else None
        blocks.append(_section(messages.nothing_in(where, "/kpi list")))

    if table.note.strip():
        blocks.append(_context([escaped(table.note, MAX_FIELD)]))
    count = messages.plural(len(rows), "row")
    if pages > 1:
        blocks.append(_context([f"Page {page + 1} of {pages} · {count}"]))
        buttons = _page_buttons(table.query_text, page, pages, table.as_of)
        if buttons:
            blocks.append(_actions(buttons))

    text = f"{heading} ({count}" + (f", page {page + 1} of {pages})" if pages > 1 else ")")
    return _message(escape(text), blocks)


def suggestions_message(s: Suggestions) -> dict[str, Any]:
    """No single campaign matched: "did you mean" buttons, or a pointer to `/kpi list`."""
    asked = escaped(_one_line(s.text), 500)
    if not s.candidates:
        intro = messages.no_campaign_called(asked, "/kpi list")
        return _message(intro, [_section(intro), *_access(s.sees)])
    picks = s.candidates[:MAX_PICKS]
    intro = messages.did_you_mean(asked, ambiguous=s.ambiguous)
    lines = [_candidate_line(c) for c in picks]
    compare = _compare_of(s.compare)
    buttons = [
        _button(
            _candidate_label(c),
            f"{ACTION_PICK}_{i}",
            CardRef(c.id, s.period, compare).encode(),
        )
        for i, c in enumerate(picks)
    ]
    blocks = [
        _section(intro),
        _section("\n".join(lines)),
        _context([f"{escaped(_one_line(s.period.label), 200)}: {_dates(s.period)}"]),
        *_access(s.sees),
        _actions(buttons),
    ]
    return _message(intro, blocks)


def help_message(h: Help) -> dict[str, Any]:
    """The query language, generated from the Help answer's commands, periods and KPIs."""
    blocks: list[dict[str, Any]] = [_header("/kpi — campaign KPIs")]
    commands = [
        f"`/kpi {escaped(usage, 300)}` — {escaped(what, 300)}"
        + (f", e.g. `/kpi {escaped(ex, 300)}`" if ex.strip() and ex != usage else "")
        for usage, what, ex in h.commands
    ]
    blocks += _packed("*Commands*", commands, "\n")
    periods = [f"`{escaped(ex, 300)}` — {escaped(what, 300)}" for ex, what in h.periods]
    blocks += _packed(f"*Periods* (default: `{escape(DEFAULT_PERIOD_TEXT)}`)", periods, "\n")
    kpis = [f"`{escaped(key, 100)}` {escaped(label, 100)}" for key, label in h.kpis]
    blocks += _packed("*KPIs*", kpis, " · ")
    if len(blocks) > MAX_BLOCKS:
        blocks = [*blocks[: MAX_BLOCKS - 1], _context(["… (help cut to fit one message)"])]
    usages = "; ".join(f"/kpi {usage}" for usage, _, _ in h.commands)
    return _message(escape(f"/kpi help: {usages}"), blocks)


def error_message(text: str) -> dict[str, Any]:
    """A QueryError (already worded for the user), escaped; backticks keep their code style."""
    body = escaped(text.strip() or "That query could not be read.", MAX_TEXT - 12, code=True)
    return _message(body, [_section(f":warning: {body}")])


def apology_message(reference: str) -> dict[str, Any]:
    """An unexpected failure: an apology with a reference to find it in the logs."""
    ref = escaped(_one_line(reference) or "unknown", 100)
    body = (
        f"Sorry, something went wrong (ref `{ref}`). Please try again in a moment; "
        "if it keeps happening, pass the ref on to whoever runs kpibot."
    )
    return _message(body, [_section(f":warning: {body}")])


# --------------------------------------------------------------------------- card parts


def _access(sees: Visibility | None) -> list[dict[str, Any]]:
    """The limited channel's line ("This channel sees only platform meta_ads"), or nothing."""
    if sees is None:
        return []
    return [_context([escaped(messages.channel_sees_only(sees.describe()), MAX_FIELD)])]


def _kpi_field(card: CampaignCard, key: str, comparison: Comparison | None, locale: str) -> str:
    label = escape(KPI_BY_KEY[key].label)
    value = escape(format_kpi(key, card.kpis.get(key), card.currency, locale))
    if comparison is None:
        return f"*{label}*\n{value}"
    change = change_text(key, comparison.change.get(key), locale)
    basis = comparison.basis
    if basis is not None and basis.previous is not None:
        # The change is over the days both sides have: say what it was on those days.
        now = escape(format_kpi(key, basis.current_kpis.get(key), card.currency, locale))
        before = escape(format_kpi(key, basis.previous_kpis.get(key), card.currency, locale))
        return f"*{label}*\n{value}  {change}\n_same days: {now} vs {before}_"
    before = escape(format_kpi(key, comparison.kpis.get(key), card.currency, locale))
    return f"*{label}*\n{value}  {change}\n_was {before}_"


def change_text(key: str, change: Decimal | None, locale: str) -> str:
    """'↑ +12.3%' with a green or red dot by the KPI's direction of good; '—' undefined."""
    if change is None:
        return UNDEFINED
    text = escape(format_change(change, locale))
    if change == 0 or text.startswith("±"):
        return text
    good = is_improvement(key, change)
    arrow = UP if change > 0 else DOWN
    if good is None:
        return f"{arrow} {text}"
    return f"{GOOD if good else BAD} {arrow} {text}"


def _card_compare(comparison: Comparison | None) -> Compare:
    return Compare.PREVIOUS if comparison is None else comparison.compare


# --------------------------------------------------------------------------- table parts


def _ranked_per_currency(table: Table) -> bool:
    """Money KPIs are ranked within each currency (see KpiService._rank)."""
    return table.rank_kpi is not None and KPI_BY_KEY[table.rank_kpi].unit is Unit.MONEY


def _row_numbers(rows: Sequence[Row], *, per_currency: bool = False) -> list[int | None]:
    """Rank numbers of campaign rows (1, 2, …, again from 1 in each currency of a per-currency
    ranking); totals are not numbered."""
    numbers: list[int | None] = []
    n = 0
    currency = None
    for row in rows:
        if row.scope.type == "total":
            numbers.append(None)
            continue
        if per_currency and row.currency != currency:
            n, currency = 0, row.currency
        n += 1
        numbers.append(n)
    return numbers


def _row_text(table: Table, row: Row, number: int | None, locale: str) -> str:
    scope = row.scope
    name = escaped(_one_line(scope.name), _NAME)
    currency = escaped(_one_line(row.currency), _SHORT)
    if table.kind == "list":
        through = row.data_through.isoformat() if row.data_through else UNDEFINED
        details = [_short(scope.platform), _short(scope.channel), currency]
        line = " · ".join([*(d for d in details if d), f"data through {through}"])
        rank = f"{number}. " if number is not None else ""
        return _cut(f"*{rank}{name}*\n{line}")
    cells = " · ".join(
        f"{escape(KPI_BY_KEY[key].label)} "
        f"{escape(format_kpi(key, row.kpis.get(key), row.currency, locale))}"
        for key in table.columns
    )
    if scope.type == "total" or number is None:
        text = f"*{name}*" + (f"\n*{cells}*" if cells else "")
        return _cut(text)
    about = " · ".join(d for d in (_short(scope.platform), currency) if d)
    text = f"*{number}. {name}* ({about})" + (f"\n{cells}" if cells else "")
    return _cut(text)


def _page_buttons(query: str, page: int, pages: int, as_of: date | None) -> list[dict[str, Any]]:
    """Previous/Next where there is such a page; none when the query cannot be re-asked."""
    if not query.strip():
        return []
    buttons = []
    for label, suffix, target in (("Previous", "prev", page - 1), ("Next", "next", page + 1)):
        if 0 <= target < pages:
            value = PageRef(query, target, as_of).encode()
            if len(value) > MAX_VALUE:
                return []
            buttons.append(_button(label, f"{ACTION_PAGE}_{suffix}", value))
    return buttons


# --------------------------------------------------------------------------- suggestion parts


def _candidate_line(c: CampaignInfo) -> str:
    details = " · ".join(
        d for d in (_short(c.platform), _short(c.channel), _short(c.currency)) if d
    )
    name = escaped(_one_line(c.name), 400) or "(no name)"
    return f"• *{name}*" + (f" — {details}" if details else "")


def _candidate_label(c: CampaignInfo) -> str:
    name = _one_line(c.name) or f"Campaign {c.id}"
    platform = _one_line(c.platform)
    with_platform = f"{name} ({platform})"
    if platform and len(with_platform) <= MAX_BUTTON:
        return with_platform
    return plain(name, MAX_BUTTON)


def _compare_of(value: str) -> Compare:
    try:
        return Compare(value)
    except ValueError:
        return Compare.PREVIOUS


# --------------------------------------------------------------------------- block helpers


def _message(fallback: str, blocks: list[dict[str, Any]]) -> dict[str, Any]:
    """The message dict; `fallback` is already-escaped mrkdwn (notifications, screen readers)."""
    return {"text": _cut(fallback, MAX_TEXT), "blocks": blocks[:MAX_BLOCKS]}


def _header(text: str) -> dict[str, Any]:
    return {"type": "header", "text": _plain(plain(text, MAX_HEADER))}


def _section(mrkdwn: str) -> dict[str, Any]:
    return {"type": "section", "text": _mrkdwn(_cut(mrkdwn, MAX_TEXT))}


def _fields_section(fields: Sequence[str]) -> dict[str, Any]:
    return {"type": "section", "fields": [_mrkdwn(_cut(f, MAX_FIELD)) for f in fields[:10]]}


def _context(items: Iterable[str]) -> dict[str, Any]:
    elements = [_mrkdwn(_cut(item, MAX_FIELD)) for item in items if item.strip()][:10]
    return {"type": "context", "elements": elements or [_mrkdwn(UNDEFINED)]}


def _actions(buttons: list[dict[str, Any]]) -> dict[str, Any]:
    return {"type": "actions", "elements": buttons[:25]}


def _button(text: str, action_id: str, value: str, *, style: str | None = None) -> dict[str, Any]:
    button: dict[str, Any] = {
        "type": "button",
        "text": _plain(plain(text, MAX_BUTTON)),
        "action_id": action_id,
        "value": value,
    }
    if style is not None:
        button["style"] = style
    return button


def _plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text if text.strip() else UNDEFINED, "emoji": True}


def _mrkdwn(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": text if text.strip() else UNDEFINED}


def _packed(title: str, items: Sequence[str], sep: str) -> list[dict[str, Any]]:
    """Sections holding `title` and then as many items each as fit in a section's text."""
    if not items:
        return []
    sections: list[dict[str, Any]] = []
    current = title + "\n"
    joiner = ""
    for item in items:
        piece = _cut(item, MAX_TEXT // 2)
        if len(current) + len(joiner) + len(piece) > MAX_TEXT:
            sections.append(_section(current))
            current, joiner = "", ""
        current += joiner + piece
        joiner = sep
    sections.append(_section(current))
    return sections


# The primitives other messages (the morning digest) build with.
header_block = _header
section_block = _section
fields_block = _fields_section
context_block = _context
message_of = _message
packed_sections = _packed


def _cut(text: str, limit: int = MAX_TEXT) -> str:
    """Already-escaped mrkdwn cut to `limit` without splitting an &amp;-style entity."""
    return cut(text, limit)


def one_line(text: str | None) -> str:
    """Whitespace (newlines included) collapsed, for names shown on one line."""
    return " ".join(text.split()) if text else ""


_one_line = one_line


def _short(text: str | None) -> str:
    return escaped(_one_line(text), _SHORT)


def _dates(period: Period) -> str:
    if period.start == period.end:
        return period.start.isoformat()
    return f"{period.start}–{period.end}"
