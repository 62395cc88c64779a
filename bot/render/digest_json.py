"""The morning digest as JSON for scripts (`kpibot digest preview <id> --json`).

KPI values and campaign scopes use the vocabulary and number formats of `kpibot kpi --json`:
exact decimal strings for money and ratios, integers for counts, null for undefined.
"""

from __future__ import annotations

from typing import Any

from bot.answers import Scope
from bot.digests.content import CurrencyBlock, DigestPreview, Mover
from bot.formatting import decimal_text
from bot.render.json_answer import access_json, kpis_json, scope_json

__all__ = ["digest_json"]


def digest_json(preview: DigestPreview) -> dict[str, Any]:
    """Everything the digest says, every campaign included (no caps: this is data)."""
    content = preview.content
    incomplete = None if preview.incomplete is None else {"missing": list(preview.incomplete)}
    document = {
        "subscription": {
            "id": preview.subscription_id,
            "channel": preview.channel,
            "schedule": preview.schedule_text,
            "scope": preview.scope_text,
        },
        "day": preview.day.isoformat(),
        "data_through": preview.data_through.isoformat() if preview.data_through else None,
        "incomplete": incomplete,
        "totals": [_totals(block) for block in content.totals],
        "improvers": [_row(m) for m in content.improvers],
        "decliners": [_row(m) for m in content.decliners],
        "losing_money": [_row(m) for m in content.losing_money],
    }
    if preview.sees is not None:  # only in a limited channel: the documented shape stays
        document["access"] = access_json(preview.sees)
    return document


def _totals(block: CurrencyBlock) -> dict[str, Any]:
    return {
        "currency": block.currency,
        "kpis": kpis_json(block.kpis),
        "previous_day": kpis_json(block.previous_day),
        "week_ago": kpis_json(block.week_ago),
        "month_to_date": kpis_json(block.month_to_date),
    }


def _row(mover: Mover) -> dict[str, Any]:
    change = mover.roi_change
    return {
        "scope": scope_json(Scope.of(mover.campaign)),
        "currency": mover.campaign.currency,
        "kpis": kpis_json(mover.kpis),
        "roi_week_ago": kpis_json({"roi": mover.roi_week_ago})["roi"],
        "roi_change": None if change is None else decimal_text(change, money=False),
    }
