"""The import log: one row per import attempt, written whatever the outcome."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine, insert, select

from storage.models import ImportRun
from storage.write_lock import begin_write


@dataclass(frozen=True, slots=True)
class ImportRunRecord:
    """One logged import, as `kpibot imports` lists it; times are aware (UTC)."""

    id: int
    started_at: datetime
    finished_at: datetime | None
    source: str
    format: str
    rows: int
    campaigns: int
    days: int
    result: str
    message: str


def record_import_run(
    engine: Engine,
    *,
    started: datetime,
    source: str,
    fmt: str,
    rows: int,
    campaigns: int,
    days: int,
    result: str,
    message: str,
    on_wait: Callable[[], None] | None = None,
) -> None:
    """Log an import in its own transaction, so failures are remembered too."""
    with engine.connect() as connection:
        transaction = begin_write(connection, on_wait)
        connection.execute(
            insert(ImportRun).values(
                started_at=started,
                finished_at=datetime.now(UTC),
                source=source,
                format=fmt,
                rows=rows,
                campaigns=campaigns,
                days=days,
                result=result,
                message=message,
            )
        )
        transaction.commit()


def recent_import_runs(engine: Engine, limit: int) -> list[ImportRunRecord]:
    """The last `limit` imports, newest first."""
    with engine.connect() as connection:
        rows = connection.execute(
            select(
                ImportRun.id,
                ImportRun.started_at,
                ImportRun.finished_at,
                ImportRun.source,
                ImportRun.format,
                ImportRun.rows,
                ImportRun.campaigns,
                ImportRun.days,
                ImportRun.result,
                ImportRun.message,
            )
            .order_by(ImportRun.started_at.desc(), ImportRun.id.desc())
            .limit(limit)
        )
        return [
            ImportRunRecord(
                id=run.id,
                started_at=_utc(run.started_at),
                finished_at=None if run.finished_at is None else _utc(run.finished_at),
                source=run.source,
                format=run.format,
                rows=run.rows,
                campaigns=run.campaigns,
                days=run.days,
                result=run.result,
                message=run.message,
            )
            for run in rows
        ]


def _utc(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes; kpibot writes them in UTC.
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
