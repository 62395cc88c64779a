"""Start-up: `kpibot --help` and `kpibot kpi` load neither Alembic (nor its mako) nor pygments,
and the schema check on the read path is one query against the migration file names."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from click.testing import CliRunner
from sqlalchemy import Engine, event, text
from sqlalchemy.exc import DBAPIError

from bot.cli import main
from storage.database import make_engine
from storage.schema import (
    SchemaOutOfDate,
    alembic_config,
    current_revision,
    ensure_schema,
    head_revision,
)
from tests.conftest import FIVETRAN_SAMPLE

REPO = Path(__file__).resolve().parents[2]
# Loaded only by the commands that need them: migrations, progress bars, imports, Slack.
NEVER_AT_START = ("alembic", "mako", "pygments", "rich.progress", "bot.importing.run")

_LOADED = """
import json, sys
from click.testing import CliRunner
import bot.cli
loaded = {{"import": sorted(m for m in {watched!r} if m in sys.modules)}}
result = CliRunner().invoke(bot.cli.main, {args!r}, env={{"COLUMNS": "200"}})
loaded["kpi"] = sorted(m for m in {watched!r} if m in sys.modules)
loaded["exit_code"] = result.exit_code
loaded["output"] = result.output
print(json.dumps(loaded))
"""


@pytest.fixture(autouse=True)
def _isolated(clean_env: None) -> None:
    """A clean environment and working folder (tests/conftest.py)."""


def _loaded_by_a_fresh_process(*args: str) -> dict[str, object]:
    """Which of the watched modules a new interpreter has loaded after `import bot.cli`, and
    after running the kpibot command `args` in-process."""
    watched = (*NEVER_AT_START, "sqlalchemy", "slack_bolt", "requests")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KPIBOT_", "SLACK_"))}
    env.pop("DATABASE_URL", None)
    done = subprocess.run(
        [sys.executable, "-c", _LOADED.format(watched=watched, args=list(args))],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    loaded: dict[str, object] = json.loads(done.stdout)
    return loaded


def test_importing_the_command_line_loads_no_database_and_no_migrations() -> None:
    loaded = _loaded_by_a_fresh_process("--help")
    assert loaded["import"] == []
    assert loaded["exit_code"] == 0
    assert "kpi " in str(loaded["output"])
    assert loaded["kpi"] == []


def test_kpi_json_answers_without_alembic_mako_pygments_or_slack(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'kpibot.db'}"
    imported = CliRunner().invoke(main, ["--db", url, "import", str(FIVETRAN_SAMPLE)])
    assert imported.exit_code == 0, imported.output
    loaded = _loaded_by_a_fresh_process(
        "--db", url, "kpi", "summer sale", "2025-08-10..2025-08-12", "--json"
    )
    assert loaded["exit_code"] == 0, loaded["output"]
    assert json.loads(str(loaded["output"]))["scope"]["name"] == "Summer Sale"
    assert loaded["kpi"] == ["sqlalchemy"]


def test_the_head_from_the_file_names_is_alembics_head() -> None:
    engine = make_engine("sqlite://")
    try:
        script = ScriptDirectory.from_config(alembic_config(engine))
        assert head_revision() == script.get_current_head()
        assert head_revision(engine) == script.get_current_head()
    finally:
        engine.dispose()


def _statements(engine: Engine) -> list[str]:
    seen: list[str] = []

    def record(*args: object) -> None:
        statement = str(args[2])
        if statement.split()[0].upper() not in ("BEGIN", "COMMIT", "ROLLBACK"):
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    return seen


def test_an_up_to_date_schema_is_checked_with_one_query(engine: Engine) -> None:
    seen = _statements(engine)
    assert ensure_schema(engine, auto_upgrade=False) == head_revision()
    assert seen == ["SELECT version_num FROM alembic_version"]


def test_a_database_without_tables_is_empty_and_refused_with_the_command_to_run(
    database_url: str,
) -> None:
    engine = make_engine(database_url)
    try:
        with engine.begin() as connection:  # the SQLite file exists, with nothing in it
            connection.execute(text("CREATE TABLE unrelated (id INTEGER)"))
        assert current_revision(engine) is None
        with pytest.raises(SchemaOutOfDate, match="kpibot db upgrade") as info:
            ensure_schema(engine, auto_upgrade=False)
        assert info.value.current is None
        assert ensure_schema(engine, auto_upgrade=True) == head_revision()
        assert current_revision(engine) == head_revision()
    finally:
        engine.dispose()


def test_a_version_table_that_cannot_be_read_is_an_error_not_an_empty_database(
    engine: Engine,
) -> None:
    with engine.begin() as connection:
        connection.execute(text("ALTER TABLE alembic_version RENAME COLUMN version_num TO v"))
    with pytest.raises(DBAPIError, match="version_num"):
        current_revision(engine)
