"""write_scope: a unit of work that reads and then writes never fails with "database is
locked" because another writer committed in between; session_scope on SQLite does."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from bot.access.model import parse_limit
from storage import access
from storage.database import session_scope
from storage.write_lock import write_scope

AT = datetime(2026, 3, 30, 8, 15, tzinfo=UTC)
META = parse_limit(["platform", "meta_ads"])


def limit(sessions: sessionmaker[Session], channel: str, *, scope: Any = session_scope) -> None:
    """Another writer (set_limit reads the row, then writes it): its own session, committed."""
    with scope(sessions) as session:
        access.set_limit(session, channel, META, by="U2", now=AT)


def limited(sessions: sessionmaker[Session]) -> set[str]:
    with session_scope(sessions) as session:
        return {entry.channel for entry in access.all_limits(session)}


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_on_sqlite_a_read_then_write_in_session_scope_loses_the_race(
    sessions: sessionmaker[Session],
) -> None:
    """The failure write_scope exists for (if SQLite ever stops failing here, it may go)."""
    with pytest.raises(OperationalError, match="locked"), session_scope(sessions) as session:
        access.visibility_of(session, "CFIRST")  # the read: a snapshot is taken
        limit(sessions, "CSECOND")  # another writer commits meanwhile
        access.set_limit(session, "CFIRST", META, by="U1", now=AT)
        session.flush()
    assert limited(sessions) == {"CSECOND"}


def test_a_read_then_write_in_write_scope_waits_its_turn(
    sessions: sessionmaker[Session],
) -> None:
    # Both writers read before they write, so both need write_scope: whichever comes second
    # waits for the first to commit, then reads what it wrote.
    other = threading.Thread(
        target=limit, args=(sessions, "CSECOND"), kwargs={"scope": write_scope}
    )
    with write_scope(sessions) as session:
        access.visibility_of(session, "CFIRST")
        other.start()
        other.join(0.5)
        if session.get_bind().dialect.name == "sqlite":
            assert other.is_alive(), "the other writer should wait for this one's lock"
        access.set_limit(session, "CFIRST", META, by="U1", now=AT)
    other.join(10)
    assert not other.is_alive()
    assert limited(sessions) == {"CFIRST", "CSECOND"}


def test_write_scope_rolls_back_on_error_and_commits_on_success(
    sessions: sessionmaker[Session],
) -> None:
    with pytest.raises(RuntimeError), write_scope(sessions) as session:
        access.set_limit(session, "CGONE", META, by="U1", now=AT)
        session.flush()
        raise RuntimeError("boom")
    assert limited(sessions) == set()
    with write_scope(sessions) as session:
        access.set_limit(session, "CKEPT", META, by="U1", now=AT)
    assert limited(sessions) == {"CKEPT"}
    with write_scope(sessions) as session:
        assert access.clear_limit(session, "CKEPT")
    assert limited(sessions) == set()
