"""The `kpibot` command line, in-process with CliRunner and for real as a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import func, select

from bot.cli import main
from storage.database import make_engine
from storage.models import Campaign, DailyMetrics, ImportRun
from storage.schema import head_revision
from tests.conftest import FIVETRAN_SAMPLE

REPO = Path(__file__).resolve().parents[2]
KPIBOT = Path(sys.executable).with_name("kpibot")
SAMPLE_QUERY = ("summer sale", "2025-08-10..2025-08-12")


@pytest.fixture(autouse=True)
def _isolated(clean_env: None) -> None:
    """Every test here runs with a clean environment (tests/conftest.py)."""


def _run(database_url: str, *args: str, env: dict[str, str] | None = None) -> Result:
    # A wide "terminal": these tests check what is said; line breaking is tested on its own.
    env = {"COLUMNS": "1000", **(env or {})}
    return CliRunner().invoke(main, ["--db", database_url, *args], env=env, catch_exceptions=False)


def _count(database_url: str, column: Any) -> int:
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            return int(connection.execute(select(func.count(column))).scalar_one())
    finally:
        engine.dispose()


def _check_sample_json(document: dict[str, Any]) -> None:
    assert document["scope"] == {
        "type": "campaign",
        "id": "CAM102",
        "name": "Summer Sale",
        "platform": "facebook_ads",
        "channel": "social",
    }
    assert document["period"]["start"] == "2025-08-10"
    assert document["period"]["end"] == "2025-08-12"
    assert document["data_through"] == "2025-08-12"
    assert document["currency"] == "USD"
    kpis = document["kpis"]
    assert kpis["spend"] == "1188.00"
    assert kpis["impressions"] == 93000
    assert kpis["clicks"] == 1650
    assert kpis["conversions"] == 108
    assert kpis["revenue"] == "2430.00"
    assert kpis["cpa"] == "11.00"
    assert kpis["roas"] == str(Decimal(2430) / Decimal(1188))
    assert kpis["cpl"] is None
    assert document["previous"]["period"] == {
        "start": "2025-08-07",
        "end": "2025-08-09",
        "label": "previous period",
    }
    assert all(value is None for value in document["previous"]["kpis"].values())
    assert all(value is None for value in document["change"].values())


@pytest.fixture
def imported(database_url: str) -> str:
    result = _run(database_url, "import", str(FIVETRAN_SAMPLE))
    assert result.exit_code == 0, result.output
    return database_url


# --- in-process ---------------------------------------------------------------------------------


def test_import_prints_a_one_line_summary(database_url: str) -> None:
    result = _run(database_url, "import", str(FIVETRAN_SAMPLE))
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == (
        f"{FIVETRAN_SAMPLE}: imported 16 rows (fivetran) → 3 campaigns, 3 days, "
        "8 campaign-days; spend 2247.15 USD"
    )
    assert _count(database_url, DailyMetrics.day) == 8


def test_kpi_json_for_the_fivetran_sample(imported: str) -> None:
    result = _run(imported, "kpi", *SAMPLE_QUERY, "--json")
    assert result.exit_code == 0, result.output
    _check_sample_json(json.loads(result.stdout))


def test_kpi_for_the_terminal(imported: str) -> None:
    result = _run(imported, "kpi", *SAMPLE_QUERY)
    assert result.exit_code == 0, result.output
    assert "Summer Sale" in result.stdout
    assert "$1,188.00" in result.stdout
    assert "$11.00" in result.stdout


def test_kpi_table_json(imported: str) -> None:
    result = _run(imported, "kpi", "top", "roas", "2025-08-10..2025-08-12", "2", "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["type"] == "top"
    assert document["rank_kpi"] == "roas"
    assert [row["scope"]["name"] for row in document["rows"]] == ["Back to School", "Summer Sale"]
    assert document["rows"][1]["kpis"]["roas"] == str(Decimal(2430) / Decimal(1188))
    assert document["rows"][1]["currency"] == "USD"

    result = _run(imported, "kpi", "all", "2025-08-10..2025-08-12", "--json")
    rows = json.loads(result.stdout)["rows"]
    assert [(r["scope"]["type"], r["currency"], r["kpis"]["spend"]) for r in rows] == [
        ("total", "USD", "2247.15")
    ]


def test_unknown_campaign_exits_non_zero_with_suggestions(imported: str) -> None:
    result = _run(imported, "kpi", "winter", "promo", "30d")
    assert result.exit_code == 1
    assert "No campaign" in result.stdout
    assert "winter promo" in result.stdout
    as_json = _run(imported, "kpi", "sommer", "sael", "30d", "--json")
    assert as_json.exit_code == 1
    error = json.loads(as_json.stdout)["error"]
    assert error["code"] == "unknown_campaign"
    assert error["text"] == "sommer sael"
    assert error["message"] == "No campaign is called “sommer sael” — did you mean:"
    assert "Summer Sale" in [c["name"] for c in error["candidates"]]


def test_bad_query_exits_non_zero_with_the_message(imported: str) -> None:
    result = _run(imported, "kpi", "top", "roaz", "30d")
    assert result.exit_code == 2
    assert "`roaz` is not a KPI" in result.stderr
    as_json = _run(imported, "kpi", "summer", "sale", "2025-02-30", "--json")
    assert as_json.exit_code == 2
    error = json.loads(as_json.stdout)["error"]
    assert error["code"] == "bad_query"
    assert "2025-02-30 is not a valid date" in error["message"]


def test_kpi_without_data_says_how_to_import(database_url: str) -> None:
    result = _run(database_url, "kpi", "summer", "sale")
    assert result.exit_code == 1  # nothing to answer from: not a mistake in the query
    assert "No data yet" in result.stderr
    assert "kpibot import" in result.stderr
    document = json.loads(_run(database_url, "kpi", "list", "--json").stdout)
    assert document["error"]["code"] == "nothing_to_show"


def test_kpi_help(imported: str) -> None:
    result = _run(imported, "kpi", "help", "--json")
    assert result.exit_code == 0
    document = json.loads(result.stdout)
    assert {k["key"] for k in document["kpis"]} >= {"cpa", "roas", "ltv_cac"}


def test_failed_import_prints_every_problem_and_writes_nothing(
    imported: str, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("date,campaign,spend,clicks\n2025-08-13,A,1.00,-3\n2025-08-14,A,x,1\n")
    result = _run(imported, "import", str(bad))
    assert result.exit_code == 1
    assert f"{bad}: not imported, nothing was written." in result.stderr
    assert f"{bad}:2: clicks: -3 is negative; counts cannot be below 0" in result.stderr
    assert f"{bad}:3: spend: 'x' is not an amount" in result.stderr
    assert _count(imported, DailyMetrics.day) == 8
    assert _count(imported, Campaign.id) == 3


def test_problems_are_one_per_line_when_piped(database_url: str, tmp_path: Path) -> None:
    bad = tmp_path / ("a-rather-long-export-name-" * 3 + ".csv")
    bad.write_text("date,campaign,spend\n2025-08-13,A,-1.00\n")
    result = _run(database_url, "import", str(bad), env={"COLUMNS": "80"})
    assert result.exit_code == 1
    assert f"{bad}:2: spend: -1.00 is negative; amounts cannot be below 0\n" in result.stderr
    summary = _run(database_url, "import", str(FIVETRAN_SAMPLE), env={"COLUMNS": "80"})
    assert len(summary.stdout.splitlines()) == 1


def test_one_bad_file_does_not_stop_the_others(database_url: str, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("")
    result = _run(database_url, "import", str(bad), str(FIVETRAN_SAMPLE))
    assert result.exit_code == 1
    assert f"{bad}:1: the file is empty" in result.stderr
    assert "imported 16 rows" in result.stdout
    assert _count(database_url, DailyMetrics.day) == 8
    assert _count(database_url, ImportRun.id) == 2


def test_import_warnings_go_to_stderr(database_url: str, tmp_path: Path) -> None:
    odd = tmp_path / "odd.csv"
    odd.write_text("date,campaign,spend,impressions,clicks\n2025-08-01,A,1.00,5,9\n")
    result = _run(database_url, "import", str(odd))
    assert result.exit_code == 0
    assert f"warning: {odd}:2: clicks: 9 clicks but only 5 impressions" in result.stderr


def test_import_dry_run(database_url: str) -> None:
    result = _run(database_url, "import", "--dry-run", str(FIVETRAN_SAMPLE))
    assert result.exit_code == 0, result.output
    assert "would import 16 rows" in result.stdout
    assert _count(database_url, DailyMetrics.day) == 0


def test_import_currency_option(database_url: str) -> None:
    result = _run(database_url, "import", "--currency", "dkk", str(FIVETRAN_SAMPLE))
    assert result.exit_code == 0, result.output
    assert "spend 2247.15 DKK" in result.stdout
    bad = _run(database_url, "import", "--currency", "kroner", str(FIVETRAN_SAMPLE))
    assert bad.exit_code == 2
    assert "ISO 4217" in bad.output


def test_default_currency_setting(database_url: str) -> None:
    result = _run(
        database_url, "import", str(FIVETRAN_SAMPLE), env={"KPIBOT_DEFAULT_CURRENCY": "EUR"}
    )
    assert "spend 2247.15 EUR" in result.stdout


def test_bad_setting_is_reported_with_its_name(database_url: str) -> None:
    result = _run(database_url, "kpi", "help", env={"KPIBOT_TIMEZONE": "Mars/Olympus"})
    assert result.exit_code == 1
    assert result.stderr.startswith("error: KPIBOT_TIMEZONE='Mars/Olympus' is not a time zone")
    as_json = _run(database_url, "kpi", "help", "--json", env={"KPIBOT_TIMEZONE": "Mars"})
    assert as_json.exit_code == 1
    assert json.loads(as_json.stdout)["error"]["code"] == "bad_setting"


def test_db_upgrade_and_current(database_url: str) -> None:
    before = _run(database_url, "db", "current")
    assert before.exit_code == 0
    engine = make_engine(database_url)
    head = head_revision(engine)
    engine.dispose()
    assert before.stdout.strip() == f"database: empty; needed: {head}"
    upgraded = _run(database_url, "db", "upgrade")
    assert upgraded.stdout.strip() == f"Schema at revision {head}."
    after = _run(database_url, "db", "current")
    assert after.stdout.strip() == f"database: {head}; needed: {head}"


def test_database_url_from_the_environment(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'env.db'}"
    runner = CliRunner()
    result = runner.invoke(main, ["import", str(FIVETRAN_SAMPLE)], env={"DATABASE_URL": url})
    assert result.exit_code == 0, result.output
    assert _count(url, DailyMetrics.day) == 8
    assert not (tmp_path / "kpibot.db").exists()


def test_demo_twice(tmp_path: Path) -> None:
    folder = tmp_path / "demo"
    for _ in range(2):
        result = CliRunner().invoke(main, ["demo", "--dir", str(folder)], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        assert "The demo database is ready" in result.stdout
    url = f"sqlite:///{folder / 'kpibot-demo.db'}"
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            campaigns = connection.execute(select(Campaign.currency, Campaign.channel)).all()
            days = connection.execute(select(func.count(func.distinct(DailyMetrics.day)))).scalar()
    finally:
        engine.dispose()
    assert len(campaigns) >= 12
    assert {currency for currency, _ in campaigns} == {"DKK", "EUR"}
    assert len({channel for _, channel in campaigns}) >= 8
    assert days == 400


# --- database URLs, outages and an empty database -----------------------------------------------

UNREACHABLE = "postgresql://kpibot:s3cret-pw@127.0.0.1:1/kpibot"
SLACK_ENV = {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s", "SLACK_APP_TOKEN": "xapp-1"}
EVERY_COMMAND = [
    ("kpi", "summer", "sale"),
    ("kpi", "help"),
    ("import", str(FIVETRAN_SAMPLE)),
    ("db", "upgrade"),
    ("db", "current"),
    ("serve",),
    ("run",),
    ("console",),
]


@pytest.mark.parametrize("command", EVERY_COMMAND, ids=" ".join)
@pytest.mark.parametrize("scheme", ["postgresql", "postgres"])
def test_an_unreachable_database_is_one_line_from_every_command(
    command: tuple[str, ...], scheme: str
) -> None:
    url = UNREACHABLE.replace("postgresql", scheme, 1)
    result = _run(url, *command, env=SLACK_ENV)
    assert result.exit_code == 1
    assert result.stderr == (
        "error: cannot reach the database at 127.0.0.1:1 (Connection refused); "
        "check DATABASE_URL and that the server is running\n"
    )
    assert "s3cret-pw" not in result.output


def test_an_unreachable_database_is_a_json_error_under_kpi_json() -> None:
    result = _run(UNREACHABLE, "kpi", "top", "roas", "--json")
    assert result.exit_code == 1
    error = json.loads(result.stdout)["error"]
    assert error["code"] == "database_unreachable"
    assert error["message"].startswith("cannot reach the database at 127.0.0.1:1 (")
    assert "s3cret-pw" not in result.output


def test_a_sqlite_database_that_cannot_be_opened_names_its_path(tmp_path: Path) -> None:
    path = tmp_path / "no-such-folder" / "kpibot.db"
    result = _run(f"sqlite:///{path}", "kpi", "help")
    assert result.exit_code == 1
    assert result.stderr == (
        f"error: cannot open the SQLite database at {path} (unable to open database file); "
        "check DATABASE_URL and that the folder exists and is writable\n"
    )


@pytest.mark.parametrize("url", ["mysql://u:pw@host/db", "not a url"])
def test_a_database_url_kpibot_cannot_use_is_a_setting_error(url: str) -> None:
    result = _run(url, "kpi", "help")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: DATABASE_URL (or --db) is not a database URL")
    assert "pw" not in result.stderr
    as_json = _run(url, "kpi", "help", "--json")
    assert json.loads(as_json.stdout)["error"]["code"] == "bad_setting"


@pytest.mark.postgres
def test_postgres_urls_work_like_postgresql(postgres_url: str) -> None:
    heroku = "postgres://" + postgres_url.split("://", 1)[1]
    imported = _run(heroku, "import", str(FIVETRAN_SAMPLE))
    assert imported.exit_code == 0, imported.output
    answer = _run(heroku, "kpi", *SAMPLE_QUERY, "--json")
    assert answer.exit_code == 0, answer.output
    _check_sample_json(json.loads(answer.stdout))


@pytest.mark.parametrize("command", [("serve",), ("run",)], ids=" ".join)
def test_serve_on_an_empty_database_says_to_upgrade_and_leaves_no_file(
    command: tuple[str, ...], tmp_path: Path
) -> None:
    path = tmp_path / "kpibot.db"
    result = _run(f"sqlite:///{path}", *command, env=SLACK_ENV)
    assert result.exit_code == 1
    assert result.stderr == (
        "error: the database has no kpibot tables yet: run `kpibot db upgrade` "
        "(with the same DATABASE_URL) to create them, then start again\n"
    )
    assert not path.exists()


def test_serve_on_an_empty_postgres_database_says_to_upgrade(database_url: str) -> None:
    result = _run(database_url, "serve", env=SLACK_ENV)
    assert result.exit_code == 1
    assert "run `kpibot db upgrade`" in result.stderr


def test_db_current_on_a_missing_sqlite_file_creates_nothing(tmp_path: Path) -> None:
    path = tmp_path / "kpibot.db"
    result = _run(f"sqlite:///{path}", "db", "current")
    assert result.exit_code == 0
    assert result.stdout.startswith("database: empty; needed: ")
    assert not path.exists()


# --- the real console script --------------------------------------------------------------------


def _kpibot(*args: str, database_url: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KPIBOT_", "SLACK_"))}
    env["DATABASE_URL"] = database_url
    return subprocess.run(
        [str(KPIBOT), *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_console_script_import_then_kpi_json(database_url: str) -> None:
    imported = _kpibot(
        "import", "tests/fixtures/fivetran_ad_report_sample.csv", database_url=database_url
    )
    assert imported.returncode == 0, imported.stderr
    assert "imported 16 rows" in imported.stdout
    answer = _kpibot("kpi", *SAMPLE_QUERY, "--json", database_url=database_url)
    assert answer.returncode == 0, answer.stderr
    _check_sample_json(json.loads(answer.stdout))
    unknown = _kpibot("kpi", "winter promo", "30d", database_url=database_url)
    assert unknown.returncode == 1
    assert "No campaign" in unknown.stdout
    bad = _kpibot("kpi", "top", "nonsense", database_url=database_url)
    assert bad.returncode == 2
    assert "`nonsense` is not a KPI" in bad.stderr
