"""hidden_from: which channel may know of a digest or rule that lives in another channel."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.orm import Session, sessionmaker

from bot.access.model import parse_limit
from bot.access.owners import hidden_from
from storage import access
from storage.database import session_scope

SET_AT = datetime(2026, 3, 30, 8, 15, tzinfo=UTC)


def test_only_a_limited_channel_is_kept_from_other_channels(
    sessions: sessionmaker[Session],
) -> None:
    with session_scope(sessions) as session:
        access.set_limit(
            session, "CLIMITED", parse_limit(["platform", "meta_ads"]), by="U1", now=SET_AT
        )
    with session_scope(sessions) as session:
        assert hidden_from(session, "CLIMITED", "COTHER")
        assert not hidden_from(session, "CLIMITED", "CLIMITED")  # its own
        assert not hidden_from(session, "COPEN", "CLIMITED")  # an unlimited channel sees all
        assert not hidden_from(session, "COPEN", "COTHER")
        assert not hidden_from(session, None, "CLIMITED")  # the CLI, run by the operator
    with session_scope(sessions) as session:
        access.clear_limit(session, "CLIMITED")
    with session_scope(sessions) as session:
        assert not hidden_from(session, "CLIMITED", "COTHER")
