"""`/kpi` latency, signed HTTP request to HTTP response (the acknowledgement path).

    bash scripts/pg.sh -- .venv/bin/python benchmarks/kpi_latency.py [--quick]

For each data scale (default 1,000 campaigns × 400 days and 10,000 × 1,100; the last day is
yesterday, UTC) and each backend (SQLite; PostgreSQL when KPIBOT_TEST_DATABASE_URL is set):

* `kpibot serve --workers 1` (gunicorn, as shipped, log level INFO into a file) answers
  ``--requests`` sequential signed `/kpi` requests over one keep-alive connection, for
  (a) `/kpi <campaign external id> 30d` (rotating over 100 campaigns) and (b) `/kpi top roas 30d`;
* floor (i): the same requests to benchmarks/noop_app.py, a Bolt app whose listener only
  acks, served by the same gunicorn/gthread/Bolt-WSGI stack (no database, no logging);
* floor (ii): the same SQL run directly, in-process: `totals_by_campaign()` for the same
  period and campaign (a) or all campaigns (b), one session per call;
* diagnostic: the whole answer in-process, no HTTP: `reply_for(kpis, text)` (query parsing,
  campaign lookup, every SQL statement, KPI maths, Block Kit rendering);
* concurrency: `kpibot serve --workers 4`, 50 threads released together, each sending one
  request; every one must come back 200, not an apology, within 3 s.

Data: SQLite databases are built once with `kpibot import` (in-process import_file(), in
chunks of ≤ 1M rows) into benchmarks/out/kpi_<C>x<D>.db and reused while their last day is
within a week of yesterday. PostgreSQL gets a fresh schema per run, filled by COPY from the
cached SQLite database (same rows, same ids), then ANALYZE (what autovacuum would do).

A series stops early (and says so) when it runs past its budget (--series-budget for /kpi
over HTTP, --floor-budget for the floors and the in-process answer), so the script always
ends in bounded time; `top` at 10,000 campaigns takes most of a second per request, so it
gets fewer than --requests samples by default.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from _common import (
    OUT,
    ROOT,
    VENV_BIN,
    libpq_url,
    machine,
    markdown_table,
    postgres_base_url,
    postgres_schema,
    say,
    summary_ms,
)

from storage.models import MEASURE_COLUMNS

SECRET = "bench-signing-secret-0123456789abcdef"
BOT_TOKEN = "xoxb-bench-token"
SEED = 7
CHUNK_ROWS = 1_000_000
REUSE_DAYS = 7
SAMPLE_CAMPAIGNS = 100
WARMUP = 20
CONCURRENT = 50
CONCURRENT_LIMIT_S = 3.0
TARGET_SINGLE_MS = 50.0
TARGET_SINGLE_FLOOR_RATIO = 2.0
TARGET_TOP_MS = 500.0
TOP_TARGET_CAMPAIGNS = 10_000


# --------------------------------------------------------------------------- data


@dataclass(frozen=True)
class Scale:
    campaigns: int
    days: int

    @property
    def rows(self) -> int:
        return self.campaigns * self.days

    @property
    def name(self) -> str:
        return f"{self.campaigns:,} × {self.days:,}"

    @classmethod
    def parse(cls, text: str) -> Scale:
        campaigns, _, days = text.lower().partition("x")
        return cls(int(campaigns.replace("_", "")), int(days.replace("_", "")))


def yesterday_utc() -> date:
    return datetime.now(UTC).date() - timedelta(days=1)


def sqlite_database(scale: Scale) -> tuple[Path, dict[str, Any]]:
    """The cached SQLite database for ``scale``, built with kpibot's importer if needed."""
    path = OUT / f"kpi_{scale.campaigns}x{scale.days}.db"
    meta_path = path.with_suffix(".json")
    if path.exists() and meta_path.exists():
        meta = json.loads(meta_path.read_text())
        age = (yesterday_utc() - date.fromisoformat(meta["end"])).days
        if 0 <= age <= REUSE_DAYS:
            say(f"reusing {path.name} (data through {meta['end']}, built in {meta['seconds']} s)")
            return path, meta
        say(f"{path.name} ends {meta['end']}, {age} days before yesterday: rebuilding")
    meta = build_sqlite(scale, path)
    meta_path.write_text(json.dumps(meta, indent=2))
    return path, meta


