"""Alert rules in the words of the query language: `<scope> <kpi> <op> <value>` or
`<scope> <kpi> drops|rises <N> %|pp [vs <baseline>]`, then options; typed, and back to text."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum

from bot.kpi import KPI_BY_KEY, Kpi, Unit
from bot.query import QueryError, ScopeSpec, kpi_key, parse_scope

OPS = ("<", "<=", ">", ">=")
DEFAULT_MIN_CLICKS = 20
DEFAULT_MIN_SPEND_SHARE = Decimal("0.01")
"""Default volume guard: the window's spend is at least 1 % of the scope's 28-day daily average."""
MAX_FOR_DAYS = 28
EXAMPLES = "`all roi drops 30%`, `summer-sale cpa > 40 over 7d`, `channel social ctr < 0.5%`"


class RuleError(QueryError):
    """A rule kpibot cannot read; the message names the problem and shows a correct rule."""

    code = "bad_rule"


class Direction(Enum):
    DROPS = "drops"
    RISES = "rises"


class Baseline(Enum):
    """What a change is measured against; an average of a ratio is the ratio of the sums."""

    PREVIOUS_DAY = "previous_day"
    SAME_DAY_LAST_WEEK = "same_day_last_week"
    AVG_7D = "avg_7d"
    AVG_28D = "avg_28d"

    @property
    def text(self) -> str:
        return _BASELINE_TEXT[self]


_BASELINE_TEXT = {
    Baseline.PREVIOUS_DAY: "previous day",
    Baseline.SAME_DAY_LAST_WEEK: "same day last week",
    Baseline.AVG_7D: "7-day average",
    Baseline.AVG_28D: "28-day average",
}

_BASELINE_WORDS: dict[str, Baseline] = {
    **{text: b for b, text in _BASELINE_TEXT.items()},
    "yesterday": Baseline.PREVIOUS_DAY,
    "prev day": Baseline.PREVIOUS_DAY,
    "day before": Baseline.PREVIOUS_DAY,
    "last week": Baseline.SAME_DAY_LAST_WEEK,
    "same day previous week": Baseline.SAME_DAY_LAST_WEEK,
    "7-day avg": Baseline.AVG_7D,
    "7d avg": Baseline.AVG_7D,
    "7d average": Baseline.AVG_7D,
    "avg 7d": Baseline.AVG_7D,
    "7d": Baseline.AVG_7D,
    "28-day avg": Baseline.AVG_28D,
    "28d avg": Baseline.AVG_28D,
    "28d average": Baseline.AVG_28D,
    "avg 28d": Baseline.AVG_28D,
    "28d": Baseline.AVG_28D,
}


@dataclass(frozen=True, slots=True)
class Threshold:
    """`op value`; a percentage KPI's value is a fraction (`ctr < 0.5%` is 0.005), money is
    in the campaign's currency units."""

    op: str
    value: Decimal


@dataclass(frozen=True, slots=True)
class Change:
    """A change of at least `amount` (as written: 30 means 30 % or 30 pp) against a baseline."""

    direction: Direction
    amount: Decimal
    unit: str  # "%" (relative change) | "pp" (percentage points, percentage KPIs only)
    baseline: Baseline = Baseline.AVG_7D


Condition = Threshold | Change


@dataclass(frozen=True, slots=True)
class AlertRule:
    """What a rule watches, when it breaches, and how much volume it needs to say so.

    `min_spend` / `min_clicks` None mean the defaults (1 % of the scope's 28-day daily average
    spend; 20 clicks); `notify` None means the rule's creator.
    """

    scope: ScopeSpec
    kpi: str
    condition: Condition
    window: int = 1
    for_days: int = 1
    min_spend: Decimal | None = None
    min_clicks: int | None = None
    notify: str | None = None


