"""Import files, each whole or not at all, or several as one unit; every attempt is logged
in the import history (one run per file)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace as changed
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from bot.channels import platform_slug
from bot.importing.cells import DateWindow
from bot.importing.findings import MAX_PROBLEMS
from bot.importing.landing import LoadOptions, Notify, Progress, land
from bot.importing.summary import (
    ImportBatch,
    ImportFailed,
    ImportSummary,
    UnitSummary,
    held_back,
)
from storage.imports import record_import_run
from storage.loading import ReplaceWindow
from storage.write_lock import DatabaseBusy, begin_write

__all__ = [
    "MAX_PROBLEMS",
    "ImportBatch",
    "ImportFailed",
    "ImportSummary",
    "ReplaceWindow",
    "UnitSummary",
    "import_file",
    "import_files",
]


def import_file(
    engine: Engine,
    path: Path,
    *,
    default_currency: str,
    dry_run: bool = False,
    progress: Progress | None = None,
    window: DateWindow | None = None,
    decimal_comma: bool = False,
    currency_chosen: bool = False,
    notify: Notify | None = None,
    replace: ReplaceWindow | None = None,
) -> ImportSummary:
    """Import a native or Fivetran CSV whole, or raise ImportFailed and write nothing.

    Args:
        window: the days accepted (default: 2000-01-01 to 366 days after today).
        decimal_comma: a `;`-separated file with `,` as decimal mark (Danish Excel).
        currency_chosen: default_currency was chosen for this import (--currency), so a file
            without currencies needs no warning.
        notify: told about waits (another import holds the database), for stderr.
        replace: delete every stored day of this platform account in this window first, in
            the same transaction; every row of the file must lie inside it (a file with a
            header and no rows then clears the window).
    """
    options = _options(default_currency, dry_run, window, decimal_comma, currency_chosen, replace)
    summaries, _ = _import_unit(engine, [path], options, progress, notify)
    return summaries[0]


def import_files(
    engine: Engine,
    paths: Sequence[Path],
    *,
    as_one: bool,
    default_currency: str,
    dry_run: bool = False,
    progress: Progress | None = None,
    window: DateWindow | None = None,
    decimal_comma: bool = False,
    currency_chosen: bool = False,
    notify: Notify | None = None,
    replace: ReplaceWindow | None = None,
) -> ImportBatch:
    """Import several files: one after another, each whole or not at all; or, `as_one`, all
    of them in one write transaction, so one file failing writes nothing of any of them.

    As one, a campaign-day that several files hold is their rows rolled up together (Fivetran
    shards of one export add up); files that would count a campaign-day twice are refused
    (see bot.importing.unit). The other arguments are import_file's; progress counts bytes
    over all the files, and a replace window needs the files imported as one.

    Failures users can fix are outcomes (ImportFailed); a database error or a bug is raised
    (as one: nothing was written; else the earlier files have landed).
    """
    if not paths:
        raise ValueError("no files to import")
    if replace is not None and not as_one and len(paths) > 1:
        raise ValueError("a replace window covers several files only when imported as one")
    options = _options(default_currency, dry_run, window, decimal_comma, currency_chosen, replace)
    if not as_one:
        outcomes: list[ImportSummary | ImportFailed] = []
        for path in paths:
            try:
                outcomes += _import_unit(engine, [path], options, progress, notify)[0]
            except ImportFailed as failed:
                outcomes.append(failed)
        return ImportBatch(False, tuple(outcomes))
    try:
        summaries, unit = _import_unit(engine, paths, options, progress, notify)
    except ImportFailed as failed:
        return ImportBatch(
            True,
            tuple(
                failed
                if str(path) == failed.source
                else ImportFailed(str(path), [held_back(str(path), failed.source)], 1)
                for path in paths
            ),
        )
    return ImportBatch(True, tuple(summaries), unit)


def _options(
    default_currency: str,
    dry_run: bool,
    window: DateWindow | None,
    decimal_comma: bool,
    currency_chosen: bool,
    replace: ReplaceWindow | None,
) -> LoadOptions:
    if replace is not None:
        # As the importer stores them: 'Google Ads' is google_ads, accounts are trimmed.
        replace = changed(
            replace, platform=platform_slug(replace.platform), account=replace.account.strip()
        )
    return LoadOptions(
        default_currency,
        window or DateWindow.default(date.today()),
        decimal_comma,
        currency_chosen,
        dry_run,
        replace,
    )


def _import_unit(
    engine: Engine,
    paths: Sequence[Path],
    options: LoadOptions,
    progress: Progress | None,
    notify: Notify | None,
) -> tuple[list[ImportSummary], UnitSummary]:
    """Land the files as one and log a run for each, whatever the outcome."""
    started = datetime.now(UTC)
    sources = [str(path) for path in paths]
    try:
        # This module's begin_write, looked up now: a test may stand in for it.
        summaries, unit = land(engine, paths, options, progress, notify, begin_write)
    except ImportFailed as failed:
        if len(sources) > 1:
            failed.unit = tuple(s for s in sources if s != failed.source)
        _record_failure(
            engine, started, failed.source, failed, str(failed), failed.format, failed.rows
        )
        for source in failed.unit:
            _record_failure(engine, started, source, failed, held_back(source, failed.source))
        raise
    except BaseException as exc:
        # A bug or a database error: logged as a failed run, then left to the caller.
        for source in sources:
            _record_failure(engine, started, source, exc, _unexpected(exc))
        raise
    for summary in summaries:
        message = summary.line() if len(summaries) == 1 else f"{summary.line()}\n{unit.line()}"
        record_import_run(
            engine,
            started=started,
            source=summary.source,
            fmt=summary.format,
            rows=summary.rows,
            campaigns=summary.campaigns,
            days=summary.days,
            result="dry-run" if options.dry_run else "ok",
            message=message,
        )
    return summaries, unit


def _unexpected(exc: BaseException) -> str:
    if isinstance(exc, KeyboardInterrupt):
        return "interrupted; nothing was written"
    detail = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    first = (str(detail).strip().splitlines() or [""])[0]
    return f"not imported, nothing was written: {type(detail).__name__}: {first}"


def _record_failure(
    engine: Engine,
    started: datetime,
    source: str,
    exc: BaseException,
    message: str,
    fmt: str = "",
    rows: int = 0,
) -> None:
    try:
        record_import_run(
            engine,
            started=started,
            source=source,
            fmt=fmt,
            rows=rows,
            campaigns=0,
            days=0,
            result="failed",
            message=message[:4000],
        )
    except (SQLAlchemyError, DatabaseBusy) as log_error:
        # The database may be what failed: the original error is the one to report.
        exc.add_note(f"(the failed import could not be logged either: {log_error})")
