"""What a campaign card shows, shared by every renderer."""

from __future__ import annotations

from bot.answers import CampaignCard

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
    if card.data_through < card.period.end:
        return f"data through {card.data_through} (period ends {card.period.end})"
    return f"data through {card.data_through}"