def build_sqlite(scale: Scale, path: Path) -> dict[str, Any]:
    from bot import demo_data
    from bot.importing.run import import_file
    from storage.database import make_engine
    from storage.schema import upgrade

    OUT.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.stem + ".partial.db")
    for leftover in OUT.glob(partial.name + "*"):
        leftover.unlink()
    chunk = OUT / f"chunk_{scale.campaigns}x{scale.days}.csv"
    end = yesterday_utc()
    start = end - timedelta(days=scale.days - 1)
    campaigns = demo_data.demo_campaigns(scale.campaigns, SEED)
    per_chunk = max(1, CHUNK_ROWS // scale.campaigns)
    engine = make_engine(f"sqlite:///{partial}")
    upgrade(engine)
    say(f"building {path.name}: {scale.rows:,} rows through {end}, {per_chunk} days per chunk")
    started = time.perf_counter()
    generate_s = import_s = 0.0
    done = 0
    try:
        offset = 0
        while offset < scale.days:
            days = min(per_chunk, scale.days - offset)
            chunk_end = start + timedelta(days=offset + days - 1)
            t0 = time.perf_counter()
            demo_data.write_csv(chunk, campaigns, chunk_end, days, seed=SEED)
            t1 = time.perf_counter()
            import_file(engine, chunk, default_currency="USD")
            t2 = time.perf_counter()
            generate_s += t1 - t0
            import_s += t2 - t1
            offset += days
            done += days * scale.campaigns
            say(
                f"  {done:,}/{scale.rows:,} rows; chunk generated in {t1 - t0:.1f} s, "
                f"imported in {t2 - t1:.1f} s ({days * scale.campaigns / (t2 - t1):,.0f} rows/s)"
            )
        with engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        engine.dispose()
        chunk.unlink(missing_ok=True)
    partial.rename(path)
    for suffix in ("-wal", "-shm"):
        Path(str(partial) + suffix).unlink(missing_ok=True)
    seconds = time.perf_counter() - started
    say(f"  built in {seconds:.0f} s (generate {generate_s:.0f} s, import {import_s:.0f} s)")
    return {
        "campaigns": scale.campaigns,
        "days": scale.days,
        "rows": scale.rows,
        "end": end.isoformat(),
        "seconds": round(seconds),
        "generate_seconds": round(generate_s),
        "import_seconds": round(import_s),
        "size_mb": round(path.stat().st_size / 1e6),
    }


METRIC_COLUMNS = ("campaign_id", "day", *MEASURE_COLUMNS)
CAMPAIGN_COLUMNS = ("id", "platform", "account", "external_id", "name", "channel", "currency")


def fill_postgres(source: Path, url: str) -> float:
    """Copy campaigns and daily metrics from the SQLite database into a fresh PG schema."""
    import psycopg

    from storage.database import make_engine
    from storage.schema import upgrade

    started = time.perf_counter()
    engine = make_engine(url)
    try:
        upgrade(engine)
    finally:
        engine.dispose()
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        with psycopg.connect(libpq_url(url)) as dst, dst.cursor() as cursor:
            for table, columns, order in (
                ("campaigns", CAMPAIGN_COLUMNS, "id"),
                ("daily_metrics", METRIC_COLUMNS, "campaign_id, day"),
            ):
                names = ", ".join(columns)
                rows = src.execute(f"SELECT {names} FROM {table} ORDER BY {order}")
                with cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            cursor.execute(
                "SELECT setval(pg_get_serial_sequence('campaigns', 'id'), "
                "(SELECT MAX(id) FROM campaigns))"
            )
            dst.commit()
            dst.autocommit = True
            cursor.execute("ANALYZE")
    finally:
        src.close()
    return time.perf_counter() - started


def ensure_current_schema(url: str) -> None:
    """A cached database made by an older kpibot gets the newer migrations (a no-op if none)."""
    from storage.database import make_engine
    from storage.schema import upgrade

    engine = make_engine(url)
    try:
        upgrade(engine)
    finally:
        engine.dispose()


@dataclass(frozen=True)
class Dataset:
    scale: Scale
    end: date
    sample: list[tuple[int, str]]  # (campaign id, external id), deterministic


def sample_campaigns(url: str, count: int) -> list[tuple[int, str]]:
    from sqlalchemy import text

    from storage.database import make_engine

    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            rows = [
                (int(r[0]), str(r[1]))
                for r in connection.execute(
                    text("SELECT id, external_id FROM campaigns ORDER BY id")
                )
            ]
    finally:
        engine.dispose()
    rng = random.Random(SEED)
    return rng.sample(rows, min(count, len(rows)))


# --------------------------------------------------------------------------- servers


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_healthy(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    parts = urlsplit(url)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited: {log.read_text()[-3000:]}")
        try:
            connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=2)
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:
                connection.close()
                return
            connection.close()
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"server did not become healthy: {log.read_text()[-3000:]}")


