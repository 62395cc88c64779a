from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine

from storage.database import make_engine
from storage.models import Base
from storage.schema import SchemaOutOfDate, current_revision, ensure_schema, head_revision


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
