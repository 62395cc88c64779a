"""The one place a query is answered, for Slack and the CLI alike."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session, sessionmaker

from bot import messages
from bot.access.model import Visibility
from bot.answers import (
    Answer,
    BasisReason,
    CampaignCard,
    ChangeBasis,
    Comparison,
    Coverage,
    Help,
    Row,
    Scope,
    Suggestions,
    Table,
)
from bot.campaign import CampaignInfo
from bot.comparisons import common_days, comparable_change, comparison_period, sum_days
from bot.directory import CampaignDirectory
from bot.kpi import (
    KPI_BY_KEY,
    KPIS,
    Economics,
    Good,
    Totals,
    Unit,
    compute_kpis,
    sum_totals,
)
from bot.matching import CampaignIndex
from bot.periods import (
    PERIOD_EXAMPLES,
    Period,
    PeriodError,
    looks_like_period,
    today_in,
    unknown_period,
)
from bot.query import (
    COMMANDS,
    CampaignQuery,
    Compare,
    GroupQuery,
    HelpQuery,
    ListQuery,
    NothingToShow,
    Query,
    QueryError,
    RankQuery,
    parse_query,
)
from storage.access import visibility_of
from storage.database import session_scope
from storage.metrics import (
    CampaignTotals,
    daily_totals,
    last_days,
    latest_day,
    totals_by_campaign,
)

__all__ = ["CampaignDirectory", "KpiService"]

log = logging.getLogger("kpibot.service")

TABLE_COLUMNS = ("spend", "conversions", "cpa", "revenue", "roas")


def _utc_now() -> datetime:
    return datetime.now(UTC)


Ranked = tuple[Decimal, CampaignInfo, CampaignTotals]


@dataclass(frozen=True, slots=True)
class _Seen:
    """What one answer may look at: the channel's limit and the campaigns it allows."""

    sees: Visibility
    index: CampaignIndex

    @property
    def limit(self) -> Visibility | None:
        """The limit to show on the answer; None when the channel sees everything."""
        return self.sees if self.sees.limited else None

    @property
    def ids(self) -> list[int] | None:
        """The visible ids to pass to a grouped query; None (every campaign) when unlimited."""
        return [c.id for c in self.index.campaigns] if self.sees.limited else None


def _per_currency(scored: list[Ranked]) -> list[list[Ranked]]:
    """The ranked campaigns split by currency (in order of currency code), each kept in order."""
    by_currency: dict[str, list[Ranked]] = defaultdict(list)
    for item in scored:
        by_currency[item[1].currency].append(item)
    return [by_currency[code] for code in sorted(by_currency)]


def _rank_title(verb: str, label: str, shown: int, per_currency: bool) -> str:
    """The title of a ranked list, e.g. "Top 2 by CPA in each currency": the rows shown (fewer
    than asked when fewer campaigns have the KPI) under the KPI's label."""
    if not shown:
        return f"{verb} by {label}"
    return f"{verb} {shown} by {label}" + (" in each currency" if per_currency else "")


def _reject_unknown_period(index: CampaignIndex, text: str) -> None:
    """`summer-sale h2` is a campaign and a period kpibot does not know, and `forrige
    århundrede` only the latter: saying so beats "no campaign called 'summer-sale h2'"."""
    words = text.split()
    for cut in range(len(words) - 1, 0, -1):  # the longest campaign name first
        tail = words[cut:]
        if looks_like_period(tail) and index.match(" ".join(words[:cut])).names_campaign:
            raise QueryError(str(unknown_period(" ".join(tail))))
    if looks_like_period(words):
        raise QueryError(str(unknown_period(text)))