@contextmanager
def running(argv: list[str], env: dict[str, str], log: Path) -> Iterator[str]:
    port = free_port()
    argv = [a.replace("{port}", str(port)) for a in argv]
    with log.open("wb") as out:
        process = subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=OUT)
    url = f"http://127.0.0.1:{port}/"
    try:
        wait_healthy(url, process, log)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def base_env() -> dict[str, str]:
    return {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SLACK_", "KPIBOT_", "DATABASE_URL"))
    }


def serve_kpibot(url: str, slack_url: str, workers: int, log: Path) -> Any:
    env = base_env()
    env.update(
        DATABASE_URL=url,
        SLACK_API_URL=slack_url,
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_SIGNING_SECRET=SECRET,
        KPIBOT_DEFAULT_CURRENCY="USD",
        KPIBOT_LOG_LEVEL="INFO",
    )
    argv = [str(VENV_BIN / "kpibot"), "serve", "--port", "{port}", "--workers", str(workers)]
    return running(argv, env, log)


def serve_noop(log: Path) -> Any:
    env = base_env()
    env["BENCH_SIGNING_SECRET"] = SECRET
    argv = [
        str(VENV_BIN / "gunicorn"),
        "--chdir",
        str(ROOT / "benchmarks"),
        "--bind",
        "127.0.0.1:{port}",
        "--workers",
        "1",
        "--worker-class",
        "gthread",
        "--threads",
        "8",
        "--timeout",
        "30",
        "noop_app:app",
    ]
    return running(argv, env, log)


# --------------------------------------------------------------------------- client


def command_body(command: str, text: str, response_url: str) -> str:
    return urlencode(
        {
            "token": "legacy-verification-token",
            "team_id": "T1",
            "team_domain": "example",
            "channel_id": "C0BENCH01",
            "channel_name": "marketing",
            "user_id": "U0BENCH01",
            "user_name": "lead",
            "command": command,
            "text": text,
            "response_url": response_url,
            "trigger_id": "1.2.3",
        }
    )


@dataclass
class Reply:
    status: int
    body: bytes
    seconds: float
    error: str = ""

    @property
    def kind(self) -> str:
        """ok (answered in the ack), deferred (empty ack), apology, or an error."""
        if self.error:
            return f"error: {self.error}"
        if self.status != 200:
            return f"HTTP {self.status}"
        if not self.body:
            return "deferred"
        text = self.body.decode(errors="replace")
        if "Sorry, something went wrong" in text:
            return "apology"
        return "ok"


