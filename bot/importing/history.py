"""The import history that `kpibot imports` lists: newest first, as text or as JSON."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Engine

from storage.imports import ImportRunRecord, recent_import_runs

NO_IMPORTS = "No imports yet: import a file with `kpibot import FILE`."
_HEADINGS = ("started (UTC)", "result", "source", "format", "rows", "campaigns", "message")


def import_history(engine: Engine, limit: int) -> list[ImportRunRecord]:
    """The last `limit` import runs, newest first."""
    return recent_import_runs(engine, limit)


def history_json(runs: Sequence[ImportRunRecord]) -> dict[str, Any]:
    return {
        "runs": [
            {
                "id": run.id,
                "started_at": run.started_at.isoformat(),
                "finished_at": None if run.finished_at is None else run.finished_at.isoformat(),
                "source": run.source,
                "format": run.format,
                "rows": run.rows,
                "campaigns": run.campaigns,
                "days": run.days,
                "result": run.result,
                "message": run.message,
            }
            for run in runs
        ]
    }


def history_lines(runs: Sequence[ImportRunRecord]) -> list[str]:
    """An aligned table, one run a line; the message cut to its first line."""
    if not runs:
        return [NO_IMPORTS]
    table = [_HEADINGS] + [
        (
            run.started_at.strftime("%Y-%m-%d %H:%M:%S"),
            run.result,
            run.source,
            run.format or "-",
            f"{run.rows:,}",
            f"{run.campaigns:,}",
            (run.message.splitlines() or [""])[0],
        )
        for run in runs
    ]
    widths = [max(len(row[i]) for row in table) for i in range(len(_HEADINGS) - 1)]
    numeric = {4, 5}
    return [
        "  ".join(
            [
                *(
                    cell.rjust(width) if i in numeric else cell.ljust(width)
                    for i, (cell, width) in enumerate(zip(row, widths, strict=False))
                ),
                row[-1],
            ]
        ).rstrip()
        for row in table
    ]
