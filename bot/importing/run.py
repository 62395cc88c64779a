"""Import one file: parse and stage in batches, then replace campaign × day rows atomically."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from sqlalchemy import Engine

from bot.importing.formats import HeaderError, detect_format
from bot.importing.rows import Problem, RowReader, StagedRow
from bot.importing.source import SourceError, open_source
from bot.money import from_micros
from storage.imports import record_import_run
from storage.loading import CampaignRecord, MetricsLoad

BATCH_ROWS = 10_000
MAX_PROBLEMS = 50

Progress = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class ImportSummary:
    """What one import did (or, for a dry run, would do)."""

    source: str
    format: str
    rows: int
    campaigns: int
    new_campaigns: int
    campaign_days: int
    days: int
    spend_by_currency: dict[str, str]
    warnings: list[str]
    dry_run: bool

    def line(self) -> str:
        spend = ", ".join(f"{amount} {code}" for code, amount in self.spend_by_currency.items())
        verb = "would import" if self.dry_run else "imported"
        return (
            f"{self.source}: {verb} {self.rows:,} rows ({self.format}) → {self.campaigns} "
            f"campaigns, {self.days} days, {self.campaign_days:,} campaign-days; "
            f"spend {spend or '0'}"
        )


@dataclass
class ImportFailed(Exception):
    """The file was not imported; nothing of it was written."""

    source: str
    problems: list[str]
    total: int = 0
    warnings: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        lines = [f"{self.source}: not imported, nothing was written."]
        lines += self.problems
        hidden = self.total - len(self.problems)
        if hidden > 0:
            lines.append(f"… and {hidden} more problem(s)")
        return "\n".join(lines)


def import_file(
    engine: Engine,
    path: Path,
    *,
    default_currency: str,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> ImportSummary:
    """Import a native or Fivetran CSV whole, or raise ImportFailed and write nothing."""
    started = datetime.now(UTC)
    source = str(path)
    try:
        summary = _load(engine, path, default_currency, dry_run, progress)
    except ImportFailed as failed:
        record_import_run(
            engine,
            started=started,
            source=source,
            fmt="",
            rows=0,
            campaigns=0,
            days=0,
            result="failed",
            message=str(failed)[:4000],
        )
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


def _fail(source: str, problems: list[Problem], warnings: list[str] | None = None) -> ImportFailed:
    rendered = [p.render(source) for p in problems[:MAX_PROBLEMS]]
    return ImportFailed(source, rendered, len(problems), warnings or [])


def _load(
    engine: Engine,
    path: Path,
    default_currency: str,
    dry_run: bool,
    progress: Progress | None,
) -> ImportSummary:
    source = str(path)
    try:
        with open_source(path) as csv_source, engine.connect() as connection:
            transaction = connection.begin()
            try:
                load = MetricsLoad(connection)
                rows_iter = csv_source.rows()
                first = next(rows_iter, None)
                if first is None:
                    raise _fail(
                        source, [Problem(1, "", "the file is empty; expected a header row")]
                    )
                try:
                    fmt = detect_format([cell.strip().lower() for cell in first[1]])
                except HeaderError as exc:
                    raise _fail(source, [Problem(first[0], "", str(exc))]) from exc
                reader = RowReader(fmt, [c.strip().lower() for c in first[1]], default_currency)
                spend_by_ref: dict[int, int] = {}
                batch: list[StagedRow] = []
                rows = 0
                for line, cells in rows_iter:
                    staged = reader.parse(line, cells)
                    rows += 1
                    if staged is None or reader.problems:
                        batch.clear()
                        continue
                    batch.append(staged)
                    spend_by_ref[staged[1]] = spend_by_ref.get(staged[1], 0) + staged[9]
                    if len(batch) >= BATCH_ROWS:
                        load.stage(batch)
                        batch.clear()
                        if progress is not None:
                            progress(csv_source.position, csv_source.size)
                load.stage(batch)
                warnings = [w.render(source) for w in reader.warnings[:MAX_PROBLEMS]]
                if fmt.currency is None or fmt.currency not in reader.header:
                    # A silent default would file a DKK team's spend as USD for good.
                    warnings.insert(
                        0,
                        f"{source}: has no currency column; its campaigns are stored in "
                        f"{default_currency} (choose with --currency or KPIBOT_DEFAULT_CURRENCY)",
                    )
                if reader.problems:
                    raise _fail(source, reader.problems, warnings)
                if rows == 0:
                    raise _fail(source, [Problem(first[0], "", "has a header but no data rows")])
                duplicates = load.duplicates(MAX_PROBLEMS)
                if duplicates:
                    problems = [
                        Problem(
                            d.line,
                            "",
                            f"campaign {reader.campaigns[d.ref].name!r} on {d.day} "
                            f"appears again (first on line {d.first_line}); "
                            "keep one row per campaign and day",
                        )
                        for d in duplicates
                    ]
                    raise _fail(source, problems, warnings)
                records = [
                    CampaignRecord(
                        i, c.platform, c.account, c.external_id, c.name, c.channel, c.currency
                    )
                    for i, c in enumerate(reader.campaigns)
                ]
                conflicts, new_campaigns = load.resolve_campaigns(records)
                if conflicts:
                    problems = [
                        Problem(
                            reader.campaigns[c.ref].first_line,
                            "currency",
                            f"campaign {reader.campaigns[c.ref].name!r} is stored in "
                            f"{c.stored}, the file says {reader.campaigns[c.ref].currency}; "
                            + (
                                "one campaign has one currency"
                                if reader.campaigns[c.ref].currency_given
                                else "import it with --currency " + c.stored
                            ),
                        )
                        for c in conflicts
                    ]
                    raise _fail(source, problems, warnings)
                merged = load.merge(new_campaigns)
                load.close()
                if progress is not None:
                    progress(csv_source.size, csv_source.size)
                if dry_run:
                    transaction.rollback()
                else:
                    transaction.commit()
            except BaseException:
                if transaction.is_active:
                    transaction.rollback()
                raise
    except SourceError as exc:
        where = source if exc.line is None else f"{source}:{exc.line}"
        raise ImportFailed(source, [f"{where}: {exc}"], 1) from exc
    spend: dict[str, int] = {}
    for ref, micros in spend_by_ref.items():
        currency = reader.campaigns[ref].currency
        spend[currency] = spend.get(currency, 0) + micros
    return ImportSummary(
        source=source,
        format=fmt.name,
        rows=rows,
        campaigns=len(reader.campaigns),
        new_campaigns=merged.new_campaigns,
        campaign_days=merged.campaign_days,
        days=merged.days,
        spend_by_currency={
            code: f"{from_micros(m).quantize(Decimal('0.01')):f}"
            for code, m in sorted(spend.items())
        },
        warnings=warnings,
        dry_run=dry_run,
    )
