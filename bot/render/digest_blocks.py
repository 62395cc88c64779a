"""The morning digest as a Slack Block Kit message (pure: builds dicts, never talks to Slack).

Campaign names, account names, the scope and the schedule come from data or users, so every
one is escaped; campaign lists are capped ("… and N more"), so any number of campaigns with any
names stays inside Slack's limits (50 blocks, 3,000 characters per section, 10 fields).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from babel.dates import format_date
from babel.numbers import format_decimal

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
from bot.formatting import UNDEFINED, format_kpi
from bot.kpi import KPI_BY_KEY, compare
from bot.render.blocks import (
    MAX_TEXT,
    change_text,
    context_block,
    fields_block,
    header_block,
    message_of,
    one_line,
    section_block,
)
from bot.render.mrkdwn import escape, escaped

__all__ = ["MAX_CURRENCIES", "MAX_LINES", "day_label", "digest_message", "format_points"]

MAX_CURRENCIES = 20
"""Currency blocks in one message (two blocks each; with the rest, within Slack's 50)."""
MAX_LINES = 10
"""Campaigns listed in one section before "… and N more"."""
PREVIEW_COMMAND = "/kpi digest preview"

_NAME = 200  # escaped campaign or account name in a list line
_SHORT = 500  # escaped scope / schedule text in the context line
_ROOM = 60  # kept free at the end of a list section for "… and N more"


def digest_message(preview: DigestPreview, *, locale: str = "en") -> dict[str, Any]:
    """The digest as posted: totals per currency, movers, campaigns that lost money."""
    content = preview.content
    day = day_label(preview.day, locale)
    title = messages.digest_title(day)
    blocks: list[dict[str, Any]] = [header_block(title), context_block(_about(preview))]
    if preview.incomplete is not None:
        blocks.append(section_block(f":warning: {_incomplete(preview.incomplete, day)}"))
    scope = escaped(one_line(preview.scope_text), _SHORT)
    if content.is_empty:
        empty = messages.digest_no_data(scope, day)
        blocks.append(section_block(empty))
        return message_of(escape(title) + f" · {empty}", blocks)

    days = DigestDays(preview.day)
    shown = content.totals[:MAX_CURRENCIES]
    for block in shown:
        blocks += _currency_blocks(block, days, locale)
    if len(content.totals) > len(shown):
        more = messages.more_currencies(len(content.totals) - len(shown), PREVIEW_COMMAND)
        blocks.append(context_block([more]))

    blocks.append({"type": "divider"})
    week = day_label(days.week_ago, locale)
    for heading, movers in (
        ("Top improvers", content.improvers),
        ("Top decliners", content.decliners),
    ):
        lines = [_mover_line(i, m, locale) for i, m in enumerate(movers, 1)]
        if not lines:
            share = f"{(MIN_SHARE_OF_DAILY_SPEND * 100).normalize()} %"
            lines = [f"_{messages.no_movers(MIN_CLICKS, share)}_"]
        blocks.append(section_block(_listed(f"*{heading}* · ROI vs {week}", lines, len(lines))))
    losing = content.losing_money
    if losing:
        lines = [_losing_line(m, locale) for m in losing[:MAX_LINES]]
        heading = f"*Lost money yesterday* ({messages.plural(len(losing), 'campaign')})"
        blocks.append(section_block(_listed(heading, lines, len(losing))))
    return message_of(_fallback(title, scope, preview, locale), blocks)


def day_label(day: date, locale: str = "en") -> str:
    """'Wed 2 Dec': the digest's day as people say it."""
    return format_date(day, "EEE d MMM", locale=locale)


def format_points(change: Decimal | None, locale: str = "en") -> str:
    """A ROI difference (0.05) in percentage points: '+5.0 pp', '−5.0 pp'; undefined '—'."""
    if change is None:
        return UNDEFINED
    points = change * 100
    text = format_decimal(abs(points), format="#,##0.0", locale=locale)
    if text.strip("0.,") == "":
        return "±0.0 pp"
    return ("+" if points > 0 else "−") + text + " pp"


# --------------------------------------------------------------------------- parts


def _about(preview: DigestPreview) -> list[str]:
    through = preview.data_through.isoformat() if preview.data_through else UNDEFINED
    about = [
        escaped(one_line(preview.scope_text), _SHORT),
        f"data through {through}",
        escaped(one_line(preview.schedule_text), _SHORT),
    ]
    if preview.sees is not None:  # one more element, not a block: the block budget is spent
        about.append(escaped(messages.channel_sees_only(preview.sees.describe()), _SHORT))
    return about


def _incomplete(missing: Sequence[str], day: str) -> str:
    names = [escaped(one_line(name), _NAME) for name in missing[:MAX_LINES]]
    listed = ", ".join(names)
    if len(missing) > len(names):
        listed += " " + messages.and_more(len(missing) - len(names))
    return messages.data_incomplete(listed, day)


def _currency_blocks(block: CurrencyBlock, days: DigestDays, locale: str) -> list[dict[str, Any]]:
    """The day's KPIs of one currency, each against the day before and a week earlier."""
    currency = block.currency
    vs_before = compare(block.kpis, block.previous_day)
    vs_week = compare(block.kpis, block.week_ago)
    before = day_label(days.day_before, locale).split()[0]
    week = day_label(days.week_ago, locale)
    fields = [
        f"*{escape(KPI_BY_KEY[key].label)}*\n"
        f"{escape(format_kpi(key, block.kpis.get(key), currency, locale))}\n"
        f"{change_text(key, vs_before.get(key), locale)} vs {escape(before)}\n"
        f"{change_text(key, vs_week.get(key), locale)} vs {escape(week)}"
        for key in DIGEST_KPIS
    ]
    kpis = {**section_block(f"*{escaped(currency, 200)}*"), **fields_block(fields)}
    month = block.month_to_date
    spend = format_kpi("spend", month.get("spend"), currency, locale)
    roas = format_kpi("roas", month.get("roas"), currency, locale)
    since = day_label(days.month_start, locale)
    mtd = escape(f"Month to date (since {since}): Spend {spend} · ROAS {roas}")
    return [kpis, context_block([mtd])]


def _mover_line(number: int, mover: Mover, locale: str) -> str:
    currency = mover.campaign.currency
    name = escaped(one_line(mover.campaign.name), _NAME) or "(no name)"
    roi = format_kpi("roi", mover.kpis.get("roi"), currency, locale)
    points = format_points(mover.roi_change, locale)
    spend = format_kpi("spend", mover.kpis.get("spend"), currency, locale)
    return f"{number}. *{name}* — ROI {escape(roi)} ({escape(points)}) · Spend {escape(spend)}"


def _losing_line(mover: Mover, locale: str) -> str:
    currency = mover.campaign.currency
    name = escaped(one_line(mover.campaign.name), _NAME) or "(no name)"
    spend = format_kpi("spend", mover.kpis.get("spend"), currency, locale)
    roi = format_kpi("roi", mover.kpis.get("roi"), currency, locale)
    return f"• *{name}* — Spend {escape(spend)} · ROI {escape(roi)}"


def _listed(heading: str, lines: Sequence[str], total: int) -> str:
    """A heading and as many of `lines` as fit one section, then "… and N more" of `total`."""
    text = heading
    shown = 0
    for line in lines:
        if len(text) + 1 + len(line) > MAX_TEXT - _ROOM:
            break
        text += "\n" + line
        shown += 1
    if total > shown:
        text += "\n" + messages.and_more(total - shown)
    return text


def _fallback(title: str, scope: str, preview: DigestPreview, locale: str) -> str:
    """Escaped one-line summary for notifications: spend and ROAS per currency."""
    parts = []
    for block in preview.content.totals:
        spend = format_kpi("spend", block.kpis.get("spend"), block.currency, locale)
        roas = format_kpi("roas", block.kpis.get("roas"), block.currency, locale)
        parts.append(escape(f"{block.currency} spend {spend} · ROAS {roas}"))
    warning = " · data incomplete" if preview.incomplete is not None else ""
    return f"{escape(title)} · {scope}{warning}: " + "; ".join(parts)