class Client:
    """Signed Slack requests over one keep-alive HTTP/1.1 connection."""

    def __init__(self, url: str, response_url: str) -> None:
        parts = urlsplit(url)
        self.host, self.port = str(parts.hostname), int(parts.port or 80)
        self.response_url = response_url
        self.connection: http.client.HTTPConnection | None = None

    def post(self, command: str, text: str) -> Reply:
        from bot.slack.signing import signed_headers

        body = command_body(command, text, self.response_url)
        headers = {k: str(v) for k, v in signed_headers(SECRET, body).items()}
        payload = body.encode()
        for attempt in (1, 2):
            if self.connection is None:
                self.connection = http.client.HTTPConnection(self.host, self.port, timeout=30)
            started = time.perf_counter()
            try:
                self.connection.request("POST", "/slack/events", body=payload, headers=headers)
                response = self.connection.getresponse()
                data = response.read()
                seconds = time.perf_counter() - started
                if response.will_close:
                    self.close()
                return Reply(response.status, data, seconds)
            except (OSError, http.client.HTTPException) as exc:
                self.close()
                if attempt == 2:
                    return Reply(0, b"", time.perf_counter() - started, type(exc).__name__)
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None


# --------------------------------------------------------------------------- series


@dataclass
class Series:
    samples: list[float] = field(default_factory=list)
    kinds: Counter[str] = field(default_factory=Counter)
    wanted: int = 0
    cut_short: bool = False
    example: str = ""

    def stats(self) -> dict[str, float]:
        return summary_ms(self.samples)


def timed_series(
    wanted: int, budget_s: float, step: Callable[[int], float | Reply], warmup: int = WARMUP
) -> Series:
    """Run step(i) ``wanted`` times after a warm-up, stopping early past ``budget_s``."""
    for i in range(warmup):
        step(i)
    series = Series(wanted=wanted)
    deadline = time.perf_counter() + budget_s
    for i in range(wanted):
        outcome = step(i)
        if isinstance(outcome, Reply):
            series.samples.append(outcome.seconds)
            series.kinds[outcome.kind] += 1
            if not series.example:
                series.example = outcome.body[:160].decode(errors="replace")
        else:
            series.samples.append(outcome)
        if time.perf_counter() > deadline and i + 1 < wanted:
            series.cut_short = True
            break
    return series


def sql_step(
    sessions: Any, start: date, end: date, ids: list[list[int]] | None
) -> Callable[[int], float]:
    from storage.database import session_scope
    from storage.metrics import totals_by_campaign

    def step(i: int) -> float:
        started = time.perf_counter()
        with session_scope(sessions) as session:
            totals_by_campaign(session, start, end, None if ids is None else ids[i % len(ids)])
        return time.perf_counter() - started

    return step


def answer_step(kpis: Any, texts: list[str]) -> Callable[[int], float]:
    from bot.slack.replies import reply_for

    def step(i: int) -> float:
        started = time.perf_counter()
        reply_for(kpis, texts[i % len(texts)])
        return time.perf_counter() - started

    return step


# --------------------------------------------------------------------------- concurrency


@dataclass
class Burst:
    replies: list[Reply]
    wall: float
    late_answers: int = 0
    late_apologies: int = 0


def burst(url: str, response_url: str, texts: list[str]) -> Burst:
    """Send one request per text, all released at once from their own threads."""
    barrier = threading.Barrier(len(texts) + 1)
    replies: list[Reply | None] = [None] * len(texts)
    clients = [Client(url, response_url) for _ in texts]
    for c in clients:  # connect first, so the burst measures requests, not TCP set-up
        c.connection = http.client.HTTPConnection(c.host, c.port, timeout=30)
        c.connection.connect()

    def worker(i: int) -> None:
        barrier.wait()
        replies[i] = clients[i].post("/kpi", texts[i])

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(len(texts))]
    for t in threads:
        t.start()
    barrier.wait()
    started = time.perf_counter()
    for t in threads:
        t.join(timeout=60)
    wall = time.perf_counter() - started
    for c in clients:
        c.close()
    done = [r if r is not None else Reply(0, b"", wall, "no reply") for r in replies]
    return Burst(done, wall)


# --------------------------------------------------------------------------- main


@dataclass
class Row:
    backend: str
    scale: Scale
    query: str
    http: Series
    noop: Series
    sql: Series
    answer: Series


