"""One evaluation pass: every active rule over every campaign of its scope, for one day, from
one grouped query per date range (never a query per rule or per campaign).

Pure given the totals: `ranges` says which date ranges the rules need, the caller sums each
once over all campaigns, and `sweep` judges every (rule, campaign) from those sums.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from bot.access.model import Visibility
from bot.alerts.evaluate import Evaluation, baseline_days, evaluate, window_days
from bot.alerts.model import StoredRule
from bot.campaign import CampaignInfo
from bot.kpi import Economics, Totals
from bot.query import ScopeSpec

VOLUME_DAYS = 28
FRESHNESS_DAYS = 7
"""An ad account with no row in the week before the evaluated day is gone, not late."""

DateRange = tuple[date, date]
Account = tuple[str, str]
_EMPTY = Totals()


def volume_range(day: date) -> DateRange:
    """The 28 days before `day`: the default volume guard's daily average."""
    return day - timedelta(days=VOLUME_DAYS), day - timedelta(days=1)


def ranges(rules: Iterable[StoredRule], day: date) -> set[DateRange]:
    """Every date range the rules' windows, baselines and volume guards need on `day`."""
    needed: set[DateRange] = set()
    for stored in rules:
        needed.add(window_days(stored.rule, day))
        base = baseline_days(stored.rule, day)
        if base is not None:
            needed.add(base)
        if stored.rule.min_spend is None:
            needed.add(volume_range(day))
    return needed


class Scopes:
    """Campaigns by scope, built once per pass from the campaign list; with channel limits,
    a rule in a limited channel sees only the campaigns that channel may see."""

    def __init__(
        self,
        campaigns: Sequence[CampaignInfo],
        limits: Mapping[str, Visibility] | None = None,
    ) -> None:
        self.campaigns = tuple(campaigns)
        self._limits = limits or {}
        self._limited: dict[Visibility, Scopes] = {}
        self._by_channel: dict[str, list[CampaignInfo]] = {}
        self._by_platform: dict[str, list[CampaignInfo]] = {}
        self._by_name: dict[str, list[CampaignInfo]] = {}
        for c in self.campaigns:
            self._by_channel.setdefault(c.channel, []).append(c)
            self._by_platform.setdefault(c.platform, []).append(c)
            self._by_name.setdefault(c.name.lower(), []).append(c)

    def sees(self, channel: str) -> Visibility | None:
        """The channel's limit; None when it sees everything."""
        return self._limits.get(channel)

    def for_channel(self, channel: str) -> Scopes:
        """The scopes of what `channel` may see (itself when the channel is not limited)."""
        sees = self._limits.get(channel)
        if sees is None or not sees.limited:
            return self
        found = self._limited.get(sees)
        if found is None:  # built once per distinct limit and pass
            found = Scopes([c for c in self.campaigns if sees.allows(c)])
            self._limited[sees] = found
        return found

    def of(self, scope: ScopeSpec) -> Sequence[CampaignInfo]:
        if scope.kind == "all":
            return self.campaigns
        if scope.kind == "channel":
            return self._by_channel.get(scope.values[0], ())
        if scope.kind == "platform":
            return self._by_platform.get(scope.values[0], ())
        if len(scope.values) == 1:
            return self._by_name.get(scope.values[0].lower(), ())
        found: dict[int, CampaignInfo] = {}
        for name in scope.values:
            for c in self._by_name.get(name.lower(), ()):
                found[c.id] = c
        return tuple(found.values())


@dataclass(frozen=True, slots=True)
class Verdict:
    """One (rule, campaign) on the day: its evaluation, or None when its ad account has not
    landed the day (no data: neither fire nor resolve)."""

    rule: StoredRule
    campaign: CampaignInfo
    evaluation: Evaluation | None


@dataclass(frozen=True, slots=True)
class RuleData:
    """What a rule's ad accounts say about the day: the ones that have not landed it, and
    since when each has no data (the day after its last row)."""

    missing: tuple[str, ...]
    since: date | None


def account_name(account: Account) -> str:
    return f"{account[0]} {account[1]}".strip()


def landed(
    campaigns: Iterable[CampaignInfo], last_days: Mapping[Account, date], day: date
) -> RuleData:
    """Accounts of these campaigns that had rows in the week before `day` but none on it."""
    late = sorted(
        {
            (c.platform, c.account)
            for c in campaigns
            if (c.platform, c.account) in last_days and last_days[(c.platform, c.account)] < day
        }
    )
    if not late:
        return RuleData((), None)
    since = min(last_days[a] for a in late) + timedelta(days=1)
    return RuleData(tuple(account_name(a) for a in late), since)


def _scope_spend(
    campaigns: Sequence[CampaignInfo], volume: Mapping[int, Totals], currency: str
) -> Decimal:
    """The scope's daily average spend over the 28 days before, in one currency."""
    micros = sum(
        volume[c.id].spend_micros for c in campaigns if c.currency == currency and c.id in volume
    )
    return Decimal(micros) / 1_000_000 / VOLUME_DAYS


def sweep(
    rules: Sequence[StoredRule],
    scopes: Scopes,
    day: date,
    totals: Callable[[DateRange], Mapping[int, Totals]],
    last_days: Mapping[Account, date],
    economics: Economics,
    *,
    hold_missing: bool = True,
) -> Iterator[tuple[StoredRule, RuleData, list[Verdict]]]:
    """Judge every rule over its scope's campaigns on `day` (only those its channel may see).

    `totals(range)` returns the summed measures per campaign over the range (the caller runs
    one grouped query per range); a campaign without a row while its account has landed is
    inactive (empty totals, held by the volume guard). With `hold_missing` a campaign whose
    account has not landed is judged None (no data).
    """
    volume = totals(volume_range(day)) if any(r.rule.min_spend is None for r in rules) else {}
    for stored in rules:
        rule = stored.rule
        campaigns = scopes.for_channel(stored.channel).of(rule.scope)
        data = landed(campaigns, last_days, day)
        window = totals(window_days(rule, day))
        base_range = baseline_days(rule, day)
        baseline = totals(base_range) if base_range is not None else None
        late = set(data.missing)
        spend_by_currency: dict[str, Decimal] = {}
        verdicts: list[Verdict] = []
        for c in campaigns:
            if hold_missing and late and account_name((c.platform, c.account)) in late:
                verdicts.append(Verdict(stored, c, None))
                continue
            if c.currency not in spend_by_currency:
                spend_by_currency[c.currency] = (
                    _scope_spend(campaigns, volume, c.currency)
                    if rule.min_spend is None
                    else Decimal(0)
                )
            evaluation = evaluate(
                rule,
                window.get(c.id, _EMPTY),
                None if baseline is None else baseline.get(c.id),
                spend_by_currency[c.currency],
                economics,
            )
            verdicts.append(Verdict(stored, c, evaluation))
        yield stored, data, verdicts
