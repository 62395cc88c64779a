"""Schema version checks and Alembic upgrades, run programmatically."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from bot import messages
from storage.database import missing_sqlite_file

MIGRATIONS = Path(__file__).with_name("migrations")


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
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def head_revision(engine: Engine) -> str:
    head = ScriptDirectory.from_config(alembic_config(engine)).get_current_head()
    assert head is not None
    return head


def _known_revisions(engine: Engine) -> set[str]:
    script = ScriptDirectory.from_config(alembic_config(engine))
    return {revision.revision for revision in script.walk_revisions()}


def _refuse_unknown(engine: Engine, current: str | None) -> None:
    """SchemaAheadOfCode for a revision the migrations do not have: Alembic would fail on it
    with a traceback."""
    if current is not None and current not in _known_revisions(engine):
        raise SchemaAheadOfCode(current, head_revision(engine))


def current_revision(engine: Engine) -> str | None:
    """The schema's revision; None for an empty database (a SQLite file is not created)."""
    if missing_sqlite_file(engine) is not None:
        return None
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine) -> str:
    """Bring the schema to the newest revision; returns it."""
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
