"""Turn CSV rows into validated staged rows, collecting every problem with its line."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

from bot.channels import CHANNELS, channel_for_platform, normalize_channel, platform_slug
from bot.importing.formats import COUNT_COLUMNS, ImportFormat
from bot.money import MICROS_PER_UNIT, MoneyError, is_currency, to_micros

# (line, campaign_ref, day, grain, impressions, clicks, leads, conversions, new_customers,
#  spend_micros, revenue_micros)
StagedRow = tuple[int, int, str, str, int, int, int, int, int, int, int]

# Limits per row that keep every stored value, and the sums of thousands of rows (an ad-level
# roll-up, a year of days), inside a 64-bit integer of micro-units.
MAX_COUNT = 10**12
MAX_AMOUNT = Decimal(10**10)


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
    _platforms: dict[str, str] = field(default_factory=dict)
    _channels: dict[str, str | None] = field(default_factory=dict)
    _currencies: dict[str, bool] = field(default_factory=dict)
    _columns: dict[str, int] = field(default_factory=dict)
    _counts: tuple[tuple[str, int], ...] = ()

    def __post_init__(self) -> None:
        # Column positions are resolved once: parse() runs for every row of every file.
        self._columns = {name: i for i, name in enumerate(self.header)}
        self._counts = tuple(
            (column, self._columns[column]) for column in COUNT_COLUMNS if column in self._columns
        )

    def _cell(self, row: list[str], column: str | None) -> str:
        i = self._columns.get(column) if column is not None else None
        return "" if i is None else row[i].strip()

    def parse(self, line: int, row: list[str]) -> StagedRow | None:
        """One staged row, or None after recording what is wrong with it."""
        if len(row) != len(self.header):
            self.problems.append(
                Problem(line, "", f"has {len(row)} fields, the header has {len(self.header)}")
            )
            return None
        before = len(self.problems)
        fmt = self.fmt
        cell = self._cell
        day_text = cell(row, fmt.date)
        day = self._days.get(day_text) or self._day(line, day_text)
        name = cell(row, fmt.campaign_name)
        if not name:
            self._bad(line, fmt.campaign_name, "is empty; every row needs a campaign")
        external_id = cell(row, fmt.campaign_id) or name
        platform_text = cell(row, fmt.platform)
        platform = self._platforms.get(platform_text)
        if platform is None:
            platform = platform_slug(platform_text) if platform_text else self.default_platform
            self._platforms[platform_text] = platform
        account = cell(row, fmt.account)
        counts = dict.fromkeys(COUNT_COLUMNS, 0)
        for column, i in self._counts:
            text = row[i]
            if text:
                try:
                    value = int(text)
                except ValueError:
                    value = self._count(line, text.strip(), column)
                if value < 0:
                    self._bad(line, column, f"{value} is negative; counts cannot be below 0")
                elif value > MAX_COUNT:
                    self._bad(line, column, f"{value} is too large; at most {MAX_COUNT:,} per row")
                counts[column] = value
        spend = self._money(line, cell(row, "spend"), "spend", required=True)
        revenue = self._money(line, cell(row, fmt.revenue), fmt.revenue, required=False)
        channel = self._channel(line, row, platform)
        currency = self._currency(line, row)
        if len(self.problems) > before or day is None:
            return None
        impressions, clicks = counts["impressions"], counts["clicks"]
        if clicks > impressions and impressions > 0:
            self.warnings.append(
                Problem(line, "clicks", f"{clicks} clicks but only {impressions} impressions")
            )
        given = bool(cell(row, fmt.currency))
        ref = self._campaign_ref(
            line, platform, account, external_id, name, channel, currency, given
        )
        if ref is None:
            return None
        grain = "|".join(cell(row, c) for c in fmt.grain) if fmt.grain else ""
        return (
            line,
            ref,
            day,
            grain,
            impressions,
            clicks,
            counts["leads"],
            counts["conversions"],
            counts["new_customers"],
            spend,
            revenue,
        )

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

    def _count(self, line: int, text: str, column: str) -> int:
        """The slow path for a count int() refused: '12.0' is fine, '1.5' or 'x' is not."""
        if not text:
            return 0
        try:
            exact = Decimal(text)
        except InvalidOperation:
            exact = Decimal("NaN")
        if not exact.is_finite() or exact != exact.to_integral_value():
            self._bad(line, column, f"{text!r} is not a whole number")
            return 0
        return int(exact)

    def _money(self, line: int, text: str, column: str, *, required: bool) -> int:
        if not text:
            if required:
                self._bad(line, column, "is empty; write 0 for no spend")
            return 0
        whole, dot, fraction = text.partition(".")
        if (
            whole.isascii()
            and whole.isdigit()
            and len(whole) <= 10  # below MAX_AMOUNT
            and (not dot or (fraction.isascii() and fraction.isdigit() and len(fraction) <= 6))
        ):
            # Exact fast path for the usual "123.45": integer arithmetic, no Decimal.
            return int(whole) * MICROS_PER_UNIT + (int(fraction.ljust(6, "0")) if fraction else 0)
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
        channel = self._channels.get(text, "")
        if channel == "":
            channel = self._channels[text] = normalize_channel(text)
        if channel is None:
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
        known = self._currencies.get(code)
        if known is None:
            known = self._currencies[code] = is_currency(code)
        if not known:
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
        if seen.currency != currency and (currency_given or seen.currency_given):
            if not currency_given:
                # A blank cell on a later row belongs to the campaign's stated currency.
                return ref
            self._bad(
                line,
                "currency",
                f"campaign {name!r} is in {seen.currency} on line {seen.first_line} "
                f"but in {currency} here; one campaign has one currency",
            )
            return None
        return ref
