"""What a campaign card shows, shared by every renderer."""

from __future__ import annotations

from datetime import date

from bot.answers import BasisReason, CampaignCard, Comparison, Coverage
from bot.kpi import KPI_BY_KEY, Totals
from bot.messages import plural
from bot.periods import Period

CARD_KPIS = (
    "spend",
    "impressions",
    "clicks",
    "ctr",
    "cpc",
    "cpm",
    "leads",
    "cpl",
    "conversions",
    "cpa",
    "cvr",
    "revenue",
    "roas",
    "roi",
)
CUSTOMER_KPIS = ("new_customers", "cac", "ltv_cac")


def card_kpi_keys(card: CampaignCard) -> tuple[str, ...]:
    """The KPIs a card shows; customer KPIs only when new-customer data exists."""
    return CARD_KPIS + CUSTOMER_KPIS if card.has_customers else CARD_KPIS


def freshness(card: CampaignCard) -> str:
    """'data through 2025-08-12', saying so when the period runs past the newest data."""
    if card.data_through is None:
        return "no data in this period"
    covered = ""
    if card.coverage is not None and not card.coverage.complete:
        covered = f", {_days_of(card.coverage)}"
    if card.data_through < card.period.end:
        return f"data through {card.data_through} (period ends {card.period.end}{covered})"
    return f"data through {card.data_through}" + (f" ({covered[2:]})" if covered else "")


def comparison_context(comparison: Comparison) -> str:
    """'vs previous period (2025-08-07–2025-08-09, data 3 of 3 days)'."""
    coverage = comparison.coverage
    data = ""
    if coverage is not None:
        data = f", data {_days_of(coverage)}"
    return f"vs {comparison.label} ({_dates(comparison.period)}{data})"


def _days_of(coverage: Coverage) -> str:
    """'3 of 7 days', '1 of 1 day'."""
    return f"{coverage.days_with_data:,} of {plural(coverage.days_in_period, 'day')}"


def _dates(period: Period) -> str:
    if period.start == period.end:
        return period.start.isoformat()
    return f"{period.start}–{period.end}"


def _span(first: date | None, last: date | None) -> str:
    if first is None or last is None:
        return "no days"
    return first.isoformat() if first == last else f"{first}–{last}"


def basis_note(comparison: Comparison) -> str | None:
    """Why the change covers fewer days than the periods, or none; None for whole periods."""
    basis = comparison.basis
    if basis is None:
        return None
    if basis.reason is BasisReason.NO_DATA:
        return "No change shown: this period has no data."
    if basis.reason is BasisReason.NO_COMPARISON_DATA:
        return f"No change shown: {comparison.label} ({_dates(comparison.period)}) has no data."
    if basis.current is None or basis.previous is None:
        return (
            f"No change shown: {comparison.label} has data for "
            f"{_span(comparison.data_from, comparison.data_through)}, "
            "never on the same days as this period."
        )
    gaps = ""
    if basis.days < basis.current.days:
        gaps = f" ({plural(basis.days, 'day')} with data on both sides)"
    return (
        f"Change compares only the days both periods have data for: "
        f"{_dates(basis.current)} with {_dates(basis.previous)}{gaps}."
    )


def _measure_label(measure: str) -> str:
    return KPI_BY_KEY[measure.removesuffix("_micros")].label


def measured_note(totals: Totals) -> str | None:
    """Which measures the data does not report (shown as —), or reports on only some days."""
    parts = []
    unmeasured = [_measure_label(m) for m in totals.unmeasured]
    if unmeasured and not totals.is_empty:
        parts.append(f"Not measured: {', '.join(unmeasured)}.")
    partly = [
        f"{_measure_label(m)} on {totals.measured_days(m):,} of {plural(totals.days, 'day')}"
        for m in totals.partly_measured
    ]
    if partly:
        parts.append(f"Partly measured: {', '.join(partly)}; KPIs that need them are —.")
    return " ".join(parts) or None
