"""Checking 10,000 alert rules over 10,000 campaigns × 400 days, against its floor.

    .venv/bin/python benchmarks/alert_check.py [--campaigns 10000] [--days 400]
        [--rules 10000] [--repeat 5] [--db sqlite|postgres|URL] [--no-profile] [--quick]

The data is kpibot's own database, built with its importer by benchmarks/kpi_latency.py's
helper and cached under benchmarks/out/; each run works on a copy under /tmp (SQLite) or on a
fresh schema filled by COPY from that cache (PostgreSQL: `--db postgres` takes the URL from
KPIBOT_TEST_DATABASE_URL, which `bash scripts/pg.sh -- …` sets; `--db postgresql://…` names
one). The rules — a realistic mix, mostly one campaign each, plus a few over all campaigns, one
channel or one platform — are stored with storage.alerts.add_rule in one session.

Measured, in the same process on the same data (best of --repeat):

* floor: the grouped SQL a check needs and nothing else — for each date range of
  `bot.alerts.sweep.ranges(rules, day)`, `totals_by_campaign(session, start, end)`, plus
  `accounts_last_day` — one session;
* `AlertService.check(now, dry_run=True)`: load the active rules and their statuses, the same
  grouped queries, judge every (rule, campaign) in Python, decide every transition; no writes;
* the first `check(now)` with a poster (an in-process fake that answers at once): every
  transition written and every alert posted through the delivery ledger, timed once;
* the steady `check(now + 1 h)` after it: the hourly re-check where nothing changes (no writes,
  no posts);
* diagnostics: the floor's SQL with the rows fetched but no Totals built, the time per phase
  of a dry-run check, peak memory (tracemalloc, and the process's peak RSS), and a cProfile of
  a dry-run and a steady check (written to benchmarks/out/alert_profile.txt).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import random
import resource
import shutil
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import OUT, machine, markdown_table, postgres_base_url, postgres_schema, say
from kpi_latency import Scale, ensure_current_schema, fill_postgres, sqlite_database

from bot.alerts import service as service_module
from bot.alerts.model import StoredRule
from bot.alerts.rules import AlertRule, parse_rule
from bot.alerts.service import AlertService
from bot.alerts.sweep import FRESHNESS_DAYS, ranges
from bot.kpi import Economics
from bot.query import ScopeSpec
from bot.render.alert_blocks import alert_message, incident_message
from bot.service import CampaignDirectory
from storage import alerts
from storage.database import make_engine, session_factory, session_scope
from storage.digests import accounts_last_day
from storage.metrics import _totals_select, all_campaigns, totals_by_campaign
from storage.models import DailyMetrics

TZ = "Europe/Copenhagen"
TARGET_S = 1.0
SEED = 7

# Conditions of single-campaign rules, with weights: thresholds, and changes against each kind
# of baseline (the default is the 7-day average).
CONDITIONS: tuple[tuple[str, int], ...] = (
    ("roi < 0", 8),
    ("roas < 1.5", 6),
    ("cpa > 40", 6),
    ("ctr < 0.5%", 4),
    ("cpc > 2", 3),
    ("cvr < 1%", 3),
    ("spend > 2000", 2),
    ("roi drops 30%", 10),
    ("roi drops 30% vs previous day", 5),
    ("roi drops 10 pp vs same day last week", 4),
    ("roas drops 25% vs same day last week", 5),
    ("revenue drops 40% vs 28-day average", 5),
    ("conversions drops 50% vs 7-day average", 4),
    ("ctr drops 0.3 pp vs 28-day average", 3),
    ("cpa rises 50% vs previous day", 4),
    ("spend rises 100% vs same day last week", 3),
)
# Options, each drawn independently: a 7-day window, three days in a row, a volume guard.
OPTIONS: tuple[tuple[str, float], ...] = (
    ("over 7d", 0.15),
    ("for 3 days", 0.10),
    ("min spend 50", 0.05),
    ("min clicks 50", 0.05),
)
GROUP_RULES = (
    "all roi drops 30%",
    "all roas < 1",
    "all cpa > 60 over 7d",
    "all ctr drops 30% vs 28-day average",
    "channel social roi drops 30% vs previous day",
    "channel social cpa rises 40% for 3 days",
    "channel social roas < 1.2 over 7d",
    "platform meta_ads roi < 0",
    "platform meta_ads roas drops 25% vs same day last week",
    "platform meta_ads ctr < 0.5%",
)


# --------------------------------------------------------------------------- fixtures


@dataclass
class InstantPoster:
    """A Poster that answers at once (Slack time is not what is measured)."""

    posts: int = 0
    updates: int = 0
    dms: int = 0

    def post(
        self, channel: str, message: dict[str, Any], *, thread_ts: str | None = None
    ) -> tuple[str, str]:
        self.posts += 1
        return channel, f"{1_700_000_000 + self.posts}.{self.posts:06d}"

    def update(self, channel: str, ts: str, message: dict[str, Any]) -> None:
        self.updates += 1

    def upload_png(self, channel: str, png: bytes, *, title: str, filename: str) -> None:
        pass

    def direct_message(self, user: str, message: dict[str, Any]) -> None:
        self.dms += 1


def rule_words(rng: random.Random) -> str:
    texts, weights = zip(*CONDITIONS, strict=True)
    words = rng.choices(texts, weights)[0]
    for option, share in OPTIONS:
        if rng.random() < share:
            words += f" {option}"
    return words


def add_rules(sessions: Any, count: int, now: datetime) -> dict[str, int]:
    """`count` rules: the group rules, then one single-campaign rule per campaign (shuffled,
    round robin when there are more rules than campaigns). Returns how many of each kind."""
    rng = random.Random(SEED)
    parsed: dict[str, AlertRule] = {}

    def parse(words: str) -> AlertRule:
        if words not in parsed:
            parsed[words] = parse_rule(words.split())
        return parsed[words]

    kinds: dict[str, int] = {}
    with session_scope(sessions) as session:
        campaigns = all_campaigns(session)
        rng.shuffle(campaigns)
        groups = GROUP_RULES[: min(len(GROUP_RULES), max(1, count // 1000))]
        for i in range(count):
            if i < len(groups):
                rule = parse(groups[i])
                kind = rule.scope.kind
            else:
                c = campaigns[(i - len(groups)) % len(campaigns)]
                words = rule_words(rng)
                rule = replace(parse(f"all {words}"), scope=ScopeSpec("campaigns", (c.name,)))
                kind = "one campaign: " + ("change" if " vs " in words or "drops" in words
                                           or "rises" in words else "threshold")
                if "over 7d" in words:
                    kinds["one campaign: over 7d"] = kinds.get("one campaign: over 7d", 0) + 1
                if "for 3 days" in words:
                    kinds["one campaign: for 3 days"] = kinds.get("one campaign: for 3 days", 0) + 1
            kinds[kind] = kinds.get(kind, 0) + 1
            alerts.add_rule(
                session,
                channel=f"C{i % 500:05d}",
                rule=rule,
                created_by=f"U{i % 97:04d}",
                now=now - timedelta(days=3),
            )
    return kinds


# --------------------------------------------------------------------------- measurements


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = fn()
    return time.perf_counter() - started, result


def floor(sessions: Any, rules: list[StoredRule], day: date) -> int:
    """The grouped SQL of a check alone; returns the number of per-campaign totals read."""
    read = 0
    with session_scope(sessions) as session:
        for start, end in sorted(ranges(rules, day)):
            read += len(totals_by_campaign(session, start, end))
        accounts_last_day(session, day - timedelta(days=FRESHNESS_DAYS), day)
    return read


def sql_only(sessions: Any, rules: list[StoredRule], day: date) -> int:
    """The same statements, rows fetched, no Totals built: the database's share of the floor."""
    read = 0
    with session_scope(sessions) as session:
        for start, end in sorted(ranges(rules, day)):
            statement = _totals_select().where(DailyMetrics.day >= start, DailyMetrics.day <= end)
            read += len(session.execute(statement).all())
        accounts_last_day(session, day - timedelta(days=FRESHNESS_DAYS), day)
    return read


