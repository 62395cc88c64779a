"""What a query answers, before it is rendered for Slack, a terminal or JSON."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import Enum

from bot.access.model import Visibility
from bot.campaign import CampaignInfo
from bot.kpi import KpiValue, Totals
from bot.periods import Period
from bot.query import Compare


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
class Coverage:
    """How much of a period has data: days with a row / days in the period."""

    days_with_data: int
    days_in_period: int

    @property
    def complete(self) -> bool:
        return self.days_with_data >= self.days_in_period


class BasisReason(Enum):
    """Why a change is computed over fewer days than the periods have, or not at all."""

    SAME_DAYS = "same_days"  # over the days both sides have data for
    NO_DATA = "no_data"  # this period has no data
    NO_COMPARISON_DATA = "no_comparison_data"  # the comparison period has no data
    NO_COMMON_DAYS = "no_common_days"  # both have data, but never on the same days


@dataclass(frozen=True, slots=True)
class ChangeBasis:
    """The days a change really compares, when the two periods do not cover the same ground.

    `current`/`previous` are the aligned sub-periods (None when the change is withheld);
    the KPIs are those of the sub-periods.
    """

    reason: BasisReason
    current: Period | None = None
    previous: Period | None = None
    days: int = 0
    """How many days are compared (they may have gaps between `current`'s first and last)."""
    current_kpis: dict[str, KpiValue] = field(default_factory=dict)
    previous_kpis: dict[str, KpiValue] = field(default_factory=dict)
    change: dict[str, Decimal | None] = field(default_factory=dict)

    @property
    def withheld(self) -> bool:
        return self.current is None


@dataclass(frozen=True, slots=True)
class Comparison:
    """The period a card is compared with, what data it has, and the change."""

    compare: Compare
    label: str
    period: Period
    totals: Totals
    kpis: dict[str, KpiValue]
    change: dict[str, Decimal | None]
    data_from: date | None = None
    data_through: date | None = None
    coverage: Coverage | None = None
    basis: ChangeBasis | None = None


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
    coverage: Coverage | None = None
    sees: Visibility | None = None
    """The channel's limit when it has one: the answer shows only what that allows."""

    @property
    def has_customers(self) -> bool:
        return (self.totals.new_customers or 0) > 0 or (
            self.comparison is not None and (self.comparison.totals.new_customers or 0) > 0
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
    sees: Visibility | None = None
    """The channel's limit when it has one: rows and totals cover only what it allows."""


@dataclass(frozen=True, slots=True)
class Suggestions:
    """No single campaign matched: the best candidates, to pick from."""

    text: str
    candidates: tuple[CampaignInfo, ...]
    period: Period
    compare: str
    ambiguous: bool
    sees: Visibility | None = None
    """The channel's limit when it has one: candidates are only campaigns it may see."""


@dataclass(frozen=True, slots=True)
class Help:
    commands: tuple[tuple[str, str, str], ...]
    periods: tuple[tuple[str, str], ...]
    kpis: tuple[tuple[str, str], ...] = field(default=())


Answer = CampaignCard | Table | Suggestions | Help
