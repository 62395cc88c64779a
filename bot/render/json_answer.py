"""JSON for scripts: exact decimal strings for money and ratios, integers for counts."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from bot.answers import Answer, CampaignCard, Help, Row, Scope, Suggestions, Table
from bot.formatting import decimal_text
from bot.kpi import KPI_BY_KEY, KpiValue, Unit
from bot.periods import Period


def _value(key: str, value: KpiValue) -> Any:
    if value is None:
        return None
    if isinstance(value, int):
        return value
    return decimal_text(value, money=KPI_BY_KEY[key].unit is Unit.MONEY)


def _kpis(kpis: dict[str, KpiValue]) -> dict[str, Any]:
    return {key: _value(key, value) for key, value in kpis.items()}


def _change(change: dict[str, Decimal | None]) -> dict[str, Any]:
    return {key: None if v is None else decimal_text(v, money=False) for key, v in change.items()}


def _period(period: Period | None) -> dict[str, str] | None:
    if period is None:
        return None
    return {"start": period.start.isoformat(), "end": period.end.isoformat(), "label": period.label}


def _scope(scope: Scope) -> dict[str, Any]:
    return {
        "type": scope.type,
        "id": scope.external_id,
        "name": scope.name,
        "platform": scope.platform,
        "channel": scope.channel,
    }


def _row(row: Row) -> dict[str, Any]:
    return {
        "scope": _scope(row.scope),
        "currency": row.currency,
        "data_through": row.data_through.isoformat() if row.data_through else None,
        "kpis": _kpis(row.kpis),
    }


def answer_json(answer: Answer) -> dict[str, Any]:
    """The JSON document `kpibot kpi … --json` prints."""
    if isinstance(answer, CampaignCard):
        document: dict[str, Any] = {
            "scope": _scope(answer.scope),
            "period": _period(answer.period),
            "data_from": answer.data_from.isoformat() if answer.data_from else None,
            "data_through": answer.data_through.isoformat() if answer.data_through else None,
            "currency": answer.currency,
            "kpis": _kpis(answer.kpis),
        }
        if answer.comparison is not None:
            document["previous"] = {
                "label": answer.comparison.label,
                "period": _period(answer.comparison.period),
                "kpis": _kpis(answer.comparison.kpis),
            }
            document["change"] = _change(answer.comparison.change)
        return document
    if isinstance(answer, Table):
        return {
            "type": answer.kind,
            "title": answer.title,
            "period": _period(answer.period),
            "rank_kpi": answer.rank_kpi,
            "note": answer.note or None,
            "rows": [_row(r) for r in answer.rows],
        }
    if isinstance(answer, Suggestions):
        return {
            "error": "ambiguous" if answer.ambiguous else "unknown_campaign",
            "text": answer.text,
            "candidates": [_scope(Scope.of(c)) for c in answer.candidates],
        }
    assert isinstance(answer, Help)
    return {
        "commands": [{"usage": u, "description": d, "example": e} for u, d, e in answer.commands],
        "periods": [{"example": e, "description": d} for e, d in answer.periods],
        "kpis": [{"key": k, "label": label} for k, label in answer.kpis],
    }
