"""Shared fixtures: every storage test runs against SQLite and a real PostgreSQL."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from storage.database import make_engine, session_factory
from storage.schema import upgrade

FIXTURES = Path(__file__).parent / "fixtures"
FIVETRAN_SAMPLE = FIXTURES / "fivetran_ad_report_sample.csv"

POSTGRES_URL_VAR = "KPIBOT_TEST_DATABASE_URL"
REQUIRE_POSTGRES_VAR = "KPIBOT_REQUIRE_POSTGRES"


def _postgres_base_url() -> str:
    url = os.environ.get(POSTGRES_URL_VAR, "").strip()
    if url:
        return url
    message = (
        f"{POSTGRES_URL_VAR} is not set: run the suite with `bash scripts/test.sh`, "
        "which starts a throwaway PostgreSQL"
    )
    if os.environ.get(REQUIRE_POSTGRES_VAR) == "1":
        pytest.fail(message)
    pytest.skip(message)


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No .env and no kpibot, Slack or database settings from the developer's shell; the
    working folder is the test's own."""
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.startswith(("KPIBOT_", "SLACK_")) and name != POSTGRES_URL_VAR:
            monkeypatch.delenv(name)
    monkeypatch.delenv("DATABASE_URL", raising=False)


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh schema in the test PostgreSQL, reached through search_path."""
    with postgres_schema() as url:
        yield url


@contextmanager
def postgres_schema() -> Iterator[str]:
    """Create a throwaway schema in the test PostgreSQL; yield a URL that uses it."""
    base = _postgres_base_url()
    schema = f"t_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(_libpq(base), autocommit=True) as admin:
        admin.execute(f'CREATE SCHEMA "{schema}"')
    url = make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with psycopg.connect(_libpq(base), autocommit=True) as admin:
            admin.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database URL for an empty database, once per backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'kpibot.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    return session_factory(engine)


__all__ = ["FIVETRAN_SAMPLE"]
