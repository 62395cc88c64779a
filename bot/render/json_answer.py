"""JSON for scripts: exact decimal strings for money and ratios, integers for counts."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from bot import messages
from bot.access.model import Visibility
from bot.answers import (
    Answer,
    CampaignCard,
    Comparison,
    Coverage,
    Help,
    Row,
    Scope,
    Suggestions,
    Table,
)
from bot.formatting import decimal_text
from bot.kpi import KPI_BY_KEY, MEASURES, KpiValue, Totals, Unit
from bot.periods import Period
from bot.render.card_fields import basis_note


def _value(key: str, value: KpiValue) -> Any:
    if value is None:
        return None
    if isinstance(value, int):
        return value
    unit = KPI_BY_KEY[key].unit
    if unit is Unit.COUNT:
        return count_json(value)
    return decimal_text(value, money=unit is Unit.MONEY)


def count_json(value: Decimal) -> int | float | str:
    """A count as a JSON number: whole counts stay integers (108), a fractional one (2.5
    conversions) is a number whose digits are exactly the stored ones; past what a float
    holds exactly it is a decimal string."""
    if value == value.to_integral_value():
        return int(value)
    number = float(value)
    return number if Decimal(repr(number)) == value else decimal_text(value, money=False)


def _kpis(kpis: dict[str, KpiValue]) -> dict[str, Any]:
    return {key: _value(key, value) for key, value in kpis.items()}


def kpis_json(kpis: dict[str, KpiValue]) -> dict[str, Any]:
    """KPI values as `kpibot kpi --json` prints them, for other documents (digests)."""
    return _kpis(kpis)


def _change(change: dict[str, Decimal | None]) -> dict[str, Any]:
    return {key: None if v is None else decimal_text(v, money=False) for key, v in change.items()}


def _period(period: Period | None) -> dict[str, str] | None:
    if period is None:
        return None
    return {"start": period.start.isoformat(), "end": period.end.isoformat(), "label": period.label}


def _day(day: date | None) -> str | None:
    return day.isoformat() if day else None


def _coverage(coverage: Coverage | None) -> dict[str, int] | None:
    if coverage is None:
        return None
    return {"days_with_data": coverage.days_with_data, "days_in_period": coverage.days_in_period}


def _measured(totals: Totals) -> dict[str, int]:
    """Per measure, the days that reported it (of coverage.days_with_data): 0 is unmeasured."""
    return {_MEASURE_KEYS.get(m, m): totals.measured_days(m) for m in ("spend_micros", *MEASURES)}


_MEASURE_KEYS = {"spend_micros": "spend", "revenue_micros": "revenue"}


def _basis(comparison: Comparison) -> dict[str, Any] | None:
    """Null when the change compares the two whole periods."""
    basis = comparison.basis
    if basis is None:
        return None
    return {
        "reason": basis.reason.value,
        "note": basis_note(comparison),
        "current": _period(basis.current),
        "previous": _period(basis.previous),
        "days": basis.days,
        "current_kpis": _kpis(basis.current_kpis) if basis.current else None,
        "previous_kpis": _kpis(basis.previous_kpis) if basis.previous else None,
    }


def _scope(scope: Scope) -> dict[str, Any]:
    return {
        "type": scope.type,
        "id": scope.external_id,
        "name": scope.name,
        "platform": scope.platform,
        "channel": scope.channel,
    }


def scope_json(scope: Scope) -> dict[str, Any]:
    """A scope as `kpibot kpi --json` prints it."""
    return _scope(scope)


def _row(row: Row) -> dict[str, Any]:
    return {
        "scope": _scope(row.scope),
        "currency": row.currency,
        "data_through": row.data_through.isoformat() if row.data_through else None,
        "kpis": _kpis(row.kpis),
    }


def access_json(sees: Visibility | None) -> dict[str, list[str]] | None:
    """A channel's limit as `"access"` in JSON; null when the channel sees everything."""
    if sees is None or not sees.limited:
        return None
    return {
        "platforms": sorted(sees.platforms),
        "accounts": sorted(sees.accounts),
        "campaigns": list(sees.campaigns),
    }


def answer_json(answer: Answer) -> dict[str, Any]:
    """The JSON document `kpibot kpi … --json` prints."""
    if isinstance(answer, CampaignCard):
        document: dict[str, Any] = {
            "scope": _scope(answer.scope),
            "period": _period(answer.period),
            "data_from": _day(answer.data_from),
            "data_through": _day(answer.data_through),
            "coverage": _coverage(answer.coverage),
            "currency": answer.currency,
            "measured_days": _measured(answer.totals),
            "kpis": _kpis(answer.kpis),
        }
        if answer.comparison is not None:
            comparison = answer.comparison
            document["previous"] = {
                "label": comparison.label,
                "compare": comparison.compare.value,
                "period": _period(comparison.period),
                "data_from": _day(comparison.data_from),
                "data_through": _day(comparison.data_through),
                "coverage": _coverage(comparison.coverage),
                "measured_days": _measured(comparison.totals),
                "kpis": _kpis(comparison.kpis),
            }
            document["change"] = _change(comparison.change)
            document["change_basis"] = _basis(comparison)
        document["access"] = access_json(answer.sees)
        return document
    if isinstance(answer, Table):
        return {
            "type": answer.kind,
            "title": answer.title,
            "period": _period(answer.period),
            "rank_kpi": answer.rank_kpi,
            "note": answer.note or None,
            "rows": [_row(r) for r in answer.rows],
            "access": access_json(answer.sees),
        }
    if isinstance(answer, Suggestions):
        if answer.candidates:
            message = messages.did_you_mean(answer.text, ambiguous=answer.ambiguous)
        else:
            message = messages.no_campaign_called(answer.text, "kpibot kpi list")
        return error_json(
            "ambiguous" if answer.ambiguous else "unknown_campaign",
            message,
            text=answer.text,
            candidates=[_scope(Scope.of(c)) for c in answer.candidates],
            access=access_json(answer.sees),
        )
    assert isinstance(answer, Help)
    return {
        "commands": [{"usage": u, "description": d, "example": e} for u, d, e in answer.commands],
        "periods": [{"example": e, "description": d} for e, d in answer.periods],
        "kpis": [{"key": k, "label": label} for k, label in answer.kpis],
    }


def error_json(code: str, message: str, **details: Any) -> dict[str, Any]:
    """Every failure `--json` reports: {"error": {"code", "message", …details}}."""
    return {"error": {"code": code, "message": message, **details}}
