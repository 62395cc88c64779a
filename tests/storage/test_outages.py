"""A failed connection in one line: where and why, never the password."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from storage.database import make_engine
from storage.outages import Unreachable, unreachable


def _failure(url: str) -> DBAPIError:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            connection.execute(text("select 1"))
    except DBAPIError as exc:
        return exc
    finally:
        engine.dispose()
    raise AssertionError(f"{url} connected")


def test_a_refused_connection_names_host_and_port_and_the_short_reason() -> None:
    url = "postgres://kpibot:pw-123@127.0.0.1:1/kpibot"
    found = unreachable(url, _failure(url))
    assert found == Unreachable("127.0.0.1:1", "Connection refused", sqlite=False)


def test_a_sqlite_file_that_cannot_be_opened_names_its_path(tmp_path: Path) -> None:
    path = tmp_path / "missing" / "k.db"
    url = f"sqlite:///{path}"
    found = unreachable(url, _failure(url))
    assert found == Unreachable(str(path), "unable to open database file", sqlite=True)


def test_a_file_that_is_not_a_database_says_so(tmp_path: Path) -> None:
    path = tmp_path / "k.db"
    path.write_bytes(b"this is not a database" * 100)
    url = f"sqlite:///{path}"
    found = unreachable(url, _failure(url))
    assert found is not None and found.reason == "file is not a database"


@pytest.mark.postgres
def test_a_failing_statement_is_not_an_outage(postgres_url: str) -> None:
    engine = make_engine(postgres_url)
    try:
        with engine.connect() as connection, pytest.raises(DBAPIError) as failed:
            connection.execute(text("select * from no_such_table"))
    finally:
        engine.dispose()
    assert unreachable(postgres_url, failed.value) is None
