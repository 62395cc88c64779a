"""Import one file: parse and stage in batches, then replace campaign × day rows atomically."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from itertools import islice
from pathlib import Path

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError, OperationalError, SQLAlchemyError

from bot.importing.cells import DateWindow
from bot.importing.findings import MAX_PROBLEMS, Findings, Problem
from bot.importing.formats import HeaderError, ImportFormat, SemicolonHeader, detect_format
from bot.importing.rows import RowReader, StagedRow
from bot.importing.separators import SAMPLE_ROWS, semicolon_hint
from bot.importing.source import CsvSource, SourceError, open_source
from bot.importing.summary import ImportFailed, ImportSummary
from bot.importing.whole_file import (
    conflict_problems,
    duplicate_problems,
    file_warnings,
    new_campaign_warnings,
    oversized_problems,
)
from bot.money import from_micros
from storage.imports import record_import_run
from storage.loading import CampaignRecord, MergeResult, MetricsLoad, Resolution
from storage.write_lock import DatabaseBusy, begin_write

__all__ = ["MAX_PROBLEMS", "ImportFailed", "ImportSummary", "import_file"]

BATCH_ROWS = 10_000
# A write phase that PostgreSQL aborted as a deadlock or serialization failure is tried again
# (the staged rows stay in the temporary tables).
WRITE_ATTEMPTS = 3
_RETRYABLE_SQLSTATES = ("40P01", "40001")

Progress = Callable[[int, int], None]
Notify = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class _Options:
    default_currency: str
    window: DateWindow
    decimal_comma: bool
    currency_chosen: bool
    dry_run: bool


@dataclass(slots=True)
class _Staged:
    """A file parsed into the staging table, checked, not yet written."""

    load: MetricsLoad
    fmt: ImportFormat
    reader: RowReader
    rows: int
    spend_by_ref: dict[int, int]


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
) -> ImportSummary:
    """Import a native or Fivetran CSV whole, or raise ImportFailed and write nothing.

    Args:
        window: the days accepted (default: 2000-01-01 to 366 days after today).
        decimal_comma: a `;`-separated file with `,` as decimal mark (Danish Excel).
        currency_chosen: default_currency was chosen for this import (--currency), so a file
            without currencies needs no warning.
        notify: told about waits (another import holds the database), for stderr.
    """
    started = datetime.now(UTC)
    source = str(path)
    options = _Options(
        default_currency,
        window or DateWindow.default(date.today()),
        decimal_comma,
        currency_chosen,
        dry_run,
    )
    try:
        summary = _load(engine, path, options, progress, notify)
    except ImportFailed as failed:
        _record_failure(engine, started, source, failed, str(failed), failed.format, failed.rows)
        raise
    except BaseException as exc:
        # A bug or a database error: logged as a failed run, then left to the caller.
        _record_failure(engine, started, source, exc, _unexpected(exc))
        raise
    record_import_run(
        engine,
        started=started,
        source=source,
        fmt=summary.format,
        rows=summary.rows,
        campaigns=summary.campaigns,
        days=summary.days,
        result="dry-run" if dry_run else "ok",
        message=summary.line(),
    )
    return summary


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


def _fail(
    source: str,
    problems: list[Problem] | Findings,
    warnings: list[str] | None = None,
    staged: _Staged | None = None,
    fmt: ImportFormat | None = None,
    rows: int = 0,
) -> ImportFailed:
    if isinstance(problems, Findings):
        kept, total = problems.kept, problems.count
    else:
        kept, total = problems[:MAX_PROBLEMS], len(problems)
    if staged is not None:
        fmt, rows = staged.fmt, staged.rows
    return ImportFailed(
        source,
        [p.render(source) for p in kept],
        total,
        warnings or [],
        fmt.name if fmt is not None else "",
        rows,
    )


def _load(
    engine: Engine,
    path: Path,
    options: _Options,
    progress: Progress | None,
    notify: Notify | None,
) -> ImportSummary:
    source = str(path)
    try:
        with (
            open_source(path, ";" if options.decimal_comma else ",") as csv_source,
            engine.connect() as connection,
        ):
            staged = _stage(connection, csv_source, source, options, progress)
            try:
                return _write(connection, staged, source, options, notify)
            finally:
                _drop_staging(connection, staged.load)
    except SourceError as exc:
        where = source if exc.line is None else f"{source}:{exc.line}"
        raise ImportFailed(source, [f"{where}: {exc}"], 1) from exc


def _stage(
    connection: Connection,
    csv_source: CsvSource,
    source: str,
    options: _Options,
    progress: Progress | None,
) -> _Staged:
    """Parse every row into the staging table and check the file as a whole (duplicates,
    oversized sums); its own transaction, which touches only temporary tables."""
    with connection.begin():
        load = MetricsLoad(connection)
        rows_iter = csv_source.rows()
        first = next(rows_iter, None)
        if first is None:
            raise _fail(source, [Problem(1, "", "the file is empty; expected a header row")])
        header = [cell.strip().lower() for cell in first[1]]
        try:
            fmt = detect_format(header, decimal_comma=options.decimal_comma)
        except SemicolonHeader as exc:
            sample = (cells for _, cells in islice(rows_iter, SAMPLE_ROWS))
            hint = semicolon_hint(exc.fmt, exc.names, sample)
            raise _fail(source, [Problem(first[0], "", hint)]) from exc
        except HeaderError as exc:
            raise _fail(source, [Problem(first[0], "", str(exc))]) from exc
        reader = RowReader(
            fmt, header, options.default_currency, options.window, options.decimal_comma
        )
        spend_by_ref: dict[int, int] = {}
        batch: list[StagedRow] = []
        rows = 0
        for line, cells in rows_iter:
            staged_row = reader.parse(line, cells)
            rows += 1
            if staged_row is None or reader.problems.count:
                batch.clear()
                continue
            batch.append(staged_row)
            ref = staged_row[1]
            spend_by_ref[ref] = spend_by_ref.get(ref, 0) + staged_row[9]
            if len(batch) >= BATCH_ROWS:
                load.stage(batch)
                batch.clear()
                if progress is not None:
                    progress(csv_source.position, csv_source.size)
        load.stage(batch)
        staged = _Staged(load, fmt, reader, rows, spend_by_ref)
        warnings = _file_warnings(staged, source, options)
        if reader.problems.count:
            raise _fail(source, reader.problems, warnings, staged)
        if rows == 0:
            raise _fail(source, [Problem(first[0], "", "has a header but no data rows")])
        duplicates = duplicate_problems(load, reader)
        if duplicates.count:
            raise _fail(source, duplicates, warnings, staged)
        oversized = oversized_problems(load, reader, fmt)
        if oversized:
            raise _fail(source, oversized, warnings, staged)
    if progress is not None:
        progress(csv_source.size, csv_source.size)
    return staged


def _write(
    connection: Connection,
    staged: _Staged,
    source: str,
    options: _Options,
    notify: Notify | None,
) -> ImportSummary:
    """Find or create the campaigns and replace their days, in one write transaction."""

    def tell(message: str) -> None:
        if notify is not None:
            notify(f"{source}: {message}")

    attempt = 1
    while True:
        try:
            resolution, merged = _write_once(connection, staged, source, options, tell)
            break
        except OperationalError as exc:
            sqlstate = getattr(exc.orig, "sqlstate", None)
            if sqlstate not in _RETRYABLE_SQLSTATES or attempt == WRITE_ATTEMPTS:
                raise
        attempt += 1
        tell("another import wrote the same rows at the same time; trying again…")
    warnings = _file_warnings(staged, source, options) + new_campaign_warnings(
        staged.reader,
        source,
        options.default_currency,
        resolution.new_refs,
        currency_chosen=options.currency_chosen,
    )
    return ImportSummary(
        source=source,
        format=staged.fmt.name,
        rows=staged.rows,
        campaigns=len(staged.reader.campaigns),
        new_campaigns=merged.new_campaigns,
        campaign_days=merged.campaign_days,
        days=merged.days,
        spend_by_currency=_spend_by_currency(staged),
        warnings=warnings,
        dry_run=options.dry_run,
    )


def _write_once(
    connection: Connection,
    staged: _Staged,
    source: str,
    options: _Options,
    tell: Notify,
) -> tuple[Resolution, MergeResult]:
    try:
        transaction = begin_write(connection, lambda: tell("waiting for another import to finish…"))
    except DatabaseBusy as exc:
        raise ImportFailed(
            source, [f"{source}: not written, the database stayed busy ({exc}); try again"], 1
        ) from exc
    try:
        resolution = staged.load.resolve_campaigns(_records(staged.reader))
        if resolution.conflicts:
            problems = conflict_problems(
                staged.reader, resolution.conflicts, currency_chosen=options.currency_chosen
            )
            raise _fail(source, problems, None, staged)
        merged = staged.load.merge(len(resolution.new_refs))
    except BaseException:
        if transaction.is_active:
            transaction.rollback()
        raise
    if options.dry_run:
        transaction.rollback()
    else:
        transaction.commit()
    return resolution, merged


def _drop_staging(connection: Connection, load: MetricsLoad) -> None:
    """Free the temporary tables now: a pooled connection would keep them until reused."""
    if connection.closed or connection.invalidated:
        return
    try:
        if connection.in_transaction():
            connection.rollback()
        with connection.begin():
            load.close()
    except SQLAlchemyError:
        pass  # the error that brought us here is the one to report; they go with the connection


def _records(reader: RowReader) -> list[CampaignRecord]:
    return [
        CampaignRecord(i, c.platform, c.account, c.external_id, c.name, c.channel, c.currency)
        for i, c in enumerate(reader.campaigns)
    ]


def _file_warnings(staged: _Staged, source: str, options: _Options) -> list[str]:
    return file_warnings(
        staged.reader, source, options.default_currency, currency_chosen=options.currency_chosen
    )


def _spend_by_currency(staged: _Staged) -> dict[str, str]:
    spend: dict[str, int] = {}
    for ref, micros in staged.spend_by_ref.items():
        currency = staged.reader.campaigns[ref].currency
        spend[currency] = spend.get(currency, 0) + micros
    return {
        code: f"{from_micros(m).quantize(Decimal('0.01')):f}" for code, m in sorted(spend.items())
    }
