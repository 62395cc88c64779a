"""The two import formats, recognised from their header row."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ImportFormat:
    """Which header names feed which field, and which are required."""

    name: str
    date: str
    campaign_name: str
    campaign_id: str | None
    required: tuple[str, ...]
    platform: str | None = "platform"
    account: str | None = "account"
    channel: str | None = "channel"
    currency: str | None = "currency"
    revenue: str = "revenue"
    grain: tuple[str, ...] = ()

    def describe(self) -> str:
        return f"{self.name} (needs {', '.join(self.required)})"


NATIVE = ImportFormat(
    name="native",
    date="date",
    campaign_name="campaign",
    campaign_id="campaign_id",
    required=("date", "campaign", "spend"),
)

FIVETRAN = ImportFormat(
    name="fivetran",
    date="date_day",
    campaign_name="campaign_name",
    campaign_id="campaign_id",
    required=("date_day", "platform", "campaign_id", "campaign_name", "spend"),
    account="account_id",
    channel=None,
    currency=None,
    revenue="conversions_value",
    grain=("source_relation", "ad_group_id", "ad_id"),
)

FORMATS = (FIVETRAN, NATIVE)
COUNT_COLUMNS = ("impressions", "clicks", "leads", "conversions", "new_customers")


class HeaderError(ValueError):
    """A header that matches no import format or lacks a required column."""


def detect_format(header: list[str]) -> ImportFormat:
    """Pick the format whose date and campaign columns the header has."""
    names = set(header)
    for fmt in FORMATS:
        if fmt.date in names and fmt.campaign_name in names:
            missing = [c for c in fmt.required if c not in names]
            if missing:
                raise HeaderError(
                    f"looks like a {fmt.name} export but is missing the column(s) "
                    f"{', '.join(missing)}"
                )
            return fmt
    raise HeaderError(
        "header matches no import format; expected a native CSV "
        f"({NATIVE.describe()}) or a Fivetran ad_reporting export ({FIVETRAN.describe()}); "
        f"got: {', '.join(header[:12]) or 'an empty line'}"
    )
