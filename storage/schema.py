"""Schema version checks and Alembic upgrades, run programmatically.

The read path (every command, every request) checks the schema with one query and the
migration file names; Alembic is imported only to upgrade, or to explain a revision that is
not the head.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, inspect, text
from sqlalchemy.exc import DBAPIError

from bot import messages
from storage.database import missing_sqlite_file

if TYPE_CHECKING:  # Alembic (and mako) load only for a migration: a third of start-up
    from alembic.config import Config

MIGRATIONS = Path(__file__).with_name("migrations")
VERSIONS = MIGRATIONS / "versions"
# Migration files are named after their revision, which is a zero-padded number.
_REVISION_FILE = re.compile(r"(\d+)_\w+\.py")
_VERSION_TABLE = "alembic_version"
_READ_VERSION = text("SELECT version_num FROM alembic_version")


class SchemaOutOfDate(RuntimeError):
    """The database schema is missing or behind the code; the message says what to run."""

    def __init__(self, current: str | None, head: str, message: str | None = None) -> None:
        super().__init__(message or messages.schema_not_ready(current, head))
        self.current = current
        self.head = head


class SchemaAheadOfCode(SchemaOutOfDate):
    """The database is at a revision this kpibot does not have (a newer kpibot upgraded it):
    nothing here can read or migrate it, so every command refuses in one line."""

    def __init__(self, current: str, head: str) -> None:
        # Revisions are zero-padded numbers, so a longer-or-greater one is newer.
        newer = (len(current), current) > (len(head), head) and current.isdigit()
        what = "newer than this kpibot" if newer else "a revision this kpibot does not know"
        super().__init__(
            current,
            head,
            f"the database schema is at {current}, {what} (needs {head}): upgrade kpibot",
        )


def alembic_config(engine: Engine) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def head_revision(engine: Engine | None = None) -> str:
    """The newest revision, from the migration file names (`0008_fractional_counts.py` is
    0008) without importing Alembic; a test holds it equal to Alembic's head."""
    numbers = [
        found.group(1)
        for name in os.listdir(VERSIONS)
        if (found := _REVISION_FILE.fullmatch(name)) is not None
    ]
    return max(numbers, key=lambda number: (len(number), number))


def _known_revisions(engine: Engine) -> set[str]:
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config(engine))
    return {revision.revision for revision in script.walk_revisions()}


def _refuse_unknown(engine: Engine, current: str | None) -> None:
    """SchemaAheadOfCode for a revision the migrations do not have: Alembic would fail on it
    with a traceback."""
    if current is not None and current not in _known_revisions(engine):
        raise SchemaAheadOfCode(current, head_revision(engine))


def current_revision(engine: Engine) -> str | None:
    """The schema's revision; None for an empty database (a SQLite file is not created).

    One query on a migrated database; only when it fails does the version table's absence
    (an empty database) get checked, so an unreachable or locked database still raises."""
    if missing_sqlite_file(engine) is not None:
        return None
    with engine.connect() as connection:
        try:
            rows = connection.execute(_READ_VERSION).all()
        except DBAPIError:
            connection.rollback()
            if inspect(connection).has_table(_VERSION_TABLE):
                raise
            return None
        if len(rows) > 1:
            # Several heads: Alembic's own check says so (this code's history is linear).
            from alembic.runtime.migration import MigrationContext

            return MigrationContext.configure(connection).get_current_revision()
        return str(rows[0][0]) if rows else None


def upgrade(engine: Engine) -> str:
    """Bring the schema to the newest revision; returns it."""
    from alembic import command

    _refuse_unknown(engine, current_revision(engine))
    command.upgrade(alembic_config(engine), "head")
    return head_revision(engine)


def ensure_schema(engine: Engine, *, auto_upgrade: bool) -> str:
    """Upgrade an out-of-date schema, or refuse with the command that fixes it."""
    current = current_revision(engine)
    head = head_revision(engine)
    if current == head:
        return head
    _refuse_unknown(engine, current)
    if auto_upgrade:
        return upgrade(engine)
    raise SchemaOutOfDate(current, head)
