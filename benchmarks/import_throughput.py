"""Import throughput and peak memory of `kpibot import`, beside the database's own bulk loader.

    bash scripts/pg.sh -- .venv/bin/python benchmarks/import_throughput.py [--quick]

For each size (100,000 and 1,000,000 rows of native CSV from bot.demo_data; files cached in
benchmarks/out/) and each backend (SQLite; PostgreSQL when KPIBOT_TEST_DATABASE_URL is set):

* kpibot: a fresh database (schema created beforehand), then `import_file()` in a fresh
  Python subprocess; the time is that of `import_file()` alone (interpreter start-up and
  module imports excluded) and the peak RSS is the subprocess's, read with os.wait4().
* kpibot CLI: the same through `kpibot --db URL import FILE` into another fresh database,
  wall time of the whole process (start-up, schema check and the import-run record
  included), peak RSS from os.wait4().
* floor: the same file loaded into a plain table (no keys, no indexes) by the database's
  own tool: `sqlite3 DB ".import --csv --skip 1 FILE plain"` and PostgreSQL
  `COPY plain FROM STDIN WITH (FORMAT csv, HEADER true)` (psycopg copy).

Each measurement is repeated (--repeat, best run reported: the machine is noisy). When
SQLite misses 100,000 rows/s on the 100k file, or with --profile, the 100k import is run
again in-process under cProfile and the hotspots are printed (full listing in
benchmarks/out/import_profile.txt).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

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
)

TARGET_ROWS_PER_S = 100_000
TARGET_RSS_MB = 200
# "Flat" peak RSS from 100k to 1M rows: at most this much growth.
FLAT_RSS_GROWTH = 1.25
END = date(2025, 6, 30)  # fixed: the cached files never change
DAYS = 400
SEED = 7

RUNNER = """
import json, os, resource, sys, time
from pathlib import Path
from bot.importing.run import import_file
from storage.database import make_engine
engine = make_engine(sys.argv[1])
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
started = time.perf_counter()
summary = import_file(engine, Path(sys.argv[2]), default_currency="USD")
seconds = time.perf_counter() - started
engine.dispose()
print(json.dumps({"seconds": seconds, "rows": summary.rows, "rss_before_kb": before,
                  "rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"""


@dataclass
class Result:
    backend: str
    rows: int
    kpibot_s: list[float] = field(default_factory=list)
    kpibot_rss_mb: list[float] = field(default_factory=list)
    baseline_rss_mb: list[float] = field(default_factory=list)
    cli_s: list[float] = field(default_factory=list)
    cli_rss_mb: list[float] = field(default_factory=list)
    floor_s: list[float] = field(default_factory=list)
    floor_note: str = ""


def data_file(campaigns: int) -> Path:
    """The cached native CSV with ``campaigns`` × DAYS rows (generated on first use)."""
    from bot import demo_data

    path = OUT / f"native_{campaigns}x{DAYS}.csv"
    if path.exists():
        return path
    OUT.mkdir(parents=True, exist_ok=True)
    say(f"generating {path.name} ({campaigns * DAYS:,} rows)…")
    started = time.perf_counter()
    partial = path.with_suffix(".partial")
    rows = demo_data.write_csv(
        partial, demo_data.demo_campaigns(campaigns, SEED), END, DAYS, seed=SEED
    )
    partial.rename(path)
    seconds = time.perf_counter() - started
    say(f"  {rows:,} rows, {path.stat().st_size / 1e6:.0f} MB in {seconds:.1f} s")
    return path


def run_child(argv: list[str], env: dict[str, str] | None = None) -> tuple[str, float, float]:
    """Run a subprocess; return (stdout, wall seconds, peak RSS MB of that process alone)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        process = subprocess.Popen(argv, stdout=out, stderr=err, cwd=ROOT, env=env)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(), err.read().decode()
    if process.returncode != 0:
        raise RuntimeError(f"{argv[0]} failed ({process.returncode}):\n{stdout}\n{stderr}")
    return stdout, wall, usage.ru_maxrss / 1024


def fresh_schema(url: str) -> None:
    from storage.database import make_engine
    from storage.schema import upgrade

    engine = make_engine(url)
    try:
        upgrade(engine)
    finally:
        engine.dispose()


def count_metrics(url: str) -> int:
    from sqlalchemy import text

    from storage.database import make_engine

    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return int(connection.execute(text("SELECT COUNT(*) FROM daily_metrics")).scalar_one())
    finally:
        engine.dispose()


def kpibot_runner(url: str, path: Path, rows: int, result: Result) -> None:
    fresh_schema(url)
    stdout, _, rss = run_child([sys.executable, "-c", RUNNER, url, str(path)])
    report = json.loads(stdout.strip().splitlines()[-1])
    if report["rows"] != rows or count_metrics(url) != rows:
        raise RuntimeError(f"kpibot imported {report['rows']} rows, expected {rows}")
    result.kpibot_s.append(report["seconds"])
    result.kpibot_rss_mb.append(rss)
    result.baseline_rss_mb.append(report["rss_before_kb"] / 1024)


def kpibot_cli(url: str, path: Path, rows: int, result: Result) -> None:
    fresh_schema(url)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DATABASE_URL"))}
    _, wall, rss = run_child([str(VENV_BIN / "kpibot"), "--db", url, "import", str(path)], env=env)
    if count_metrics(url) != rows:
        raise RuntimeError("kpibot CLI did not import every row")
    result.cli_s.append(wall)
    result.cli_rss_mb.append(rss)


# --------------------------------------------------------------------------- floors

SQLITE_PLAIN = (
    "CREATE TABLE plain (date TEXT, campaign_id TEXT, campaign TEXT, platform TEXT, "
    "channel TEXT, currency TEXT, impressions INTEGER, clicks INTEGER, spend NUMERIC, "
    "leads INTEGER, conversions INTEGER, revenue NUMERIC, new_customers INTEGER)"
)
POSTGRES_PLAIN = (
    "CREATE TABLE plain (date DATE, campaign_id TEXT, campaign TEXT, platform TEXT, "
    "channel TEXT, currency TEXT, impressions BIGINT, clicks BIGINT, spend NUMERIC, "
    "leads BIGINT, conversions BIGINT, revenue NUMERIC, new_customers BIGINT)"
)


def sqlite_floor(sqlite3: str, folder: Path, path: Path, rows: int, result: Result) -> None:
    db = folder / "floor.db"
    for leftover in folder.glob("floor.db*"):
        leftover.unlink()
    # Same journal settings kpibot uses (WAL, synchronous=NORMAL).
    _, wall, _ = run_child(
        [
            sqlite3,
            str(db),
            "PRAGMA journal_mode=WAL;",
            "PRAGMA synchronous=NORMAL;",
            SQLITE_PLAIN + ";",
            f".import --csv --skip 1 {path} plain",
        ]
    )
    check, _, _ = run_child([sqlite3, str(db), "SELECT COUNT(*) FROM plain;"])
    if int(check.split()[-1]) != rows:
        raise RuntimeError(f"sqlite3 .import loaded {check.strip()} rows, expected {rows}")
    result.floor_s.append(wall)


def postgres_floor(url: str, path: Path, rows: int, result: Result) -> None:
    import psycopg

    with psycopg.connect(libpq_url(url)) as connection:
        connection.execute(POSTGRES_PLAIN)
        connection.commit()
        started = time.perf_counter()
        with (
            connection.cursor() as cursor,
            cursor.copy("COPY plain FROM STDIN WITH (FORMAT csv, HEADER true)") as copy,
            path.open("rb") as source,
        ):
            while block := source.read(1 << 20):
                copy.write(block)
        connection.commit()
        result.floor_s.append(time.perf_counter() - started)
        count = connection.execute("SELECT COUNT(*) FROM plain").fetchone()
        if count is None or count[0] != rows:
            raise RuntimeError(f"COPY loaded {count} rows, expected {rows}")


# --------------------------------------------------------------------------- profile


def profile_import(path: Path, top: int = 25) -> str:
    """cProfile of an in-process import of ``path`` into a fresh SQLite; the top entries."""
    from bot.importing.run import import_file
    from storage.database import make_engine

    with tempfile.TemporaryDirectory(dir=OUT) as folder:
        url = f"sqlite:///{Path(folder) / 'profile.db'}"
        fresh_schema(url)
        engine = make_engine(url)
        profiler = cProfile.Profile()
        started = time.perf_counter()
        profiler.enable()
        import_file(engine, path, default_currency="USD")
        profiler.disable()
        elapsed = time.perf_counter() - started
        engine.dispose()
    full = io.StringIO()
    stats = pstats.Stats(profiler, stream=full)
    stats.sort_stats("tottime").print_stats(60)
    stats.sort_stats("cumulative").print_stats(60)
    (OUT / "import_profile.txt").write_text(full.getvalue())
    short = io.StringIO()
    stats = pstats.Stats(profiler, stream=short)
    stats.strip_dirs()
    short.write(f"cProfile, in-process import of {path.name}: {elapsed:.2f} s under the profiler\n")
    short.write("\n-- by own time --\n")
    stats.sort_stats("tottime").print_stats(top)
    short.write("\n-- by cumulative time --\n")
    stats.sort_stats("cumulative").print_stats(top)
    text = short.getvalue()
    # pstats' own preamble is noise here.
    return "\n".join(
        line
        for line in text.splitlines()
        if "Ordered by" not in line and "List reduced" not in line
    )


def phase_breakdown(url: str, path: Path) -> dict[str, float]:
    """Seconds per phase of one in-process import of ``path`` into the fresh database ``url``.

    SQL statements are timed through SQLAlchemy cursor events (grouped by their first words),
    MetricsLoad.stage() (which COPYs through the raw driver on PostgreSQL) and the commit by
    wrappers; "parse rows (Python)" is what remains of import_file().
    """
    from sqlalchemy import event
    from sqlalchemy.engine.base import RootTransaction

    from bot.importing.run import import_file
    from storage.database import make_engine
    from storage.loading import MetricsLoad

    fresh_schema(url)
    engine = make_engine(url)
    phases: dict[str, float] = {}
    starts: list[float] = []
    inside_stage = [False]

    def label(statement: str) -> str:
        text = " ".join(statement.split())
        table = re.search(r"\b(?:INTO|FROM|TABLE(?: IF EXISTS)?|UPDATE)\s+(\w+)", text, re.I)
        return f"SQL {text.split(' ', 1)[0].upper()} {table.group(1) if table else ''}".strip()

    def before(_conn: Any, _cursor: Any, _statement: str, *_args: Any) -> None:
        starts.append(time.perf_counter())

    def after(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        elapsed = time.perf_counter() - starts.pop()
        if not inside_stage[0]:
            key = label(statement)
            phases[key] = phases.get(key, 0.0) + elapsed

    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    original_stage = MetricsLoad.stage
    original_commit = RootTransaction.commit

    def stage(self: MetricsLoad, rows: Any) -> None:
        started = time.perf_counter()
        inside_stage[0] = True
        try:
            original_stage(self, rows)
        finally:
            inside_stage[0] = False
            phases["stage (INSERT / COPY batches)"] = phases.get(
                "stage (INSERT / COPY batches)", 0.0
            ) + (time.perf_counter() - started)

    def commit(self: Any) -> None:
        started = time.perf_counter()
        try:
            original_commit(self)
        finally:
            phases["commit"] = phases.get("commit", 0.0) + (time.perf_counter() - started)

    MetricsLoad.stage = stage  # type: ignore[method-assign]
    RootTransaction.commit = commit  # type: ignore[method-assign]
    try:
        started = time.perf_counter()
        import_file(engine, path, default_currency="USD")
        total = time.perf_counter() - started
    finally:
        MetricsLoad.stage = original_stage  # type: ignore[method-assign]
        RootTransaction.commit = original_commit  # type: ignore[method-assign]
        engine.dispose()
    phases["parse rows (Python) and the rest"] = total - sum(phases.values())
    phases["total"] = total
    return phases


# --------------------------------------------------------------------------- main


def best(values: list[float]) -> float:
    return min(values) if values else float("nan")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="10,000 rows, one run: a smoke test")
    parser.add_argument("--repeat", type=int, default=None, help="runs per measurement (2)")
    parser.add_argument("--profile", action="store_true", help="always profile the import")
    parser.add_argument("--no-profile", action="store_true", help="never profile")
    args = parser.parse_args()
    campaign_counts = (25,) if args.quick else (250, 2_500)
    times = args.repeat or (1 if args.quick else 2)

    print(f"Machine: {machine()}")
    sqlite3 = shutil.which("sqlite3")
    if sqlite3 is None:
        print(
            "NOTE: the sqlite3 command-line tool is missing, so there is no SQLite floor. "
            "Install it (as root): apt-get install -y sqlite3"
        )
    pg_base = postgres_base_url()
    if pg_base is None:
        print(
            "NOTE: KPIBOT_TEST_DATABASE_URL is not set: PostgreSQL skipped. Run with "
            "`bash scripts/pg.sh -- .venv/bin/python benchmarks/import_throughput.py`."
        )

    files = {c: data_file(c) for c in campaign_counts}
    results: list[Result] = []
    started_all = time.perf_counter()
    for campaigns, path in files.items():
        rows = campaigns * DAYS
        with tempfile.TemporaryDirectory(dir=OUT, prefix="import-") as tmp:
            folder = Path(tmp)
            result = Result("SQLite", rows)
            results.append(result)
            say(f"SQLite, {rows:,} rows…")

            for _ in range(times):
                for leftover in folder.glob("kpibot.db*"):
                    leftover.unlink()
                url = f"sqlite:///{folder / 'kpibot.db'}"
                kpibot_runner(url, path, rows, result)
                for leftover in folder.glob("kpibot.db*"):
                    leftover.unlink()
                kpibot_cli(url, path, rows, result)
            for _ in range(times):
                if sqlite3 is None:
                    result.floor_note = "no sqlite3 CLI"
                    break
                sqlite_floor(sqlite3, folder, path, rows, result)
        if pg_base is not None:
            result = Result("PostgreSQL", rows)
            results.append(result)
            say(f"PostgreSQL, {rows:,} rows…")
            for _ in range(times):
                with postgres_schema(pg_base, "bench_import") as url:
                    kpibot_runner(url, path, rows, result)
                with postgres_schema(pg_base, "bench_cli") as url:
                    kpibot_cli(url, path, rows, result)
                with postgres_schema(pg_base, "bench_floor") as url:
                    postgres_floor(url, path, rows, result)

    print()
    print(
        f"Import throughput, native CSV, {DAYS} days per campaign; best of {times} run(s) "
        f"({time.perf_counter() - started_all:.0f} s in all)."
    )
    print()
    table = []
    for r in results:
        k, f = best(r.kpibot_s), best(r.floor_s)
        table.append(
            (
                r.backend,
                f"{r.rows:,}",
                f"{r.rows / k:,.0f}",
                f"{k:.2f}",
                f"{r.rows / f:,.0f}" if r.floor_s else r.floor_note or "n/a",
                f"{f:.2f}" if r.floor_s else "n/a",
                f"{k / f:.1f}×" if r.floor_s else "n/a",
                f"{max(r.kpibot_rss_mb):.0f}",
                f"{best(r.cli_s):.2f} ({r.rows / best(r.cli_s):,.0f}/s)",
                f"{max(r.cli_rss_mb):.0f}",
            )
        )
    print(
        markdown_table(
            (
                "backend",
                "rows",
                "kpibot rows/s",
                "kpibot s",
                "floor rows/s",
                "floor s",
                "ratio (kpibot/floor time)",
                "kpibot peak RSS MB",
                "CLI wall s",
                "CLI peak RSS MB",
            ),
            table,
        )
    )
    print()
    print(
        "kpibot = import_file() in a fresh subprocess (start-up excluded); CLI = the whole "
        "`kpibot --db URL import FILE` process; peak RSS per process from wait4(); floor = "
        "sqlite3 `.import` / PostgreSQL `COPY` into a plain table without keys or indexes. "
        f"Python + libraries alone (before the import started): "
        f"{min(min(r.baseline_rss_mb) for r in results):.0f} MB."
    )
    for r in results:
        print(
            f"  runs {r.backend} {r.rows:,}: kpibot "
            + ", ".join(f"{s:.2f}" for s in r.kpibot_s)
            + " s; CLI "
            + ", ".join(f"{s:.2f}" for s in r.cli_s)
            + " s; floor "
            + (", ".join(f"{s:.2f}" for s in r.floor_s) or "n/a")
            + " s"
        )

    print()
    print("Targets:")
    sqlite_results = [r for r in results if r.backend == "SQLite"]
    for r in sqlite_results:
        rate = r.rows / best(r.kpibot_s)
        verdict = "met" if rate >= TARGET_ROWS_PER_S else "MISSED"
        print(f"  SQLite {r.rows:,} rows: {rate:,.0f} rows/s vs ≥ {TARGET_ROWS_PER_S:,}: {verdict}")
    for r in results:
        rss = max(r.cli_rss_mb + r.kpibot_rss_mb)
        verdict = "met" if rss < TARGET_RSS_MB else "MISSED"
        print(
            f"  {r.backend} {r.rows:,} rows: peak RSS {rss:.0f} MB vs < {TARGET_RSS_MB}: {verdict}"
        )
    for backend in ("SQLite", "PostgreSQL"):
        pair = sorted((r for r in results if r.backend == backend), key=lambda r: r.rows)
        if len(pair) >= 2:
            low = max(pair[0].cli_rss_mb + pair[0].kpibot_rss_mb)
            high = max(pair[-1].cli_rss_mb + pair[-1].kpibot_rss_mb)
            verdict = "met" if high <= low * FLAT_RSS_GROWTH else "MISSED"
            print(
                f"  {backend} RSS flat from {pair[0].rows:,} to {pair[-1].rows:,} rows: "
                f"{low:.0f} → {high:.0f} MB (×{high / low:.2f}, flat = ≤ ×{FLAT_RSS_GROWTH}): "
                f"{verdict}"
            )

    missed = any(r.rows / best(r.kpibot_s) < TARGET_ROWS_PER_S for r in sqlite_results)
    if args.profile or (missed and not args.no_profile and not args.quick):
        print()
        print("Where the time goes: one in-process import per backend and size, seconds.")
        print()
        columns: list[tuple[str, dict[str, float]]] = []
        for campaigns, path in files.items():
            rows = campaigns * DAYS
            say(f"phases, SQLite, {rows:,} rows…")
            with tempfile.TemporaryDirectory(dir=OUT, prefix="phases-") as tmp:
                url = f"sqlite:///{Path(tmp) / 'phases.db'}"
                columns.append((f"SQLite {rows:,}", phase_breakdown(url, path)))
            if pg_base is not None:
                say(f"phases, PostgreSQL, {rows:,} rows…")
                with postgres_schema(pg_base, "bench_phases") as url:
                    columns.append((f"PostgreSQL {rows:,}", phase_breakdown(url, path)))
        names = sorted(
            {name for _, phases in columns for name in phases} - {"total"},
            key=lambda name: -max(phases.get(name, 0.0) for _, phases in columns),
        )
        names = [n for n in names if max(p.get(n, 0.0) for _, p in columns) >= 0.005]
        print(
            markdown_table(
                ("phase", *(title for title, _ in columns)),
                [
                    (name, *(f"{phases.get(name, 0.0):.2f}" for _, phases in columns))
                    for name in [*names, "total"]
                ],
            )
        )
        print()
        print("```")
        print(profile_import(files[min(files)]))
        print("```")
        print(f"(full listing: {(OUT / 'import_profile.txt').relative_to(ROOT)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
