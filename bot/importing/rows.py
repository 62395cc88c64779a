"""Turn CSV rows into validated staged rows, counting every problem with its line."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.channels import CHANNELS, channel_for_platform, normalize_channel, platform_slug
from bot.importing.cells import (
    PLAIN_COUNT_DIGITS,
    CellError,
    DateWindow,
    check_text_message,
    parse_count,
    parse_day,
    parse_money,
    parse_quantity,
    shown,
)
from bot.importing.findings import Findings, Problem
from bot.importing.formats import COUNT_COLUMNS, FRACTIONAL_COLUMNS, ImportFormat
from bot.money import is_currency
from storage.models import ACCOUNT_MAX, EXTERNAL_ID_MAX, NAME_MAX, PLATFORM_MAX

# (line, campaign_ref, day, grain, impressions, clicks, leads_micros, conversions_micros,
#  new_customers_micros, spend_micros, revenue_micros); a measure is None where the file does
#  not report it. Leads, conversions and new customers may be fractional: in micro-units.
StagedRow = tuple[
    int, int, str, str, int | None, int | None, int | None, int | None, int | None, int, int | None
]

# Entries per lookup cache (platforms, channels, currencies): a file of distinct junk cannot
# grow them without bound.
_CACHE_LIMIT = 4096
_ABSENT = -1


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
    currency_given: bool  # False: no row stated one, so the default currency is used
    currency_line: int = 0  # the first row that stated the currency


@dataclass(slots=True)
class RowReader:
    """Parses rows of one file; keeps the campaigns it met and counts the problems it found."""

    fmt: ImportFormat
    header: list[str]
    default_currency: str
    window: DateWindow
    decimal_comma: bool = False
    default_platform: str = "csv"
    campaigns: list[CampaignSeen] = field(default_factory=list)
    problems: Findings = field(default_factory=Findings)
    warnings: Findings = field(default_factory=Findings)
    _refs: dict[tuple[str, str, str], int] = field(default_factory=dict)
    _days: dict[str, str] = field(default_factory=dict)
    _platforms: dict[str, str] = field(default_factory=dict)
    _channels: dict[str, str | None] = field(default_factory=dict)
    _currencies: dict[str, bool] = field(default_factory=dict)
    _columns: dict[str, int] = field(default_factory=dict)
    _at: tuple[int, ...] = ()
    _counts: tuple[tuple[str, int, int, bool], ...] = ()

    def __post_init__(self) -> None:
        # Column positions are resolved once: parse() runs for every row of every file. An
        # optional column the file lacks is _ABSENT; date, campaign name and spend never are.
        self._columns = {name: i for i, name in enumerate(self.header)}
        fmt = self.fmt
        self._at = tuple(
            _ABSENT if column is None else self._columns.get(column, _ABSENT)
            for column in (
                fmt.date,
                fmt.campaign_name,
                fmt.campaign_id,
                fmt.platform,
                fmt.account,
                fmt.channel,
                fmt.currency,
                "spend",
                fmt.revenue,
            )
        )
        self._counts = tuple(
            (column, self._columns[column], k, column in FRACTIONAL_COLUMNS)
            for k, column in enumerate(COUNT_COLUMNS)
            if column in self._columns
        )

    @property
    def has_currency_column(self) -> bool:
        return self.fmt.currency is not None and self.fmt.currency in self._columns

    def parse(self, line: int, row: list[str]) -> StagedRow | None:
        """One staged row, or None after recording what is wrong with it."""
        if len(row) != len(self.header):
            self._bad(line, "", f"has {len(row)} fields, the header has {len(self.header)}")
            return None
        if "\x00" in "".join(row):
            self._nul(line, row)
            return None
        before = self.problems.count
        fmt = self.fmt
        at_date, at_name, at_id, at_platform, at_account, at_channel, at_currency, *money = self._at
        day_text = row[at_date].strip()
        day = self._days.get(day_text) or self._day(line, day_text)
        name = row[at_name].strip()
        if not name:
            self._bad(line, fmt.campaign_name, "is empty; every row needs a campaign")
        stated_id = row[at_id].strip() if at_id != _ABSENT else ""
        external_id = stated_id or name
        account = row[at_account].strip() if at_account != _ABSENT else ""
        if len(name) > EXTERNAL_ID_MAX or len(stated_id) > EXTERNAL_ID_MAX:
            self._too_long(line, name, stated_id)
        if len(account) > ACCOUNT_MAX:
            self._bad(line, fmt.account or "", check_text_message(account, ACCOUNT_MAX))
        platform_text = row[at_platform].strip() if at_platform != _ABSENT else ""
        platform = self._platforms.get(platform_text) or self._platform(line, platform_text)
        counts: list[int | None] = [None] * len(COUNT_COLUMNS)
        for column, i, k, fractional in self._counts:
            text = row[i]
            try:
                if fractional:
                    counts[k] = parse_quantity(text, column, self.decimal_comma)
                elif len(text) <= PLAIN_COUNT_DIGITS and text.isdigit() and text.isascii():
                    counts[k] = int(text)  # the fast path of parse_count
                else:
                    counts[k] = parse_count(text, column)
            except CellError as exc:
                self._bad(line, column, str(exc))
        spend = self._money(line, row[money[0]], "spend")
        if spend is None:
            self._bad(line, "spend", "is empty; write 0 for no spend")
        revenue = None if money[1] == _ABSENT else self._money(line, row[money[1]], fmt.revenue)
        channel = self._channel(
            line, row[at_channel].strip() if at_channel != _ABSENT else "", platform
        )
        currency, given = self._currency(
            line, row[at_currency].strip() if at_currency != _ABSENT else ""
        )
        if self.problems.count > before or day is None or spend is None:
            return None
        impressions, clicks, leads, conversions, new_customers = counts
        if clicks is not None and impressions and clicks > impressions:
            self.warnings.add(
                Problem(line, "clicks", f"{clicks} clicks but only {impressions} impressions")
            )
        ref = self._campaign_ref(
            line, platform, account, external_id, name, channel, currency, given
        )
        if ref is None:
            return None
        grain = "|".join(self._cell(row, c) for c in fmt.grain) if fmt.grain else ""
        return (
            line,
            ref,
            day,
            grain,
            impressions,
            clicks,
            leads,
            conversions,
            new_customers,
            spend,
            revenue,
        )

    def _cell(self, row: list[str], column: str) -> str:
        i = self._columns.get(column)
        return "" if i is None else row[i].strip()

    def _bad(self, line: int, column: str, message: str) -> None:
        self.problems.add(Problem(line, column, message))

    def _nul(self, line: int, row: list[str]) -> None:
        for column, text in zip(self.header, row, strict=True):
            if "\x00" in text:
                self._bad(line, column, f"{shown(text)} contains a NUL byte; remove it")

    def _day(self, line: int, text: str) -> str | None:
        try:
            value = parse_day(text, self.window).isoformat()
        except CellError as exc:
            self._bad(line, self.fmt.date, str(exc))
            return None
        # Only readable days are remembered: at most a few per day of the window.
        self._days[text] = value
        return value

    def _too_long(self, line: int, name: str, stated_id: str) -> None:
        fmt = self.fmt
        if len(name) > NAME_MAX:
            self._bad(line, fmt.campaign_name, check_text_message(name, NAME_MAX))
        elif not stated_id and len(name) > EXTERNAL_ID_MAX:
            self._bad(
                line,
                fmt.campaign_name,
                f"is {len(name):,} characters long; without a {fmt.campaign_id} the name is also "
                f"the campaign's id, which has at most {EXTERNAL_ID_MAX} characters",
            )
        if len(stated_id) > EXTERNAL_ID_MAX:
            self._bad(line, fmt.campaign_id or "", check_text_message(stated_id, EXTERNAL_ID_MAX))

    def _platform(self, line: int, text: str) -> str:
        platform = platform_slug(text) if text else self.default_platform
        if len(platform) > PLATFORM_MAX:
            self._bad(line, self.fmt.platform or "", check_text_message(text, PLATFORM_MAX))
        elif len(self._platforms) < _CACHE_LIMIT:
            self._platforms[text] = platform
        return platform

    def _money(self, line: int, text: str, column: str) -> int | None:
        try:
            return parse_money(text, self.decimal_comma)
        except CellError as exc:
            self._bad(line, column, str(exc))
            return 0

    def _channel(self, line: int, text: str, platform: str) -> str:
        if not text:
            return channel_for_platform(platform)
        channel = self._channels.get(text, "")
        if channel == "":
            channel = normalize_channel(text)
            if len(self._channels) < _CACHE_LIMIT:
                self._channels[text] = channel
        if channel is None:
            self._bad(
                line,
                "channel",
                f"{shown(text)} is not a channel type; use one of {', '.join(CHANNELS)}",
            )
            return "other"
        return channel

    def _currency(self, line: int, text: str) -> tuple[str, bool]:
        """The row's currency code and whether the row stated it."""
        if not text:
            return self.default_currency, False
        code = text.upper()
        known = self._currencies.get(code)
        if known is None:
            known = is_currency(code)
            if len(self._currencies) < _CACHE_LIMIT:
                self._currencies[code] = known
        if not known:
            self._bad(
                line,
                "currency",
                f"{shown(text)} is not a currency code (use an active ISO 4217 code, e.g. DKK)",
            )
        return code, True

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
                    platform,
                    account,
                    external_id,
                    name,
                    channel,
                    currency,
                    line,
                    currency_given,
                    line if currency_given else 0,
                )
            )
            return ref
        seen = self.campaigns[ref]
        if not currency_given or seen.currency == currency:
            # A blank cell belongs to the campaign's currency, whichever row states it.
            return ref
        if not seen.currency_given:
            seen.currency, seen.currency_given, seen.currency_line = currency, True, line
            return ref
        self._bad(
            line,
            "currency",
            f"campaign {name!r} is in {seen.currency} on line {seen.currency_line} "
            f"but in {currency} here; one campaign has one currency",
        )
        return None