_OP_IN_WORD = re.compile(r"^(?P<kpi>.*?)(?P<op><=|>=|=<|=>|<|>)(?P<rest>.*)$")
_NUMBER = re.compile(r"^(?P<num>[+-]?[0-9]{1,12}(?:[.,][0-9]{1,6})?)(?P<unit>%|pp)?$")
_USER = re.compile(r"^(?:<@|@)?(?P<id>[UW][A-Z0-9]{2,20})(?:\|[^>]*)?>?$")
_VERBS: dict[str, Direction] = {
    "drops": Direction.DROPS,
    "drop": Direction.DROPS,
    "falls": Direction.DROPS,
    "falder": Direction.DROPS,
    "rises": Direction.RISES,
    "rise": Direction.RISES,
    "stiger": Direction.RISES,
}
_SCOPE_HEADS = frozenset(
    (
        "all",
        "alle",
        "channel",
        "kanal",
        "platform",
        "campaign",
        "campaigns",
        "kampagne",
        "kampagner",
    )
)
_OPTION_HEADS = frozenset(("vs", "versus", "mod", "over", "for", "min", "notify"))
_SEPARATOR = "·"


def parse_rule(words: list[str]) -> AlertRule:
    """Read the words after `alert add`; raises RuleError (a QueryError) for the user."""
    tokens = [w for w in " ".join(words).split() if w != _SEPARATOR]
    scope_words, condition = _split_at_condition(tokens)
    scope = _scope(scope_words)
    key = kpi_key(condition[0])
    assert key is not None  # _split_at_condition only stops at a KPI
    kpi = KPI_BY_KEY[key]
    verb, rest = condition[1], condition[2:]
    if verb.lower() in _VERBS:
        change, rest = _change(kpi, _VERBS[verb.lower()], rest)
        rest, baseline = _take_baseline(rest)
        cond: Condition = change if baseline is None else _with_baseline(change, baseline)
    else:
        cond, rest = _threshold(kpi, _canonical_op(verb), rest)
    return _options(scope, key, cond, rest)


def _split_at_condition(tokens: list[str]) -> tuple[list[str], list[str]]:
    """Scope words, and the tokens from the KPI on: the first `<kpi> <op|verb>` decides, so a
    campaign name may contain other words (`price drops roi drops 30%`)."""
    first_bad: str | None = None
    for j, token in enumerate(tokens):
        glued = _OP_IN_WORD.match(token)
        if glued and glued["kpi"]:
            head = [glued["kpi"], glued["op"]] + ([glued["rest"]] if glued["rest"] else [])
            scope, condition = tokens[:j], head + tokens[j + 1 :]
        elif glued or token.lower() in _VERBS:
            if j == 0:
                first_bad = first_bad or ""
                continue
            head = [tokens[j - 1], glued["op"] if glued else token]
            if glued and glued["rest"]:
                head.append(glued["rest"])
            scope, condition = tokens[: j - 1], head + tokens[j + 1 :]
        else:
            continue
        if kpi_key(condition[0]) is not None:
            return scope, condition
        first_bad = condition[0] if first_bad is None else first_bad
    if first_bad:
        known = ", ".join(sorted(KPI_BY_KEY))
        raise RuleError(f"`{first_bad}` is not a KPI. Use one of {known}, e.g. {EXAMPLES}.")
    raise RuleError(
        "Say what to watch: a scope, a KPI and a condition (`<`, `<=`, `>`, `>=`, `drops` or "
        f"`rises`), e.g. {EXAMPLES}."
    )


def _scope(words: list[str]) -> ScopeSpec:
    """A scope of the query language; any other words are one campaign's name."""
    if words and words[0].lower() not in _SCOPE_HEADS:
        return ScopeSpec("campaigns", (" ".join(words),))
    scope = parse_scope(words)
    if scope.kind == "platform" and not scope.values[0]:
        raise RuleError("Say which platform, e.g. `platform google_ads roi < 0`.")
    return scope


def _canonical_op(op: str) -> str:
    return {"=<": "<=", "=>": ">="}.get(op, op)


def _number(kpi: Kpi, rest: list[str], example: str) -> tuple[Decimal, str, list[str]]:
    """The number after an operator or verb, its unit ("", "%" or "pp") and the words after."""
    match = _NUMBER.match(rest[0]) if rest else None
    if match is None:
        got = f", not `{rest[0]}`" if rest else ""
        raise RuleError(f"Give {kpi.label} a number{got}, e.g. `{example}`.")
    unit, rest = match["unit"] or "", rest[1:]
    if not unit and rest and rest[0].lower() in ("%", "pp"):
        unit, rest = rest[0].lower(), rest[1:]
    return Decimal(match["num"].replace(",", ".")), unit, rest


