"""`kpibot import` and `kpibot imports` through the command line."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from datetime import datetime
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

import storage.write_lock
from bot.cli import main
from bot.importing.history import NO_IMPORTS
from storage.database import make_engine
from storage.loading import MetricsLoad
from storage.models import Campaign, DailyMetrics
from tests.conftest import FIVETRAN_SAMPLE, FIXTURES

NATIVE_SAMPLE = FIXTURES / "native_sample.csv"
DANISH_SAMPLE = FIXTURES / "native_sample_da.csv"
CHOOSE = "(choose with --currency or KPIBOT_DEFAULT_CURRENCY)"


@pytest.fixture(autouse=True)
def _isolated(clean_env: None) -> None:
    """Every test here runs with a clean environment (tests/conftest.py)."""


def _run(database_url: str, *args: str, env: dict[str, str] | None = None) -> Result:
    env = {"COLUMNS": "1000", **(env or {})}
    return CliRunner().invoke(main, ["--db", database_url, *args], env=env, catch_exceptions=False)


def _count(database_url: str, column: object) -> int:
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            return int(connection.execute(select(func.count(column))).scalar_one())  # type: ignore[arg-type]
    finally:
        engine.dispose()


def _stored(database_url: str) -> list[tuple[object, ...]]:
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                select(Campaign.external_id, Campaign.currency, *DailyMetrics.__table__.columns)
                .join(Campaign, Campaign.id == DailyMetrics.campaign_id)
                .order_by(Campaign.external_id, DailyMetrics.day)
            ).all()
    finally:
        engine.dispose()
    return [tuple(r) for r in rows]


# --- Danish exports -----------------------------------------------------------------------------


def test_decimal_comma_imports_a_danish_export(database_url: str) -> None:
    result = _run(database_url, "import", "--decimal-comma", str(DANISH_SAMPLE))
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == (
        f"{DANISH_SAMPLE}: imported 6 rows (native) → 3 campaigns, 2 days, 6 campaign-days; "
        "spend 2536.66 DKK, 1002184.50 EUR"
    )
    danish = _stored(database_url)
    native = _run(database_url, "import", str(NATIVE_SAMPLE))
    assert native.exit_code == 0, native.output
    assert native.stdout.replace(str(NATIVE_SAMPLE), "") == result.stdout.replace(
        str(DANISH_SAMPLE), ""
    )
    assert _stored(database_url) == danish


def test_the_locale_setting_turns_decimal_comma_on(database_url: str) -> None:
    danish = {"KPIBOT_IMPORT_LOCALE": "da"}
    result = _run(database_url, "import", str(DANISH_SAMPLE), env=danish)
    assert result.exit_code == 0, result.output
    assert "imported 6 rows" in result.stdout
    native = _run(database_url, "import", "--no-decimal-comma", str(NATIVE_SAMPLE), env=danish)
    assert native.exit_code == 0, native.output


def test_a_danish_export_without_the_flag_says_which_flag(database_url: str) -> None:
    result = _run(database_url, "import", str(DANISH_SAMPLE))
    assert result.exit_code == 1
    assert (
        f"{DANISH_SAMPLE}:1: this looks like a `;`-separated file with decimal commas "
        "— try --decimal-comma"
    ) in result.stderr
    assert _count(database_url, DailyMetrics.day) == 0


def test_an_unknown_import_locale_is_a_setting_error(database_url: str) -> None:
    result = _run(database_url, "import", str(NATIVE_SAMPLE), env={"KPIBOT_IMPORT_LOCALE": "de"})
    assert result.exit_code == 1
    assert "KPIBOT_IMPORT_LOCALE='de' must be en" in result.stderr


def test_the_date_window_settings_reach_the_importer(database_url: str) -> None:
    result = _run(
        database_url,
        "import",
        str(NATIVE_SAMPLE),
        env={"KPIBOT_IMPORT_EARLIEST_DATE": "2025-08-11"},
    )
    assert result.exit_code == 1
    assert f"{NATIVE_SAMPLE}:2: date: 2025-08-10 is before 2025-08-11" in result.stderr


# --- currencies ---------------------------------------------------------------------------------


def test_a_chosen_currency_is_not_warned_about(database_url: str) -> None:
    default = _run(database_url, "import", "--dry-run", str(FIVETRAN_SAMPLE))
    assert f"has no currency column; its campaigns are stored in USD {CHOOSE}" in default.stderr
    chosen = _run(database_url, "import", "--currency", "DKK", str(FIVETRAN_SAMPLE))
    assert chosen.exit_code == 0, chosen.output
    assert "warning" not in chosen.stderr


@pytest.mark.parametrize(
    ("args", "env", "chooser"),
    [
        (["--currency", "EUR"], {}, "--currency"),
        ([], {"KPIBOT_DEFAULT_CURRENCY": "EUR"}, "KPIBOT_DEFAULT_CURRENCY"),
    ],
)
def test_a_chosen_currency_against_a_stored_one_names_who_chose_it(
    database_url: str, tmp_path: Path, args: list[str], env: dict[str, str], chooser: str
) -> None:
    path = tmp_path / "nocol.csv"
    path.write_text("date,campaign,spend\n2025-08-01,Brand,1.00\n", encoding="utf-8")
    assert _run(database_url, "import", "--currency", "USD", str(path)).exit_code == 0
    result = _run(database_url, "import", *args, str(path), env=env)
    assert result.exit_code == 1
    assert (
        f"{path}:2: currency: campaign 'Brand' is stored in USD, but the file gives it no "
        f"currency and {chooser} said EUR; import it with --currency USD"
    ) in result.stderr
    assert "the file says" not in result.stderr


def test_inactive_currency_codes_are_refused_for_currency(database_url: str) -> None:
    for code in ("XXX", "XTS", "DEM"):
        result = _run(database_url, "import", "--currency", code, str(FIVETRAN_SAMPLE))
        assert result.exit_code == 2
        assert "active ISO 4217 code" in result.output


# --- one bad file does not stop the others ------------------------------------------------------


def test_a_database_error_in_one_file_is_one_line_and_the_next_file_runs(
    database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    original = MetricsLoad.merge
    calls = []

    def flaky(self: MetricsLoad, new_campaigns: int) -> object:
        calls.append(1)
        if len(calls) == 1:
            raise OperationalError("INSERT …", {}, Exception("disk I/O error\nmore detail"))
        return original(self, new_campaigns)

    monkeypatch.setattr(MetricsLoad, "merge", flaky)
    result = _run(database_url, "import", str(NATIVE_SAMPLE), str(FIVETRAN_SAMPLE))
    assert result.exit_code == 1
    assert (
        f"{NATIVE_SAMPLE}: not imported, nothing was written: database error: disk I/O error\n"
    ) in result.stderr
    assert "Traceback" not in result.output
    assert "imported 16 rows" in result.stdout
    assert _count(database_url, DailyMetrics.day) == 8
    history = json.loads(_run(database_url, "imports", "--json").stdout)["runs"]
    assert [(r["source"], r["result"]) for r in history] == [
        (str(FIVETRAN_SAMPLE), "ok"),
        (str(NATIVE_SAMPLE), "failed"),
    ]
    assert history[1]["message"] == ("not imported, nothing was written: Exception: disk I/O error")


# --- kpibot imports -----------------------------------------------------------------------------


def test_no_imports_yet(database_url: str) -> None:
    result = _run(database_url, "imports")
    assert result.exit_code == 0, result.output
    assert (
        result.stdout.strip()
        == NO_IMPORTS
        == ("No imports yet: import a file with `kpibot import FILE`.")
    )
    assert json.loads(_run(database_url, "imports", "--json").stdout) == {"runs": []}


def test_imports_lists_the_history_newest_first(database_url: str, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("date,campaign,spend\n2025-08-01,A,-1\n")
    _run(database_url, "import", str(FIVETRAN_SAMPLE))
    _run(database_url, "import", str(bad))
    _run(database_url, "import", "--dry-run", str(NATIVE_SAMPLE))
    result = _run(database_url, "imports")
    assert result.exit_code == 0, result.output
    heading, *lines = result.stdout.splitlines()
    assert heading.split() == [
        "started",
        "(UTC)",
        "result",
        "source",
        "format",
        "rows",
        "campaigns",
        "message",
    ]
    columns = [line.split(maxsplit=7) for line in lines]
    assert [c[2:7] for c in columns] == [
        ["dry-run", str(NATIVE_SAMPLE), "native", "6", "3"],
        ["failed", str(bad), "native", "1", "0"],
        ["ok", str(FIVETRAN_SAMPLE), "fivetran", "16", "3"],
    ]
    assert columns[0][7].startswith(f"{NATIVE_SAMPLE}: would import 6 rows")
    assert columns[1][7] == f"{bad}: not imported, nothing was written."  # the first line only
    assert all(datetime.fromisoformat(f"{c[0]} {c[1]}") for c in columns)


def test_imports_as_json(database_url: str) -> None:
    _run(database_url, "import", str(FIVETRAN_SAMPLE))
    _run(database_url, "import", str(NATIVE_SAMPLE))
    document = json.loads(_run(database_url, "imports", "--json").stdout)
    newest, oldest = document["runs"]
    assert set(newest) == {
        "id",
        "started_at",
        "finished_at",
        "source",
        "format",
        "rows",
        "campaigns",
        "days",
        "result",
        "message",
    }
    assert (newest["source"], newest["format"], newest["rows"]) == (str(NATIVE_SAMPLE), "native", 6)
    assert (newest["campaigns"], newest["days"], newest["result"]) == (3, 2, "ok")
    assert newest["message"].startswith(f"{NATIVE_SAMPLE}: imported 6 rows")
    assert newest["id"] > oldest["id"]
    started = datetime.fromisoformat(newest["started_at"])
    assert started.utcoffset() is not None and started.utcoffset().total_seconds() == 0
    assert datetime.fromisoformat(newest["finished_at"]) >= started
    limited = json.loads(_run(database_url, "imports", "--json", "--limit", "1").stdout)
    assert limited["runs"] == [newest]


def test_the_limit_defaults_to_twenty(database_url: str, tmp_path: Path) -> None:
    bad = tmp_path / "empty.csv"
    bad.write_text("")
    _run(database_url, "import", *[str(bad)] * 21)
    assert len(json.loads(_run(database_url, "imports", "--json").stdout)["runs"]) == 20
    assert _run(database_url, "imports", "--limit", "0").exit_code == 2


def test_import_runs_is_an_alias_unless_a_file_is_called_runs(
    database_url: str, tmp_path: Path
) -> None:
    _run(database_url, "import", str(FIVETRAN_SAMPLE))
    alias = _run(database_url, "import", "runs")
    assert alias.exit_code == 0, alias.output
    assert alias.stdout == _run(database_url, "imports").stdout
    (tmp_path / "runs").write_text(FIVETRAN_SAMPLE.read_text())
    real = _run(database_url, "import", "runs")
    assert real.exit_code == 0, real.output
    assert real.stdout.startswith("runs: imported 16 rows")


def test_a_waiting_import_says_so_on_stderr(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(storage.write_lock, "LOCK_NOTICE_SECONDS", 0.1)
    database = tmp_path / "kpibot.db"
    url = f"sqlite:///{database}"
    assert _run(url, "db", "upgrade").exit_code == 0
    held = threading.Event()

    def hold() -> None:
        other = sqlite3.connect(database, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        held.set()
        time.sleep(0.6)
        other.execute("COMMIT")
        other.close()

    holder = threading.Thread(target=hold)
    holder.start()
    held.wait(5)
    result = _run(url, "import", str(NATIVE_SAMPLE))
    holder.join()
    assert result.exit_code == 0, result.output
    assert f"{NATIVE_SAMPLE}: waiting for another import to finish…" in result.stderr
    assert "imported 6 rows" in result.stdout
