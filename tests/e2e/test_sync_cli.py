"""`kpibot sync` end to end: real `kpibot` processes, real HTTP to the fake Meta and Google Ads
servers on 127.0.0.1, a real database (SQLite and PostgreSQL).

The KPIs of what a sync landed are compared with values computed by hand from the scripted
campaign days; throttling and a failure half-way through a sync neither lose nor double data;
`kpibot source list --json` tells the truth about each source; and no secret shows up in any
output or any stored text.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import String, Text, func, select

from storage.database import make_engine
from storage.models import Base, DailyMetrics
from tests.e2e.conftest import kpibot_executable
from tests.support.fake_google_ads import FakeGoogleAds
from tests.support.fake_meta import FakeMeta, Request

META_TOKEN = "meta-secret-token-123"
GOOGLE_SECRETS = {
    "developer_token": "google-dev-token-secret-456",
    "client_id": "google-client-id-secret-789",
    "client_secret": "google-client-secret-abc",
    "refresh_token": "google-refresh-token-secret-def",
}
SECRETS = (META_TOKEN, *GOOGLE_SECRETS.values(), "ya29.access-")  # the last: issued tokens
ENV_NAMES = {
    "META_TOKEN": META_TOKEN,
    "GADS_DEV": GOOGLE_SECRETS["developer_token"],
    "GADS_ID": GOOGLE_SECRETS["client_id"],
    "GADS_SECRET": GOOGLE_SECRETS["client_secret"],
    "GADS_REFRESH": GOOGLE_SECRETS["refresh_token"],
}

TODAY = datetime.now(UTC).date()  # KPIBOT_TIMEZONE=UTC: the sync's window ends today
D0, D1, D2 = (TODAY - timedelta(days=n) for n in (6, 5, 4))
SINCE = TODAY - timedelta(days=7)
WINDOW_DAYS = (TODAY - SINCE).days + 1
PERIOD = f"{D0.isoformat()}..{D2.isoformat()}"
FIELDS = ("spend", "conversions", "revenue", "cpa", "roas")

# By hand, over D0..D2 (Meta in DKK, Google in EUR):
#   Brand Nordic: spend 100.50 + 49.50 = 150.00; 2 + 1 = 3 purchases (each under three
#     aliases: counted once); revenue 301.50 + 148.50 = 450.00; CPA 150/3 = 50; ROAS 3.
#     Nothing on D2: Meta omits the row, the sync stores a zero day.
#   Prospecting Lookalike: spend 20.00 + 30.25 + 10.00 = 60.25; 0 + 1 + 1 = 2; revenue
#     80.50 + 40.00 = 120.50; CPA 30.125; ROAS 2.
#   Search Generic: spend 25 + 12.345 = 37.345; 2.5 + 1 = 3.5 conversions; revenue 100 + 49.38
#     = 149.38; CPA 37.345 / 3.5 = 10.67; ROAS 149.38 / 37.345 = 4.
EXPECTED = {
    ("meta_ads", "111"): ("150.00", 3, "450.00", "50.00", "3"),
    ("meta_ads", "222"): ("60.25", 2, "120.50", "30.125", "2"),
    ("google_ads", "901"): ("37.345", 3.5, "149.38", "10.67", "4"),
}
# After the platforms' data changed:
#   Brand Nordic: 200.00 + 49.50 = 249.50; 4 + 1 = 5; 600.00 + 148.50 = 748.50; CPA 49.90;
#     ROAS 3.
#   Prospecting Lookalike: its D2 row is gone (a zero day now): 20.00 + 30.25 = 50.25; 1;
#     revenue 100.50; CPA 50.25; ROAS 2.
#   Search Generic: 25 + 2.50 = 27.50; 2.5 + 3 = 5.5; 100 + 10 = 110.00; CPA 5; ROAS 4.
#   Shopping Feed (new): 5.00; 0.5; 7.50; CPA 10; ROAS 1.5.
CHANGED = {
    ("meta_ads", "111"): ("249.50", 5, "748.50", "49.90", "3"),
    ("meta_ads", "222"): ("50.25", 1, "100.50", "50.25", "2"),
    ("google_ads", "901"): ("27.50", 5.5, "110.00", "5.00", "4"),
    ("google_ads", "902"): ("5.00", 0.5, "7.50", "10.00", "1.5"),
}


@dataclass
class BrokenPageMeta(FakeMeta):
    """FakeMeta whose insights page `broken_page` fails every time it is asked for: HTTP 500
    (a transient Meta error, retried by the client and still failing) or JSON cut off half
    way ("truncate")."""

    broken_page: int | None = None
    broken_with: str = "500"

    def _insights(self, request: Request) -> tuple[int, bytes, dict[str, str]]:
        page = int(request.query.get("after", "0")) // self.page_size + 1
        if page == self.broken_page:
            if self.broken_with == "truncate":
                return 200, b'{"data": [{"campaign_id": "111", "spe', {}
            return 500, self._error(2, "Service temporarily unavailable", transient=True), {}
        return super()._insights(request)


def script_first_data(meta: FakeMeta, google: FakeGoogleAds) -> None:
    meta.days.clear()
    google.days.clear()
    brand, prospecting = ("111", "Brand Nordic"), ("222", "Prospecting Lookalike")
    meta.add_day(D0, *brand, impressions=1000, clicks=50, spend="100.50", purchases="2",
                 purchase_value="301.50")  # fmt: skip
    meta.add_day(D1, *brand, impressions=800, clicks=40, spend="49.50", purchases="1",
                 purchase_value="148.50")  # fmt: skip
    meta.add_day(D2, *brand)  # nothing delivered: Meta omits the row
    meta.add_day(D0, *prospecting, impressions=500, clicks=10, spend="20.00")
    meta.add_day(D1, *prospecting, impressions=700, clicks=20, spend="30.25", purchases="1",
                 purchase_value="80.50")  # fmt: skip
    meta.add_day(D2, *prospecting, impressions=300, clicks=5, spend="10.00", purchases="1",
                 purchase_value="40.00")  # fmt: skip
    search = ("901", "Search Generic")
    google.add_day(D0, *search, cost_micros=25_000_000, impressions=900, clicks=30,
                   conversions="2.5", conversions_value="100.00")  # fmt: skip
    google.add_day(D1, *search, cost_micros=12_345_000, impressions=400, clicks=12,
                   conversions="1", conversions_value="49.38")  # fmt: skip
    google.add_day(D2, *search)  # all zero: Google omits the row


def script_changed_data(meta: FakeMeta, google: FakeGoogleAds) -> None:
    meta.days.clear()
    google.days.clear()
    brand, prospecting = ("111", "Brand Nordic"), ("222", "Prospecting Lookalike")
    meta.add_day(D0, *brand, impressions=2000, clicks=100, spend="200.00", purchases="4",
                 purchase_value="600.00")  # fmt: skip
    meta.add_day(D1, *brand, impressions=800, clicks=40, spend="49.50", purchases="1",
                 purchase_value="148.50")  # fmt: skip
    meta.add_day(D0, *prospecting, impressions=500, clicks=10, spend="20.00")
    meta.add_day(D1, *prospecting, impressions=700, clicks=20, spend="30.25", purchases="1",
                 purchase_value="100.50")  # fmt: skip
    search, shopping = ("901", "Search Generic"), ("902", "Shopping Feed")
    google.add_day(D0, *search, cost_micros=25_000_000, impressions=900, clicks=30,
                   conversions="2.5", conversions_value="100.00")  # fmt: skip
    google.add_day(D1, *search, cost_micros=2_500_000, impressions=100, clicks=3,
                   conversions="3", conversions_value="10.00")  # fmt: skip
    google.add_day(D2, *shopping, cost_micros=5_000_000, impressions=50, clicks=2,
                   conversions="0.5", conversions_value="7.50")  # fmt: skip


@dataclass
class World:
    """Both fakes, a database, and `kpibot` run as a process against them; every output is
    kept, to look for secrets in at the end."""

    database_url: str
    meta: BrokenPageMeta
    google: FakeGoogleAds
    env: dict[str, str]
    cwd: Path
    outputs: list[str] = field(default_factory=list)

    def run(self, *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [kpibot_executable(), *args],
            env=self.env,
            cwd=self.cwd,
            capture_output=True,
            text=True,
            timeout=120,
        )
        self.outputs += [result.stdout, result.stderr]
        if ok:
            assert result.returncode == 0, (args, result.stdout, result.stderr)
        return result

    def sync(self, *, ok: bool = True) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
        result = self.run("sync", "--since", SINCE.isoformat(), "--json", ok=ok)
        runs = {r["source"]: r for r in json.loads(result.stdout)["runs"]}
        for run in runs.values():
            assert (run["start"], run["end"]) == (SINCE.isoformat(), TODAY.isoformat())
        return result, runs

    def kpis(self) -> dict[tuple[str, str], tuple[Any, ...]]:
        """(spend, conversions, revenue, CPA, ROAS) of every campaign over D0..D2, as
        `kpibot kpi --json` prints them."""
        answer = json.loads(self.run("kpi", "top", "spend", PERIOD, "20", "--json").stdout)
        found = {}
        for row in answer["rows"]:
            key = (row["scope"]["platform"], row["scope"]["id"])
            assert key not in found, key
            found[key] = tuple(row["kpis"][name] for name in FIELDS)
        return found

    def sources(self) -> dict[str, dict[str, Any]]:
        listed = json.loads(self.run("source", "list", "--json").stdout)["sources"]
        return {s["name"]: s for s in listed}

    def stored_rows(self) -> int:
        engine = make_engine(self.database_url)
        try:
            with engine.connect() as connection:
                count: int = connection.execute(
                    select(func.count()).select_from(DailyMetrics)
                ).scalar_one()
        finally:
            engine.dispose()
        return count

    def stored_texts(self) -> list[str]:
        """Every text column of every row of every kpibot table (sources and sync_runs among
        them)."""
        texts = []
        engine = make_engine(self.database_url)
        try:
            with engine.connect() as connection:
                for table in Base.metadata.sorted_tables:
                    columns = [c for c in table.columns if isinstance(c.type, (String, Text))]
                    if not columns:
                        continue
                    for row in connection.execute(select(*columns)):
                        texts += [str(v) for v in row if v is not None]
        finally:
            engine.dispose()
        return texts

    def assert_no_secrets(self) -> None:
        stored = self.stored_texts()
        assert any("GADS_REFRESH" in text for text in stored)  # sources.secret_envs was read
        everything = "\n".join(self.outputs + stored)
        assert "Brand Nordic" in everything
        for secret in SECRETS:
            assert secret not in everything, secret
        assert self.meta.token_in_query == 0  # the token never travelled in a URL


@pytest.fixture
def world(database_url: str, tmp_path: Path) -> Iterator[World]:
    with (
        BrokenPageMeta(token=META_TOKEN, page_size=2) as meta,
        FakeGoogleAds(**GOOGLE_SECRETS, batch_size=1) as google,
    ):
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("SLACK_", "KPIBOT_", "DATABASE_URL", "META_", "GOOGLE_"))
        }
        env.update(
            DATABASE_URL=database_url,
            KPIBOT_TIMEZONE="UTC",
            KPIBOT_LOG_LEVEL="INFO",
            META_GRAPH_URL=meta.url,
            GOOGLE_ADS_API_URL=google.api_url,
            GOOGLE_OAUTH_TOKEN_URL=google.token_url,
            **ENV_NAMES,
        )
        found = World(database_url, meta, google, env, tmp_path)
        found.run("source", "add", "meta", "fb", "--account", meta.account, "--token-env",
                  "META_TOKEN")  # fmt: skip
        found.run(
            "source", "add", "google-ads", "ga", "--customer", "123-456-7890",
            "--developer-token-env", "GADS_DEV", "--client-id-env", "GADS_ID",
            "--client-secret-env", "GADS_SECRET", "--refresh-token-env", "GADS_REFRESH",
        )  # fmt: skip
        script_first_data(meta, google)
        yield found


def test_a_sync_lands_kpis_equal_to_the_hand_computed_ones_and_a_resync_changes_nothing(
    world: World,
) -> None:
    _, runs = world.sync()

    assert runs["fb"]["ok"] and runs["ga"]["ok"]
    # Every campaign seen gets every day of the window (the omitted all-zero days as zeros).
    assert runs["fb"]["rows"] == 2 * WINDOW_DAYS
    assert runs["ga"]["rows"] == 1 * WINDOW_DAYS
    assert world.kpis() == EXPECTED
    # Meta's three pages were each read once (5 rows, 2 a page), the token never in a URL.
    offsets = [r.query.get("after", "0") for r in world.meta.insights_calls()]
    assert sorted(offsets) == ["0", "2", "4"]
    stored = world.stored_rows()
    assert stored == 3 * WINDOW_DAYS

    _, again = world.sync()

    assert again["fb"]["ok"] and again["ga"]["ok"]
    assert world.kpis() == EXPECTED
    assert world.stored_rows() == stored
    sources = world.sources()
    assert sources["fb"]["rows"] == 2 * WINDOW_DAYS and sources["ga"]["rows"] == WINDOW_DAYS
    assert all(s["status"] == "ok" and s["error"] is None for s in sources.values())
    world.assert_no_secrets()


def test_throttling_is_waited_out_and_the_numbers_are_the_same(world: World) -> None:
    # Meta: page 2 throttled (80004, "regain access" in well under a second: 0.01 minutes),
    # then page 3 throttled with code 17; Google: one RESOURCE_EXHAUSTED with a retryDelay.
    world.meta.throttle(page=2, minutes=0.01)
    world.meta.throttle(page=3, code=17, minutes=0.005)
    world.google.exhaust(1, retry_after=None, retry_delay="0.2s")

    result, runs = world.sync()

    assert runs["fb"]["ok"] and runs["ga"]["ok"], result.stdout
    assert world.kpis() == EXPECTED
    assert world.stored_rows() == 3 * WINDOW_DAYS
    offsets = [r.query.get("after", "0") for r in world.meta.insights_calls()]
    assert sorted(offsets) == ["0", "2", "2", "4", "4"]  # each throttled page asked again
    assert all(t.times == 0 for t in world.meta.throttles)
    assert world.google.exhaust_left == 0
    assert len(world.google.calls("searchStream")) == 2
    world.assert_no_secrets()


def test_a_failure_half_way_keeps_the_previous_data_and_the_list_tells_the_truth(
    world: World,
) -> None:
    world.sync()
    assert world.kpis() == EXPECTED
    good = world.sources()
    stored = world.stored_rows()

    # The platforms' numbers change, and both fail half way through the read: Meta's second
    # page answers 500 however often it is retried (quoting the token in its error, which
    # must be scrubbed), Google's stream is cut off.
    script_changed_data(world.meta, world.google)
    world.meta.broken_page = 2
    world.meta.echo_token = True
    world.google.truncate_next = True
    world.meta.requests.clear()

    failed, runs = world.sync(ok=False)

    assert failed.returncode == 1
    assert not runs["fb"]["ok"] and not runs["ga"]["ok"]
    assert "HTTP 500" in runs["fb"]["detail"] and "cut off" in runs["ga"]["detail"]
    assert "Traceback" not in failed.stderr
    pages = [r.query.get("after", "0") for r in world.meta.insights_calls()]
    assert pages == ["0", "2", "2", "2", "2"]  # page 2 tried and retried 3 times, no page 3
    assert world.kpis() == EXPECTED  # nothing half replaced
    assert world.stored_rows() == stored
    listed = world.sources()
    for name, error in (("fb", "HTTP 500"), ("ga", "cut off")):
        source = listed[name]
        assert error in source["error"] and source["status"].startswith("failing since ")
        assert source["failing_since"] is not None and source["needs_new_token"] is False
        # What the last success brought stays as it was.
        for key in ("last_success_at", "data_through", "rows"):
            assert source[key] == good[name][key], (name, key)

    # Google recovers, Meta fails again, now with a page cut off twice: Google's new numbers
    # land, Meta's old ones stay, and Meta is failing since the first failure.
    world.meta.broken_with = "truncate"
    world.meta.echo_token = False
    plain = world.run("sync", "--since", SINCE.isoformat(), ok=False)

    assert plain.returncode == 1
    assert "fb " in plain.stderr and "failed" in plain.stderr and "cut off" in plain.stderr
    assert "Traceback" not in plain.stderr
    mixed = world.kpis()
    assert {k: v for k, v in mixed.items() if k[0] == "meta_ads"} == {
        k: v for k, v in EXPECTED.items() if k[0] == "meta_ads"
    }
    assert {k: v for k, v in mixed.items() if k[0] == "google_ads"} == {
        k: v for k, v in CHANGED.items() if k[0] == "google_ads"
    }
    still = world.sources()
    assert still["fb"]["failing_since"] == listed["fb"]["failing_since"]
    assert still["fb"]["last_success_at"] == good["fb"]["last_success_at"]
    assert "cut off" in still["fb"]["error"]
    assert still["ga"]["error"] is None and still["ga"]["status"] == "ok"
    assert still["ga"]["failing_since"] is None
    assert still["ga"]["last_success_at"] > good["ga"]["last_success_at"]
    assert still["ga"]["rows"] == 2 * WINDOW_DAYS

    # Meta recovers: the new numbers, once; a second sync changes nothing.
    world.meta.broken_page = None
    _, recovered = world.sync()
    assert recovered["fb"]["ok"] and recovered["ga"]["ok"]
    assert world.kpis() == CHANGED
    rows_after = world.stored_rows()
    assert rows_after == 4 * WINDOW_DAYS
    world.sync()
    assert world.kpis() == CHANGED
    assert world.stored_rows() == rows_after
    final = world.sources()
    for name in ("fb", "ga"):
        assert final[name]["error"] is None and final[name]["failing_since"] is None
        assert final[name]["status"] == "ok"
        assert final[name]["data_through"] == TODAY.isoformat()
        assert final[name]["last_success_at"] > still[name]["last_success_at"]
        assert final[name]["rows"] == 2 * WINDOW_DAYS
    world.assert_no_secrets()
