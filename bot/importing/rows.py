"""Turn CSV rows into validated staged rows, collecting every problem with its line."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

from bot.channels import channel_for_platform, normalize_channel, platform_slug
from bot.importing.formats import COUNT_COLUMNS, ImportFormat
from bot.money import MoneyError, is_currency, to_micros

# (line, campaign_ref, day, grain, impressions, clicks, leads, conversions, new_customers,
#  spend_micros, revenue_micros)
StagedRow = tuple[int, int, str, str, int, int, int, int, int, int, int]

# Limits per row that keep every stored value and its sums inside a 64-bit integer.
MAX_COUNT = 10**15
MAX_AMOUNT = Decimal(10**12)


def _not_a_date(text: str) -> str:
    return "is empty" if not text else f"{text!r} is not a date (use YYYY-MM-DD)"


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with one cell (or line) of the file."""

    line: int
    column: str
    message: str

    def render(self, source: str) -> str:
        where = f"{source}:{self.line}"
        return (
            f"{where}: {self.column}: {self.message}" if self.column else f"{where}: {self.message}"
        )


@dataclass(slots=True)
class CampaignSeen:
    """A campaign as the file describes it."""

    platform: str
    account: str
    external_id: str
    name: str
    channel: str
    currency: str
    first_line: int
    currency_given: bool  # False: the file had none, so the default currency was used


@dataclass(slots=True)
class RowReader:
    """Parses rows of one file; keeps the campaigns it met and the problems it found."""

    fmt: ImportFormat
    header: list[str]
    default_currency: str
    default_platform: str = "csv"
    campaigns: list[CampaignSeen] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    _refs: dict[tuple[str, str, str], int] = field(default_factory=dict)
    _days: dict[str, str | None] = field(default_factory=dict)
    _index: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._index = {name: i for i, name in enumerate(self.header)}

    def _cell(self, row: list[str], column: str | None) -> str:
        if column is None:
            return ""
        i = self._index.get(column)
        if i is None or i >= len(row):
            return ""
        return row[i].strip()

    def parse(self, line: int, row: list[str]) -> StagedRow | None:
        """One staged row, or None after recording what is wrong with it."""
        if len(row) != len(self.header):
            self.problems.append(
                Problem(line, "", f"has {len(row)} fields, the header has {len(self.header)}")
            )
            return None
        before = len(self.problems)
        fmt = self.fmt
        day = self._day(line, self._cell(row, fmt.date))
        name = self._cell(row, fmt.campaign_name)
        if not name:
            self._bad(line, fmt.campaign_name, "is empty; every row needs a campaign")
        external_id = self._cell(row, fmt.campaign_id) or name
        platform_text = self._cell(row, fmt.platform)
        platform = platform_slug(platform_text) if platform_text else self.default_platform
        account = self._cell(row, fmt.account)
        counts = [self._count(line, row, column) for column in COUNT_COLUMNS]
        spend = self._money(line, self._cell(row, "spend"), "spend", required=True)
        revenue = self._money(line, self._cell(row, fmt.revenue), fmt.revenue, required=False)
        channel = self._channel(line, row, platform)
        currency = self._currency(line, row)
        if len(self.problems) > before or day is None:
            return None
        impressions, clicks = counts[0], counts[1]
        if clicks > impressions and impressions > 0:
            self.warnings.append(
                Problem(line, "clicks", f"{clicks} clicks but only {impressions} impressions")
            )
        given = bool(self._cell(row, fmt.currency))
        ref = self._campaign_ref(
            line, platform, account, external_id, name, channel, currency, given
        )
        if ref is None:
            return None
        grain = "|".join(self._cell(row, c) for c in fmt.grain)
        return (line, ref, day, grain, *counts, spend, revenue)  # type: ignore[return-value]

    def _bad(self, line: int, column: str, message: str) -> None:
        self.problems.append(Problem(line, column, message))

    def _day(self, line: int, text: str) -> str | None:
        cached = self._days.get(text, "")
        if cached != "":
            if cached is None:
                self._bad(line, self.fmt.date, _not_a_date(text))
            return cached
        value: str | None
        try:
            candidate = text[:10] if len(text) > 10 and text[10] in "T " else text
            if len(text) > 10 and text[10:].strip(" T").rstrip("Z") not in ("00:00:00", ""):
                raise ValueError(text)
            value = date.fromisoformat(candidate).isoformat()
        except ValueError:
            value = None
        self._days[text] = value
        if value is None:
            self._bad(line, self.fmt.date, _not_a_date(text))
        return value

    def _count(self, line: int, row: list[str], column: str) -> int:
        text = self._cell(row, column)
        if not text:
            return 0
        try:
            value = int(text)
        except ValueError:
            try:
                exact = Decimal(text)
            except InvalidOperation:
                self._bad(line, column, f"{text!r} is not a whole number")
                return 0
            if not exact.is_finite() or exact != exact.to_integral_value():
                self._bad(line, column, f"{text!r} is not a whole number")
                return 0
            value = int(exact)
        if value < 0:
            self._bad(line, column, f"{value} is negative; counts cannot be below 0")
            return 0
        if value > MAX_COUNT:
            self._bad(line, column, f"{text} is too large; at most {MAX_COUNT:,} per row")
            return 0
        return value

    def _money(self, line: int, text: str, column: str, *, required: bool) -> int:
        if not text:
            if required:
                self._bad(line, column, "is empty; write 0 for no spend")
            return 0
        try:
            value = Decimal(text)
            if not value.is_finite():
                raise MoneyError(text)
        except (InvalidOperation, MoneyError):
            self._bad(line, column, f"{text!r} is not an amount (use . for decimals, e.g. 12.50)")
            return 0
        if value < 0:
            self._bad(line, column, f"{text} is negative; amounts cannot be below 0")
            return 0
        if value > MAX_AMOUNT:
            self._bad(line, column, f"{text} is too large; at most {MAX_AMOUNT:,} per row")
            return 0
        return to_micros(value)

    def _channel(self, line: int, row: list[str], platform: str) -> str:
        text = self._cell(row, self.fmt.channel)
        if not text:
            return channel_for_platform(platform)
        channel = normalize_channel(text)
        if channel is None:
            from bot.channels import CHANNELS

            self._bad(
                line, "channel", f"{text!r} is not a channel type; use one of {', '.join(CHANNELS)}"
            )
            return "other"
        return channel

    def _currency(self, line: int, row: list[str]) -> str:
        text = self._cell(row, self.fmt.currency)
        if not text:
            return self.default_currency
        code = text.upper()
        if not is_currency(code):
            self._bad(line, "currency", f"{text!r} is not a currency code (use ISO 4217, e.g. DKK)")
        return code

    def _campaign_ref(
        self,
        line: int,
        platform: str,
        account: str,
        external_id: str,
        name: str,
        channel: str,
        currency: str,
        currency_given: bool,
    ) -> int | None:
        key = (platform, account, external_id)
        ref = self._refs.get(key)
        if ref is None:
            ref = len(self.campaigns)
            self._refs[key] = ref
            self.campaigns.append(
                CampaignSeen(
                    platform, account, external_id, name, channel, currency, line, currency_given
                )
            )
            return ref
        seen = self.campaigns[ref]
        if seen.currency != currency:
            self._bad(
                line,
                "currency",
                f"campaign {name!r} is in {seen.currency} on line {seen.first_line} "
                f"but in {currency} here; one campaign has one currency",
            )
            return None
        return ref
