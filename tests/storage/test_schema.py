from __future__ import annotations

import json

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from click.testing import CliRunner
from sqlalchemy import Engine, text

from bot.cli import main
from storage.database import make_engine
from storage.models import Base
from storage.schema import (
    SchemaAheadOfCode,
    SchemaOutOfDate,
    current_revision,
    ensure_schema,
    head_revision,
    upgrade,
)
from tests.conftest import FIVETRAN_SAMPLE


def test_migrations_build_exactly_the_models(engine: Engine) -> None:
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert diff == []


def test_upgraded_database_is_at_head(engine: Engine) -> None:
    assert current_revision(engine) == head_revision(engine)


def test_out_of_date_schema_is_refused_with_the_command_to_run(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        with pytest.raises(SchemaOutOfDate, match="kpibot db upgrade"):
            ensure_schema(engine, auto_upgrade=False)
        assert ensure_schema(engine, auto_upgrade=True) == head_revision(engine)
    finally:
        engine.dispose()


def _at_revision(engine: Engine, revision: str) -> None:
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": revision})


@pytest.mark.parametrize("auto_upgrade", [True, False])
def test_a_schema_newer_than_the_code_is_refused_in_one_line(
    engine: Engine, auto_upgrade: bool
) -> None:
    _at_revision(engine, "0099")
    head = head_revision(engine)
    expected = (
        f"the database schema is at 0099, newer than this kpibot (needs {head}): upgrade kpibot"
    )
    with pytest.raises(SchemaAheadOfCode) as info:
        ensure_schema(engine, auto_upgrade=auto_upgrade)
    assert str(info.value) == expected
    with pytest.raises(SchemaAheadOfCode, match="newer than this kpibot"):
        upgrade(engine)
    assert current_revision(engine) == "0099"


def test_a_revision_the_code_does_not_know_is_not_called_newer(engine: Engine) -> None:
    _at_revision(engine, "abc123")
    with pytest.raises(SchemaAheadOfCode, match="at abc123, a revision this kpibot does not know"):
        ensure_schema(engine, auto_upgrade=True)


def test_every_command_reports_a_newer_schema_without_a_traceback(
    engine: Engine, database_url: str
) -> None:
    _at_revision(engine, "0099")
    head = head_revision(engine)
    message = (
        f"the database schema is at 0099, newer than this kpibot (needs {head}): upgrade kpibot"
    )
    runner = CliRunner()
    for args in (["kpi", "help"], ["import", str(FIVETRAN_SAMPLE)], ["db", "upgrade"]):
        result = runner.invoke(main, ["--db", database_url, *args], catch_exceptions=False)
        assert (result.exit_code, result.stderr, result.stdout) == (1, f"error: {message}\n", "")
    as_json = runner.invoke(main, ["--db", database_url, "kpi", "help", "--json"])
    assert as_json.exit_code == 1
    assert json.loads(as_json.stdout) == {"error": {"code": "schema_not_ready", "message": message}}
