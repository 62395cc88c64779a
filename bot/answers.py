"""What a query answers, before it is rendered for Slack, a terminal or JSON."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from bot.campaign import CampaignInfo
from bot.kpi import KpiValue, Totals
from bot.periods import Period


@dataclass(frozen=True, slots=True)
class Scope:
    """What a set of numbers is about: a campaign, a group, or a currency total."""

    type: str
    name: str
    id: int | None = None
    external_id: str | None = None
    platform: str | None = None
    channel: str | None = None

    @classmethod
    def of(cls, campaign: CampaignInfo) -> Scope:
        return cls(
            "campaign",
            campaign.name,
            campaign.id,
            campaign.external_id,
            campaign.platform,
            campaign.channel,
        )


@dataclass(frozen=True, slots=True)
class Comparison:
    label: str
    period: Period
    totals: Totals
    kpis: dict[str, KpiValue]
    change: dict[str, Decimal | None]


@dataclass(frozen=True, slots=True)
class CampaignCard:
    """One campaign over one period, compared with an earlier period."""

    scope: Scope
    period: Period
    currency: str
    totals: Totals
    kpis: dict[str, KpiValue]
    data_from: date | None
    data_through: date | None
    comparison: Comparison | None
    query_text: str = ""

    @property
    def has_customers(self) -> bool:
        return self.totals.new_customers > 0 or (
            self.comparison is not None and self.comparison.totals.new_customers > 0
        )


@dataclass(frozen=True, slots=True)
class Row:
    scope: Scope
    currency: str
    kpis: dict[str, KpiValue]
    data_through: date | None = None


@dataclass(frozen=True, slots=True)
class Table:
    """A list of campaigns or totals; `kind` is list, top, bottom, channel, platform or all."""

    kind: str
    title: str
    period: Period | None
    rows: tuple[Row, ...]
    columns: tuple[str, ...]
    rank_kpi: str | None = None
    note: str = ""
    query_text: str = ""
    as_of: date | None = None


@dataclass(frozen=True, slots=True)
class Suggestions:
    """No single campaign matched: the best candidates, to pick from."""

    text: str
    candidates: tuple[CampaignInfo, ...]
    period: Period
    compare: str
    ambiguous: bool


@dataclass(frozen=True, slots=True)
class Help:
    commands: tuple[tuple[str, str, str], ...]
    periods: tuple[tuple[str, str], ...]
    kpis: tuple[tuple[str, str], ...] = field(default=())


Answer = CampaignCard | Table | Suggestions | Help
