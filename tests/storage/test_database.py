"""Engines: the URLs hosting platforms set, a connect timeout, SQLite files left alone."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, text

from storage.database import (
    CONNECT_TIMEOUT_SECONDS,
    UnusableDatabaseUrl,
    database_url,
    make_engine,
    missing_sqlite_file,
)
from storage.schema import current_revision


@pytest.mark.parametrize(
    "url",
    ["postgres://u:p@db.example:6543/kpi", "postgresql://u:p@db.example:6543/kpi"],
)
def test_heroku_and_plain_postgres_urls_use_psycopg(url: str) -> None:
    parsed = database_url(url)
    assert parsed.drivername == "postgresql+psycopg"
    assert (parsed.host, parsed.port, parsed.database) == ("db.example", 6543, "kpi")


@pytest.mark.parametrize("url", ["mysql://u:secret@h/db", "nonsense"])
def test_other_urls_are_refused_without_repeating_them(url: str) -> None:
    with pytest.raises(UnusableDatabaseUrl) as refused:
        make_engine(url)
    assert "secret" not in str(refused.value)


def _connect_params(url: str) -> dict[str, Any]:
    engine = make_engine(url)
    seen: dict[str, Any] = {}

    @event.listens_for(engine, "do_connect")
    def capture(dialect: Any, record: Any, cargs: Any, cparams: dict[str, Any]) -> None:
        seen.update(cparams)

    try:
        with engine.connect() as connection:
            connection.execute(text("select 1"))
    finally:
        engine.dispose()
    return seen


@pytest.mark.postgres
def test_postgres_connections_time_out_unless_the_url_says_otherwise(postgres_url: str) -> None:
    assert _connect_params(postgres_url)["connect_timeout"] == CONNECT_TIMEOUT_SECONDS
    joiner = "&" if "?" in postgres_url else "?"
    assert _connect_params(f"{postgres_url}{joiner}connect_timeout=2")["connect_timeout"] == "2"


def test_looking_at_a_missing_sqlite_database_does_not_create_it(tmp_path: Path) -> None:
    path = tmp_path / "kpibot.db"
    engine = make_engine(f"sqlite:///{path}")
    assert missing_sqlite_file(engine) == path
    assert current_revision(engine) is None
    assert not path.exists()
    assert missing_sqlite_file(make_engine("sqlite://")) is None
