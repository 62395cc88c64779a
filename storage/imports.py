"""The import log: one row per import attempt, written whatever the outcome."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine, insert

from storage.models import ImportRun


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
) -> None:
    """Log an import in its own transaction, so failures are remembered too."""
    with engine.begin() as connection:
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