@dataclass(frozen=True)
class KpiService:
    """Answers /kpi queries from the database; sessions open and close per answer."""

    sessions: sessionmaker[Session]
    economics: Economics = field(default_factory=Economics)
    timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo("UTC"))
    clock: Callable[[], datetime] = _utc_now
    directory: CampaignDirectory = field(default_factory=CampaignDirectory, compare=False)

    def today(self) -> date:
        return today_in(self.timezone, self.clock())

    def answer(self, text: str, today: date | None = None, *, channel: str | None = None) -> Answer:
        """Parse and answer one query text as `channel` sees (None: everything); QueryError
        for text the user must fix.

        `today` pins relative periods, so page 2 of a list covers the same days as page 1.
        """
        as_of = today or self.today()
        try:
            return self.answer_query(parse_query(text, as_of), text, as_of, channel=channel)
        except PeriodError as exc:  # e.g. the period before 0001-01-01
            raise QueryError(str(exc)) from exc

    def answer_query(
        self,
        query: Query,
        text: str = "",
        as_of: date | None = None,
        *,
        channel: str | None = None,
    ) -> Answer:
        """Answer a parsed query from only the campaigns `channel` may see."""
        if isinstance(query, HelpQuery):
            return Help(COMMANDS, PERIOD_EXAMPLES, tuple((k.key, k.label) for k in KPIS))
        with session_scope(self.sessions) as session:
            seen = self._seen(session, channel)
            if isinstance(query, CampaignQuery):
                return self._campaign(session, seen, query, text)
            if isinstance(query, ListQuery):
                table = self._list(session, seen, query, text)
            elif isinstance(query, RankQuery):
                table = self._rank(session, seen, query, text)
            else:
                table = self._group(session, seen, query, text)
        return replace(table, as_of=as_of, sees=seen.limit)

    def card_for(
        self,
        campaign_id: int,
        period: Period,
        comparison: Compare,
        *,
        channel: str | None = None,
    ) -> CampaignCard:
        """The card for a campaign picked by id (a button, whose id a user could forge): a
        campaign the channel may not see answers exactly as a missing one."""
        with session_scope(self.sessions) as session:
            sees = visibility_of(session, channel)
            campaign = self.directory.visible(session, sees).by_id.get(campaign_id)
            if campaign is None:
                if sees.limited and campaign_id in self.directory.current(session).by_id:
                    log.info("card refused: campaign %s hidden in channel %s", campaign_id, channel)
                raise QueryError(messages.CAMPAIGN_GONE)
            card = self._card(session, campaign, period, comparison, "")
        return replace(card, sees=sees if sees.limited else None)

    def _seen(self, session: Session, channel: str | None) -> _Seen:
        """The channel's limit and visible campaigns; NothingToShow when there are none."""
        sees = visibility_of(session, channel)
        index = self.directory.visible(session, sees)
        if not index.campaigns:
            if sees.limited and self.directory.current(session).campaigns:
                raise NothingToShow(messages.CHANNEL_SEES_NOTHING)
            raise NothingToShow(messages.NO_DATA_YET)
        return _Seen(sees, index)

    def _campaign(self, session: Session, seen: _Seen, query: CampaignQuery, text: str) -> Answer:
        index = seen.index
        match = index.match(query.text)
        if match.campaign is None:
            _reject_unknown_period(index, query.text)
            return Suggestions(
                query.text,
                match.candidates,
                query.period,
                query.compare.value,
                match.ambiguous,
                sees=seen.limit,
            )
        card = self._card(session, match.campaign, query.period, query.compare, text)
        return replace(card, sees=seen.limit)

    def _card(
        self,
        session: Session,
        campaign: CampaignInfo,
        period: Period,
        comparison: Compare,
        text: str,
    ) -> CampaignCard:
        other = comparison_period(period, comparison)
        ids = [campaign.id]
        now = totals_by_campaign(session, period.start, period.end, ids).get(campaign.id)
        then = totals_by_campaign(session, other.start, other.end, ids).get(campaign.id)
        totals = now.totals if now else Totals()
        then_totals = then.totals if then else Totals()
        kpis, then_kpis, change = comparable_change(totals, then_totals, self.economics)
        basis = None
        if totals.is_empty:
            basis = ChangeBasis(BasisReason.NO_DATA)
        elif then_totals.is_empty:
            basis = ChangeBasis(BasisReason.NO_COMPARISON_DATA)
        elif totals.days < period.days or then_totals.days < other.days:
            basis = self._same_days(session, campaign.id, period, other, comparison)
        if basis is not None:
            change = (
                basis.change if basis.reason is BasisReason.SAME_DAYS else dict.fromkeys(change)
            )
        last = now.last_day if now else None
        if last is None:
            newest = latest_day(session, ids)
            last = newest if newest is not None and newest <= period.end else None
        return CampaignCard(
            scope=Scope.of(campaign),
            period=period,
            currency=campaign.currency,
            totals=totals,
            kpis=kpis,
            data_from=now.first_day if now else None,
            data_through=last,
            comparison=Comparison(
                comparison,
                other.label,
                other,
                then_totals,
                then_kpis,
                change,
                data_from=then.first_day if then else None,
                data_through=then.last_day if then else None,
                coverage=Coverage(then_totals.days, other.days),
                basis=basis,
            ),
            query_text=text,
            coverage=Coverage(totals.days, period.days),
        )

    def _same_days(
        self,
        session: Session,
        campaign_id: int,
        period: Period,
        other: Period,
        comparison: Compare,
    ) -> ChangeBasis | None:
        """Both sides over only the days both have data for; None when those are all days."""
        now_rows = daily_totals(session, campaign_id, period.start, period.end)
        then_rows = daily_totals(session, campaign_id, other.start, other.end)
        current, previous = common_days(period, other, comparison, now_rows, then_rows)
        if not current:
            return ChangeBasis(BasisReason.NO_COMMON_DAYS)
        if len(current) == period.days and len(previous) == other.days:
            return None
        now_kpis, then_kpis, change = comparable_change(
            sum_days(now_rows, current), sum_days(then_rows, previous), self.economics
        )
        return ChangeBasis(
            BasisReason.SAME_DAYS,
            Period(current[0], current[-1], f"{current[0]}..{current[-1]}"),
            Period(previous[0], previous[-1], f"{previous[0]}..{previous[-1]}"),
            len(current),
            now_kpis,
            then_kpis,
            change,
        )

    def _list(self, session: Session, seen: _Seen, query: ListQuery, text: str) -> Table:
        campaigns = seen.index.campaigns
        wanted = query.text.strip().lower()
        if wanted:
            campaigns = [
                c
                for c in campaigns
                if wanted in c.name.lower() or wanted in c.slug or wanted == c.external_id.lower()
            ]
            if not campaigns:
                raise NothingToShow(messages.no_campaign_contains(query.text.strip()))
        limited = wanted or seen.sees.limited
        newest = last_days(session, [c.id for c in campaigns] if limited else None)
        rows = tuple(Row(Scope.of(c), c.currency, {}, newest.get(c.id)) for c in campaigns)
        title = f"Campaigns matching “{query.text}”" if wanted else "All campaigns"
        return Table("list", title, None, rows, (), query_text=text)

    def _rank(self, session: Session, seen: _Seen, query: RankQuery, text: str) -> Table:
        period = query.period
        campaigns = seen.index.by_id
        totals = totals_by_campaign(session, period.start, period.end, seen.ids)
        kpi = KPI_BY_KEY[query.kpi]
        scored: list[Ranked] = []
        undefined = 0
        for campaign_id, found in totals.items():
            campaign = campaigns.get(campaign_id)
            if campaign is None:  # hidden, or created by an import since they were read
                continue
            # Only the ranked KPI for every campaign; the rest for the rows shown.
            value = kpi.compute(found.totals, self.economics)
            if value is None:
                undefined += 1
                continue
            scored.append((Decimal(value), campaign, found))
        # `top` is the best first and `bottom` the worst first, by the KPI's direction of good
        # (the top CPA is the lowest); a KPI that is neither (spend) ranks biggest first.
        descending = (kpi.good is not Good.LOWER) != query.lowest_first
        scored.sort(key=lambda item: (-item[0] if descending else item[0], item[1].name.lower()))
        # A CPA in DKK and one in EUR are not comparable: money is ranked within each currency.
        rankings = _per_currency(scored) if kpi.unit is Unit.MONEY else [scored]
        shown = [ranking[: query.limit] for ranking in rankings]
        rows = tuple(
            Row(Scope.of(c), c.currency, compute_kpis(found.totals, self.economics), found.last_day)
            for ranking in shown
            for _, c, found in ranking
        )
        notes = []
        if len(rankings) > 1:
            notes.append(f"{kpi.label} is money: campaigns are ranked within each currency.")
        if undefined:
            notes.append(messages.left_out_without(undefined, kpi.label))
        verb = "Bottom" if query.lowest_first else "Top"
        columns = (query.kpi, *(c for c in TABLE_COLUMNS if c != query.kpi))
        note = " ".join(notes)
        title = _rank_title(verb, kpi.label, max(map(len, shown), default=0), len(rankings) > 1)
        return Table(
            (query.lowest_first and "bottom") or "top",
            title,
            period,
            rows,
            columns,
            rank_kpi=query.kpi,
            note=note,
            query_text=text,
        )

    def _group(self, session: Session, seen: _Seen, query: GroupQuery, text: str) -> Table:
        period = query.period
        known = seen.index.campaigns
        campaigns = [
            c for c in known if query.kind == "all" or getattr(c, query.kind) == query.value
        ]
        if not campaigns:
            raise NothingToShow(messages.no_group(query.kind, query.value))
        # The totals' query itself sums only visible campaigns: never a hidden one's spend.
        whole = query.kind == "all" and not seen.sees.limited
        ids = None if whole else [c.id for c in campaigns]
        totals = totals_by_campaign(session, period.start, period.end, ids)
        by_id = {c.id: c for c in campaigns}
        per_currency: dict[str, list[Totals]] = defaultdict(list)
        rows: list[Row] = []
        for campaign_id, found in sorted(
            totals.items(), key=lambda item: -item[1].totals.spend_micros
        ):
            campaign = by_id.get(campaign_id)
            if campaign is None:  # created by an import since the campaigns were read
                continue
            per_currency[campaign.currency].append(found.totals)
            if query.kind != "all":
                kpis = compute_kpis(found.totals, self.economics)
                rows.append(Row(Scope.of(campaign), campaign.currency, kpis, found.last_day))
        name = "All campaigns" if query.kind == "all" else f"{query.kind.title()} {query.value}"
        for currency in sorted(per_currency):
            total = sum_totals(per_currency[currency])
            rows.append(
                Row(
                    Scope("total", f"Total {currency}", channel=None),
                    currency,
                    compute_kpis(total, self.economics),
                )
            )
        return Table(query.kind, name, period, tuple(rows), TABLE_COLUMNS, query_text=text)
