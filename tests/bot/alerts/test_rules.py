from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.alerts.rules import (
    AlertRule,
    Baseline,
    Change,
    Direction,
    RuleError,
    Threshold,
    describe,
    parse_rule,
)
from bot.query import QueryError, ScopeSpec


def rule(text: str) -> AlertRule:
    return parse_rule(text.split())


def test_roi_drop_defaults_to_the_7_day_average_over_one_day():
    assert rule("all roi drops 30%") == AlertRule(
        ScopeSpec("all"), "roi", Change(Direction.DROPS, Decimal(30), "%", Baseline.AVG_7D)
    )


def test_canonical_text_of_the_roi_drop():
    assert describe(rule("all roi drops 30%")) == (
        "all · ROI drops 30 % vs 7-day average · over 1 day · for 1 day"
    )


def test_a_percentage_threshold_is_a_fraction():
    assert rule("channel social ctr < 0.5%").condition == Threshold("<", Decimal("0.005"))
    assert rule("channel social ctr < 0.5%").scope == ScopeSpec("channel", ("social",))


def test_a_bare_campaign_name_is_a_campaign_scope_and_money_is_plain():
    parsed = rule("summer sale cpa>40 over 7d")
    assert parsed.scope == ScopeSpec("campaigns", ("summer sale",))
    assert parsed.condition == Threshold(">", Decimal(40))
    assert parsed.window == 7


def test_a_campaign_name_may_contain_a_verb():
    assert rule("price drops roi drops 5 pp").scope == ScopeSpec("campaigns", ("price drops",))


def test_every_option():
    parsed = rule(
        "platform google ads roi rises 5 pp vs same day last week over 7 days for 3 days "
        "min spend 12.5 min clicks 40 notify <@U0123ABC>"
    )
    assert parsed == AlertRule(
        ScopeSpec("platform", ("google_ads",)),
        "roi",
        Change(Direction.RISES, Decimal(5), "pp", Baseline.SAME_DAY_LAST_WEEK),
        window=7,
        for_days=3,
        min_spend=Decimal("12.5"),
        min_clicks=40,
        notify="U0123ABC",
    )
    assert rule(describe(parsed)) == parsed


def test_roas_accepts_a_percentage_as_a_multiple():
    assert rule("all roas < 150%").condition == Threshold("<", Decimal("1.5"))


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("all roix < 0", "`roix` is not a KPI"),
        ("all clicks drops 5 pp", "only goes with CTR, CVR and ROI"),
        ("all roi <", "Give ROI a number, e.g. `all roi < 0.5%`"),
        ("all cpa > 40%", "CPA is not a percentage"),
        ("all roi < 20", "write `all roi < 20%`"),
        ("all roi drops 30% vs last year", "`vs last year` is not a baseline"),
        ("all roi drops 30% over 3d", "Evaluate over 1 or 7 days"),
        ("all roi < 0 vs previous day", "a threshold has none"),
        ("all roi < 0 notify bob", "notify @U0123ABCD"),
        ("summer-sale", "Say what to watch"),
    ],
)
def test_invalid_rules_name_the_problem_and_give_an_example(text, names):
    with pytest.raises(RuleError, match=r"e\.g\.|write") as caught:
        rule(text)
    assert names in str(caught.value)


VOCABULARY = (
    "all channel social platform campaign campaigns roi ctr cpa roas spend clicks < <= > >= "
    "drops rises 30% 0.5% 30 pp % vs previous day 7-day average over 1d 7d for 3 days min "
    "spend clicks notify <@U12345> · , -1 0 x"
)
WORDS = st.one_of(st.sampled_from(VOCABULARY.split()), st.text(max_size=6))


@given(st.lists(WORDS, max_size=12))
def test_any_words_parse_or_raise_a_query_error_and_round_trip(words):
    try:
        parsed = parse_rule(words)
    except QueryError:
        return
    assert parse_rule(describe(parsed).split()) == parsed