@dataclass
class BurstRow:
    backend: str
    scale: Scale
    query: str
    result: Burst


def fmt3(stats: dict[str, float]) -> str:
    return f"{stats['p50']:.1f} / {stats['p95']:.1f} / {stats['p99']:.1f}"


def measure_backend(
    backend: str,
    url: str,
    scale: Scale,
    data: Dataset,
    args: argparse.Namespace,
    log_dir: Path,
) -> tuple[list[Row], list[BurstRow]]:
    from bot.composition import build
    from bot.config import Settings
    from tests.support.fake_slack import FakeSlack

    n = args.requests
    period_end = yesterday_utc()
    period_start = period_end - timedelta(days=29)
    single_texts = [f"{external} 30d" for _, external in data.sample]
    single_ids = [[campaign_id] for campaign_id, _ in data.sample]
    top_text = "top roas 30d"
    rows: list[Row] = []
    bursts: list[BurstRow] = []
    tag = f"{backend.lower()}_{scale.campaigns}x{scale.days}"
    with ExitStack() as stack:
        slack = stack.enter_context(FakeSlack(validate_blocks=False))
        response_url = slack.response_url("bench")
        components = build(
            Settings.from_mapping({"DATABASE_URL": url, "KPIBOT_DEFAULT_CURRENCY": "USD"}),
            auto_upgrade=False,
        )
        stack.callback(components.dispose)
        noop_url = stack.enter_context(serve_noop(log_dir / "noop.log"))
        noop_client = Client(noop_url, response_url)
        stack.callback(noop_client.close)
        with serve_kpibot(url, slack.url, 1, log_dir / f"serve_{tag}_w1.log") as served:
            client = Client(served, response_url)
            for query, texts, ids in (
                ("single campaign, 30d", single_texts, single_ids),
                ("top roas 30d", [top_text], None),
            ):
                say(f"  {backend} {scale.name}: {query}: HTTP…")
                http_series = timed_series(
                    n,
                    args.series_budget,
                    lambda i, texts=texts: client.post("/kpi", texts[i % len(texts)]),
                )
                say(f"  {backend} {scale.name}: {query}: floors…")
                noop_series = timed_series(
                    n, args.floor_budget, lambda i: noop_client.post("/noop", "")
                )
                sql_series = timed_series(
                    n,
                    args.floor_budget,
                    sql_step(components.sessions, period_start, period_end, ids),
                )
                answer_series = timed_series(
                    min(n, args.answer_requests),
                    args.floor_budget,
                    answer_step(components.kpis, texts),
                )
                rows.append(
                    Row(backend, scale, query, http_series, noop_series, sql_series, answer_series)
                )
            client.close()
        with serve_kpibot(url, slack.url, 4, log_dir / f"serve_{tag}_w4.log") as served:
            singles = [single_texts[i % len(single_texts)] for i in range(CONCURRENT)]
            # An unmeasured burst first, so every worker and thread has its connection.
            burst(served, response_url, singles)
            for query, texts in (
                ("single campaign, 30d", singles),
                ("top roas 30d", [top_text] * CONCURRENT),
            ):
                say(f"  {backend} {scale.name}: {CONCURRENT} concurrent, {query}…")
                slack.reset()
                result = burst(served, response_url, texts)
                deferred = sum(1 for r in result.replies if r.kind == "deferred")
                if deferred:
                    deadline = time.monotonic() + 60
                    while time.monotonic() < deadline:
                        if len(slack.calls_to("response/bench")) >= deferred:
                            break
                        time.sleep(0.2)
                    late = slack.calls_to("response/bench")
                    result.late_answers = len(late)
                    result.late_apologies = sum(
                        1 for c in late if b"Sorry, something went wrong" in c.body
                    )
                bursts.append(BurstRow(backend, scale, query, result))
    return rows, bursts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny data, 100 requests: smoke")
    parser.add_argument(
        "--scales",
        default=None,
        help="comma-separated CAMPAIGNSxDAYS (default 1000x400,10000x1100)",
    )
    parser.add_argument("--requests", type=int, default=None, help="requests per series (1000)")
    parser.add_argument(
        "--answer-requests",
        type=int,
        default=200,
        help="calls of the in-process diagnostic per series (200)",
    )
    parser.add_argument(
        "--series-budget", type=float, default=None, help="max seconds per /kpi HTTP series (70)"
    )
    parser.add_argument(
        "--floor-budget",
        type=float,
        default=None,
        help="max seconds per floor or in-process series (15)",
    )
    parser.add_argument("--backends", default="sqlite,postgres", help="sqlite,postgres")
    parser.add_argument(
        "--prepare-only", action="store_true", help="build the cached databases, measure nothing"
    )
    args = parser.parse_args()
    if args.quick:
        scales = [Scale(50, 60)]
        args.requests = args.requests or 100
        args.series_budget = args.series_budget or 30.0
        args.floor_budget = args.floor_budget or 10.0
        args.answer_requests = min(args.answer_requests, 50)
    else:
        scales = [Scale.parse(s) for s in (args.scales or "1000x400,10000x1100").split(",")]
        args.requests = args.requests or 1000
        args.series_budget = args.series_budget or 70.0
        args.floor_budget = args.floor_budget or 15.0
    backends = [b.strip().lower() for b in args.backends.split(",") if b.strip()]

    print(f"Machine: {machine()}")
    pg_base = postgres_base_url()
    if "postgres" in backends and pg_base is None:
        print(
            "NOTE: KPIBOT_TEST_DATABASE_URL is not set: PostgreSQL skipped. Run with "
            "`bash scripts/pg.sh -- .venv/bin/python benchmarks/kpi_latency.py`."
        )
        backends.remove("postgres")

    started_all = time.perf_counter()
    prepared = {scale: sqlite_database(scale) for scale in scales}
    if args.prepare_only:
        for scale, (path, meta) in prepared.items():
            print(f"{scale.name}: {path} {json.dumps(meta)}")
        return 0

    log_dir = OUT / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    rows: list[Row] = []
    bursts: list[BurstRow] = []
    notes: list[str] = []
    for scale, (path, meta) in prepared.items():
        sqlite_url = f"sqlite:///{path}"
        ensure_current_schema(sqlite_url)
        data = Dataset(
            scale, date.fromisoformat(meta["end"]), sample_campaigns(sqlite_url, SAMPLE_CAMPAIGNS)
        )
        notes.append(
            f"{scale.name}: {meta['rows']:,} rows through {meta['end']}, SQLite file "
            f"{meta['size_mb']} MB, built with kpibot import in {meta['seconds']} s "
            f"(generate {meta['generate_seconds']} s + import {meta['import_seconds']} s)"
        )
        if "sqlite" in backends:
            say(f"SQLite {scale.name}…")
            r, b = measure_backend("SQLite", sqlite_url, scale, data, args, log_dir)
            rows += r
            bursts += b
        if "postgres" in backends and pg_base is not None:
            with postgres_schema(pg_base, "bench_kpi") as pg_url:
                say(f"PostgreSQL {scale.name}: copying {meta['rows']:,} rows from SQLite…")
                seconds = fill_postgres(path, pg_url)
                notes.append(
                    f"{scale.name}: PostgreSQL filled by COPY + ANALYZE in {seconds:.0f} s"
                )
                r, b = measure_backend("PostgreSQL", pg_url, scale, data, args, log_dir)
                rows += r
                bursts += b

    print()
    print(
        f"/kpi latency, ms, p50 / p95 / p99; {args.requests} sequential requests per series "
        f"after {WARMUP} warm-up ({time.perf_counter() - started_all:.0f} s in all)."
    )
    for note in notes:
        print(f"  {note}")
    print()
    table = []
    for row in rows:
        h, noop, sql, ans = row.http.stats(), row.noop.stats(), row.sql.stats(), row.answer.stats()
        floor = noop["p99"] + sql["p99"]
        kinds = ", ".join(f"{k} {v}" for k, v in sorted(row.http.kinds.items()))
        table.append(
            (
                row.backend,
                row.scale.name,
                row.query,
                f"{int(h['n'])}{' (budget)' if row.http.cut_short else ''}",
                fmt3(h),
                fmt3(noop),
                fmt3(sql),
                f"{floor:.1f}",
                f"{h['p99'] / floor:.1f}×",
                fmt3(ans),
                kinds,
            )
        )
    print(
        markdown_table(
            (
                "backend",
                "campaigns × days",
                "query",
                "n",
                "/kpi HTTP",
                "floor (i): no-op Bolt HTTP",
                "floor (ii): SQL in-process",
                "floor p99 = (i)+(ii)",
                "/kpi p99 ÷ floor p99",
                "whole answer in-process (no HTTP)",
                "replies",
            ),
            table,
        )
    )
    print()
    print(
        f"n = /kpi requests measured (budget: stopped after {args.series_budget:.0f} s); floors "
        f"and the in-process answer: up to {args.requests} and {args.answer_requests} calls, "
        f"stopped after {args.floor_budget:.0f} s (n per series: "
        + "; ".join(
            f"{r.backend} {r.scale.name} {r.query.split(',')[0]}: "
            f"{len(r.noop.samples)}/{len(r.sql.samples)}/{len(r.answer.samples)}"
            for r in rows
        )
        + "). Single campaign rotates "
        f"over {SAMPLE_CAMPAIGNS} campaigns (same sequence for HTTP, SQL and in-process)."
    )
    print()
    btable = []
    for b in bursts:
        r = b.result
        lat = summary_ms([x.seconds for x in r.replies])
        kinds = Counter(x.kind for x in r.replies)
        ok = all(x.kind in ("ok", "deferred") for x in r.replies)
        in_time = all(x.seconds <= CONCURRENT_LIMIT_S for x in r.replies)
        late = f"{r.late_answers} ({r.late_apologies} apologies)" if kinds.get("deferred") else "-"
        btable.append(
            (
                b.backend,
                b.scale.name,
                b.query,
                len(r.replies),
                ", ".join(f"{k} {v}" for k, v in sorted(kinds.items())),
                late,
                f"{lat['p50']:.0f} / {lat['max']:.0f}",
                "met" if ok and in_time else "MISSED",
            )
        )
    print(
        markdown_table(
            (
                "backend",
                "campaigns × days",
                f"{CONCURRENT} concurrent requests, `--workers 4`",
                "n",
                "replies",
                "deferred answers received via response_url",
                "latency p50 / max ms",
                f"all 200, no error, ≤ {CONCURRENT_LIMIT_S:.0f} s",
            ),
            btable,
        )
    )
    print()
    print("Targets:")
    for row in rows:
        h = row.http.stats()
        floor = row.noop.stats()["p99"] + row.sql.stats()["p99"]
        if row.query.startswith("single"):
            ok_abs = h["p99"] < TARGET_SINGLE_MS
            ok_rel = h["p99"] <= TARGET_SINGLE_FLOOR_RATIO * floor
            print(
                f"  {row.backend} {row.scale.name} single campaign: p99 {h['p99']:.1f} ms "
                f"< {TARGET_SINGLE_MS:.0f} ms: {'met' if ok_abs else 'MISSED'}; "
                f"≤ {TARGET_SINGLE_FLOOR_RATIO:.0f}× floor ({floor:.1f} ms): "
                f"{'met' if ok_rel else 'MISSED'} ({h['p99'] / floor:.1f}×)"
            )
        elif row.scale.campaigns >= TOP_TARGET_CAMPAIGNS:
            ok = h["p99"] < TARGET_TOP_MS
            print(
                f"  {row.backend} {row.scale.name} top roas: p99 {h['p99']:.1f} ms "
                f"< {TARGET_TOP_MS:.0f} ms: {'met' if ok else 'MISSED'}"
            )
        else:
            print(
                f"  {row.backend} {row.scale.name} top roas: p99 {h['p99']:.1f} ms "
                f"(target applies at {TOP_TARGET_CAMPAIGNS:,} campaigns)"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