@dataclass
class Phases:
    """Seconds per phase of one check, from wrapping the functions it calls."""

    seconds: dict[str, float] = field(default_factory=dict)

    def wrap(self, owner: Any, name: str, label: str) -> Any:
        original = getattr(owner, name)

        def timed_call(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.seconds[label] = self.seconds.get(label, 0.0) + time.perf_counter() - started

        setattr(owner, name, timed_call)
        return original


@contextmanager
def phase_timers(service: AlertService) -> Iterator[Phases]:
    phases = Phases()
    patched: list[tuple[Any, str, Any]] = []
    for owner, name, label in (
        (alerts, "list_rules", "load rules"),
        (alerts, "statuses", "load statuses"),
        (service.directory, "current", "campaign index (fingerprint)"),
        (service_module, "totals_by_campaign", "grouped SQL (totals_by_campaign)"),
        (service_module, "accounts_last_day", "grouped SQL (accounts_last_day)"),
        (service, "_verdicts", "_verdicts"),
        (service, "_apply", "transitions (_apply per verdict)"),
        (service, "_rule_data", "no-data per rule (_rule_data)"),
    ):
        patched.append((owner, name, phases.wrap(owner, name, label)))
    try:
        yield phases
    finally:
        for owner, name, original in reversed(patched):
            if owner is service or owner is service.directory:
                delattr(owner, name)  # back to the class's method
            else:
                setattr(owner, name, original)


def profile(fn: Callable[[], Any], title: str, out: io.StringIO, top: int = 25) -> list[str]:
    profiler = cProfile.Profile()
    profiler.enable()
    fn()
    profiler.disable()
    lines: list[str] = []
    for sort in ("tottime", "cumulative"):
        text = io.StringIO()
        stats = pstats.Stats(profiler, stream=text).strip_dirs().sort_stats(sort)
        stats.print_stats(top)
        out.write(f"==== {title}, sorted by {sort}\n{text.getvalue()}\n")
    stats = pstats.Stats(profiler).sort_stats("tottime")
    total = stats.total_tt  # type: ignore[attr-defined]
    for (path, line, func), row in sorted(
        stats.stats.items(),  # type: ignore[attr-defined]
        key=lambda kv: kv[1][2],
        reverse=True,
    )[:12]:
        _cc, calls, tottime, cumtime, _callers = row
        where = f"{Path(path).name}:{line}" if line else path
        lines.append(
            f"  {tottime:6.3f} s own, {cumtime:6.3f} s cum, {calls:>8,} calls  {func} ({where})"
        )
    lines.insert(0, f"{title}: {total:.2f} s under cProfile; top by own time:")
    return lines


def peak_memory(fn: Callable[[], Any]) -> float:
    """Peak Python heap (MB) above what was allocated before the call."""
    tracemalloc.start()
    try:
        base, _ = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        fn()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return (peak - base) / 1e6


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def runs(values: list[float]) -> str:
    return ", ".join(f"{v:.2f}" for v in values)


# --------------------------------------------------------------------------- main


@contextmanager
def database(kind: str, cache: Path) -> Iterator[tuple[str, str]]:
    """(backend name, URL) of a working copy of the cached database."""
    if kind == "sqlite":
        work = Path(tempfile.gettempdir()) / f"kpibot_alert_check_{os.getpid()}.db"
        started = time.perf_counter()
        shutil.copyfile(cache, work)
        say(f"copied {cache.name} to {work} in {time.perf_counter() - started:.1f} s")
        url = f"sqlite:///{work}"
        try:
            ensure_current_schema(url)  # the cache may predate the alert tables
            yield "SQLite", url
        finally:
            for suffix in ("", "-wal", "-shm"):
                Path(str(work) + suffix).unlink(missing_ok=True)
        return
    base = postgres_base_url() if kind == "postgres" else kind
    if not base:
        raise SystemExit("--db postgres needs KPIBOT_TEST_DATABASE_URL (bash scripts/pg.sh -- …)")
    with postgres_schema(base, "bench_alert") as url:
        seconds = fill_postgres(cache, url)
        say(f"PostgreSQL filled by COPY + ANALYZE in {seconds:.0f} s")
        yield "PostgreSQL", url


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--campaigns", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=400)
    parser.add_argument("--rules", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5, help="runs per measurement (best is kept)")
    parser.add_argument(
        "--db",
        default="sqlite",
        help="sqlite (a copy under /tmp), postgres (KPIBOT_TEST_DATABASE_URL) or a PostgreSQL URL",
    )
    parser.add_argument("--no-profile", action="store_true", help="skip the cProfile runs")
    parser.add_argument("--quick", action="store_true", help="1,000 × 400, 1,000 rules, 2 runs")
    args = parser.parse_args()
    if args.quick:
        args.campaigns, args.days, args.rules, args.repeat = 1_000, 400, 1_000, 2

    cache, meta = sqlite_database(Scale(args.campaigns, args.days))
    end = date.fromisoformat(meta["end"])
    # Noon UTC on the day after the data ends: the evaluated day (yesterday in Copenhagen) is
    # the data's last day, and its 8 h landing grace is over.
    now = datetime.combine(end + timedelta(days=1), datetime.min.time(), UTC) + timedelta(hours=12)
    report_lines: list[str] = []
    profile_text = io.StringIO()
    with ExitStack() as stack:
        backend, url = stack.enter_context(database(args.db, cache))
        engine = make_engine(url)
        stack.callback(engine.dispose)
        sessions = session_factory(engine)
        seconds, kinds = timed(lambda: add_rules(sessions, args.rules, now))
        say(f"stored {args.rules:,} rules in {seconds:.1f} s: {kinds}")
        poster = InstantPoster()
        service = AlertService(
            engine,
            sessions,
            CampaignDirectory(),
            Economics(),
            ZoneInfo(TZ),
            poster=poster,
            render=alert_message,
            render_incident=incident_message,
            clock=lambda: now,
        )
        day = service.evaluated_day(now)
        assert day == end, (day, end)
        with session_scope(sessions) as session:
            rules = alerts.list_rules(session, active=True)
            service.directory.current(session)  # warm, as in the long-running scheduler
        needed = sorted(ranges(rules, day))
        say(f"evaluated day {day}; {len(needed)} date ranges: " + ", ".join(
            f"{(b - a).days + 1}d ending D-{(day - b).days}" for a, b in needed
        ))

        floors: list[float] = []
        sqls: list[float] = []
        dry: list[float] = []
        dry_report = None
        for _ in range(args.repeat):  # interleaved, so the machine's noise hits both alike
            floors.append(timed(lambda: floor(sessions, rules, day))[0])
            sqls.append(timed(lambda: sql_only(sessions, rules, day))[0])
            seconds, dry_report = timed(lambda: service.check(now, dry_run=True))
            dry.append(seconds)
        assert dry_report is not None
        say(f"dry run: {dry_report.line()} planned={len(dry_report.planned)}")

        with phase_timers(service) as phases:
            service.check(now, dry_run=True)
        phase_rows = dict(phases.seconds)

        dry_peak = peak_memory(lambda: service.check(now, dry_run=True))

        first_s, first = timed(lambda: service.check(now))
        say(f"first check: {first.line()} recorded={first.recorded} posts={poster.posts}")
        with session_scope(sessions) as session:
            stored_statuses = len(alerts.statuses(session))
        posts_after_first = poster.posts

        later = now + timedelta(hours=1)
        steady: list[float] = []
        steady_report = None
        for _ in range(args.repeat):
            seconds, steady_report = timed(lambda: service.check(later))
            steady.append(seconds)
        assert steady_report is not None
        say(f"steady check: {steady_report.line()} recorded={steady_report.recorded}")
        changed = (
            steady_report.recorded
            + steady_report.fired
            + steady_report.resolved
            + steady_report.reminded
            + steady_report.sent
        )
        assert changed == 0 and poster.posts == posts_after_first, "the re-check changed things"
        steady_peak = peak_memory(lambda: service.check(later))

        if not args.no_profile:
            report_lines += profile(
                lambda: service.check(now, dry_run=True), "check(dry_run=True)", profile_text
            )
            report_lines += profile(lambda: service.check(later), "steady check", profile_text)
            OUT.mkdir(parents=True, exist_ok=True)
            path = OUT / "alert_profile.txt"
            path.write_text(profile_text.getvalue())
            report_lines.append(f"full listing: {path.relative_to(OUT.parent.parent)}")
        rss = peak_rss_mb()

    pairs = dry_report.evaluated
    print(f"\n{machine()}\n")
    print(
        f"{backend}: {args.rules:,} rules ({kinds_line(kinds)}) over {args.campaigns:,} "
        f"campaigns × {args.days:,} days; {pairs:,} (rule, campaign) pairs judged, "
        f"{len(needed)} date ranges\n"
    )
    best_floor = min(floors)
    print(
        markdown_table(
            ["what", f"best of {args.repeat}", "all runs (s)"],
            [
                [f"floor: grouped SQL alone ({len(needed)} ranges + accounts)",
                 f"{best_floor:.2f} s", runs(floors)],
                ["… of which the database (rows fetched, no Totals)", f"{min(sqls):.2f} s",
                 runs(sqls)],
                ["`check(now, dry_run=True)`", f"**{min(dry):.2f} s** (target < {TARGET_S:g} s)",
                 runs(dry)],
                ["dry run ÷ floor", f"{min(dry) / best_floor:.1f}×", ""],
                ["steady `check(now + 1 h)` (nothing changes)",
                 f"**{min(steady):.2f} s** (target < {TARGET_S:g} s)", runs(steady)],
                ["steady ÷ floor", f"{min(steady) / best_floor:.1f}×", ""],
                [f"first `check(now)`: {first.fired:,} fired, {first.recorded:,} history rows, "
                 f"{first.sent:,} posts", f"{first_s:.2f} s (once)", ""],
            ],
        )
    )
    print()
    print(
        markdown_table(
            ["phase of one dry-run check", "s"],
            [[name, f"{s:.3f}"] for name, s in phase_rows.items()]
            + [["  of which sweep (judging in Python)",
                f"{phase_rows.get('_verdicts', 0) - phase_rows.get('grouped SQL (totals_by_campaign)', 0) - phase_rows.get('grouped SQL (accounts_last_day)', 0):.3f}"]],
        )
    )
    print(
        f"\nstatuses stored after the first check: {stored_statuses:,}; "
        f"peak Python heap (tracemalloc): dry run {dry_peak:.0f} MB, steady {steady_peak:.0f} MB; "
        f"process peak RSS {rss:.0f} MB"
    )
    if report_lines:
        print("\n" + "\n".join(report_lines))
    met = min(dry) < TARGET_S and min(steady) < TARGET_S
    print(f"\ntarget (dry run and steady check < {TARGET_S:g} s): {'met' if met else 'MISSED'}")
    return 0


def kinds_line(kinds: dict[str, int]) -> str:
    return ", ".join(f"{k} {v:,}" for k, v in kinds.items())


if __name__ == "__main__":
    sys.exit(main())