def _threshold(kpi: Kpi, op: str, rest: list[str]) -> tuple[Threshold, list[str]]:
    percent = kpi.unit is Unit.PERCENT
    # A number that reads right for the KPI: a percentage, a multiple (ROAS 1.5) or an amount.
    typical = "0.5%" if percent else "1.5" if kpi.unit in (Unit.MULTIPLE, Unit.RATIO) else "40"
    example = f"all {kpi.key} {op} {typical}"
    value, unit, rest = _number(kpi, rest, example)
    if unit == "pp":
        raise RuleError(
            f"`pp` is for changes (`all {kpi.key} drops 5 pp`); a threshold is `{example}`."
        )
    if percent:
        if not unit and value != 0:
            raise RuleError(f"{kpi.label} is a percentage: write `all {kpi.key} {op} {value}%`.")
        value = value / 100
    elif unit == "%":
        if kpi.unit is not Unit.MULTIPLE:
            raise RuleError(
                f"{kpi.label} is not a percentage; write a plain number, e.g. `{example}`."
            )
        value = value / 100
    return Threshold(op, value), rest


def _change(kpi: Kpi, direction: Direction, rest: list[str]) -> tuple[Change, list[str]]:
    example = f"all {kpi.key} {direction.value} 30%"
    amount, unit, rest = _number(kpi, rest, example)
    if unit == "pp" and kpi.unit is not Unit.PERCENT:
        raise RuleError(
            f"`pp` (percentage points) only goes with CTR, CVR and ROI; {kpi.label} is not a "
            f"percentage. Write a relative change, e.g. `{example}`."
        )
    if amount <= 0:
        raise RuleError(f"Give the size of the change as a positive number, e.g. `{example}`.")
    return Change(direction, amount, unit or "%"), rest


def _take_baseline(rest: list[str]) -> tuple[list[str], Baseline | None]:
    if not rest or rest[0].lower() not in ("vs", "versus", "mod"):
        return rest, None
    end = 1
    while end < len(rest) and rest[end].lower() not in _OPTION_HEADS:
        end += 1
    text = " ".join(rest[1:end]).lower()
    if text not in _BASELINE_WORDS:
        known = ", ".join(f"`vs {t}`" for t in _BASELINE_TEXT.values())
        raise RuleError(
            f"`vs {text or '…'}` is not a baseline. Use {known}, e.g. `all roi drops 30% vs "
            "previous day`."
        )
    return rest[end:], _BASELINE_WORDS[text]


def _with_baseline(change: Change, baseline: Baseline) -> Change:
    return Change(change.direction, change.amount, change.unit, baseline)


def _options(scope: ScopeSpec, key: str, cond: Condition, rest: list[str]) -> AlertRule:
    """`over 1d|7d`, `for N days`, `min spend <amount>`, `min clicks <n>`, `notify @user`."""
    found: dict[str, object] = {}
    while rest:
        head = rest[0].lower()
        name, value, rest = _option(head, rest[1:], cond)
        if name in found:
            raise RuleError(f"`{head}` is given twice; say it once, e.g. `all roi < 0 over 7d`.")
        found[name] = value
    window = found.get("window", 1)
    for_days = found.get("for_days", 1)
    min_spend = found.get("min_spend")
    min_clicks = found.get("min_clicks")
    notify = found.get("notify")
    assert isinstance(window, int) and isinstance(for_days, int)
    assert min_spend is None or isinstance(min_spend, Decimal)
    assert min_clicks is None or isinstance(min_clicks, int)
    assert notify is None or isinstance(notify, str)
    return AlertRule(scope, key, cond, window, for_days, min_spend, min_clicks, notify)


_OPTION_USAGE = "`over 1d|7d`, `for 3 days`, `min spend 50`, `min clicks 20` or `notify @U0123`"


