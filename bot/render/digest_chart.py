"""The digest's 14-day trend chart as a PNG: spend, and revenue where measured, per currency.

Drawn on a matplotlib `Figure` with the Agg canvas directly, never through pyplot: no global
figure state, so scheduler threads can draw at the same time, and no display is needed.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from bot.digests.content import DigestPreview

__all__ = ["MAX_CHART_CURRENCIES", "trend_png"]

MAX_CHART_CURRENCIES = 4
"""Currencies drawn (one panel each, 300 px high); the digest's blocks list them all."""
WIDTH_PX = 800
PANEL_PX = 300
DPI = 100
SPEND_COLOUR = "#4a6fa5"
REVENUE_COLOUR = "#3c9d5d"


def trend_png(preview: DigestPreview) -> bytes | None:
    """The chart's PNG bytes; None when there is no trend to draw."""
    spend = [(code, days) for code, days in preview.trend if days][:MAX_CHART_CURRENCIES]
    if not spend:
        return None
    revenue = dict(preview.revenue_trend)
    figure = Figure(figsize=(WIDTH_PX / DPI, PANEL_PX * len(spend) / DPI), dpi=DPI)
    FigureCanvasAgg(figure)
    axes = figure.subplots(len(spend), 1, squeeze=False)[:, 0]
    for ax, (currency, days) in zip(axes, spend, strict=True):
        _panel(ax, currency, days, revenue.get(currency, ()))
    figure.tight_layout()
    out = io.BytesIO()
    figure.savefig(out, format="png", dpi=DPI)
    return out.getvalue()


def _panel(
    ax: Axes,
    currency: str,
    spend: Sequence[tuple[date, Decimal]],
    revenue: Sequence[tuple[date, Decimal | None]],
) -> None:
    days = [d for d, _ in spend]
    x = list(range(len(days)))
    ax.plot(x, [float(v) for _, v in spend], color=SPEND_COLOUR, marker="o", markersize=3)
    labels = ["Spend"]
    by_day = dict(revenue)
    if any(by_day.get(d) is not None for d in days):
        # A day without measured revenue is a gap in the line, never a zero.
        values = [_float(by_day.get(d)) for d in days]
        ax.plot(x, values, color=REVENUE_COLOUR, marker="o", markersize=3)
        labels.append("Revenue")
    ax.set_title(f"{currency} · last {len(days)} days", loc="left", fontsize=10)
    ax.set_ylabel(currency)
    ax.set_ylim(bottom=0)
    ticks = x[::-2][::-1]  # every other day, ending on the digest's day
    ax.set_xticks(ticks, [f"{days[i].day} {days[i]:%b}" for i in ticks], fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    ax.spines[["top", "right"]].set_visible(False)
    # Above the plot, right of the title, so it never hides a point.
    ax.legend(labels, loc="lower right", bbox_to_anchor=(1, 1), ncols=2, fontsize=8, frameon=False)


def _float(value: Decimal | None) -> float:
    return math.nan if value is None else float(value)
