"""Hypothesis on rule text: `parse_rule` only ever raises a QueryError (RuleError is one), and
any rule it accepts is stored by `AlertService.add`, read back as the same rule, says itself
back in words the parser reads to the same rule, and is evaluated by `check` without error.

One SQLite database for the whole module (campaigns with rows every day of the windows, one
with an EUR account and one with missing revenue), so 200 examples stay within a few seconds.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from bot.alerts.rules import parse_rule
from bot.alerts.service import AlertService
from bot.kpi import KPI_BY_KEY
from bot.query import QueryError
from storage.database import make_engine
from storage.schema import upgrade
from tests.bot.alerts.world import NOW, Campaign, Clock, D, Day, load, rows, service
from tests.support.fake_slack import FakeSlack

PHRASES = (
    "all channel social paid_search search platform meta_ads google_ads campaign campaigns",
    "Alpha Beta Sale alpha beta-sale , < <= > >= =< => drops rises falls rise 0 -1 1.5 40",
    "0.5% 30% 150% 30 5 pp % vs versus previous day same last week 7-day 28-day average",
    "avg yesterday over 1d 7d 3d 7 for 3 days day 29 min spend clicks 12,5 notify @U0123ABC",
    "<@U0FUZZ> bob · x roi<0 cpa>40 ctr<0.5%",
)
VOCABULARY = [word for phrase in PHRASES for word in phrase.split()]
SCOPES = (
    "all",
    "alle",
    "channel social",
    "channel search",
    "platform meta_ads",
    "platform google ads",
    "Alpha",
    "beta-sale",
    "campaign Alpha",
    "campaigns Alpha, Beta Sale",
    "Unmeasured",
    "Gamma",
    "channel email",
    "Nobody",
)
BASELINES = ("", "vs previous day", "vs same day last week", "vs 7-day average", "vs 28d", "vs x")
OPTIONS = (
    "over 1d",
    "over 7d",
    "over 3d",
    "for 3 days",
    "for 1 day",
    "for 40 days",
    "min spend 50",
    "min spend 0",
    "min spend 12,5",
    "min clicks 0",
    "min clicks 5",
    "min clicks 2.5",
    "notify @U0123ABC",
    "notify <@U0FUZZ|fuzz>",
)
NUMBERS = st.one_of(
    st.sampled_from(("0", "-1", "0.5%", "30%", "150%", "1.5", "40", "5", "0,5", "1e3")),
    st.decimals(min_value=-1000, max_value=1000, places=2).map(str),
)
THRESHOLD = st.tuples(st.sampled_from(("<", "<=", ">", ">=", "=<", "=>")), NUMBERS).map(" ".join)
CHANGE = st.tuples(
    st.sampled_from(("drops", "rises", "falls", "stiger")),
    NUMBERS,
    st.sampled_from(("", "%", "pp", " pp")),
    st.sampled_from(BASELINES),
).map(lambda t: f"{t[0]} {t[1]}{t[2]} {t[3]}")
RULES = st.tuples(
    st.sampled_from(SCOPES),
    st.sampled_from([*sorted(KPI_BY_KEY), "ROI", "Ctr", "new customers", "roix"]),
    st.one_of(THRESHOLD, CHANGE),
    st.lists(st.sampled_from(OPTIONS), max_size=3),
).map(lambda t: f"{t[0]} {t[1]} {t[2]} {' '.join(t[3])}".split())
ANY_WORD = st.one_of(st.sampled_from([*VOCABULARY, *sorted(KPI_BY_KEY)]), st.text(max_size=8))


@st.composite
def _mutated(draw: st.DrawFn) -> list[str]:
    """A rule in the grammar with a few words dropped, swapped or inserted."""
    words = draw(RULES)
    for _ in range(draw(st.integers(0, 3))):
        at = draw(st.integers(0, len(words)))
        what = draw(st.sampled_from(("drop", "insert", "replace")))
        if what == "insert" or not words:
            words.insert(at, draw(ANY_WORD))
        elif what == "drop":
            del words[min(at, len(words) - 1)]
        else:
            words[min(at, len(words) - 1)] = draw(ANY_WORD)
    return words


WORDS = st.one_of(RULES, _mutated(), st.lists(ANY_WORD, max_size=12))


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AlertService]:
    folder: Path = tmp_path_factory.mktemp("fuzz")
    engine = make_engine(f"sqlite:///{folder / 'kpibot.db'}")
    upgrade(engine)
    start, end = D - timedelta(days=40), D
    lines = rows(Campaign("Alpha"), start, end, days={D: Day(revenue="50")})
    lines += rows(Campaign("Beta Sale", "google_ads", "G1", "paid_search"), start, end)
    lines += rows(Campaign("Gamma", "meta_ads", "A2", currency="EUR"), start, end, Day(leads=3))
    lines += rows(Campaign("Unmeasured"), start, end, Day(revenue=None, clicks=0))
    load(engine, folder / "csv", lines)
    with FakeSlack() as slack:
        yield service(engine, slack, Clock())
    engine.dispose()


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(words=WORDS)
def test_any_words_are_refused_or_stored_read_back_and_evaluated(
    world: AlertService, words: list[str]
) -> None:
    try:
        parsed = parse_rule(words)
    except QueryError:
        event("refused by the parser")
        return
    try:
        preview = world.add(words, channel="C1", user="U0FUZZ")
    except QueryError:  # a scope that matches no campaign
        event("refused by add")
        return
    event("stored")
    rule_id = preview.rule.id
    try:
        stored = world.get(rule_id)
        assert stored.rule == replace(parsed, scope=stored.rule.scope)
        assert stored.rule == preview.rule.rule
        assert parse_rule(stored.text.split()) == stored.rule
        assert world.check(NOW).rules == 1
        assert world.check(NOW + timedelta(hours=25)).rules == 1
    finally:
        world.change(rule_id, "remove", user=None, is_admin=False)
