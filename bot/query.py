"""The /kpi query language: parse text into a typed query, or a QueryError for the user."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import Enum

from bot.channels import CHANNELS, normalize_channel, platform_slug
from bot.kpi import KPI_BY_KEY
from bot.periods import DEFAULT_PERIOD_TEXT, Period, PeriodError, parse_period, take_trailing_period

MAX_TOP = 50
DEFAULT_TOP = 10


class QueryError(ValueError):
    """Text the query language cannot read; the message says what to write instead."""


class Compare(Enum):
    PREVIOUS = "previous"
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
    "last year": Compare.YEAR,
    "ly": Compare.YEAR,
    "year": Compare.YEAR,
    "sidste år": Compare.YEAR,
    "sidste aar": Compare.YEAR,
}

COMMANDS: tuple[tuple[str, str, str], ...] = (
    ("<campaign> [period] [vs previous | vs last year]", "one campaign's KPIs", "summer-sale 30d"),
    ("list [text]", "campaigns whose name contains the text", "list sale"),
    ("top <kpi> [period] [n]", "the best campaigns by a KPI", "top roas 30d 5"),
    ("bottom <kpi> [period] [n]", "the worst campaigns by a KPI", "bottom cpa last week"),
    ("channel <type> [period]", "campaigns of one channel type", "channel social mtd"),
    ("platform <name> [period]", "campaigns of one platform", "platform google_ads 7d"),
    ("all [period]", "totals over all campaigns, per currency", "all yesterday"),
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
    rest = words[1:]
    limit = DEFAULT_TOP
    if rest and rest[-1].isdigit():
        try_rest, maybe_period = rest[:-1], rest
        try:
            period = _period(try_rest, today)
            limit = int(rest[-1])
        except QueryError:
            period = _period(maybe_period, today)
    else:
        period = _period(rest, today)
    if not 1 <= limit <= MAX_TOP:
        raise QueryError(f"Ask for between 1 and {MAX_TOP} campaigns, e.g. `{verb} {key} 30d 5`.")
    return RankQuery(key, period, limit, lowest_first)


def _group(kind: str, words: list[str], today: date) -> GroupQuery:
    if not words:
        example = "social" if kind == "channel" else "google_ads"
        raise QueryError(f"Say which {kind}, e.g. `{kind} {example} 30d`.")
    rest, period = take_trailing_period(words, today)
    if not rest:
        raise QueryError(f"Say which {kind} before the period, e.g. `{kind} social 30d`.")
    name = " ".join(rest)
    if kind == "channel":
        channel = normalize_channel(name)
        if channel is None:
            raise QueryError(f"`{name}` is not a channel type. Use one of: {', '.join(CHANNELS)}.")
        value = channel
    else:
        value = platform_slug(name)
    return GroupQuery(kind, value, period or _period([], today))


def _split_compare(words: list[str]) -> tuple[list[str], Compare]:
    lowered = [w.lower() for w in words]
    for i in range(len(lowered) - 1, -1, -1):
        if lowered[i] in ("vs", "vs.", "versus", "mod"):
            tail = " ".join(lowered[i + 1 :])
            if tail in _COMPARE_WORDS:
                return words[:i], _COMPARE_WORDS[tail]
            raise QueryError(
                f"Compare with `vs previous` or `vs last year`, not `vs {tail or '…'}`."
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
