"""The /kpi query language: parse text into a typed query, or a QueryError for the user."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import Enum

from bot.channels import CHANNELS, normalize_channel, platform_slug
from bot.kpi import KPI_BY_KEY
from bot.periods import (
    DEFAULT_PERIOD_TEXT,
    Period,
    PeriodError,
    UnknownPeriodError,
    looks_like_period,
    parse_period,
    take_trailing_period,
    unknown_period,
)

MAX_TOP = 50
DEFAULT_TOP = 10


class QueryError(ValueError):
    """Text the query language cannot read; the message says what to write instead."""

    code = "bad_query"
    """What kind of failure, for `{"error": {"code", …}}` in JSON."""


class NothingToShow(QueryError):
    """A query that is fine but has nothing to answer from (no data yet, no such campaign)."""

    code = "nothing_to_show"


class Compare(Enum):
    """What a card is compared with: `Period.previous()` (like with like), `month_ago()` (the
    same days a month earlier) or `year_ago()` (the same dates a year earlier)."""

    PREVIOUS = "previous"
    MONTH = "month"
    YEAR = "year"


@dataclass(frozen=True, slots=True)
class HelpQuery:
    pass


@dataclass(frozen=True, slots=True)
class CampaignQuery:
    text: str
    period: Period
    compare: Compare = Compare.PREVIOUS


@dataclass(frozen=True, slots=True)
class ListQuery:
    text: str


@dataclass(frozen=True, slots=True)
class RankQuery:
    """`top` (best first) or `bottom` (worst first, lowest_first=True) by a KPI's direction of
    good: the top CPA is the lowest CPA (the top spend is the biggest spend)."""

    kpi: str
    period: Period
    limit: int
    lowest_first: bool


@dataclass(frozen=True, slots=True)
class GroupQuery:
    """`channel <type>`, `platform <name>` or `all`: campaigns of a group and totals."""

    kind: str
    value: str
    period: Period


Query = HelpQuery | CampaignQuery | ListQuery | RankQuery | GroupQuery

KPI_ALIASES: dict[str, str] = {
    "cost": "spend",
    "forbrug": "spend",
    "conv": "conversions",
    "konverteringer": "conversions",
    "conversion-rate": "cvr",
    "ltv:cac": "ltv_cac",
    "ltv-cac": "ltv_cac",
    "ltvcac": "ltv_cac",
    "omsætning": "revenue",
    "value": "revenue",
}

_COMPARE_WORDS: dict[str, Compare] = {
    "previous": Compare.PREVIOUS,
    "prev": Compare.PREVIOUS,
    "previous period": Compare.PREVIOUS,
    "forrige": Compare.PREVIOUS,
    "forrige periode": Compare.PREVIOUS,
    "last month": Compare.MONTH,
    "previous month": Compare.MONTH,
    "month": Compare.MONTH,
    "sidste måned": Compare.MONTH,
    "sidste maaned": Compare.MONTH,
    "forrige måned": Compare.MONTH,
    "forrige maaned": Compare.MONTH,
    "last year": Compare.YEAR,
    "ly": Compare.YEAR,
    "year": Compare.YEAR,
    "sidste år": Compare.YEAR,
    "sidste aar": Compare.YEAR,
    "forrige år": Compare.YEAR,
    "forrige aar": Compare.YEAR,
}

COMMANDS: tuple[tuple[str, str, str], ...] = (
    (
        "<campaign> [period] [vs previous | vs last month | vs last year]",
        "one campaign's KPIs",
        "summer-sale mtd vs last year",
    ),
    ("list [text]", "campaigns whose name contains the text", "list sale"),
    ("top <kpi> [period] [n]", "the best campaigns by a KPI", "top roas 30d 5"),
    ("bottom <kpi> [period] [n]", "the worst campaigns by a KPI", "bottom cpa last week"),
    ("channel <type> [period]", "campaigns of one channel type", "channel social mtd"),
    ("platform <name> [period]", "campaigns of one platform", "platform google_ads 7d"),
    ("all [period]", "totals over all campaigns, per currency", "all yesterday"),
    (
        "digest add [daily | weekdays | mon,wed,fri] [at HH:MM] [tz Area/City] [scope]",
        "a morning digest in this channel (scope: all, channel, platform or campaigns)",
        "digest add weekdays at 08:00 channel social",
    ),
    ("digest list", "this channel's digests: schedule, next run, last delivery", "digest list"),
    ("digest preview [id] | send <id>", "see a digest now, or post it now", "digest preview 3"),
    (
        "digest pause | resume | remove <id>",
        "change a digest (its creator or an admin)",
        "digest pause 3",
    ),
    (
        "alert add <scope> <kpi> <op> <value> | <kpi> drops <n>%",
        "an alert in this channel when a KPI crosses a line or drops",
        "alert add all roi drops 30%",
    ),
    (
        "alert list | history [id] | pause | resume | remove <id> | snooze <id> <duration>",
        "this channel's alerts and what they did; change one (its creator or an admin)",
        "alert snooze 3 2h",
    ),
    (
        "access [#channel | here] [platform … | account … | campaign …] | list | clear",
        "what this channel may see; admins limit a channel to some platforms, accounts or "
        "campaigns",
        "access here platform meta_ads",
    ),
    (
        "sources",
        "the data sources kpibot syncs: last sync, data through, rows, errors",
        "sources",
    ),
    ("help", "this help", "help"),
)


def kpi_key(word: str) -> str | None:
    lowered = word.strip().lower()
    key = KPI_ALIASES.get(lowered, lowered)
    return key if key in KPI_BY_KEY else None


def parse_query(text: str, today: date) -> Query:
    """Read one /kpi text; the default period is the last 7 days."""
    try:
        return _parse(text, today)
    except PeriodError as exc:
        raise QueryError(str(exc)) from exc


def _parse(text: str, today: date) -> Query:
    words = text.strip().split()
    if not words or words[0].lower() in ("help", "hjælp", "?"):
        return HelpQuery()
    head = words[0].lower()
    rest = words[1:]
    if head.startswith('"') or head.startswith("“"):
        return _campaign(words, today)
    if head in ("list", "ls", "liste"):
        return ListQuery(" ".join(rest))
    if head in ("top", "bottom", "bund"):
        return _rank(head != "top", rest, today)
    if head in ("channel", "kanal"):
        return _group("channel", rest, today)
    if head == "platform":
        return _group("platform", rest, today)
    if head in ("all", "alle", "total"):
        return GroupQuery("all", "", _period(rest, today))
    return _campaign(words, today)


def _period(words: list[str], today: date) -> Period:
    text = " ".join(words) or DEFAULT_PERIOD_TEXT
    try:
        return parse_period(text, today)
    except PeriodError as exc:
        raise QueryError(str(exc)) from exc


def _rank(lowest_first: bool, words: list[str], today: date) -> RankQuery:
    verb = "bottom" if lowest_first else "top"
    if not words:
        raise QueryError(f"Say which KPI to rank by, e.g. `{verb} roas 30d` or `{verb} cpa 7d 5`.")
    key = kpi_key(words[0])
    if key is None:
        known = ", ".join(sorted(KPI_BY_KEY))
        raise QueryError(f"`{words[0]}` is not a KPI. Rank by one of: {known}.")
    period, limit = _period_and_limit(words[1:], today)
    if not 1 <= limit <= MAX_TOP:
        raise QueryError(f"Ask for between 1 and {MAX_TOP} campaigns, e.g. `{verb} {key} 30d 5`.")
    return RankQuery(key, period, limit, lowest_first)


def _period_and_limit(words: list[str], today: date) -> tuple[Period, int]:
    """The period and row count of `top`/`bottom`: a trailing number is the count, unless it
    belongs to the period (`q3 2025`, and `nov 2030` is refused as a month, not a count)."""
    count = words[-1] if words else ""
    if not (count.isascii() and count.isdigit()):
        return _period(words, today), DEFAULT_TOP
    try:
        return parse_period(" ".join(words), today), DEFAULT_TOP
    except UnknownPeriodError:
        return _period(words[:-1], today), int(count)


def _group(kind: str, words: list[str], today: date) -> GroupQuery:
    if not words:
        example = "social" if kind == "channel" else "google_ads"
        raise QueryError(f"Say which {kind}, e.g. `{kind} {example} 30d`.")
    rest, period = take_trailing_period(words, today)
    if not rest:
        raise QueryError(f"Say which {kind} before the period, e.g. `{kind} social 30d`.")
    if kind == "channel" and normalize_channel(" ".join(rest)) is None:
        _reject_unknown_period(rest)
    return GroupQuery(kind, _group_value(kind, " ".join(rest)), period or _period([], today))


def _group_value(kind: str, name: str) -> str:
    """A channel type or platform name as stored (`paid search` → `paid_search`)."""
    if kind == "channel":
        channel = normalize_channel(name)
        if channel is None:
            raise QueryError(f"`{name}` is not a channel type. Use one of: {', '.join(CHANNELS)}.")
        return channel
    return platform_slug(name)


@dataclass(frozen=True, slots=True)
class ScopeSpec:
    """What a digest (or alert) covers: all campaigns, a channel type, a platform, or campaigns
    named by the user (matched against the database by the service)."""

    kind: str  # "all" | "channel" | "platform" | "campaigns"
    values: tuple[str, ...] = ()

    def describe(self) -> str:
        if self.kind == "all":
            return "all campaigns"
        if self.kind == "campaigns":
            return "campaigns " + ", ".join(self.values)
        return f"{self.kind} {self.values[0]}"


SCOPE_USAGE = "`all`, `channel <type>`, `platform <name>` or `campaigns <a>, <b>`"


def parse_scope(words: list[str]) -> ScopeSpec:
    """`all` (also no words), `channel social`, `platform google ads`, `campaigns a, b`."""
    if not words or (len(words) == 1 and words[0].lower() in ("all", "alle")):
        return ScopeSpec("all")
    head, rest = words[0].lower(), words[1:]
    if head in ("channel", "kanal", "platform"):
        kind = "channel" if head != "platform" else "platform"
        if not rest:
            raise QueryError(f"Say which {kind}, e.g. `{kind} social`. Use {SCOPE_USAGE}.")
        return ScopeSpec(kind, (_group_value(kind, " ".join(rest)),))
    if head in ("campaign", "campaigns", "kampagne", "kampagner"):
        names = tuple(n.strip() for n in " ".join(rest).split(",") if n.strip())
        if not names:
            raise QueryError(
                "Name the campaigns after `campaigns`, e.g. `campaigns summer-sale, brand`."
            )
        return ScopeSpec("campaigns", names)
    raise QueryError(f"`{' '.join(words)}` is not a scope. Use {SCOPE_USAGE}.")


def _reject_unknown_period(words: list[str]) -> None:
    """`channel social h2`: words after a channel type that look like a period are one kpibot
    does not know, and saying so beats calling the whole text an unknown channel."""
    for cut in range(len(words) - 1, 0, -1):
        if looks_like_period(words[cut:]) and normalize_channel(" ".join(words[:cut])):
            raise QueryError(str(unknown_period(" ".join(words[cut:]))))


def _split_compare(words: list[str]) -> tuple[list[str], Compare]:
    lowered = [w.lower() for w in words]
    for i in range(len(lowered) - 1, -1, -1):
        if lowered[i] in ("vs", "vs.", "versus", "mod"):
            tail = " ".join(lowered[i + 1 :])
            if tail in _COMPARE_WORDS:
                return words[:i], _COMPARE_WORDS[tail]
            raise QueryError(
                "Compare with `vs previous`, `vs last month` or `vs last year`, "
                f"not `vs {tail or '…'}`."
            )
    return words, Compare.PREVIOUS


def _campaign(words: list[str], today: date) -> CampaignQuery:
    words, compare = _split_compare(words)
    joined = " ".join(words)
    for opening, closing in (('"', '"'), ("“", "”")):
        if joined.startswith(opening) and closing in joined[1:]:
            end = joined.index(closing, 1)
            name = joined[1:end].strip()
            tail = joined[end + 1 :].split()
            if not name:
                raise QueryError("The quotes are empty; write a campaign name between them.")
            return CampaignQuery(name, _period(tail, today), compare)
    rest, period = take_trailing_period(words, today)
    if not rest:
        raise QueryError("Say which campaign, e.g. `summer-sale 30d`; `list` shows them all.")
    return CampaignQuery(" ".join(rest), period or _period([], today), compare)