def _option(head: str, rest: list[str], cond: Condition) -> tuple[str, object, list[str]]:
    nxt = rest[0].lower() if rest else ""
    if head in ("vs", "versus", "mod"):
        raise RuleError(
            "A baseline (`vs …`) belongs to a change, right after it, e.g. "
            "`all roi drops 30% vs previous day`; a threshold has none."
            if isinstance(cond, Threshold)
            else "Put the baseline right after the change, e.g. `all roi drops 30% vs 28-day "
            "average over 7d`."
        )
    if head == "over":
        days, rest = _days(rest)
        if days not in (1, 7):
            raise RuleError(
                f"Evaluate over 1 or 7 days, not `over {nxt}`, e.g. `all roi drops 30% over 7d`."
            )
        return "window", days, rest
    if head == "for":
        days, rest = _days(rest)
        if days is None or not 1 <= days <= MAX_FOR_DAYS:
            raise RuleError(
                f"Say for how many days in a row (1 to {MAX_FOR_DAYS}), e.g. `for 3 days`."
            )
        return "for_days", days, rest
    if head == "min" and nxt in ("spend", "clicks"):
        match = _NUMBER.match(rest[1]) if len(rest) > 1 else None
        amount = Decimal(match["num"].replace(",", ".")) if match and not match["unit"] else None
        if amount is None or amount < 0 or (nxt == "clicks" and amount != amount.to_integral()):
            raise RuleError(f"Give `min {nxt}` a number, e.g. `min spend 50` or `min clicks 20`.")
        return "min_" + nxt, amount if nxt == "spend" else int(amount), rest[2:]
    if head == "notify":
        user = _USER.match(rest[0]) if rest else None
        if user is None:
            raise RuleError("Say whom to notify as a Slack mention, e.g. `notify @U0123ABCD`.")
        return "notify", user["id"], rest[1:]
    raise RuleError(f"`{head}` is not an option here. Options: {_OPTION_USAGE}.")


def _days(rest: list[str]) -> tuple[int | None, list[str]]:
    """`7d`, `7 d`, `7 days`, `1 day`, `7`: a day count and the words after it."""
    if not rest:
        return None, rest
    match = re.fullmatch(r"([0-9]{1,3})(d|days?|dage?)?", rest[0].lower())
    if match is None:
        return None, rest[1:]
    rest = rest[1:]
    if not match[2] and rest and rest[0].lower() in ("d", "day", "days", "dag", "dage"):
        rest = rest[1:]
    return int(match[1]), rest


def kpi_word(key: str) -> str:
    """The KPI as one word the parser reads back: its label where it is one (`ROI`)."""
    label = KPI_BY_KEY[key].label
    return label if " " not in label and kpi_key(label) == key else key


def _plain(value: Decimal) -> str:
    return format(value.normalize(), "f")


def scope_text(scope: ScopeSpec) -> str:
    """The scope as the parser reads it back: `all`, `channel social`, `summer-sale`."""
    if scope.kind == "all":
        return "all"
    if scope.kind in ("channel", "platform"):
        return f"{scope.kind} {scope.values[0]}"
    if len(scope.values) == 1 and scope.values[0].split()[0].lower() not in _SCOPE_HEADS:
        return scope.values[0]
    return ("campaign " if len(scope.values) == 1 else "campaigns ") + ", ".join(scope.values)


def condition_text(key: str, cond: Condition) -> str:
    """`ROI drops 30 % vs 7-day average`, `CTR < 0.5 %`, `CPA > 40`."""
    word = kpi_word(key)
    if isinstance(cond, Change):
        amount = _plain(cond.amount)
        return f"{word} {cond.direction.value} {amount} {cond.unit} vs {cond.baseline.text}"
    if KPI_BY_KEY[key].unit is Unit.PERCENT:
        return f"{word} {cond.op} {_plain(cond.value * 100)} %"
    return f"{word} {cond.op} {_plain(cond.value)}"


def _days_text(n: int) -> str:
    return f"{n} day" if n == 1 else f"{n} days"


def describe(rule: AlertRule) -> str:
    """The canonical text of a rule, which parse_rule reads back to the same rule."""
    parts = [
        scope_text(rule.scope),
        condition_text(rule.kpi, rule.condition),
        f"over {_days_text(rule.window)}",
        f"for {_days_text(rule.for_days)}",
    ]
    if rule.min_spend is not None:
        parts.append(f"min spend {_plain(rule.min_spend)}")
    if rule.min_clicks is not None:
        parts.append(f"min clicks {rule.min_clicks}")
    if rule.notify is not None:
        parts.append(f"notify <@{rule.notify}>")
    return f" {_SEPARATOR} ".join(parts)
