"""Landing a unit of one or more files: stage every row of every file, check each file and
the files together, then find the campaigns and replace their days in one write transaction."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from itertools import islice
from pathlib import Path

from sqlalchemy import Connection, Engine, RootTransaction
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from bot.importing.cells import DateWindow
from bot.importing.findings import MAX_PROBLEMS, Findings, Problem
from bot.importing.formats import HeaderError, ImportFormat, SemicolonHeader, detect_format
from bot.importing.rows import CampaignSeen, RowReader, StagedRow
from bot.importing.separators import SAMPLE_ROWS, semicolon_hint
from bot.importing.source import CsvSource, SourceError, open_source
from bot.importing.summary import ImportFailed, ImportSummary, UnitSummary
from bot.importing.unit import Finding, StagedFile, Unit
from bot.importing.whole_file import (
    conflict_problems,
    duplicate_problems,
    file_warnings,
    new_campaign_warnings,
    oversized_problems,
)
from bot.money import from_micros
from storage.loading import (
    CampaignRecord,
    CurrencyConflict,
    MergeResult,
    MetricsLoad,
    ReplaceWindow,
    Resolution,
)
from storage.write_lock import DatabaseBusy, begin_write

BATCH_ROWS = 10_000
# A write phase that PostgreSQL aborted as a deadlock or serialization failure is tried again
# (the staged rows stay in the temporary tables).
WRITE_ATTEMPTS = 3
_RETRYABLE_SQLSTATES = ("40P01", "40001")

Progress = Callable[[int, int], None]
Notify = Callable[[str], None]
BeginWrite = Callable[[Connection, Callable[[], None]], RootTransaction]


@dataclass(frozen=True, slots=True)
class LoadOptions:
    default_currency: str
    window: DateWindow
    decimal_comma: bool
    currency_chosen: bool
    dry_run: bool
    replace: ReplaceWindow | None = None


def land(
    engine: Engine,
    paths: Sequence[Path],
    options: LoadOptions,
    progress: Progress | None,
    notify: Notify | None,
    begin: BeginWrite = begin_write,
) -> tuple[list[ImportSummary], UnitSummary]:
    """Import the files as one, or raise ImportFailed (naming file and line) and write
    nothing; progress counts bytes over all the files; `begin` opens the write transaction."""
    with engine.connect() as connection:
        load, unit = _stage_unit(connection, paths, options, progress)
        try:
            return _write(connection, load, unit, options, notify, begin)
        finally:
            _drop_staging(connection, load)


def _stage_unit(
    connection: Connection,
    paths: Sequence[Path],
    options: LoadOptions,
    progress: Progress | None,
) -> tuple[MetricsLoad, Unit]:
    """Stage and check every file, then the files together; one transaction, which touches
    only temporary tables."""
    sizes = [_size(path) for path in paths]
    total = sum(sizes)
    with connection.begin():
        load = MetricsLoad(connection)
        campaigns: list[CampaignSeen] = []  # shared by the files' readers: refs never clash
        files: list[StagedFile] = []
        for i, path in enumerate(paths):
            source = str(path)
            done = sum(sizes[:i])

            def report(position: int, _size: int, done: int = done) -> None:
                if progress is not None:
                    progress(done + position, total)

            try:
                with open_source(path, ";" if options.decimal_comma else ",") as csv_source:
                    staged = _stage_file(
                        load, csv_source, source, campaigns, options, report, len(paths) > 1
                    )
            except SourceError as exc:
                where = source if exc.line is None else f"{source}:{exc.line}"
                raise ImportFailed(source, [f"{where}: {exc}"], 1) from exc
            files.append(staged)
        unit = Unit(files)
        _check_unit(load, unit, options)
    if progress is not None:
        progress(total, total)
    return load, unit


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0  # open_source says what is wrong with it


def _stage_file(
    load: MetricsLoad,
    csv_source: CsvSource,
    source: str,
    campaigns: list[CampaignSeen],
    options: LoadOptions,
    progress: Progress,
    count_part: bool,
) -> StagedFile:
    """Parse every row of one file into the staging table and check the file as a whole
    (duplicates, oversized sums)."""
    first_ref = len(campaigns)
    load.start_part(first_ref)
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
        fmt,
        header,
        options.default_currency,
        options.window,
        options.decimal_comma,
        campaigns=campaigns,
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
            progress(csv_source.position, csv_source.size)
    load.stage(batch)
    staged = StagedFile(source, fmt, reader, rows, spend_by_ref, first_ref, len(campaigns))
    warnings = _file_warnings(staged, options)
    if reader.problems.count:
        raise _fail(source, reader.problems, warnings, staged)
    if rows == 0 and options.replace is None:
        # With a replace window, no rows is news: the platform reports none of its days.
        raise _fail(source, [Problem(first[0], "", "has a header but no data rows")])
    duplicates = duplicate_problems(load, reader)
    if duplicates.count:
        raise _fail(source, duplicates, warnings, staged)
    oversized = oversized_problems(load, reader, fmt)
    if oversized:
        raise _fail(source, oversized, warnings, staged)
    if count_part:
        staged.days, staged.campaign_days = load.part_counts(staged.end_ref)
    progress(csv_source.size, csv_source.size)
    return staged


def _check_unit(load: MetricsLoad, unit: Unit, options: LoadOptions) -> None:
    """What the files may not disagree on, and what the replace window allows."""
    if unit.shared:
        found = unit.currency_findings(currency_chosen=options.currency_chosen)
        if found:
            raise _unit_fail(unit, found, len(found))
        load.link_campaigns(unit.links())
        found, count = unit.overlap_findings(load)
        if found:
            raise _unit_fail(unit, found, count)
        found = unit.oversized_findings(load)
        if found:
            raise _unit_fail(unit, found, len(found))
    if options.replace is not None:
        found = unit.window_findings(load, options.replace)
        if found:
            raise _unit_fail(unit, found, len(found))


def _write(
    connection: Connection,
    load: MetricsLoad,
    unit: Unit,
    options: LoadOptions,
    notify: Notify | None,
    begin: BeginWrite,
) -> tuple[list[ImportSummary], UnitSummary]:
    """Find or create the campaigns and replace their days, in one write transaction."""
    who = ", ".join(f.source for f in unit.files)

    def tell(message: str) -> None:
        if notify is not None:
            notify(f"{who}: {message}")

    attempt = 1
    while True:
        try:
            resolution, merged, cleared = _write_once(connection, load, unit, options, tell, begin)
            break
        except OperationalError as exc:
            sqlstate = getattr(exc.orig, "sqlstate", None)
            if sqlstate not in _RETRYABLE_SQLSTATES or attempt == WRITE_ATTEMPTS:
                raise
        attempt += 1
        tell("another import wrote the same rows at the same time; trying again…")
    replaced = "" if options.replace is None else str(options.replace)
    single = len(unit.files) == 1
    summaries = []
    for staged in unit.files:
        new_refs = [r for r in resolution.new_refs if staged.first_ref <= r < staged.end_ref]
        warnings = _file_warnings(staged, options) + new_campaign_warnings(
            staged.reader,
            staged.source,
            options.default_currency,
            new_refs,
            currency_chosen=options.currency_chosen,
        )
        summaries.append(
            ImportSummary(
                source=staged.source,
                format=staged.fmt.name,
                rows=staged.rows,
                campaigns=staged.campaigns,
                new_campaigns=merged.new_campaigns if single else len(new_refs),
                campaign_days=merged.campaign_days if single else staged.campaign_days,
                days=merged.days if single else staged.days,
                spend_by_currency=_spend_by_currency([staged], unit.campaigns),
                warnings=warnings,
                dry_run=options.dry_run,
                replaced=replaced if single else "",
                cleared=cleared if single else 0,
            )
        )
    totals = UnitSummary(
        files=len(unit.files),
        rows=sum(f.rows for f in unit.files),
        campaigns=len(unit.campaigns) - sum(len(refs) - 1 for refs in unit.shared),
        new_campaigns=merged.new_campaigns,
        campaign_days=merged.campaign_days,
        days=merged.days,
        spend_by_currency=_spend_by_currency(unit.files, unit.campaigns),
        dry_run=options.dry_run,
        replaced=replaced,
        cleared=cleared,
    )
    return summaries, totals


def _write_once(
    connection: Connection,
    load: MetricsLoad,
    unit: Unit,
    options: LoadOptions,
    tell: Notify,
    begin: BeginWrite,
) -> tuple[Resolution, MergeResult, int]:
    first = unit.files[0].source
    try:
        transaction = begin(connection, lambda: tell("waiting for another import to finish…"))
    except DatabaseBusy as exc:
        raise ImportFailed(
            first, [f"{first}: not written, the database stayed busy ({exc}); try again"], 1
        ) from exc
    try:
        resolution = load.resolve_campaigns(_records(unit.campaigns))
        if resolution.conflicts:
            raise _conflicts(unit, resolution.conflicts, options)
        cleared = 0 if options.replace is None else load.clear_window(options.replace)
        merged = load.merge(len(resolution.new_refs))
    except BaseException:
        if transaction.is_active:
            transaction.rollback()
        raise
    if options.dry_run:
        transaction.rollback()
    else:
        transaction.commit()
    return resolution, merged, cleared


def _conflicts(
    unit: Unit, conflicts: Sequence[CurrencyConflict], options: LoadOptions
) -> ImportFailed:
    """Campaigns stored in another currency, as lines of each file that has them."""
    found: list[Finding] = []
    for staged in unit.files:
        mine = [c for c in conflicts if staged.first_ref <= c.ref < staged.end_ref]
        if mine:
            problems = conflict_problems(
                staged.reader, mine, currency_chosen=options.currency_chosen
            )
            found += [Finding(staged.source, problem) for problem in problems]
    return _unit_fail(unit, found[:MAX_PROBLEMS], len(found))


def _fail(
    source: str,
    problems: list[Problem] | Findings,
    warnings: list[str] | None = None,
    staged: StagedFile | None = None,
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


def _unit_fail(unit: Unit, found: Sequence[Finding], total: int) -> ImportFailed:
    """Problems of one or more files of the unit, as a failure of the first file named."""
    staged = next(f for f in unit.files if f.source == found[0].source)
    return ImportFailed(
        staged.source,
        [finding.render() for finding in found],
        total,
        [],
        staged.fmt.name,
        staged.rows,
    )


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


def _records(campaigns: Sequence[CampaignSeen]) -> list[CampaignRecord]:
    return [
        CampaignRecord(i, c.platform, c.account, c.external_id, c.name, c.channel, c.currency)
        for i, c in enumerate(campaigns)
    ]


def _file_warnings(staged: StagedFile, options: LoadOptions) -> list[str]:
    return file_warnings(
        staged.reader,
        staged.source,
        options.default_currency,
        currency_chosen=options.currency_chosen,
    )


def _spend_by_currency(
    files: Sequence[StagedFile], campaigns: Sequence[CampaignSeen]
) -> dict[str, str]:
    spend: dict[str, int] = {}
    for staged in files:
        for ref, micros in staged.spend_by_ref.items():
            currency = campaigns[ref].currency
            spend[currency] = spend.get(currency, 0) + micros
    return {
        code: f"{from_micros(m).quantize(Decimal('0.01')):f}" for code, m in sorted(spend.items())
    }
