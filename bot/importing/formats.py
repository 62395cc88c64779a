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

    def column_of(self, measure: str) -> str:
        """The file's column for a stored measure (spend_micros, conversions_micros, …)."""
        if measure == "spend_micros":
            return "spend"
        if measure == "revenue_micros":
            return self.revenue
        return measure.removesuffix("_micros")

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
# Counts that may be fractional (data-driven attribution credits 2.5 conversions): read with
# decimals and stored in micro-units. Impressions and clicks are whole.
FRACTIONAL_COLUMNS = frozenset({"leads", "conversions", "new_customers"})


DECIMAL_COMMA_HINT = (
    "this looks like a `;`-separated file with decimal commas — try --decimal-comma"
)


class HeaderError(ValueError):
    """A header that matches no import format or lacks a required column."""


class SemicolonHeader(HeaderError):
    """A `;`-separated header read as `,`-separated; its data rows tell which hint is true
    (see bot.importing.separators)."""

    def __init__(self, fmt: ImportFormat, names: list[str]) -> None:
        super().__init__(DECIMAL_COMMA_HINT)
        self.fmt = fmt
        self.names = names


def detect_format(header: list[str], *, decimal_comma: bool = False) -> ImportFormat:
    """Pick the format whose date and campaign columns the header has.

    A header read with the other mode's separator fails with a message naming the switch
    (SemicolonHeader for a `;`-separated one).
    """
    try:
        return _detect(header)
    except HeaderError as original:
        other = ";" if not decimal_comma else ","
        names = [name.strip() for name in other.join(header).split(other)]
        try:
            fmt = _detect(names)
        except HeaderError:
            raise original from None
        if decimal_comma:
            raise HeaderError(
                "this looks like a `,`-separated file with `.` decimals; import it without "
                "--decimal-comma (or with --no-decimal-comma when KPIBOT_IMPORT_LOCALE=da)"
            ) from None
        raise SemicolonHeader(fmt, names) from None


def _detect(header: list[str]) -> ImportFormat:
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
