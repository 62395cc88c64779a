"""Building 1,000 morning digests over 10,000 campaigns, Slack time excluded, against its floor.

    .venv/bin/python benchmarks/digest_build.py [--campaigns 10000] [--days 60]
        [--subscriptions 1000] [--repeat 3]

The database is kpibot's own (built with its importer by benchmarks/kpi_latency.py's helper and
cached under benchmarks/out/). The floor is the grouped SQL a digest pass needs — one
totals-per-campaign query per period (the day, the day before, a week earlier, month to date,
the 28 days of the volume bar) and one accounts query, per distinct day — run alone, in the same
process, on the same data. A digest pass = DigestService._build for every subscription (what
`run_due` builds before posting); `run_due` is timed too, with a poster that answers at once,
so it adds the ledger's claims and writes.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import machine, markdown_table, say
from kpi_latency import Scale, sqlite_database

from bot.channels import CHANNELS
from bot.digests.content import DigestDays
from bot.digests.schedule import DAILY, Schedule
from bot.digests.service import FRESHNESS_DAYS, DigestService
from bot.kpi import Economics
from bot.query import ScopeSpec
from bot.service import CampaignDirectory
from storage import digests
from storage.database import make_engine, session_factory, session_scope
from storage.metrics import all_campaigns, totals_by_campaign

ZONES = ("Europe/Copenhagen", "America/New_York", "Asia/Kolkata")


@dataclass
class InstantPoster:
    posts: int = 0
    seen: set[str] = field(default_factory=set)

    def post(
        self, channel: str, message: dict[str, Any], *, thread_ts: str | None = None
    ) -> tuple[str, str]:
        self.posts += 1
        return channel, f"{self.posts}.000"

    def update(self, channel: str, ts: str, message: dict[str, Any]) -> None:
        pass

    def upload_png(self, channel: str, png: bytes, *, title: str, filename: str) -> None:
        pass

    def direct_message(self, user: str, message: dict[str, Any]) -> None:
        pass


def subscribe(service: DigestService, count: int, now: datetime) -> None:
    """A realistic mix: 40 % all, 30 % a channel, 20 % a platform, 10 % three campaigns."""
    rng = random.Random(7)
    with session_scope(service.sessions) as session:
        campaigns = all_campaigns(session)
        platforms = sorted({c.platform for c in campaigns})
        for i in range(count):
            roll = i % 10
            if roll < 4:
                scope = ScopeSpec("all")
            elif roll < 7:
                scope = ScopeSpec("channel", (rng.choice(CHANNELS),))
            elif roll < 9:
                scope = ScopeSpec("platform", (rng.choice(platforms),))
            else:
                scope = ScopeSpec("campaigns", tuple(c.name for c in rng.sample(campaigns, 3)))
            digests.add_subscription(
                session,
                channel=f"C{i:05d}",
                schedule=Schedule(DAILY, clock_time(0, 0), ZONES[i % len(ZONES)]),
                scope=scope,
                created_by="U1",
                now=now - timedelta(days=3),
            )


def floor(service: DigestService, now: datetime) -> float:
    """The grouped queries alone, once per distinct day."""
    started = time.perf_counter()
    days = {
        now.astimezone(Schedule(DAILY, clock_time(0), z).zone).date() - timedelta(days=1)
        for z in ZONES
    }
    with session_scope(service.sessions) as session:
        for day in days:
            d = DigestDays(day)
            for start, end in (
                (d.day, d.day),
                (d.day_before, d.day_before),
                (d.week_ago, d.week_ago),
                (d.month_start, d.day),
                (d.volume_start, d.volume_end),
            ):
                totals_by_campaign(session, start, end)
            digests.accounts_last_day(session, day - timedelta(days=FRESHNESS_DAYS), day)
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--campaigns", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--subscriptions", type=int, default=1_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    path, meta = sqlite_database(Scale(args.campaigns, args.days))
    work = path.with_name(f"digests_{args.campaigns}x{args.days}.db")
    work.write_bytes(path.read_bytes())  # subscriptions and ledger rows stay out of the cache
    engine = make_engine(f"sqlite:///{work}")
    try:
        from storage.schema import upgrade

        upgrade(engine)
        sessions = session_factory(engine)
        end = datetime.fromisoformat(meta["end"]).replace(tzinfo=UTC)
        now = end + timedelta(days=1, hours=12)  # noon UTC on the day after the data ends
        poster = InstantPoster()
        service = DigestService(
            engine,
            sessions,
            CampaignDirectory(),
            Economics(),
            "Europe/Copenhagen",
            poster=poster,
            render=lambda preview: {"text": "digest", "blocks": []},
            clock=lambda: now,
            grace=timedelta(days=1),
        )
        subscribe(service, args.subscriptions, now)
        with session_scope(sessions) as session:
            subscriptions = digests.list_subscriptions(session)
        service.directory.current(session_factory(engine)())  # warm the campaign index
        floors, builds = [], []
        for _ in range(args.repeat):
            floors.append(floor(service, now))
            started = time.perf_counter()
            built = service._build(subscriptions, now, with_trend=False)
            builds.append(time.perf_counter() - started)
            assert len(built) == len(subscriptions)
        started = time.perf_counter()
        report = service.run_due(now)
        run_due = time.perf_counter() - started
        say(f"run_due: {report.lines()}")
    finally:
        engine.dispose()
        work.unlink(missing_ok=True)
        for suffix in ("-wal", "-shm"):
            Path(str(work) + suffix).unlink(missing_ok=True)
    print(f"\n{machine()}\n")
    print(
        markdown_table(
            ["what", f"best of {args.repeat}", "all runs"],
            [
                [
                    "floor: grouped SQL alone",
                    f"{min(floors):.2f} s",
                    ", ".join(f"{f:.2f}" for f in floors),
                ],
                [
                    f"build {len(subscriptions):,} digests over {args.campaigns:,} campaigns",
                    f"{min(builds):.2f} s",
                    ", ".join(f"{b:.2f}" for b in builds),
                ],
                ["build ÷ floor", f"{min(builds) / min(floors):.1f}×", ""],
                [
                    f"run_due (build + {report.sent:,} claims/posts to an instant poster)",
                    f"{run_due:.2f} s",
                    "",
                ],
            ],
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
